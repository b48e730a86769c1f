"""The real face the enhancement tests align, cut and paste."""

import pytest


@pytest.fixture(scope="module")
def face(photo):
    """The test photo and its face's 478 landmarks."""
    from talkingface.face.detection import detect_faces

    found = detect_faces(photo)
    assert found
    return photo, found[0].landmarks
