import numpy as np
import pytest

from talkingface.animation.rig import LandmarkRig
from talkingface.errors import InputError
from talkingface.face import detect_faces
from talkingface.render.photo import PhotoWarper


@pytest.fixture(scope="module")
def face(photo):
    return detect_faces(photo)[0].landmarks


@pytest.fixture(scope="module")
def rig(face):
    return LandmarkRig(face)


def gap(rig, landmarks):
    return float(np.median(rig.lip_gap(rig.frame.to_local(landmarks))))


def test_the_open_mouth_photo_is_neutralised_closed(rig, face):
    assert gap(rig, face) > 0.05  # the astronaut smiles with parted lips
    assert abs(gap(rig, rig())) < 0.003  # zero weights: lips together
    # Above the mouth nothing moves.
    assert np.abs(rig()[:, :2] - face[:, :2])[[10, 33, 133, 263, 362, 1, 168]].max() < 0.5


def test_jaw_opens_down_and_scales_with_the_weight(rig):
    openings = [gap(rig, rig({"jawOpen": w})) for w in (0.2, 0.5, 0.9)]
    assert 0.02 < openings[0] < openings[1] < openings[2] < 0.3
    chin = rig({"jawOpen": 0.8})[152, 1] - rig()[152, 1]
    assert chin > 0.06 * rig.frame.scale  # the chin drops
    closed = rig({"jawOpen": 0.8, "mouthClose": 1.0})
    assert gap(rig, closed) < 0.02 and closed[152, 1] - rig()[152, 1] > 0.06 * rig.frame.scale


def test_lip_shapes(rig):
    neutral = rig()

    def width(lm):
        return lm[291, 0] - lm[61, 0]

    assert width(rig({"mouthPucker": 1.0})) < 0.85 * width(neutral)
    assert width(rig({"mouthStretchLeft": 1.0, "mouthStretchRight": 1.0})) > 1.08 * width(neutral)
    smile = rig({"mouthSmileLeft": 1.0})
    assert smile[291, 1] < neutral[291, 1] - 1 and abs(smile[61, 1] - neutral[61, 1]) < 1  # one side only
    assert gap(rig, rig({"mouthFunnel": 1.0})) > 0.03
    assert rig({"mouthUpperUpLeft": 1, "mouthUpperUpRight": 1})[0, 1] < neutral[0, 1] - 1
    blink = rig({"eyeBlinkLeft": 1.0})
    assert blink[386, 1] > neutral[386, 1] + 2  # the upper lid comes down


def test_rig_follows_head_pose(photo, face):
    import cv2

    roll = cv2.getRotationMatrix2D((256.0, 256.0), 20, 1.0)
    turned = face.copy()
    turned[:, :2] = np.concatenate([face[:, :2], np.ones((478, 1))], 1) @ roll.T
    a, b = LandmarkRig(face), LandmarkRig(turned)
    da = a({"jawOpen": 0.7})[152, :2] - a()[152, :2]
    db = b({"jawOpen": 0.7})[152, :2] - b()[152, :2]
    np.testing.assert_allclose(db, roll[:, :2] @ da, atol=0.5)  # the chin drops along the rolled face


def test_warp_moves_only_the_lower_face(photo, face, rig):
    warper = PhotoWarper(photo, face)
    neutral = warper.warp(rig())
    opened = warper.warp(rig({"jawOpen": 0.7}))
    assert (opened[:100] == photo[:100]).all()  # forehead and above untouched
    assert (opened[:, :120] == photo[:, :120]).all() and (opened[:, 400:] == photo[:, 400:]).all()
    # The mouth region changes; the drawn interior is darker than the closed lips.
    mouth = (slice(138, 162), slice(205, 240))
    assert opened[mouth].mean() < neutral[mouth].mean() - 15
    with pytest.raises(InputError):
        PhotoWarper(photo[..., 0], face)


def test_degenerate_landmarks():
    with pytest.raises(InputError):
        LandmarkRig(np.zeros((478, 3)))
