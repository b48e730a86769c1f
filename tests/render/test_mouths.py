"""A real mouth cut from one frame and moved onto another frame of the same face, with the head."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.face import detect_faces
from talkingface.render.mouths import cut_mouth, paste_mouth


@pytest.fixture(scope="module")
def face(photo):
    return photo, detect_faces(photo)[0].landmarks


def test_the_mouth_lands_where_the_head_now_is_and_nothing_above_it_changes(face):
    import cv2

    image, landmarks = face
    painted = image.copy()
    lips = np.round(landmarks[[61, 0, 291, 17], :2]).astype(np.int32)
    cv2.fillPoly(painted, [cv2.convexHull(lips)], (0, 0, 255))
    shift = np.array([14.0, -9.0])  # the same face, elsewhere in its frame
    moved = np.roll(painted, (-9, 14), axis=(0, 1))
    moved_points = landmarks.copy()
    moved_points[:, :2] += shift
    patch = cut_mouth(moved, moved_points)
    assert patch.image.shape[0] < image.shape[0] / 2  # the lower face, not the frame
    centre = np.round(landmarks[[13, 14], :2].mean(0)).astype(int)
    exact = paste_mouth(image.copy(), landmarks, patch, colour_match=False)
    assert tuple(exact[centre[1], centre[0]]) == pytest.approx((0, 0, 255), abs=12)  # the painted mouth, moved back
    out = paste_mouth(image.copy(), landmarks, patch)  # colours matched at the seam: still the blue mouth
    red, green, blue = out[centre[1], centre[0]].astype(int)
    assert blue > max(red, green) + 100
    nose = int(landmarks[2, 1])
    top = int(landmarks[:, 1].min())
    assert np.array_equal(out[: top + (nose - top) // 2], image[: top + (nose - top) // 2])  # eyes and above untouched
    changed = np.abs(out.astype(int) - image.astype(int)).sum(2) > 0
    assert changed[: nose - 5].sum() == 0 and changed.sum() < 0.25 * changed.size


def test_a_face_outside_the_frame_is_refused(face):
    image, landmarks = face
    with pytest.raises(InputError, match="outside the frame"):
        cut_mouth(image, landmarks + np.array([5000.0, 5000.0, 0.0]))
    with pytest.raises(InputError, match="finite face landmarks"):
        cut_mouth(image, np.full((478, 3), np.nan))
