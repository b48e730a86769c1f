"""Image resizing through FFmpeg's swscale (area averaging when shrinking, bicubic when growing)."""

from __future__ import annotations

import av
import numpy as np

from ..errors import InputError


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an ``(H, W, 3) uint8`` image to ``(height, width, 3)``."""
    image = np.ascontiguousarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    if width <= 0 or height <= 0:
        raise InputError(f"target size must be positive, got {width}x{height}")
    if image.shape[:2] == (height, width):
        return image.copy()
    shrinking = width * height < image.shape[0] * image.shape[1]
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    frame = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA" if shrinking else "BICUBIC")
    return frame.to_ndarray()


def fit_image(image: np.ndarray, width: int, height: int, fill: int = 0) -> np.ndarray:
    """Scale ``image`` to fit inside ``width x height`` keeping its aspect, centred on ``fill``."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((height, width, 3), fill, dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resize_image(image, new_w, new_h)
    return canvas
