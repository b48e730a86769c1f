import json

import numpy as np
import pytest
from tests.face.conftest import place

from talkingface.cli import main
from talkingface.media import probe_video, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory, photo, speech16k):
    path = tmp_path_factory.mktemp("track") / "clip.mp4"
    frames = [place(photo, (640, 360), 40 + 4 * i, -40, 0.8) for i in range(25)]
    frames[10] = frames[10].copy()
    return write_video(path, frames, 25, audio=speech16k[:16000], sample_rate=16000)


def test_track_writes_json_and_preview(clip, tmp_path, capsys):
    out, preview = tmp_path / "t.json", tmp_path / "p.mp4"
    assert main(["track", str(clip), "-o", str(out), "--preview", str(preview)]) == 0
    data = json.loads(out.read_text())
    assert data["num_frames"] == 25 and data["fps"] == "25" and (data["width"], data["height"]) == (640, 360)
    (track,) = data["tracks"]
    assert track["frames"] == list(range(25)) and len(track["landmarks"]) == 25
    assert len(track["landmarks"][0]) == 478 and len(track["boxes"][0]) == 4
    info = probe_video(preview)
    assert info.num_frames == 25 and info.has_audio
    assert "1 track(s) over 25 frames" in capsys.readouterr().out


def test_track_boxes_only(clip, tmp_path):
    out = tmp_path / "t.json"
    assert main(["track", str(clip), "-o", str(out), "--boxes-only", "--no-smoothing"]) == 0
    assert "landmarks" not in json.loads(out.read_text())["tracks"][0]


def test_track_video_without_faces(tmp_path):
    blank = write_video(tmp_path / "blank.mp4", [np.full((120, 160, 3), 90, np.uint8)] * 5, 25)
    assert main(["track", str(blank), "-o", str(tmp_path / "t.json")]) == 0
    assert json.loads((tmp_path / "t.json").read_text())["tracks"] == []


def test_track_bad_input(tmp_path, capsys):
    assert main(["track", str(tmp_path / "none.mp4")]) == 2
    assert "none.mp4: file not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
