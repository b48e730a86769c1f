"""Synthetic 2D talking faces: portraits speak espeak-ng sentences, written in the preprocessed layout
through the real tracker, the same clips from the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.builders.talking2d import Augmentation, TalkingFacesConfig, make_talking_faces
from talkingface.data.lrs2 import ClipData, read_filelist
from talkingface.errors import InputError


@pytest.fixture(scope="module")
def made(photo_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("talking2d")
    faces = root / "faces"
    faces.mkdir()
    (faces / "a.png").write_bytes(photo_path.read_bytes())
    (faces / "blank.png").write_bytes(_blank_png())
    result = make_talking_faces([faces], root / "set", TalkingFacesConfig(clips_per_face=2, seed=3), log=None)
    assert not (root / "set" / "videos" / "synth_blank_00.json").exists()
    return root, result


def _blank_png() -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.full((200, 160, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.slow
def test_portraits_become_training_clips_whose_lips_move_with_the_speech(made):
    root, result = made
    assert result.clips == 2  # the blank image has no face: skipped
    folders = [f for split in ("train", "val", "test") for f in read_filelist(root / "set", split)]
    assert len(folders) == 2 and all(f.parent.name == "synth_a" for f in folders)
    for folder in folders:
        clip = ClipData(folder)
        assert clip.landmarks.shape == (len(clip), 478, 3) and len(clip.audio) == len(clip) * 640
        opening = clip.landmarks[:, 14, 1].astype(np.float64) - clip.landmarks[:, 13, 1]
        loudness = np.array([np.abs(clip.audio[i * 640 : (i + 1) * 640]).mean() for i in range(len(clip))])
        loud = np.flatnonzero(loudness > 0.1 * loudness.max())
        # The sentence starts after a silence in which the lips are closed (but for the last 5 frames, where
        # they part ahead of the sound as real lips do); they open as it is spoken.
        lead, speech = opening[: max(1, loud[0] - 5)], opening[loud[0] : loud[-1] + 1]
        assert len(lead) >= 1 and speech.mean() > lead.mean() + 0.5 and speech.max() > lead.max() + 2


@pytest.mark.slow
def test_the_same_seed_draws_the_same_clips(made, photo_path, tmp_path):
    import json

    from talkingface.builders.talking2d import _render_clip
    from talkingface.media import probe_video

    root, _ = made
    first = json.loads((root / "set" / "videos" / "synth_a_00.json").read_text())
    drawn = _render_clip(photo_path, tmp_path / "again.mp4", np.random.default_rng([3, 0, 0]), TalkingFacesConfig())
    again = json.loads(json.dumps(drawn))
    assert {k: v for k, v in again.items() if k != "image"} == {k: v for k, v in first.items() if k != "image"}
    frames = [probe_video(p).num_frames for p in (root / "set" / "videos" / "synth_a_00.mp4", tmp_path / "again.mp4")]
    assert abs(frames[0] - frames[1]) <= 1


def test_augmentation_is_drawn_from_the_seed_and_bounded():
    a = Augmentation.draw(np.random.default_rng(5))
    assert a == Augmentation.draw(np.random.default_rng(5))
    assert abs(a.angle) <= 8 and 0.85 <= a.scale <= 1.15 and 18 <= a.crf < 36
    frame = np.full((64, 48, 3), 120, np.uint8)
    out = a.apply(frame, 0.5, np.random.default_rng(0))
    assert out.shape == frame.shape and out.dtype == np.uint8
    plain = Augmentation.draw(np.random.default_rng(5), enabled=False)
    np.testing.assert_array_equal(plain.apply(frame, 0.3, np.random.default_rng(0)), frame)


def test_bad_requests(tmp_path):
    with pytest.raises(InputError, match="no portrait images"):
        make_talking_faces([tmp_path], tmp_path / "out", log=None)
    with pytest.raises(InputError, match="no such file"):
        make_talking_faces([tmp_path / "nope.png"], tmp_path / "out", log=None)
    with pytest.raises(InputError, match="clips_per_face"):
        TalkingFacesConfig(clips_per_face=0)
