"""Lip shape per video frame from tracked face landmarks: the visual input of the built-in sync model.

Each frame's 40 lip landmarks (outer and inner contour of the 478-point mesh) are put in the face's own
frame: origin at the nose tip, x along the line between the outer eye corners, one unit the distance
between those corners. Head position, roll and size drop out; what is left is the lips' shape and their
place under the nose (the jaw's opening moves the lower lip down). The median shape of the track is
then subtracted, so that what remains is the motion, not the person's mouth.

Landmarks are the tracker's, in pixels; the features do not depend on the image size or the crop.
"""

from __future__ import annotations

import numpy as np

from ..choices import LIP_FRAMES
from ..errors import InputError
from ..face.template import template_points
from ..face.topology import face_topology

#: Values per frame: 40 lip points, x and y.
LIP_FEATURES = 80
# Features are scaled so that speech moves them by about one unit (lip motion is ~5% of the eye distance).
_SCALE = 10.0


def lip_points() -> np.ndarray:
    """Indices of the 40 lip landmarks: the outer contour, then the inner one."""

    topology = face_topology()
    return np.concatenate([topology.group("lips_outer"), topology.group("lips_inner")])


#: How the lips are put in the face's frame: "eye_line" (in the image plane: origin at the nose tip, x
#: along the outer eye corners) or "frontal" (in 3D: the head's rigid points aligned with the built-in
#: face's, so a turned head's lips are seen from the front).
FRAMES = LIP_FRAMES
# Landmarks that move with the skull, not with the jaw or the lips: eye corners, nose, forehead, cheekbones.
RIGID = (33, 133, 362, 263, 1, 2, 6, 168, 10, 234, 454)
#: Landmarks of the middle of the upper and lower inner lip, and of the forehead and chin.
INNER_LIPS = (13, 14)
FACE_HEIGHT = (10, 152)


def lip_shapes(landmarks: np.ndarray, frame: str = "eye_line") -> np.ndarray:
    """``(N, 478, 2 or 3)`` landmarks in pixels -> ``(N, 80) float32`` lips in the face's frame (see the
    module and :data:`FRAMES`), before the track's median is removed."""

    points = np.asarray(landmarks)  # only the points used are read in double precision (long tracks stay small)
    if points.ndim != 3 or points.shape[1] < 468 or points.shape[2] < 2:
        raise InputError(f"expected (N, 478, 2 or 3) face landmarks, got {points.shape}")
    if frame not in FRAMES:
        raise InputError(f"frame must be one of {', '.join(FRAMES)}, got {frame!r}")
    if frame == "frontal":
        if points.shape[2] < 3:
            raise InputError("the frontal lip frame needs 3D landmarks (N, 478, 3)")
        return _frontal(points)
    xy = points[..., :2]
    named = face_topology().points
    right, left = (xy[:, named[k]].astype(np.float64) for k in ("right_eye_outer", "left_eye_outer"))
    axis = left - right
    span = np.linalg.norm(axis, axis=1)
    span = np.where(span > 1e-6, span, 1.0)
    cos, sin = axis[:, 0] / span, axis[:, 1] / span
    lips = xy[:, lip_points()].astype(np.float64) - xy[:, named["nose_tip"]][:, None].astype(np.float64)
    # Rotate by minus the eye line's angle, then scale by the eye distance.
    x = (lips[..., 0] * cos[:, None] + lips[..., 1] * sin[:, None]) / span[:, None]
    y = (-lips[..., 0] * sin[:, None] + lips[..., 1] * cos[:, None]) / span[:, None]
    shapes: np.ndarray = (np.concatenate([x, y], axis=1) * _SCALE).astype(np.float32)
    return shapes


def _frontal(points: np.ndarray) -> np.ndarray:
    """Lips seen from the front: each frame's rigid landmarks aligned (rotation, scale, translation) with
    the built-in face's, the lips carried along; in units of the built-in face's eye distance, origin at
    its nose tip, x and y of the frontal plane."""

    template = template_points().astype(np.float64) * [1.0, -1.0, -1.0]  # image axes: y down
    rigid = list(RIGID)
    target = template[rigid]
    source = points[:, rigid].astype(np.float64)  # (N, K, 3)
    mu_s, mu_t = source.mean(1, keepdims=True), target.mean(0)
    a, b = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(np.einsum("nki,kj->nij", a, b))  # (N, 3, 3)
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    flip = np.ones((len(points), 3))
    flip[:, 2] = d
    rotation = np.einsum("nij,nj,njk->nik", u, flip, vt)  # maps source (row vectors) onto the target
    variance = (a**2).sum(axis=(1, 2))
    scale = (sigma * flip).sum(1) / np.maximum(variance, 1e-12)
    lips = points[:, lip_points()].astype(np.float64) - mu_s
    aligned = np.einsum("nki,nij->nkj", lips, rotation) * scale[:, None, None] + mu_t
    named = face_topology().points
    span = float(np.linalg.norm(template[named["left_eye_outer"]] - template[named["right_eye_outer"]]))
    local = (aligned - template[named["nose_tip"]]) / span
    shapes: np.ndarray = (np.concatenate([local[..., 0], local[..., 1]], axis=1) * _SCALE).astype(np.float32)
    return shapes


def lip_motion(landmarks: np.ndarray, frame: str = "eye_line") -> np.ndarray:
    """``(N, 478, 2 or 3)`` landmarks of one face track -> ``(N, 80) float32``: its lip shapes less their
    median over the track (the person's resting mouth)."""
    shapes = lip_shapes(landmarks, frame)
    if len(shapes) == 0:
        return shapes
    motion: np.ndarray = shapes - np.median(shapes, axis=0, keepdims=True)
    return motion


def inner_opening(shapes: np.ndarray) -> np.ndarray:
    """``(N, 80)`` lip shapes (or motion) -> ``(N,)`` the inner-lip opening: how far the middle of the
    lower inner lip (landmark 14) is below the middle of the upper one (landmark 13), in the shapes' units."""
    points = list(lip_points())
    shapes = np.asarray(shapes)
    if shapes.ndim != 2 or shapes.shape[1] != LIP_FEATURES:
        raise InputError(f"expected (N, {LIP_FEATURES}) lip shapes, got {shapes.shape}")
    half = LIP_FEATURES // 2
    opening: np.ndarray = shapes[:, half + points.index(14)] - shapes[:, half + points.index(13)]
    return opening


def lip_opening(landmarks: np.ndarray) -> np.ndarray:
    """``(N, 478, 2|3)`` landmarks in pixels (NaN where no face) -> ``(N,)`` inner-lip opening over face
    height (NaN where no face)."""
    points = np.asarray(landmarks)
    if points.ndim != 3 or points.shape[1] < 468 or points.shape[2] < 2:
        raise InputError(f"expected (N, 478, 2|3) face landmarks, got {points.shape}")
    # only the four points used are read in double precision (long tracks stay small)
    upper, lower, top, bottom = (points[:, k, :2].astype(np.float64) for k in (*INNER_LIPS, *FACE_HEIGHT))
    gap = np.linalg.norm(lower - upper, axis=1)
    height = np.linalg.norm(bottom - top, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        opening: np.ndarray = np.where(height > 1e-6, gap / height, np.nan)
    return opening
