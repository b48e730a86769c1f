"""Dubbing a real clip with the speaker's own mouths, no weights: ``lipsync`` without a checkpoint."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from tests.conftest import REPO, in_shared

from talkingface.cli import main
from talkingface.face import FaceTracker
from talkingface.media import load_audio, probe_video, read_frames, read_image, write_video, write_wav
from talkingface.pipelines import LipSyncConfig, MouthDubPipeline, mouth_dub

CLIPS = REPO.parent / "shared" / "data" / "clips"
FACE = CLIPS / "smeetrs__deep_avsr__00001.mp4"  # 4.8 s, LRS2 (evaluation only)
OTHER = CLIPS / "smeetrs__deep_avsr__00004.mp4"  # another speaker, 5.5 s


@pytest.fixture(scope="module")
def dubbed(tmp_path_factory):
    face, other = in_shared(FACE), in_shared(OTHER)
    folder = tmp_path_factory.mktemp("mouth_dub")
    speech = write_wav(folder / "other.wav", load_audio(other, 16000), 16000)
    pipeline = MouthDubPipeline.from_config(LipSyncConfig())
    result = pipeline(face, speech, folder / "out.mp4")
    return face, speech, result, pipeline


def test_a_real_clip_is_dubbed_to_other_speech_below_the_nose_only(dubbed):
    face, speech, result, pipeline = dubbed
    assert abs(result.num_frames - len(load_audio(speech, 16000)) / 16000 * 25) <= 1  # as long as the speech
    assert probe_video(result.path).num_frames == result.num_frames
    source, ours = list(read_frames(face)), list(read_frames(result.path))
    landmarks = FaceTracker().track_video(face).target().landmarks
    period = 2 * len(source) - 2  # the video plays back and forth under longer speech
    upper, lower = [], []
    for j in range(0, result.num_frames, 7):
        k = j % period if j % period < len(source) else period - j % period
        nose = int(landmarks[k, 2, 1])
        (x0, y0), (x1, y1) = landmarks[k, [61, 291, 0, 17], :2].min(0), landmarks[k, [61, 291, 0, 17], :2].max(0)
        difference = np.abs(ours[j].astype(int) - source[k].astype(int)).mean(2)
        upper.append(difference[: nose - 12].mean())
        lower.append(difference[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].mean())
    assert np.median(upper) < 3.0  # the codec's noise (a 160 px clip)
    assert np.median(lower) > 2 * np.median(upper)  # the mouth is another frame's
    assert not any("speech-only" in note for note in pipeline.notes)  # its own speech taught the speaker's mouth
    assert pipeline.unmatched.mean() < 0.1  # its own frames give a mouth in nearly every pose


def test_the_command_dubs_without_a_checkpoint_and_a_photo_becomes_a_talking_photo(tmp_path, photo_path, capsys):
    face = in_shared(FACE)
    speech = write_wav(tmp_path / "s.wav", load_audio(in_shared(OTHER), 16000)[:16000], 16000)
    out, sheet = tmp_path / "dub.mp4", tmp_path / "sheet.png"
    command = ["lipsync", "--face", str(face), "--audio", str(speech), "-o", str(out), "--sheet", str(sheet)]
    assert main([*command, "--quiet"]) == 0
    assert probe_video(out).num_frames == 25
    assert "contact sheet" in capsys.readouterr().out and read_image(sheet).shape[0] >= 64
    photo_out = tmp_path / "photo.mp4"
    photo_sheet = tmp_path / "photo_sheet.png"
    photo_command = ["lipsync", "--face", str(photo_path), "--audio", str(speech), "-o", str(photo_out)]
    assert main([*photo_command, "--sheet", str(photo_sheet), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "animating it as a talking photo" in printed and "contact sheet" in printed
    assert probe_video(photo_out).num_frames == 25 and read_image(photo_sheet).shape[0] >= 64


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--method", "wav2lip"], "needs --checkpoint"),
        (["--method", "mouths", "--checkpoint", "g.pth"], "are Wav2Lip's"),
        (["--mouths", "{photo}"], "not a photo"),
        (["--pads", "0", "10", "0", "0"], "pads is a Wav2Lip option"),
        (["--checkpoint", "g.pth", "--text", "hello"], "are for the mouths method"),
    ],
)
def test_bad_requests_get_one_line(tmp_path, photo_path, capsys, extra, message):
    face = in_shared(FACE)
    out = tmp_path / "dub.mp4"
    extra = [e.replace("{photo}", str(photo_path)) for e in extra]
    assert main(["lipsync", "--face", str(face), "--audio", str(face), "-o", str(out), *extra]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_footage_without_a_usable_mouth_is_refused(tmp_path, photo, capsys):
    face = in_shared(FACE)
    blank = write_video(tmp_path / "blank.mp4", [np.full((96, 96, 3), 128, np.uint8)] * 10, 25)
    out = tmp_path / "dub.mp4"
    assert main(["lipsync", "--face", str(face), "--audio", str(face), "--mouths", str(blank), "-o", str(out)]) != 0
    assert "no face found in the footage" in capsys.readouterr().err
    assert not out.exists()


def test_mouths_of_another_person_are_named_and_a_short_video_takes_mouths_from_footage(tmp_path, capsys, monkeypatch):
    face, other = in_shared(FACE), in_shared(OTHER)
    speech = write_wav(tmp_path / "s.wav", load_audio(other, 16000)[:16000], 16000)
    frames = list(read_frames(face))
    short = write_video(tmp_path / "short.mp4", frames[40:50], 25)  # 0.4 s of the speaker
    own = write_video(tmp_path / "own.mp4", frames[50:90], 25)  # more of the same speaker
    stranger = write_video(tmp_path / "stranger.mp4", list(read_frames(other))[:40], 25)
    dub = ["lipsync", "--face", str(short), "--audio", str(speech)]
    assert main([*dub, "--mouths", str(stranger), "-o", str(tmp_path / "a.mp4"), "--quiet"]) == 0
    assert f"{stranger}: the face looks like another person's" in capsys.readouterr().out
    alone = tmp_path / "alone.mp4"
    assert main([*dub, "-o", str(alone)]) != 0  # too few mouths of its own
    err = capsys.readouterr().err.strip()
    assert "usable mouth" in err and len(err.splitlines()) == 1 and not alone.exists()
    dubbed = tmp_path / "b.mp4"
    assert main([*dub, "--mouths", str(own), "-o", str(dubbed), "--quiet"]) == 0
    assert "another person" not in capsys.readouterr().out
    assert probe_video(dubbed).num_frames == 25
    # beyond the memory budget the chosen mouths wait PNG-compressed on disk: losslessly, the same video
    monkeypatch.setattr(mouth_dub, "PATCH_BYTES", 0)
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    compressed = tmp_path / "c.mp4"
    assert main([*dub, "--mouths", str(own), "-o", str(compressed), "--quiet"]) == 0
    assert all(np.array_equal(a, b) for a, b in zip(read_frames(dubbed), read_frames(compressed), strict=True))
    assert list(spill.iterdir()) == []  # nothing left on disk
