import numpy as np
import pytest
from tests.face.conftest import PHOTO_POINTS, place

from talkingface.errors import InputError
from talkingface.face import NUM_LANDMARKS, detect_faces, face_topology


def test_landmarks_of_the_photo_land_on_the_face(photo):
    faces = detect_faces(photo)
    assert len(faces) == 1
    face = faces[0]
    assert face.detection.score > 0.8
    x1, y1, x2, y2 = face.detection.box
    assert 160 < x1 < 190 and 260 < x2 < 290 and 55 < y1 < 85 and 160 < y2 < 185
    lm = face.landmarks
    assert lm.shape == (NUM_LANDMARKS, 3) and lm.dtype == np.float32
    for index, (x, y) in PHOTO_POINTS.items():
        assert np.hypot(lm[index, 0] - x, lm[index, 1] - y) < 4, index
    # Geometry a real face must have: eyes above the nose above the mouth above the chin.
    topo = face_topology()
    eye_y = lm[topo.group("right_eye"), 1].mean()
    assert eye_y < lm[topo.points["nose_tip"], 1] < lm[topo.points["upper_lip_top"], 1] < lm[topo.points["chin"], 1]
    # The nose tip is the point nearest the camera among these.
    assert lm[topo.points["nose_tip"], 2] < lm[topo.points["right_cheek"], 2]


@pytest.mark.parametrize("canvas, scale", [((320, 180), 0.3), ((3840, 2160), 3.0), ((720, 1280), 1.0)])
def test_small_huge_and_portrait_frames(photo, canvas, scale):
    x = canvas[0] // 2 - int(223 * scale)
    y = canvas[1] // 2 - int(131 * scale)
    frame = place(photo, canvas, x, y, scale)
    faces = detect_faces(frame)
    assert len(faces) == 1 and faces[0].landmarks is not None
    nose = faces[0].landmarks[1, :2]
    expected = np.array([x + 223.1 * scale, y + 130.8 * scale])
    assert np.hypot(*(nose - expected)) < max(3.0, 4 * scale)


def test_two_faces(photo):
    frame = place(photo, (1280, 720), 0, 100, 1.0)
    frame = place(photo, (1280, 720), 800, 200, 0.6, out=frame)
    faces = detect_faces(frame)
    assert len(faces) == 2
    noses = sorted(float(f.landmarks[1, 0]) for f in faces)
    assert noses[0] == pytest.approx(223.1, abs=4) and noses[1] == pytest.approx(800 + 223.1 * 0.6, abs=4)
    # Largest first.
    assert faces[0].landmarks[1, 0] < 400


def test_no_face(photo):
    assert detect_faces(np.full((360, 640, 3), 120, np.uint8)) == []
    assert detect_faces(photo[300:, :]) == []  # the body without the head


def test_bad_frame():
    with pytest.raises(InputError, match=r"\(H, W, 3\) uint8 RGB"):
        detect_faces(np.zeros((10, 10), np.uint8))


def test_topology_is_a_consistent_mesh():
    topo = face_topology()
    assert topo.triangles.shape == (852, 3)
    # Every interior edge is shared by two triangles that traverse it in opposite directions.
    directed = {(a, b) for t in topo.triangles for a, b in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}
    assert len(directed) == 3 * len(topo.triangles)  # no edge traversed twice the same way
    assert topo.group("lips_outer").shape == (20,) and topo.group("jaw")[0] == topo.points["right_cheek"]
    assert topo.points["chin"] in topo.group("jaw")
    with pytest.raises(InputError, match="unknown landmark group"):
        topo.group("ears")
