"""The mouth canvas: the lower face cut out upright and at a fixed place, for the mouth upscaler.

The canvas is placed on the same 5 points as GFPGAN's alignment (:mod:`.align`): 224 of the 512 px
template wide (twice the mouth corners' distance, cheek to cheek) and 140 high (from under the nose
to below the lower lip of an open mouth), so every face, turned or tilted, lies in it alike. Its
aspect is 8:5; a canvas ``width`` px wide is ``canvas_height(width)`` high. The upscaler's input is
the canvas at half its size.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..face.crops import invert_affine
from ..optional import needs
from .align import TEMPLATE_512, face_transform, frame_box

#: The canvas in the 512 px template: its width, its height and its centre.
MOUTH_WIDTH = 224.0
MOUTH_HEIGHT = 140.0
MOUTH_CENTRE = TEMPLATE_512[3:].mean(0) + np.array([0.0, 16.0])
#: Canvas widths are multiples of this (the input, half as wide, then splits evenly).
WIDTH_STEP = 16


def canvas_height(width: int) -> int:
    """The height of a canvas ``width`` px wide (8:5, even)."""
    return int(round(width * MOUTH_HEIGHT / MOUTH_WIDTH / 2)) * 2


def mouth_transform(points: np.ndarray, width: int) -> np.ndarray:
    """The ``(2, 3)`` affine taking a frame onto the mouth canvas ``width`` px wide, from the face's 5
    template points (:func:`~talkingface.enhance.align.five_points`)."""
    height = canvas_height(width)
    face = face_transform(points, 512)
    scale = width / MOUTH_WIDTH
    canvas = np.array(
        [[scale, 0.0, width / 2 - scale * MOUTH_CENTRE[0]], [0.0, scale, height / 2 - scale * MOUTH_CENTRE[1]]]
    )
    return compose(canvas, face)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine ``outer`` after ``inner`` (both ``(2, 3)``)."""
    outer = np.asarray(outer, np.float64)
    return outer @ np.concatenate([np.asarray(inner, np.float64), [[0.0, 0.0, 1.0]]])


def frame_pixels_per_canvas_pixel(transform: np.ndarray) -> float:
    """How many frame pixels one canvas pixel covers (along each axis): above 1, the canvas is
    smaller than the mouth in the frame."""
    determinant = abs(float(np.linalg.det(np.asarray(transform)[:, :2])))
    if not determinant > 0:
        raise InputError("the mouth canvas transform is degenerate")
    return float(1.0 / np.sqrt(determinant))


def native_width(points: np.ndarray, smallest: int = 64, largest: int = 256) -> int:
    """The canvas width at which a canvas pixel is a frame pixel (a multiple of :data:`WIDTH_STEP`,
    within ``smallest``-``largest``)."""
    ratio = frame_pixels_per_canvas_pixel(mouth_transform(points, int(MOUTH_WIDTH)))
    return snapped_width(MOUTH_WIDTH * ratio, smallest, largest)


def cut_canvas(frame: np.ndarray, transform: np.ndarray, width: int, height: int | None = None) -> np.ndarray:
    """The mouth canvas of ``frame`` (uint8, ``(height, width, 3)``, by default
    ``canvas_height(width)`` high); a frame much larger than the canvas is shrunk first with area
    averaging, so nothing aliases. Only the part of the frame under the canvas is read."""
    with needs("face"):
        import cv2

    height = canvas_height(width) if height is None else height
    transform = np.asarray(transform, np.float64)
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = frame_box(transform, (width, height), frame.shape, 4)
    x1, y1 = min(x1, w - 1), min(y1, h - 1)  # at least one pixel of the frame, even off its edge
    x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
    frame = frame[y1:y2, x1:x2]
    transform = compose(transform, np.array([[1.0, 0.0, x1], [0.0, 1.0, y1]]))
    ratio = frame_pixels_per_canvas_pixel(transform)
    if ratio >= 2:
        factor = int(ratio)
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
        shrink = np.array([[w / max(1, w // factor), 0, 0], [0, h / max(1, h // factor), 0]], np.float64)
        # small pixel (u, v) sits at frame pixel ((u + 0.5) * w/ws - 0.5, ...)
        shrink[:, 2] = 0.5 * (shrink[0, 0] - 1), 0.5 * (shrink[1, 1] - 1)
        frame, transform = small, compose(transform, shrink)
    canvas: np.ndarray = cv2.warpAffine(
        frame, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return canvas


def halved(transform: np.ndarray) -> np.ndarray:
    """The transform onto a canvas of half the size (pixel centres kept: half-size pixel u covers
    pixels 2u and 2u + 1)."""
    return compose(np.array([[0.5, 0.0, -0.25], [0.0, 0.5, -0.25]]), transform)


def snapped_width(width: float, smallest: int = 64, largest: int = 512) -> int:
    """``width`` rounded to a canvas width (a multiple of :data:`WIDTH_STEP`, within the bounds)."""
    return int(np.clip(int(round(width / WIDTH_STEP)) * WIDTH_STEP, smallest, largest))


def canvas_mask(width: int) -> np.ndarray:
    """The soft paste region of a canvas: an ellipse around the mouth fading out well inside the
    canvas's edges (float32, 0-1)."""
    with needs("face"):
        import cv2

    height = canvas_height(width)
    mask = np.zeros((height, width), np.float32)
    centre = (int(round(width / 2)), int(round(height / 2)))
    axes = (int(round(width * 0.36)), int(round(height * 0.34)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, (1.0,), -1)
    blurred: np.ndarray = cv2.GaussianBlur(mask, (0, 0), max(1.0, width * 0.05))
    return blurred


def relative_transform(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """The affine taking the previous frame's canvas onto the current one's (both frame -> canvas)."""

    return compose(current, invert_affine(previous))


def warp_canvases(images, affines, size: tuple[int, int] | None = None):
    """Torch canvases ``(B, C, H, W)`` moved by ``affines`` ``(B, 2, 3)`` (source canvas pixels ->
    target canvas pixels) onto target canvases of ``size`` (height, width; default the source's),
    bilinear, edges repeated; differentiable."""
    import torch

    batch, _, height, width = images.shape
    out_h, out_w = size or (height, width)
    full = torch.cat([affines, affines.new_tensor([0.0, 0.0, 1.0]).expand(batch, 1, 3)], 1)
    inverse = torch.linalg.inv(full)[:, :2]  # target pixel -> source pixel
    ys, xs = torch.meshgrid(
        torch.arange(out_h, dtype=images.dtype, device=images.device),
        torch.arange(out_w, dtype=images.dtype, device=images.device),
        indexing="ij",
    )
    grid = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, -1, 3)
    source = grid @ inverse.transpose(1, 2).to(images.dtype)  # (B, HW, 2) in source pixels
    normalised = torch.stack([(2 * source[..., 0] + 1) / width - 1, (2 * source[..., 1] + 1) / height - 1], -1)
    return torch.nn.functional.grid_sample(
        images, normalised.reshape(batch, out_h, out_w, 2), mode="bilinear", padding_mode="border", align_corners=False
    )
