"""Faces aligned the way GFPGAN was trained (FFHQ, 512 px) and pasted back, steady over time.

GFPGAN restores a face that sits on a fixed 5-point template (the eyes, the nose tip and the mouth
corners of FFHQ's alignment). Per-frame detections jitter by a pixel or two, and the restorer turns
that jitter into shimmer; here the five points come from our tracker's 478 landmarks and are smoothed
over time (a centred moving average, which moves no point where the face is still) before the
similarity transform is fitted, so a still face gets the same transform in every frame.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..face.crops import apply_affine, invert_affine, similarity_transform
from ..face.topology import face_topology
from ..optional import needs

#: FFHQ's 5 points at 512 px: image-left eye, image-right eye, nose tip, mouth corners (left, right).
TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ]
)
#: The grey GFPGAN's alignment fills outside the frame with (RGB).
BORDER = (135, 133, 132)
_NOSE_TIP = 1
_MOUTH_CORNERS = (61, 291)


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """``(5, 2)`` template points of a face from its ``(478, 2+)`` landmarks: the eye centres (the
    irises), the nose tip and the mouth corners, each pair ordered left to right in the image."""

    points = np.asarray(landmarks, np.float64)
    if points.ndim != 2 or points.shape[0] != 478 or points.shape[1] < 2 or not np.isfinite(points[:, :2]).all():
        raise InputError(f"landmarks must be (478, 2+) finite values, got {points.shape}")
    topology = face_topology()
    eyes = sorted((points[topology.group(g), :2].mean(0) for g in ("right_iris", "left_iris")), key=lambda p: p[0])
    mouth = sorted((points[k, :2] for k in _MOUTH_CORNERS), key=lambda p: p[0])
    return np.stack([eyes[0], eyes[1], points[_NOSE_TIP, :2], mouth[0], mouth[1]])


def face_transform(points: np.ndarray, size: int = 512) -> np.ndarray:
    """The ``(2, 3)`` similarity transform taking the 5 ``points`` onto the template at ``size`` px
    (least squares; facexlib fits it with LMEDS, the same on clean points)."""

    return similarity_transform(np.asarray(points, np.float64), TEMPLATE_512 * (size / 512.0))


def steady_points(points: np.ndarray, window: int = 5) -> np.ndarray:
    """``(T, 5, 2)`` per-frame points smoothed over time by a centred moving average of ``window``
    frames (shorter at the ends): detection jitter averages out, a still face stays where it is, and
    a moving face lags by nothing on average."""
    points = np.asarray(points, np.float64)
    if points.ndim != 3 or points.shape[1:] != (5, 2):
        raise InputError(f"points must be (T, 5, 2), got {points.shape}")
    if window < 1 or window % 2 == 0:
        raise InputError(f"window must be an odd number of frames, got {window}")
    half = window // 2
    count = len(points)
    cumulative = np.concatenate([np.zeros((1, 5, 2)), np.cumsum(points, 0)])
    out = np.empty_like(points)
    for t in range(count):
        a, b = max(0, t - half), min(count, t + half + 1)
        out[t] = (cumulative[b] - cumulative[a]) / (b - a)
    return out


def warp_face(frame: np.ndarray, transform: np.ndarray, size: int = 512) -> np.ndarray:
    """The aligned ``size`` x ``size`` face of an RGB ``frame``."""
    with needs("face"):
        import cv2

    return cv2.warpAffine(frame, transform, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=BORDER)  # fmt: skip


def frame_box(transform: np.ndarray, size: tuple[int, int], frame_shape: tuple, margin: int) -> np.ndarray:
    """``(x1, y1, x2, y2)``: the part of a frame of ``frame_shape`` that an aligned image of ``size``
    (width, height) covers through ``transform`` (frame -> aligned), widened by ``margin`` pixels and
    kept inside the frame (it may be empty)."""

    w, h = size
    corners = apply_affine(invert_affine(transform), np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64))
    low = np.maximum(np.floor(corners.min(0)).astype(int) - margin, 0)
    high = np.minimum(np.ceil(corners.max(0)).astype(int) + margin, [frame_shape[1], frame_shape[0]])
    return np.concatenate([low, high])


def paste_face(frame: np.ndarray, face: np.ndarray, transform: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``frame`` with the aligned ``face`` put back through the inverse of ``transform``, blended by
    ``mask`` (the face's size, 0-1, in the aligned face's coordinates). Only the part of the frame
    the face covers is worked on."""
    with needs("face"):
        import cv2

    x1, y1, x2, y2 = frame_box(transform, (face.shape[1], face.shape[0]), frame.shape, 2)
    inverse = invert_affine(transform)
    out = frame.copy()
    if x2 <= x1 or y2 <= y1:
        return out
    shifted = inverse.copy()
    shifted[:, 2] -= (x1, y1)
    size = (int(x2 - x1), int(y2 - y1))
    back = cv2.warpAffine(face, shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.warpAffine(
        mask.astype(np.float32), shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0,)
    )[..., None]
    region = out[y1:y2, x1:x2].astype(np.float32)
    out[y1:y2, x1:x2] = np.clip(np.rint(region * (1 - weight) + back.astype(np.float32) * weight), 0, 255).astype(
        np.uint8
    )
    return out


def soft_mask(size: int = 512, inset: float = 0.1, blur: float = 0.06) -> np.ndarray:
    """A ``size`` x ``size`` mask of the aligned face's centre, 1 inside and fading to 0 towards the
    edges (``inset`` and ``blur`` as fractions of ``size``): the seam falls on skin, not on a border."""
    with needs("face"):
        import cv2

    mask = np.zeros((size, size), np.float32)
    edge = int(round(inset * size))
    mask[edge : size - edge, edge : size - edge] = 1.0
    sigma = max(1.0, blur * size)
    blurred: np.ndarray = cv2.GaussianBlur(mask, (0, 0), sigma)
    return blurred
