"""Frame rates and the mapping between video frames and time."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .errors import InputError


def to_fps(fps: float | int | Fraction | str) -> Fraction:
    """Frame rate as an exact Fraction. Decimals (floats, or strings such as ``"29.97"`` or
    ``"29.97002997"``) are read as the nearest sensible rate: the NTSC family (N * 1000/1001, e.g.
    30000/1001) when within 5e-4, else the nearest fraction with a denominator up to 1001.
    Fractions and ratio strings (``"30000/1001"``) are kept exactly."""
    try:
        if isinstance(fps, bool):
            raise TypeError
        decimal = isinstance(fps, float) or (isinstance(fps, str) and "/" not in fps)
        rate = Fraction(fps.strip()) if isinstance(fps, str) else Fraction(fps)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        raise InputError(f"fps must be a positive number, got {fps!r}") from None
    if decimal and rate.denominator > 1:
        ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
        rate = ntsc if ntsc and abs(rate - ntsc) < Fraction(5, 10000) else rate.limit_denominator(1001)
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
