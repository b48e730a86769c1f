"""Whether two videos clearly show different people: a rough check from the face's shape and skin tone.

No face-recognition model is involved, so the check only catches the clear cases (another sex, build
or skin tone), and says nothing when it cannot tell:

- :func:`face_shape`: the median over frames of the 3D mesh above the nose tip (eyes, brows, nose,
  forehead: the jaw and lips move with speech) with the head's position, size and turn taken out (the
  rigid points aligned with the built-in face's), in units of the distance between the outer eye
  corners.
- :func:`skin_tone`: the colour (CIELAB a* and b*, lightness left out so that brighter or darker light
  matters less) of three small patches of skin: both cheeks and the bridge of the nose.

:func:`unlike` compares the two. Its limits were chosen on the 45 real clips (41 speakers) of
``bench/bench_identity.py``, with no held-out set (only 3 speakers there have two recordings): over the
50 pairs of one person (each clip's two halves, and the 5 pairs of recordings of one speaker) the
largest shape distance was 0.0185 and the largest tone difference 5.1; at the limits below, 88 % of
the 985 pairs of different people are flagged and none of one person.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..optional import needs
from .lips import RIGID

#: Largest root-mean-square distance between two face shapes, in eye-corner distances, for them to pass
#: as one person's.
SHAPE_LIMIT = 0.025
#: Largest difference between two skin tones (a*, b* distance) for them to pass as one person's.
TONE_LIMIT = 10.0
#: Skin patches: the middle of each cheek and the bridge of the nose (478-point mesh).
SKIN_POINTS = (205, 425, 197)
_EYES = (33, 263)
_NOSE_TIP = 1


def _reference() -> np.ndarray:
    from ..face.template import template_points

    points: np.ndarray = template_points()[:, :3].astype(np.float64)
    scaled: np.ndarray = points / np.linalg.norm(points[_EYES[0]] - points[_EYES[1]])
    return scaled


def _upper(reference: np.ndarray) -> np.ndarray:
    """The mesh points above the nose tip (the built-in face's y points up)."""
    above: np.ndarray = np.flatnonzero(reference[:468, 1] > reference[_NOSE_TIP, 1])
    return above


def face_shape(landmarks: np.ndarray) -> np.ndarray | None:
    """``(K, 3)`` the median aligned upper face of ``landmarks`` ``(N, 478, 3)`` (NaN rows: no face);
    None when no frame has a face."""
    from ..geometry import umeyama

    points = np.asarray(landmarks, np.float64)
    if points.ndim != 3 or points.shape[1] < 468 or points.shape[2] < 3:
        raise InputError(f"expected (N, 478, 3) landmarks, got {points.shape}")
    found = np.isfinite(points).all((1, 2))
    if not found.any():
        return None
    reference = _reference()
    rigid, upper = list(RIGID), _upper(reference)
    aligned = []
    for frame in points[found][:: max(1, int(found.sum()) // 200)]:  # at most ~200 frames
        scale, rotation, shift = umeyama(frame[rigid, :3], reference[rigid])
        aligned.append(frame[upper, :3] @ (scale * rotation).T + shift)
    shape: np.ndarray = np.median(np.array(aligned), axis=0)
    return shape


def skin_tone(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``(2,)`` CIELAB a* and b* of the face's skin in ``frame`` (RGB uint8) at ``landmarks`` (pixels)."""
    with needs("face"):
        import cv2

    points = np.asarray(landmarks, np.float64)[:, :2]
    size = max(1, int(round(0.03 * np.linalg.norm(points[_EYES[0]] - points[_EYES[1]]) / 0.3)))
    h, w = frame.shape[:2]
    pixels = []
    for index in SKIN_POINTS:
        x, y = np.round(points[index]).astype(int)
        box = frame[max(0, y - size) : min(h, y + size + 1), max(0, x - size) : min(w, x + size + 1)]
        pixels.append(box.reshape(-1, 3))
    skin = np.concatenate(pixels)
    if len(skin) == 0:
        raise InputError("the face's skin is outside the frame")
    lab = cv2.cvtColor(skin[None].astype(np.uint8), cv2.COLOR_RGB2LAB)[0].astype(np.float64)
    tone: np.ndarray = np.median(lab[:, 1:], axis=0)
    return tone


def shape_distance(shape: np.ndarray, other: np.ndarray) -> float:
    """Root-mean-square distance between two :func:`face_shape` results, in eye-corner distances."""
    return float(np.sqrt(((np.asarray(shape) - np.asarray(other)) ** 2).sum(1).mean()))


def tone_difference(tone: np.ndarray, other: np.ndarray) -> float:
    """Distance between two :func:`skin_tone` results (a*, b*)."""
    return float(np.linalg.norm(np.asarray(tone) - np.asarray(other)))


def unlike(
    shape: np.ndarray | None, tone: np.ndarray | None, other_shape: np.ndarray | None, other_tone: np.ndarray | None
) -> str | None:
    """How two faces clearly differ (their shapes, skin tones), or None where they may be one person."""
    reasons = []
    if shape is not None and other_shape is not None:
        distance = shape_distance(shape, other_shape)
        if distance > SHAPE_LIMIT:
            reasons.append(f"face shape {distance / SHAPE_LIMIT:.1f}x the largest difference seen in one person")
    if tone is not None and other_tone is not None:
        difference = tone_difference(tone, other_tone)
        if difference > TONE_LIMIT:
            reasons.append(f"skin tone {difference / TONE_LIMIT:.1f}x the largest difference seen in one person")
    return "; ".join(reasons) or None
