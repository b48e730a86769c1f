"""The audio features of the mouth-openness model: a log-mel spectrum every 10 ms, normalised per clip.

For each step ``t`` (centred on sample ``160 t`` of 16 kHz speech): a 25 ms Hann window, a 512-point
FFT, 24 mel bands from 60 Hz to 7.6 kHz (Slaney, area-normalised), the log of their power. Each band
is floored 60 dB below the clip's loudest band value (digital silence is as quiet as a real room, not
infinitely quieter), then standardised over the clip (its mean and standard deviation per band): the
model sees how the spectrum moves, not the microphone, the room or the level.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .mel import mel_filterbank

SAMPLE_RATE = 16000
HOP = 160  # samples per step: 100 steps a second
WINDOW = 400
N_FFT = 512
BANDS = 24
FMIN, FMAX = 60.0, 7600.0
_FLOOR = np.log(1e-6)  # 60 dB below the loudest band value
_CHUNK = 1000  # steps transformed at once


def log_bands(audio: np.ndarray) -> np.ndarray:
    """``(N,)`` float samples at 16 kHz -> ``(1 + N // 160, 24) float32`` log-mel power per step, before
    normalisation (floored 60 dB below the clip's maximum)."""
    x = np.asarray(audio, np.float32)
    if x.ndim != 1 or x.size == 0:
        raise InputError(f"audio must be (N,) samples with N > 0, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("audio contains NaN or infinite samples")
    steps = 1 + len(x) // HOP
    padded = np.concatenate([np.zeros(WINDOW // 2, np.float32), x, np.zeros(WINDOW, np.float32)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, WINDOW)[::HOP][:steps]
    window = np.hanning(WINDOW).astype(np.float32)
    filters = mel_filterbank(SAMPLE_RATE, N_FFT, BANDS, FMIN, FMAX).T.astype(np.float32)
    logged = np.empty((steps, BANDS), np.float32)
    for start in range(0, steps, _CHUNK):  # 10 s at a time: long speech stays in bounded memory
        power = np.abs(np.fft.rfft(frames[start : start + _CHUNK] * window, N_FFT)).astype(np.float32) ** 2
        logged[start : start + _CHUNK] = np.log(power @ filters + 1e-12)
    top = float(logged.max())
    result: np.ndarray = np.maximum(logged, top + _FLOOR).astype(np.float32)
    return result


def openness_features(audio: np.ndarray) -> np.ndarray:
    """``(N,)`` float samples at 16 kHz -> ``(1 + N // 160, 24) float32``: :func:`log_bands` standardised
    per band over the clip (a band that does not change is 0)."""
    bands = log_bands(audio)
    mean = bands.mean(0, keepdims=True)
    std = bands.std(0, keepdims=True)
    normalised: np.ndarray = ((bands - mean) / np.maximum(std, 1e-3)).astype(np.float32)
    return normalised


def frame_spans(steps: int, count: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """For ``count`` video frames at ``fps``, the steps ``[start, stop)`` (of ``steps`` at 100 a second)
    within half a frame of each frame's time ``k / fps``: a frame's value is the mean over its span (at
    least one step, the nearest, at the clip's ends)."""
    if fps <= 0 or count < 0 or steps < 1:
        raise InputError(f"need fps > 0, count >= 0 and steps >= 1, got {fps}, {count}, {steps}")
    rate = SAMPLE_RATE / HOP
    times = np.arange(count) / fps
    start = np.ceil((times - 0.5 / fps) * rate - 1e-9).astype(np.int64)
    stop = np.floor((times + 0.5 / fps) * rate - 1e-9).astype(np.int64) + 1
    start = np.clip(start, 0, steps - 1)
    stop = np.clip(stop, start + 1, steps)
    return start, stop
