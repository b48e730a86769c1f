"""Putting a generated crop back into its frame without a visible seam.

``paste_back(..., mode="soft")`` warps the crop back with the inverse of its transform and blends it
through a soft mask: the lower-face region of the landmarks (jaw line up to the base of the nose),
feathered inwards, times the crop's own coverage, feathered too, so neither the region's outline nor
the crop's box edge can show. Optional colour matching moves the crop's colours onto the frame's
where they meet. ``mode="hard"`` reproduces the reference: the crop resized to its box and pasted.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..optional import needs
from .crops import Crop, _check_landmarks
from .topology import face_topology


def _clip_half_plane(polygon: np.ndarray, point: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The part of a polygon on the side of the line through ``point`` that ``normal`` points to."""
    out = []
    side = (polygon - point) @ normal
    for k in range(len(polygon)):
        a, b, sa, sb = polygon[k - 1], polygon[k], side[k - 1], side[k]
        if sb >= 0:
            if sa < 0:
                out.append(a + (b - a) * (sa / (sa - sb)))
            out.append(b)
        elif sa >= 0:
            out.append(a + (b - a) * (sa / (sa - sb)))
    return np.array(out) if out else np.zeros((0, 2))


def lower_face_polygon(landmarks: np.ndarray) -> np.ndarray:
    """``(N, 2)`` outline of the region below the base of the nose, inside the jaw line.

    The face oval is cut by the line through the subnasale, perpendicular to the face's vertical
    axis (forehead -> chin), so head roll is followed.
    """
    landmarks = _check_landmarks(landmarks)[:, :2].astype(np.float64)
    topo = face_topology()
    oval = landmarks[topo.group("face_oval")]
    down = landmarks[topo.points["chin"]] - landmarks[topo.points["forehead"]]
    down /= np.linalg.norm(down) + 1e-9
    return _clip_half_plane(oval, landmarks[topo.points["subnasale"]], down)


def face_width(landmarks: np.ndarray) -> float:
    topo = face_topology()
    return float(np.linalg.norm(landmarks[topo.points["left_cheek"], :2] - landmarks[topo.points["right_cheek"], :2]))


def feathered(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Erode a binary float mask by ~2 sigma, then blur: 1 well inside, 0 at and beyond its edge."""
    with needs("face"):
        import cv2

    if sigma <= 0:
        return mask
    radius = max(1, int(round(2 * sigma)))
    # Erosion by a disc of that radius: keep what lies farther than it from the outside (a distance
    # transform costs the same for any radius; a large elliptic erosion kernel does not).
    inside = cv2.distanceTransform((mask > 0.5).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    eroded = (inside > radius).astype(np.float32)
    return cv2.GaussianBlur(eroded, (0, 0), sigmaX=sigma, sigmaY=sigma)


def match_colours(patch: np.ndarray, frame: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Shift and scale each channel of ``patch`` so its statistics under ``weight`` match the frame's."""
    total = float(weight.sum())
    if total < 16:
        return patch
    w = weight.reshape(-1)
    weighed = np.flatnonzero(w)  # where the weight is a thin band, only its pixels are read
    w = w[weighed].astype(np.float64)

    def stats(image):  # weighted mean and standard deviation per channel, as two dot products
        pixels = image.reshape(-1, 3)[weighed].astype(np.float64)
        mean = w @ pixels / total
        var = w @ (pixels * pixels) / total - mean * mean
        return mean, np.sqrt(np.maximum(var, 0.0)) + 1e-3

    mu_p, sd_p = stats(patch)
    mu_f, sd_f = stats(frame)
    ratio = np.clip(sd_f / sd_p, 0.8, 1.25)  # no more than a gentle contrast change
    return patch * ratio.astype(np.float32) + (mu_f - mu_p * ratio).astype(np.float32)


def paste_back(
    frame: np.ndarray,
    patch: np.ndarray,
    crop: Crop,
    *,
    landmarks: np.ndarray | None = None,
    mode: str = "soft",
    feather: float = 0.04,
    color_match: bool = False,
    inplace: bool = False,
) -> np.ndarray:
    """Put ``patch`` (a model's output for ``crop``) back into ``frame``; returns a new frame.

    Args:
        frame: ``(H, W, 3) uint8``.
        patch: ``(h, w, 3) uint8`` in crop coordinates (any size; it is stretched to the crop's).
        crop: the crop the patch was made from.
        landmarks: ``(478, 2|3)`` of this frame; with them only the lower face is replaced, else the
            whole crop area (still feathered at its edge).
        mode: "soft" (seam-free) or "hard" (the reference's box paste; needs a box crop).
        feather: softness of the edges as a fraction of the face width (soft mode).
        color_match: match the patch's colours to the frame around the blend.
        inplace: write into ``frame`` itself (and return it) instead of a copy.
    """
    with needs("face"):
        import cv2

    frame = np.asarray(frame)
    patch = np.asarray(patch)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(f"frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    if patch.ndim != 3 or patch.shape[2] != 3 or patch.dtype != np.uint8:
        raise InputError(f"patch must be (h, w, 3) uint8, got {patch.shape} {patch.dtype}")
    crop_h, crop_w = crop.image.shape[:2]
    if patch.shape[:2] != (crop_h, crop_w):
        patch = cv2.resize(patch, (crop_w, crop_h), interpolation=cv2.INTER_LINEAR)
    out = frame if inplace else frame.copy()
    if mode == "hard":
        if crop.box is None:
            raise InputError("hard paste needs a box crop (from crop_box)")
        x1, y1, x2, y2 = (int(v) for v in crop.box)
        out[y1:y2, x1:x2] = cv2.resize(patch, (x2 - x1, y2 - y1))
        return out
    if mode != "soft":
        raise InputError(f"mode must be 'soft' or 'hard', got {mode!r}")

    # Work on the frame region the crop covers (plus a margin), not the whole frame.
    h, w = frame.shape[:2]
    corners = crop.to_frame(np.array([[0, 0], [crop_w, 0], [0, crop_h], [crop_w, crop_h]], np.float64))
    x0, y0 = np.floor(corners.min(0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return out
    to_region = crop.inverse.copy()
    to_region[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(patch, to_region, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    coverage = cv2.warpAffine(np.ones((crop_h, crop_w), np.float32), to_region, size, flags=cv2.INTER_LINEAR)
    scale = (
        face_width(_check_landmarks(landmarks))
        if landmarks is not None
        else abs(np.linalg.det(crop.inverse[:, :2])) ** 0.5 * crop_w
    )
    sigma = feather * scale
    alpha = feathered((coverage > 0.999).astype(np.float32), sigma)
    if landmarks is not None:
        polygon = lower_face_polygon(landmarks) - (x0, y0)
        region = np.zeros(alpha.shape, np.float32)
        if len(polygon) >= 3:
            cv2.fillPoly(region, [np.round(polygon * 16).astype(np.int32)], (1.0,), lineType=cv2.LINE_AA, shift=4)
        alpha *= feathered(region, sigma)
    base = out[y0:y1, x0:x1].astype(np.float32)
    warped = warped.astype(np.float32)
    if color_match:
        band = alpha * (1 - alpha) * 4  # where the blend happens
        warped = match_colours(warped, base, band if band.sum() > 16 else alpha)
    blended = base + alpha[..., None] * (warped - base)
    out[y0:y1, x0:x1] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return out
