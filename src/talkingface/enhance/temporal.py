"""Restoring faces in a video without flicker.

A per-frame restorer (GFPGAN, or any function on aligned 512 px faces) is steadied four ways:

1. **Steady alignment:** the five template points come from the tracker's landmarks, smoothed over
   time (:func:`~talkingface.enhance.align.steady_points`), so a still face is cut out identically.
2. **Only what changed:** the restored face is pasted back only inside a soft region (the mouth by
   default, the whole face on request); the rest of the frame is the original.
3. **Motion-compensated blending:** the previous output, warped onto the current face along the
   optical flow between the two aligned inputs, is blended with the new restoration where the input
   did not change (``keep`` of the old, fading to none where the input changed by ``changed`` grey
   levels or more): a still mouth stays still, a moving one follows the new restoration.
4. **Keyframes:** with ``every`` > 1 the restorer runs on every ``every``-th frame only, and the frames
   between take the last restoration carried along the flow (for restorers too slow for every frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..optional import needs
from .align import TEMPLATE_512, soft_mask


@dataclass(frozen=True)
class TemporalConfig:
    """``region``: "mouth" or "face"; ``window``: frames the points are averaged over (odd);
    ``keep``: share of the carried-over previous output where the input is unchanged (0-1);
    ``changed``: grey-level change of the input at which the new restoration takes over fully;
    ``every``: run the restorer on every n-th frame (1: all)."""

    region: str = "mouth"
    window: int = 5
    keep: float = 0.7
    changed: float = 12.0
    every: int = 1

    def __post_init__(self) -> None:
        if self.region not in ("mouth", "face"):
            raise InputError(f"region must be mouth or face, got {self.region!r}")
        if not 0 <= self.keep < 1 or not self.changed > 0 or self.every < 1:
            raise InputError("keep must be in [0, 1), changed > 0 and every >= 1")


def region_mask(region: str, size: int = 512) -> np.ndarray:
    """The soft paste region in aligned coordinates: an ellipse around the template's mouth (reaching
    from below the nose to the chin), or the face's soft square."""
    with needs("face"):
        import cv2

    if region == "face":
        return soft_mask(size)
    scale = size / 512.0
    corners = TEMPLATE_512[3:] * scale
    centre = corners.mean(0) + np.array([0.0, 12.0]) * scale
    axes = (int(round(0.75 * (corners[1, 0] - corners[0, 0]) + 8 * scale)), int(round(72 * scale)))
    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(mask, (int(round(centre[0])), int(round(centre[1]))), axes, 0, 0, 360, (1.0,), -1)
    blurred: np.ndarray = cv2.GaussianBlur(mask, (0, 0), 10 * scale)
    return blurred


def flow_warp(image: np.ndarray, reference_from: np.ndarray, reference_to: np.ndarray) -> np.ndarray:
    """``image`` (in the coordinates of ``reference_from``) warped onto ``reference_to``, along the
    optical flow between the two (grey, aligned faces)."""
    with needs("face"):
        import cv2

    grey_to = cv2.cvtColor(reference_to, cv2.COLOR_RGB2GRAY)
    grey_from = cv2.cvtColor(reference_from, cv2.COLOR_RGB2GRAY)
    flow = cv2.calcOpticalFlowFarneback(grey_to, grey_from, None, 0.5, 3, 21, 3, 5, 1.2, 0)  # type: ignore[call-overload]
    h, w = grey_to.shape
    x, y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped: np.ndarray = cv2.remap(
        image, x + flow[..., 0], y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return warped
