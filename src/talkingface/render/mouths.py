"""A real mouth moved onto another frame of the same face: the compositing of dubbing with the
speaker's own mouths.

- :func:`cut_mouth` keeps the lower face of a frame (jaw line, chin and a band of neck below it) at
  the frame's own resolution, uncropped by any resampling, with the landmarks it was tracked with.
- :func:`paste_mouth` puts it on a frame of the same person: moved with the head (a similarity fitted
  on the points that do not move with the jaw or lips: eye corners, nose, forehead, cheekbones), so its
  lips, teeth and jaw land where the head now is; blended through the lower face of both frames (the
  new jaw line and the old one, so neither chin shows twice), extended into the neck, feathered, with
  its colours matched to the frame around the seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..face.blend import face_width, feathered, lower_face_polygon, match_colours
from ..face.crops import apply_affine
from ..features.lips import RIGID, lip_points
from ..geometry import umeyama
from ..optional import needs

#: The cut's margins around the lower face, as fractions of the face's height (forehead to chin):
#: at the sides, and below the chin (the neck the pasted chin may cover).
SIDE_MARGIN = 0.12
NECK_MARGIN = 0.14
#: The seam's softness, a fraction of the face's width.
FEATHER = 0.035
_FOREHEAD, _CHIN = 10, 152


@dataclass(frozen=True)
class MouthPatch:
    """The lower face of one frame: ``image`` ``(h, w, 3) uint8`` cut at ``origin`` (x, y) of its frame,
    and the frame's ``landmarks`` ``(478, 2)`` in frame pixels."""

    image: np.ndarray
    origin: tuple[int, int]
    landmarks: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.image.nbytes + self.landmarks.nbytes)


def face_height(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[_CHIN, :2] - landmarks[_FOREHEAD, :2]))


def _check(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, np.float64)
    if points.ndim != 2 or points.shape[0] < 468 or points.shape[1] < 2 or not np.isfinite(points[:, :2]).all():
        raise InputError(f"expected (478, 2|3) finite face landmarks, got {points.shape}")
    return points[:, :2]


def mouth_box(landmarks: np.ndarray, shape: tuple) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the cut of a frame of ``shape``: the lower face and its margins, in the frame."""
    points = _check(landmarks)
    polygon = lower_face_polygon(points)
    height = face_height(points)
    x0, y0 = polygon.min(0) - np.array([SIDE_MARGIN * height, 0.02 * height])
    x1, y1 = polygon.max(0) + np.array([SIDE_MARGIN * height, NECK_MARGIN * height])
    h, w = shape[:2]
    box = int(max(0, np.floor(x0))), int(max(0, np.floor(y0))), int(min(w, np.ceil(x1))), int(min(h, np.ceil(y1)))
    if box[2] - box[0] < 4 or box[3] - box[1] < 4:
        raise InputError("the face's lower half is outside the frame")
    return box


def cut_mouth(frame: np.ndarray, landmarks: np.ndarray) -> MouthPatch:
    """The lower face of ``frame`` (see the module)."""
    points = _check(landmarks)
    x0, y0, x1, y1 = mouth_box(points, frame.shape)
    image = np.ascontiguousarray(frame[y0:y1, x0:x1])
    return MouthPatch(image, (x0, y0), points.astype(np.float32))


def head_motion(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` similarity taking the rigid points of ``source`` landmarks onto ``target``'s."""
    rigid = list(RIGID)
    scale, rotation, shift = umeyama(_check(source)[rigid], _check(target)[rigid])
    return np.concatenate([scale * rotation, shift[:, None]], axis=1)


def paste_mouth(frame: np.ndarray, landmarks: np.ndarray, patch: MouthPatch, colour_match: bool = True) -> np.ndarray:
    """``frame`` (written in place, and returned) with ``patch``'s mouth moved onto the face whose
    ``landmarks`` are given (see the module)."""
    with needs("face"):
        import cv2

    target = _check(landmarks)
    motion = head_motion(patch.landmarks, target)
    moved = apply_affine(motion, patch.landmarks.astype(np.float64))
    h, w = frame.shape[:2]
    region = np.concatenate([lower_face_polygon(target), lower_face_polygon(moved)])
    height = face_height(target)
    low = np.floor(region.min(0) - 0.05 * height).astype(int)
    high = np.ceil(region.max(0) + np.array([0.05 * height, NECK_MARGIN * height])).astype(int)
    x0, y0 = max(0, low[0]), max(0, low[1])
    x1, y1 = min(w, high[0]), min(h, high[1])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return frame
    # patch pixels -> frame pixels -> this region
    to_region = motion.copy()
    to_region[:, 2] += motion[:, :2] @ np.asarray(patch.origin, np.float64) - (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(patch.image, to_region, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    sigma = max(1.0, FEATHER * face_width(target))
    mask = _blend_region(target - (x0, y0), moved - (x0, y0), size, height, 3 * sigma)
    alpha = _soft(mask, sigma)
    ph, pw = patch.image.shape[:2]
    corners = apply_affine(to_region, np.array([[0.0, 0.0], [pw - 1.0, 0.0], [pw - 1.0, ph - 1.0], [0.0, ph - 1.0]]))
    if not _inside(corners, size):  # the patch does not cover the whole region: fade out before its edge
        coverage = np.zeros((size[1], size[0]), np.float32)
        cv2.fillConvexPoly(coverage, np.round(corners * 16).astype(np.int32), (1.0,), shift=4)
        alpha *= _soft(coverage, sigma)
    base = frame[y0:y1, x0:x1].astype(np.float32)
    pixels = warped.astype(np.float32)
    if colour_match:
        band = alpha * (1 - alpha) * 4
        band[band < 0.05] = 0  # the seam itself: its faint tails weigh nothing and cost time
        pixels = match_colours(pixels, base, band if band.sum() > 16 else alpha)
    blended = base + alpha[..., None] * (pixels - base)
    frame[y0:y1, x0:x1] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return frame


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """:func:`feathered`, at half the resolution where the feather is wide (4 pixels or more): the same
    soft edge at a quarter of the work."""
    with needs("face"):
        import cv2

    if sigma < 4:
        return feathered(mask, sigma)
    h, w = mask.shape
    half = cv2.resize(mask, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    soft: np.ndarray = cv2.resize(feathered(half, sigma / 2), (w, h), interpolation=cv2.INTER_LINEAR)
    return soft


def _inside(corners: np.ndarray, size: tuple[int, int]) -> bool:
    """Whether the quadrilateral ``corners`` (clockwise in image coordinates) holds the whole region of
    ``size`` (width, height)."""
    region = np.array([[0.0, 0.0], [size[0] - 1.0, 0.0], [size[0] - 1.0, size[1] - 1.0], [0.0, size[1] - 1.0]])
    for k in range(4):
        a, b = corners[k], corners[(k + 1) % 4]
        edge, to_points = b - a, region - a
        if ((edge[0] * to_points[:, 1] - edge[1] * to_points[:, 0]) < 0).any():
            return False
    return True


def _blend_region(
    target: np.ndarray, moved: np.ndarray, size: tuple[int, int], height: float, grow: float
) -> np.ndarray:
    """Where the pasted lower face replaces the frame's (1) and where not (0), before feathering: the
    lower face of both landmark sets, each carried down into the neck below its chin, and both mouths
    grown by ``grow`` pixels, so that the feathering (which eats into the region) leaves every lip
    whole: neither frame's own lips may show through the other's."""
    with needs("face"):
        import cv2

    mask = np.zeros((size[1], size[0]), np.float32)
    for points in (target, moved):
        polygon = lower_face_polygon(points)
        if len(polygon) < 3:
            continue
        lowest = polygon[:, 1].max()
        chin = polygon[polygon[:, 1] > lowest - 0.1 * height]  # the chin's part of the jaw line
        neck = np.concatenate([chin, chin + np.array([0.0, NECK_MARGIN * height * 0.6])])
        cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], (1.0,), lineType=cv2.LINE_AA, shift=4)
        hull = cv2.convexHull(np.round(neck * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (1.0,), lineType=cv2.LINE_AA, shift=4)
        lips = points[list(lip_points())]
        centre = lips.mean(0)
        spread = np.linalg.norm(lips - centre, axis=1, keepdims=True)
        grown = centre + (lips - centre) * (1 + grow / np.maximum(spread, 1e-6))
        hull = cv2.convexHull(np.round(grown * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (1.0,), lineType=cv2.LINE_AA, shift=4)
    return mask
