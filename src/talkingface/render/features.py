"""A video view of the audio features a model sees, frame by frame.

Each frame shows the face (if given), the mel spectrogram scrolling past a playhead, and the exact
mel window that the frame's lip-sync model input holds. Useful to check audio/video alignment at
any frame rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from ..features.mel import WAV2LIP_MEL, MelConfig
from ..features.windows import WAV2LIP_MEL_WINDOW, mel_windows, window_starts
from ..media.image import fit_image

# Anchors of a perceptually ordered dark-to-bright colour map (black, purple, red, orange, pale yellow).
_ANCHORS = np.array([[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]], np.float64)
_LUT = np.stack([np.interp(np.linspace(0, 4, 256), np.arange(5), _ANCHORS[:, c]) for c in range(3)], 1)
_LUT = _LUT.round().astype(np.uint8)


def colorize(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``(H, W)`` values in ``[lo, hi]`` to ``(H, W, 3) uint8`` colours (low = dark)."""
    index = np.clip((np.asarray(values, np.float64) - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)
    return _LUT[index]


def _scale_nearest(image: np.ndarray, width: int, height: int) -> np.ndarray:
    rows = np.arange(height) * image.shape[0] // height
    cols = np.arange(width) * image.shape[1] // width
    return image[rows[:, None], cols[None, :]]


def feature_view_frames(
    mel: np.ndarray,
    num_frames: int,
    fps: float | Fraction,
    face: np.ndarray | None = None,
    *,
    config: MelConfig = WAV2LIP_MEL,
    history_s: float = 3.0,
) -> Iterator[np.ndarray]:
    """Yield ``(540, 960, 3) uint8`` RGB frames visualising ``mel`` for ``num_frames`` frames.

    Args:
        mel: ``(n_mels, T)`` spectrogram from :func:`~talkingface.features.wav2lip_mel`.
        num_frames, fps: the video to draw.
        face: optional ``(H, W, 3) uint8`` RGB image shown on the left.
        history_s: seconds of spectrogram visible in the scrolling view.
    """
    height, width, side = 540, 960, 540
    lo, hi = config.silence_value, config.max_abs_value
    left = fit_image(face, side, side, fill=24) if face is not None else np.full((side, side, 3), 24, np.uint8)
    rate = config.frames_per_second
    span = int(round(history_s * rate))
    silence = np.full((mel.shape[0], span), lo, mel.dtype)
    padded = np.concatenate([silence, mel, silence], axis=1)
    windows = mel_windows(mel, num_frames, fps, config=config)
    starts = window_starts(num_frames, fps, rate)
    panel_w = width - side - 40
    scroll_h, window_h = 220, 220
    for i in range(num_frames):
        frame = np.full((height, width, 3), 16, np.uint8)
        frame[:, :side] = left
        # Scrolling spectrogram centred on the frame's time.
        centre = int(round(float(i / Fraction(fps) * Fraction(rate))))
        view = padded[::-1, centre + span - span // 2 : centre + span - span // 2 + span]
        scroll = _scale_nearest(colorize(view, lo, hi), panel_w, scroll_h)
        for col in (starts[i], starts[i] + WAV2LIP_MEL_WINDOW):
            x = int((col - (centre - span // 2)) * panel_w / span)
            if 0 <= x < panel_w:
                scroll[:, x] = (90, 200, 255)
        scroll[:, panel_w // 2] = 255
        frame[30 : 30 + scroll_h, side + 20 : side + 20 + panel_w] = scroll
        # The model's window for this frame (16 columns = 0.2 s).
        win = _scale_nearest(colorize(windows[i][::-1], lo, hi), panel_w, window_h)
        frame[290 : 290 + window_h, side + 20 : side + 20 + panel_w] = win
        yield frame
