"""Frame rates and the mapping between video frames and time."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .errors import InputError

# Common NTSC-family rates given as decimals map to their exact rational values.
_NTSC_RATES = {
    23.976: Fraction(24000, 1001),
    29.97: Fraction(30000, 1001),
    59.94: Fraction(60000, 1001),
    47.952: Fraction(48000, 1001),
    119.88: Fraction(120000, 1001),
}


def to_fps(fps: float | int | Fraction | str) -> Fraction:
    """Frame rate as an exact Fraction; 29.97 -> 30000/1001 and the other NTSC rates likewise."""
    try:
        if isinstance(fps, str):
            fps = Fraction(fps)
        if isinstance(fps, float):
            for decimal, exact in _NTSC_RATES.items():
                if abs(fps - decimal) < 5e-4:
                    return exact
            fps = Fraction(fps).limit_denominator(1001)
        rate = Fraction(fps)
    except (ValueError, TypeError, ZeroDivisionError):
        raise InputError(f"fps must be a positive number, got {fps!r}") from None
    if not 0 < rate <= 1000:
        raise InputError(f"fps must be in (0, 1000], got {fps!r}")
    return rate


def num_frames_for_duration(duration: float, fps: float | Fraction) -> int:
    """Video frames needed to cover ``duration`` seconds: ``ceil(duration * fps)``."""
    if duration < 0:
        raise InputError(f"duration must be >= 0 seconds, got {duration}")
    # A hair of tolerance so that e.g. 2.0 s at 29.97 fps computed in floats does not gain a frame.
    return math.ceil(duration * float(to_fps(fps)) - 1e-6)


def resample_frames(frames: np.ndarray, fps_in: float | Fraction, fps_out: float | Fraction) -> np.ndarray:
    """Per-frame values ``(T, ...)`` at ``fps_in`` -> the same span at ``fps_out``, linearly
    interpolated in time (frame ``j`` at ``j / fps_out`` seconds; the last value held at the end)."""
    frames = np.asarray(frames)
    if to_fps(fps_in) == to_fps(fps_out) or len(frames) < 2:
        return frames
    count = num_frames_for_duration(len(frames) / float(to_fps(fps_in)), to_fps(fps_out))
    position = np.minimum(np.arange(count) * float(to_fps(fps_in)) / float(to_fps(fps_out)), len(frames) - 1)
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, len(frames) - 1)
    t = (position - lo).reshape(-1, *([1] * (frames.ndim - 1)))
    return ((1 - t) * frames[lo] + t * frames[hi]).astype(frames.dtype)
