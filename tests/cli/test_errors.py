"""Errors at the public entry points: one line each, the class that says what went wrong, never a
traceback."""

from __future__ import annotations

import pytest
import torch

from talkingface.cli import main
from talkingface.errors import CheckpointError, InputError, MediaError, TalkingFaceError


@pytest.fixture(scope="module")
def junk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("junk")
    (folder / "junk.mp4").write_bytes(b"\x00\x01 not media" * 100)
    (folder / "junk.pth").write_bytes(b"not a checkpoint" * 10)
    (folder / "empty.wav").write_bytes(b"")
    torch.save({"x.weight": torch.zeros(3)}, folder / "unknown.pth")
    return folder


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [
                "lipsync",
                "--face",
                "{d}/junk.mp4",
                "--audio",
                "{speech}",
                "--checkpoint",
                "{d}/junk.pth",
                "-o",
                "{d}/o.mp4",
            ],
            "junk.pth",
        ),
        (
            [
                "lipsync",
                "--face",
                "{photo}",
                "--audio",
                "{speech}",
                "--checkpoint",
                "{d}/unknown.pth",
                "-o",
                "{d}/o.mp4",
            ],
            "not a model this toolkit knows",
        ),
        (
            ["lipsync", "--face", "{photo}", "--audio", "{speech}", "--checkpoint", "{d}/none.pth", "-o", "{d}/o.mp4"],
            "none.pth: file not found",
        ),
        (["sync-score", "{d}/junk.mp4", "--checkpoint", "{d}/unknown.pth"], "not a model this toolkit knows"),
        (["animate", "--face", "{d}/junk.mp4", "--audio", "{speech}", "-o", "{d}/o.mp4"], "junk.mp4"),
        (["animate", "--face", "{photo}", "--audio", "{d}/empty.wav", "-o", "{d}/o.mp4"], "empty.wav"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "-o", "{photo}"], "is also an input"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "-o", "{d}"], "is a folder"),
        (
            [
                "mesh",
                "--audio",
                "{speech}",
                "--method",
                "faceformer",
                "--checkpoint",
                "{d}/junk.pth",
                "-o",
                "{d}/m.npy",
            ],
            "junk.pth",
        ),
        (["mesh", "--audio", "{d}/junk.mp4", "-o", "{d}/m.npy"], "junk.mp4"),
        (["train", "faceformer", "--data", "{d}", "--out", "{d}/run", "--epochs", "1"], "no wav/ folder"),
        (["features", "--audio", "{speech}", "--save", "{d}/f.txt"], "must be .npz"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(junk, speech_path, photo_path, capsys, argv, message):
    values = {"d": junk, "speech": speech_path, "photo": photo_path}
    code = main([a.format(**values) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (junk / "o.mp4").exists() and not (junk / "m.npy").exists()


def test_an_unexpected_failure_is_one_line_too(monkeypatch, capsys, speech_path, tmp_path):
    import talkingface.animation.warp

    def broken(*args, **kwargs):
        raise KeyError("lost")

    monkeypatch.setattr(talkingface.animation.warp, "transcript_phonemes", broken)
    monkeypatch.delenv("TALKINGFACE_DEBUG", raising=False)
    code = main(["visemes", str(speech_path), "--method", "jali", "-o", str(tmp_path / "c.json")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "internal error: KeyError: 'lost'" in err
    monkeypatch.setenv("TALKINGFACE_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["visemes", str(speech_path), "--method", "jali", "-o", str(tmp_path / "c.json")])


def test_each_error_class_says_what_went_wrong(junk):
    from talkingface.media import probe_video
    from talkingface.models import load_model
    from talkingface.timebase import to_fps

    with pytest.raises(CheckpointError):
        load_model(junk / "junk.pth")
    with pytest.raises(MediaError):
        probe_video(junk / "junk.mp4")
    with pytest.raises(InputError):
        to_fps("fast")
    for cls in (CheckpointError, MediaError, InputError):
        assert issubclass(cls, TalkingFaceError)
    assert not issubclass(CheckpointError, MediaError)  # a checkpoint that does not fit is not a media problem


@pytest.mark.parametrize(
    "argv, said",
    [
        (
            ["lipsync", "--face", "a.mp4", "--audio", "b.wav", "-o", "c.mp4", "--ofset", "2"],
            "talkingface lipsync: error: "
            "unrecognized arguments: --ofset 2; did you mean --offset? (see talkingface lipsync --help)",
        ),
        (["lipsync", "--fase", "a.mp4"], "; did you mean --face? (see talkingface lipsync --help)"),
        (["animat"], "; did you mean animate? (see talkingface --help)"),
        (["visemes", "x.wav", "-o", "y.json", "--methd=jali"], "did you mean --method?"),
    ],
)
def test_a_mistyped_option_or_command_gets_the_nearest_one_and_its_command_s_help(capsys, argv, said):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1


def test_sync_score_names_each_video_by_its_whole_file_name_or_path_where_two_share_one():
    from talkingface.cli.sync_score import _shown_names

    long = "/data/interviews/" + "a_long_file_name_" * 4 + ".mp4"
    names = _shown_names([long, "/a/clip.mp4", "/b/clip.mp4", "/a/clip.mp4"])
    assert names == {long: long.rsplit("/", 1)[1], "/a/clip.mp4": "/a/clip.mp4", "/b/clip.mp4": "/b/clip.mp4"}
