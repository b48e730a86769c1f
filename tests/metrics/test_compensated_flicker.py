"""The flicker measure after motion compensation, on synthetic sequences whose flicker is known:
smooth motion costs nothing, added shimmer is measured in proportion; sharpness rises with detail."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.metrics.lipsync import compensated_flicker, mouth_flicker, mouth_sharpness


def texture(seed: int = 0, size: int = 400) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 255, (size // 8, size // 8)).astype(np.uint8)
    smooth = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.repeat(smooth[..., None], 3, axis=2)


def sequence(shift_per_frame: float, shimmer: float, frames: int = 12, seed: int = 0) -> np.ndarray:
    """A textured plane panning ``shift_per_frame`` px a frame, with per-frame noise of ``shimmer``."""
    import cv2

    base = texture(seed)
    rng = np.random.default_rng(seed + 1)
    out = []
    for k in range(frames):
        moved = cv2.warpAffine(base, np.float32([[1, 0, -shift_per_frame * k], [0, 1, 0]]), (400, 400))
        noisy = moved.astype(np.float64) + rng.normal(0, shimmer, moved.shape[:2])[..., None]
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return np.stack(out)


BOXES = np.tile([100.0, 150.0, 300.0, 250.0], (12, 1))


def test_motion_alone_costs_nothing_shimmer_is_measured():
    still = compensated_flicker(sequence(0.0, 0.0), BOXES)
    panning = compensated_flicker(sequence(1.5, 0.0), BOXES)
    assert still < 0.05 and panning < 1.5  # sub-pixel resampling leaves a little
    # Uncompensated, the pan looks like flicker.
    assert mouth_flicker(sequence(1.5, 0.0), BOXES) > 5 * mouth_flicker(sequence(0.0, 0.0), BOXES) + 0.1
    measured = [compensated_flicker(sequence(1.5, s), BOXES) for s in (2.0, 4.0, 8.0)]
    assert measured[0] < measured[1] < measured[2]
    assert measured[2] > panning + 2.0


def test_sharpness_rises_with_detail():
    import cv2

    sharp = sequence(0.0, 0.0)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in sharp])
    assert mouth_sharpness(sharp, BOXES) > 1.5 * mouth_sharpness(blurred, BOXES)
    with pytest.raises(InputError, match="2 or more frames"):
        compensated_flicker(sharp[:1], BOXES[:1])
