"""Real talking-face videos into the Wav2Lip / LRS2 training layout (clips from ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from talkingface.builders.preprocess import PreprocessConfig, preprocess, speakers_for
from talkingface.cli import main
from talkingface.data.lrs2 import ClipData, read_filelist, split_speakers
from talkingface.errors import InputError

CLIPS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clips"
GRID = CLIPS / "rizkiarm__LipNet__bbaf2n.mpg"  # 3 s, 25 fps, one face
LRS2 = CLIPS / "smeetrs__deep_avsr__00001.mp4"  # 4.8 s face crop, 16 kHz
INTERVIEW = CLIPS / "facebookresearch__VisualVoice__interview.mp4"  # two people side by side


@pytest.fixture(scope="module")
def real_clips():
    if not CLIPS.is_dir():
        pytest.skip(f"{CLIPS} is absent: the real clips live in ../shared/data beside the checkout")
    return GRID, LRS2, INTERVIEW


@pytest.fixture(scope="module")
def prepared(real_clips, tmp_path_factory, make_video):
    root = tmp_path_factory.mktemp("pre") / "set"
    silent = make_video(seconds=2.0, audio_seconds=None)  # a real face, no audio stream
    junk = root.parent / "junk.mp4"
    junk.write_bytes(b"\x00 not a video" * 64)
    videos = [*real_clips, silent, junk]
    result = preprocess(videos, root, PreprocessConfig(split=(1, 0, 0)), workers=2)
    return root, result, videos


@pytest.mark.slow
def test_real_clips_become_training_clips(prepared):
    root, result, _ = prepared
    by_video = {Path(r.video).name: r for r in result.reports}
    grid, lrs2 = by_video[GRID.name], by_video[LRS2.name]
    assert len(grid.clips) == 1 and len(lrs2.clips) == 1
    assert sorted(read_filelist(root, "train")) == sorted(root / c for c in grid.clips + lrs2.clips)
    for report in (grid, lrs2):
        clip = ClipData(root / report.clips[0])
        assert clip.info.fps == 25 and clip.info.size == 96 and len(clip) >= 70
        # The speech covers exactly the clip's frames.
        assert len(clip.audio) == pytest.approx(len(clip) / 25 * 16000, abs=1)
        frame = clip.frame(len(clip) // 2)
        assert frame.shape == (96, 96, 3) and frame.std() > 10
        lips = clip.landmarks[:, [13, 14, 61, 291], :2]  # inner lips and mouth corners, in crop pixels
        assert (lips >= 0).all() and (lips < 96).all() and np.median(lips[..., 1]) > 48  # in the lower half
    # LRS2's 16 kHz clip is 4.8 s at 25 fps: every frame kept.
    assert ClipData(root / lrs2.clips[0]).info.source_frames == tuple(range(120))


@pytest.mark.slow
def test_what_is_dropped_is_reported_not_a_crash(prepared):
    root, result, videos = prepared
    by_video = {Path(r.video).name: r for r in result.reports}
    interview = by_video[INTERVIEW.name]
    assert interview.clips == [] and interview.dropped[0]["reason"] == "several faces"
    silent, junk = by_video[Path(videos[3]).name], by_video["junk.mp4"]
    assert silent.clips == [] and "no audio" in silent.error and silent.error_kind == "unusable video"
    assert junk.clips == [] and junk.error_kind == "unusable video"
    report = json.loads((root / "report.json").read_text())
    assert report["dropped"] == {"several faces": 1, "unusable video": 2} and report["clips"] == 2


@pytest.mark.slow
def test_a_second_run_resumes_without_redoing_work(prepared, monkeypatch):
    root, first, videos = prepared
    import talkingface.face

    def no_tracking(*args, **kwargs):
        raise AssertionError("a finished video was tracked again")

    monkeypatch.setattr(talkingface.face, "FaceTracker", no_tracking)
    again = preprocess(videos, root, PreprocessConfig(split=(1, 0, 0)))
    assert [r.clips for r in again.reports] == [r.clips for r in first.reports]


def test_speakers_and_splits():
    assert speakers_for(["a/x.mp4", "a/y.mp4"]) == ["x", "y"]  # one folder: each video its own speaker
    assert speakers_for(["s1/x.mp4", "s2/y.mp4", "s2/z.mp4"])[1:] == ["s2", "s2"]
    assert speakers_for(["a/x.mp4"], {"x.mp4": "Anna"}) == ["Anna"]
    parts = split_speakers([f"s{i}" for i in range(10)], (0.8, 0.1, 0.1), seed=3)
    assert sorted(parts.values()).count("train") == 8 and set(parts.values()) == {"train", "val", "test"}
    assert set(split_speakers(["a", "b"], (0.8, 0.1, 0.1)).values()) == {"train"}  # too few to hold out
    assert split_speakers([f"s{i}" for i in range(10)], (0.8, 0.1, 0.1), seed=3) == parts  # deterministic


def test_bad_requests_fail_in_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["preprocess", str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    assert "no videos found" in capsys.readouterr().err
    assert main(["preprocess", str(tmp_path / "nope.mp4"), str(tmp_path / "out")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["preprocess", str(tmp_path), str(tmp_path / "no" / "out")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(InputError, match="min_frames must be >= 5"):
        PreprocessConfig(min_frames=2)
    for split in ((0, 0, 0), (0.8, -0.1, 0.3)):  # refused before any crop is written
        with pytest.raises(InputError, match="split must be three shares"):
            PreprocessConfig(split=split)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert main(["preprocess", str(video), str(tmp_path / "set"), "--split", "0", "0", "0"]) == 2
    assert "split must be" in capsys.readouterr().err and not (tmp_path / "set").exists()


def test_a_second_run_into_a_set_being_written_is_refused(tmp_path, capsys):
    from talkingface.builders.preprocess import _claim

    root = tmp_path / "set"
    root.mkdir()
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read: the set is taken first")
    first = _claim(root)  # a run writing the set now
    try:
        assert main(["preprocess", str(video), str(root)]) == 2
        assert "another preprocess run is writing this set" in capsys.readouterr().err
    finally:
        first.close()


@pytest.mark.slow
def test_sync_filtering_drops_unsure_clips_and_shifts_the_speech(real_clips, tmp_path, monkeypatch):
    import talkingface.builders.preprocess as pre
    from talkingface.media import load_audio
    from talkingface.models import create_model, save_model

    syncnet = save_model(create_model("syncnet.v2", channel_divisor=8), tmp_path / "sn.safetensors")
    strict = PreprocessConfig(split=(1, 0, 0), syncnet=str(syncnet), min_confidence=1e9)
    result = preprocess([GRID], tmp_path / "strict", strict)  # the real scoring path, an impossible bar
    assert result.clips == 0 and result.reports[0].dropped[0]["reason"] == "low sync confidence"
    # The speech of a clip measured 3 frames late (AV offset -3) is taken 3 frames (1920 samples) later.
    monkeypatch.setattr(pre, "_sync_scores", lambda video, config, tracking: [(0, 75, 5.0, -3)])
    shifted = preprocess(
        [GRID], tmp_path / "shifted", PreprocessConfig(split=(1, 0, 0), syncnet=str(syncnet), shift=True)
    )
    clip = ClipData(tmp_path / "shifted" / shifted.reports[0].clips[0])
    assert clip.info.audio_offset == 3
    source = load_audio(GRID, 16000)
    start = int(round((clip.info.start_seconds * 25 + 3) * 640))
    n = len(clip.audio)
    assert np.abs(clip.audio - source[start : start + n]).mean() < 1e-4  # the same samples (16-bit PCM)
    m = min(n, len(source) - start - 640)
    assert np.abs(clip.audio[:m] - source[start + 640 : start + 640 + m]).mean() > 10 * 1e-4  # not a frame off
    assert len(clip.audio) == len(clip) * 640
    assert PreprocessConfig(shift=True).scorer == "builtin" and PreprocessConfig().scorer is None
