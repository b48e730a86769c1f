"""Frame rates and the mapping between video frames and time."""

from __future__ import annotations

import math
from fractions import Fraction

from .errors import InputError

# Common NTSC-family rates given as decimals map to their exact rational values.
_NTSC_RATES = {23.976: Fraction(24000, 1001), 29.97: Fraction(30000, 1001), 59.94: Fraction(60000, 1001),
               47.952: Fraction(48000, 1001), 119.88: Fraction(120000, 1001)}


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
