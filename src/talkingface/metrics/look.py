"""How a drawn mouth sits in its photo: the interior's light against the skin's, and its rims' colours.

:func:`mouth_look` measures one rendered frame, given the animated landmarks it was rendered to:

- ``interior``: mean luminance of the open mouth (inside the inner lips, eroded by a pixel);
- ``skin``: mean luminance of the skin around the lips (a band out to 1.6 times the mouth's size);
- ``teeth``: mean luminance of the interior's brightest tenth (where teeth show);
- ``skin_bright``: the skin's 95th-percentile luminance;
- ``rim_chroma``: the 99th-percentile chroma (largest minus smallest channel) on the rim of the
  drawn interior (its outer 2 px, where it meets the lips);
- ``face_chroma``: the 99th-percentile chroma of the face's skin and lips.

A mouth lit like its face has ``interior < skin``, ``teeth <= skin_bright`` and ``rim_chroma <=
face_chroma`` (no colour on the rim more vivid than the face's own).
"""

from __future__ import annotations

import numpy as np

from ..optional import needs
from ..render.photo import mouth_regions

_LUMA = np.array([0.299, 0.587, 0.114])


def _chroma(pixels: np.ndarray) -> np.ndarray:
    chroma: np.ndarray = pixels.max(axis=-1) - pixels.min(axis=-1)
    return chroma


def mouth_look(frame: np.ndarray, landmarks: np.ndarray) -> dict[str, float] | None:
    """The measures above for ``frame`` ``(H, W, 3) uint8`` RGB rendered to ``landmarks`` ``(478, 2+)``;
    None when the mouth is closed (fewer than 30 interior pixels)."""
    with needs("face"):
        import cv2

    regions = mouth_regions(frame.shape, landmarks)
    image = frame.astype(np.float64)
    hole = regions.gap.astype(np.uint8)
    interior = cv2.erode(hole, np.ones((3, 3), np.uint8)) > 0
    if interior.sum() < 30:
        return None
    band, lips = regions.skin, regions.lips
    rim = regions.gap & ~(cv2.erode(hole, np.ones((5, 5), np.uint8)) > 0)  # the drawn side of the lips' edge
    luma = image @ _LUMA
    inside = luma[interior]
    skin = luma[band]
    return {
        "interior": float(inside.mean()),
        "skin": float(skin.mean()),
        "teeth": float(np.sort(inside)[-max(1, len(inside) // 10) :].mean()),
        "skin_bright": float(np.percentile(skin, 95)),
        "rim_chroma": float(np.percentile(_chroma(image[rim]), 99)),
        "face_chroma": float(np.percentile(_chroma(image[band | lips]), 99)),
    }
