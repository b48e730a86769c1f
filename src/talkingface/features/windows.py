"""Per-video-frame audio feature windows, placed by time so they are right at any frame rate.

Video frame ``i`` (shown at ``i / fps`` seconds) gets the feature columns
``[floor(i * rate / fps) + offset, ... + size)``, where ``rate`` is the feature's columns per second.
At 25 fps this is exactly where the references put them: Wav2Lip's mel windows
``[int(i * 80 / 25), +16)`` and syncnet_python's MFCC windows ``[4 i, 4 i + 20)``. The reference
code hard-codes 25 fps; computing by time keeps 29.97, 30 and 60 fps video in sync.

Frames whose window runs past the audio (a video longer than its audio, or the last frames) are
padded: with the feature's silence value by default, or, with ``pad="clamp"``, by shifting the
window inside the audio as the Wav2Lip reference does with its last window.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..timebase import to_fps
from .mel import WAV2LIP_MEL, MelConfig
from .mfcc import SYNCNET_MFCC, MfccConfig

#: Columns in the Wav2Lip generator's and lip-sync expert's mel window (0.2 s).
WAV2LIP_MEL_WINDOW = 16
#: Columns in syncnet_python's MFCC window (0.2 s = 5 frames at 25 fps).
SYNCNET_MFCC_WINDOW = 20


def window_starts(
    num_frames: int, fps: float | Fraction, feature_rate: float | Fraction, offset: int = 0
) -> np.ndarray:
    """First feature column of each frame's window: ``floor(i * feature_rate / fps) + offset``.

    Exact rational arithmetic, so frame boundaries never drift with the frame index.

    Returns:
        ``(num_frames,) int64`` (may be negative or past the end: see :func:`frame_windows`).
    """
    if num_frames < 0:
        raise InputError(f"num_frames must be >= 0, got {num_frames}")
    ratio = Fraction(feature_rate) / to_fps(fps)
    index = np.arange(num_frames, dtype=np.int64)
    return index * ratio.numerator // ratio.denominator + offset


def frame_windows(
    features: np.ndarray,
    num_frames: int,
    fps: float | Fraction,
    feature_rate: float | Fraction,
    size: int,
    *,
    offset: int = 0,
    pad: str | float | np.ndarray = "clamp",
) -> np.ndarray:
    """Cut one ``size``-column window of ``features`` for each of ``num_frames`` video frames.

    Args:
        features: ``(C, T)`` feature columns at ``feature_rate`` per second.
        num_frames: video frames to cover (windows are returned for all of them).
        fps: video frame rate.
        feature_rate: feature columns per second (80 for Wav2Lip's mel, 100 for SyncNet's MFCC).
        size: columns per window.
        offset: columns added to every start (Wav2Lip's training windows start one frame early).
        pad: "clamp" shifts windows that leave ``[0, T)`` back inside (the reference's behaviour at
            the end; needs ``T >= size``); a number or a ``(C,)`` column fills columns outside.

    Returns:
        ``(num_frames, C, size)`` array (a copy).
    """
    features = np.asarray(features)
    if features.ndim != 2:
        raise InputError(f"features must be (C, T), got shape {features.shape}")
    if size <= 0:
        raise InputError(f"window size must be positive, got {size}")
    channels, length = features.shape
    starts = window_starts(num_frames, fps, feature_rate, offset)
    if isinstance(pad, str):
        if pad != "clamp":
            raise InputError(f"pad must be 'clamp', a number or a (C,) column, got {pad!r}")
        if length < size:
            raise InputError(f"pad='clamp' needs at least {size} feature columns, got {length}")
        starts = np.clip(starts, 0, length - size)
        padded, shift = features, 0
    else:
        column = np.broadcast_to(np.asarray(pad, dtype=features.dtype).reshape(-1, 1), (channels, 1))
        lo = max(0, -int(starts.min(initial=0)))
        hi = max(0, int(starts.max(initial=0)) + size - length)
        padded = np.concatenate([np.repeat(column, lo, 1), features, np.repeat(column, hi, 1)], axis=1)
        shift = lo
    view = np.lib.stride_tricks.sliding_window_view(padded, size, axis=1)  # (C, T', size)
    return np.ascontiguousarray(view[:, starts + shift].transpose(1, 0, 2))


def mel_windows(
    mel: np.ndarray,
    num_frames: int,
    fps: float | Fraction,
    *,
    config: MelConfig = WAV2LIP_MEL,
    size: int = WAV2LIP_MEL_WINDOW,
    offset: int = 0,
    pad: str | float = "silence",
) -> np.ndarray:
    """Wav2Lip mel windows ``(num_frames, n_mels, 16)`` for video frames at ``fps``.

    ``pad="silence"`` (default) fills columns past the audio with the silent value, so frames
    after the speech ends see silence; ``pad="clamp"`` reproduces the reference's last window.
    """
    fill = config.silence_value if pad == "silence" else pad
    return frame_windows(mel, num_frames, fps, config.frames_per_second, size, offset=offset, pad=fill)


def silence_mfcc(config: MfccConfig = SYNCNET_MFCC) -> np.ndarray:
    """The MFCC column of digital silence, ``(n_ceps,)``."""
    from .mfcc import syncnet_mfcc

    return syncnet_mfcc(np.zeros(config.win_length, np.int16), config)[:, 0]


def mfcc_windows(
    mfcc: np.ndarray,
    num_frames: int,
    fps: float | Fraction,
    *,
    config: MfccConfig = SYNCNET_MFCC,
    size: int = SYNCNET_MFCC_WINDOW,
    offset: int = 0,
    pad: str | float | np.ndarray = "silence",
) -> np.ndarray:
    """syncnet_python MFCC windows ``(num_frames, n_ceps, 20)`` for video frames at ``fps``."""
    fill = silence_mfcc(config) if isinstance(pad, str) and pad == "silence" else pad
    return frame_windows(mfcc, num_frames, fps, config.frames_per_second, size, offset=offset, pad=fill)


#: Columns in LipGAN's MFCC window (0.35 s at 100 columns/s), and where it starts: centred on the frame.
LIPGAN_MFCC_WINDOW = 35
LIPGAN_MFCC_OFFSET = -17


def lipgan_windows(audio: np.ndarray, num_frames: int, fps: float | Fraction, sample_rate: int = 16000) -> np.ndarray:
    """LipGAN's audio input for each video frame: ``(num_frames, 12, 35)``, the 12 MFCC after the first
    (syncnet_python's MFCC without c0, 100 columns/s) over 0.35 s centred on the frame, silence past the
    audio. ``audio``: float samples in [-1, 1] at ``sample_rate`` (16 kHz)."""
    from .mfcc import syncnet_mfcc

    if sample_rate != SYNCNET_MFCC.sample_rate:
        raise InputError(f"LipGAN's MFCC takes {SYNCNET_MFCC.sample_rate} Hz audio, got {sample_rate}")
    pcm = (np.clip(np.asarray(audio, np.float64), -1, 1) * 32767).astype(np.int16)
    mfcc = syncnet_mfcc(pcm)[1:]
    fill = silence_mfcc()[1:]
    return frame_windows(
        mfcc, num_frames, fps, SYNCNET_MFCC.frames_per_second, LIPGAN_MFCC_WINDOW, offset=LIPGAN_MFCC_OFFSET, pad=fill
    ).astype(np.float32)
