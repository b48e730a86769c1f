import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.features.lips import LIP_FEATURES, lip_motion, lip_points, lip_shapes


def face(frames=6, seed=0):
    from talkingface.animation.mesh import face_template

    vertices = face_template().vertices.astype(np.float64)
    base = np.stack([vertices[:, 0], -vertices[:, 1], vertices[:, 2]], axis=1) * 200 + [320, 240, 0]
    rng = np.random.default_rng(seed)
    return np.stack([base + rng.normal(0, 0.5, base.shape) for _ in range(frames)])


def test_lip_shapes_ignore_where_the_head_is_its_roll_and_its_size():
    points = face()
    angle = np.deg2rad(17)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = points.copy()
    moved[..., :2] = (points[..., :2] @ rotation.T) * 1.7 + [55, -20]
    np.testing.assert_allclose(lip_shapes(moved), lip_shapes(points), atol=1e-4)
    assert lip_shapes(points).shape == (6, LIP_FEATURES) and len(lip_points()) == 40


def test_lip_motion_is_the_change_from_the_tracks_median_mouth():
    points = face(frames=9)
    opened = points.copy()
    lower = lip_points()[opened[0, lip_points(), 1] > opened[0, lip_points(), 1].mean()]
    opened[4, lower, 1] += 20.0  # one frame with the mouth open
    motion = lip_motion(opened)
    assert np.abs(np.median(motion, axis=0)).max() < 1e-5
    assert np.abs(motion[4]).max() > 5 * np.abs(np.delete(motion, 4, axis=0)).max()


def test_bad_landmarks():
    with pytest.raises(InputError, match="face landmarks"):
        lip_shapes(np.zeros((4, 68, 2)))


def test_the_frontal_frame_sees_a_turned_heads_lips_from_the_front():
    from talkingface.animation.mesh import face_template

    vertices = face_template().vertices.astype(np.float64) * [1.0, -1.0, -1.0]
    angle = np.deg2rad(35)  # a three-quarter view: the head turned about its vertical axis
    turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    points = np.stack([vertices * 300 + [200, 150, 0], (vertices @ turn.T) * 250 + [90, 80, 4]])
    frontal = lip_shapes(points, "frontal")
    np.testing.assert_allclose(frontal[1], frontal[0], atol=1e-4)
    in_image = lip_shapes(points, "eye_line")
    assert np.abs(in_image[1] - in_image[0]).max() > 0.5  # in the image plane the turned mouth looks narrower
    with pytest.raises(InputError, match="3D landmarks"):
        lip_shapes(points[..., :2], "frontal")
    with pytest.raises(InputError, match="frame must be"):
        lip_shapes(points, "side")
