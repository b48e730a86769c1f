"""The drawn mouth takes its light from the photo: on a bright photo, a dark side-lit one and a painting
of ``../shared/data/faces`` the interior is darker than the skin around it, the teeth no brighter than
the skin's brightest 5%, the rims no more vivid than the face; a greyscale photo gets a grey mouth, a
side-lit face a side-lit mouth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkingface.animation.rig import LandmarkRig
from talkingface.face import detect_faces
from talkingface.media import read_image
from talkingface.metrics.look import mouth_look
from talkingface.render.photo import PhotoWarper
from talkingface.speech import VISEME_POSES

FACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces"


def open_mouths(name: str, lit: bool = True):
    if not FACES.is_dir():
        pytest.skip(f"{FACES} is absent: the portraits live in ../shared/data beside the checkout")
    image = read_image(FACES / name)
    landmarks = detect_faces(image, max_faces=1)[0].landmarks
    rig, warper = LandmarkRig(landmarks), PhotoWarper(image, landmarks)
    if not lit:
        warper.light.apply = lambda interior, x0, y0: interior
    for jaw in (0.3, 0.6, 1.0):
        posed = rig({**VISEME_POSES["Ah"], "jawOpen": jaw})
        yield warper.warp(posed), posed


@pytest.mark.parametrize(
    "name, dim_skin",
    [("sadtalker__art_0.png", True), ("sadtalker__art_18.png", False), ("sadtalker__art_17.png", True)],
)
def test_the_mouth_is_lit_like_the_face(name, dim_skin):
    lit = []
    for frame, posed in open_mouths(name):
        look = mouth_look(frame, posed)
        assert look is not None
        assert look["interior"] < look["skin"]
        assert look["teeth"] <= look["skin_bright"] + 2
        assert look["rim_chroma"] <= look["face_chroma"]
        lit.append(look)
    # Without the skin's light the teeth are the fixed colour: far brighter, and on these faces
    # (not the side-lit one, whose lit cheek is as bright) brighter than any of the skin.
    frame, posed = next(open_mouths(name, lit=False))
    unlit = mouth_look(frame, posed)
    assert unlit is not None and unlit["teeth"] > lit[0]["teeth"] + 20
    if dim_skin:
        assert unlit["teeth"] > unlit["skin_bright"]


def test_a_greyscale_photo_gets_a_grey_mouth():
    for frame, posed in open_mouths("liveportrait__s2.jpg"):
        import cv2

        from talkingface.face.topology import face_topology

        mask = np.zeros(frame.shape[:2], np.uint8)
        inner = posed[face_topology().group("lips_inner"), :2]
        cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], (1,))
        pixels = frame[mask > 0].astype(int)
        assert np.percentile(pixels.max(1) - pixels.min(1), 95) <= 12  # no maroon in a grey photo


def test_a_side_lit_face_gets_a_side_lit_mouth():
    """sadtalker__art_18: light from the right, the left cheek in shadow; the interior follows."""
    from talkingface.face.topology import face_topology

    image = read_image(FACES / "sadtalker__art_18.png") if FACES.is_dir() else None
    if image is None:
        pytest.skip("portraits absent")
    warper = PhotoWarper(image, detect_faces(image, max_faces=1)[0].landmarks)
    slope = warper.light.plane[1]  # luminance change per pixel to the right
    assert abs(slope) > 0.1
    for frame, posed in open_mouths("sadtalker__art_18.png"):
        inner = posed[face_topology().group("lips_inner"), :2]
        middle = inner[:, 0].mean()
        import cv2

        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], (1,))
        ys, xs = np.nonzero(mask)
        luma = frame[ys, xs] @ np.array([0.299, 0.587, 0.114])
        right, left = luma[xs > middle].mean(), luma[xs < middle].mean()
        assert np.sign(right - left) == np.sign(slope)


@pytest.mark.parametrize("name", ["sadtalker__art_0.png", "sadtalker__art_18.png"])
def test_nearly_closed_lips_leave_no_bright_seam(name):
    """Closing (or a bilabial), the lips part by a few pixels: the gap is shadow, not a line of teeth."""
    import cv2

    from talkingface.face.topology import face_topology

    if not FACES.is_dir():
        pytest.skip("portraits absent")
    image = read_image(FACES / name)
    landmarks = detect_faces(image, max_faces=1)[0].landmarks
    rig, warper = LandmarkRig(landmarks), PhotoWarper(image, landmarks)
    topology = face_topology()
    for jaw in (0.03, 0.06):
        posed = rig({"jawOpen": jaw})
        frame = warper.warp(posed).astype(float) @ np.array([0.299, 0.587, 0.114])
        hole = np.zeros(frame.shape, np.uint8)
        cv2.fillPoly(hole, [np.round(posed[topology.group("lips_inner"), :2] * 16).astype(np.int32)], (1,), shift=4)
        lips = np.zeros(frame.shape, np.uint8)
        cv2.fillPoly(lips, [np.round(posed[topology.group("lips_outer"), :2] * 16).astype(np.int32)], (1,), shift=4)
        lips &= 1 - hole
        assert hole.sum() > 20  # the lips are parted
        assert np.percentile(frame[hole > 0], 95) <= np.median(frame[lips > 0]) + 30


def test_no_dark_notches_at_the_mouth_corners(photo):
    """The photo's open smile: its teeth and the shadows at its corners are filled from the lips before
    warping, so the closed mouth has no dark notches where the corners were (they were at 0.5 and 0.26
    of the lips' darkest tenth on this photo before the fill)."""
    import cv2

    from talkingface.face.topology import face_topology

    landmarks = detect_faces(photo)[0].landmarks
    rig, warper = LandmarkRig(landmarks), PhotoWarper(photo, landmarks)
    for pose in ({}, VISEME_POSES["MBP"]):
        posed = rig(pose)
        luma = warper.warp(posed).astype(float) @ np.array([0.299, 0.587, 0.114])
        lips = np.zeros(luma.shape, np.uint8)
        cv2.fillPoly(lips, [np.round(posed[face_topology().group("lips_outer"), :2]).astype(np.int32)], (1,))
        reference = np.percentile(luma[lips > 0], 10)
        for corner in (61, 291):
            x, y = np.round(posed[corner, :2]).astype(int)
            assert luma[y - 3 : y + 4, x - 3 : x + 4].min() > 0.7 * reference


def test_closed_lips_read_as_closed(photo):
    """With the photo's gap filled, the line where the animated lips meet is drawn: the face detector
    reads the closed mouth as closed (its inner lips within a pixel), and the same mouth opened by the
    jaw as open."""
    landmarks = detect_faces(photo)[0].landmarks
    rig, warper = LandmarkRig(landmarks), PhotoWarper(photo, landmarks)
    openings = []
    for pose in (VISEME_POSES["MBP"], {"jawOpen": 0.5}):
        seen = detect_faces(warper.warp(rig(pose)), max_faces=1)[0].landmarks
        openings.append(seen[14, 1] - seen[13, 1])
    assert openings[0] < 1.0
    assert openings[1] > 4.0


@pytest.mark.parametrize("name", ["sadtalker__art_0.png", "sadtalker__happy.png"])
def test_an_open_mouth_narrows_into_its_corners(name):
    """Wide open, the gap between the lips is rounded: a tenth of the mouth's width in from each corner
    it is under 0.7 of its height in the middle (0.55-0.62 on these faces; the rig that moved the whole
    lower lip with the jaw opened a box with vertical sides, 0.91-0.94)."""
    from talkingface.render.photo import mouth_opening

    if not FACES.is_dir():
        pytest.skip("portraits absent")
    image = read_image(FACES / name)
    landmarks = detect_faces(image, max_faces=1)[0].landmarks
    posed = LandmarkRig(landmarks)({**VISEME_POSES["Ah"], "jawOpen": 1.0})
    outline = mouth_opening(posed)
    right, left = posed[78, 0], posed[308, 0]

    def height(x):
        near = np.abs(outline[:, 0] - x) < 0.02 * (left - right)
        return np.ptp(outline[near, 1])

    middle = height((right + left) / 2)
    assert middle > 0.2 * (left - right)
    for x in (right + 0.1 * (left - right), left - 0.1 * (left - right)):
        assert height(x) < 0.7 * middle


def test_a_mouth_drawn_at_2048_px_is_round_and_shows_teeth_rows_and_a_tongue():
    """A face drawn large (its mouth 600 px wide, as at 2048 px): the opening's outline has no straight
    piece over 3 px (it had 37 px facets), and down the middle of the opening lie the upper teeth, the
    dark of the mouth, the tongue and the lower teeth."""
    from talkingface.render.photo import MouthStyle, draw_mouth_interior, mouth_opening

    if not FACES.is_dir():
        pytest.skip("portraits absent")
    image = read_image(FACES / "liveportrait__s7.jpg")
    landmarks = detect_faces(image, max_faces=1)[0].landmarks
    posed = LandmarkRig(landmarks)({**VISEME_POSES["Ah"], "jawOpen": 1.0})[:, :2].astype(np.float64)
    scale = 600 / np.linalg.norm(posed[308] - posed[78])
    lips = (posed - posed[[78, 308]].mean(0)) * scale + (700, 500)
    outline = mouth_opening(lips)
    assert np.linalg.norm(np.diff(outline, axis=0), axis=1).max() <= 3.0
    interior = draw_mouth_interior((1000, 1400), lips, lips, MouthStyle())
    luma = interior @ np.array([0.299, 0.587, 0.114], np.float32)
    top, bottom = int(lips[13, 1]), int(lips[14, 1])
    column = luma[top:bottom, 700]
    dark_rows = np.flatnonzero(column < 40)
    assert dark_rows.size, "the mouth has a dark inside"
    assert column[: dark_rows[0]].max() > 180  # upper teeth, above the dark
    below = column[dark_rows[-1] :]
    reddish = interior[top + dark_rows[-1] : bottom, 700]
    assert ((reddish[:, 0] > reddish[:, 1] + 30) & (reddish[:, 0] > 80)).any()  # the tongue
    assert below.max() > 150  # lower teeth, at the bottom
