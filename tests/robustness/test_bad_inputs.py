"""Every command x every input it takes, from the bad-input corpus (``corpus.py``): a run ends with exit
0 and an output that reads back, or exit 2 and one line ``talkingface <command>: error: ...``; never a
traceback or an internal error; nothing is left at the output path or beside it after a refusal; every
input is byte-identical afterwards.

Runs that refuse their input take a fraction of a second and are in the fast tier; runs that do the
whole job are marked slow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from tests.robustness.conftest import corpus

from talkingface.cli import main

DEFAULTS = {
    "audio": "speech 16k.wav",
    "image": "face photo.png",
    "video": "talk_25fps.mp4",
    "transcript": "plain.txt",
    "mesh": "face.obj",
    "checkpoint": "wav2lip_tiny.safetensors",
}


@dataclass(frozen=True)
class Command:
    """How a command takes each role, and what it writes."""

    name: str
    argv: Callable[[dict[str, Path], Path], list[str]]  # (inputs by role, output folder) -> argv
    roles: tuple[str, ...]
    outputs: tuple[str, ...]
    expect: dict[tuple[str, str], str] | None = None  # (role, case) -> what this command must do instead


def _face(inputs: dict[str, Path]) -> str:
    return str(inputs.get("video") or inputs["image"])


COMMANDS = [
    Command(
        "animate",
        lambda i, o: [
            "animate",
            "--face",
            _face(i),
            "--audio",
            str(i["audio"]),
            "--transcript",
            str(i["transcript"]),
            "--size",
            "128",
            "--quiet",
            "-o",
            str(o / "out.mp4"),
        ],
        ("audio", "image", "video", "transcript"),
        ("out.mp4",),
    ),
    Command(
        "lipsync",
        lambda i, o: [
            "lipsync",
            "--face",
            _face(i),
            "--audio",
            str(i["audio"]),
            "--checkpoint",
            str(i["checkpoint"]),
            "--quiet",
            "-o",
            str(o / "out.mp4"),
        ],
        ("audio", "image", "video", "checkpoint"),
        ("out.mp4",),
    ),
    Command(
        "sync-score",
        lambda i, o: ["sync-score", str(i["video"]), "--json", str(o / "out.json")],
        ("video",),
        ("out.json",),
        {("video", "no_audio.mp4"): "error", ("video", "one_frame.mp4"): "error"},
    ),
    Command(
        "mesh",
        lambda i, o: [
            "mesh",
            "--audio",
            str(i["audio"]),
            "--transcript",
            str(i["transcript"]),
            "--template",
            str(i["mesh"]),
            "--quiet",
            "-o",
            str(o / "out.npy"),
        ],
        ("audio", "transcript", "mesh"),
        ("out.npy",),
    ),
    Command(
        "visemes",
        lambda i, o: ["visemes", str(i["audio"]), "--transcript", str(i["transcript"]), "-o", str(o / "out.json")],
        ("audio", "transcript"),
        ("out.json",),
    ),
    Command(
        "features",
        lambda i, o: ["features", "--audio", str(i["audio"]), "--save", str(o / "out.npz")],
        ("audio",),
        ("out.npz",),
    ),
    Command(
        "track",
        lambda i, o: ["track", str(i["video"]), "-o", str(o / "out.json")],
        ("video",),
        ("out.json",),
        {("video", "no_audio.mp4"): "ok", ("video", "one_frame.mp4"): "ok"},
    ),
]


def _cases():
    cases = corpus()
    for command in COMMANDS:
        for role in command.roles:
            for case in cases[role]:
                expect = (command.expect or {}).get((role, case.name), case.expect)
                marks = [pytest.mark.slow] if expect != "error" else []
                yield pytest.param(command, role, case, expect, id=f"{command.name}-{role}-{case.name}", marks=marks)


def _digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command, role, case, expect", list(_cases()))
def test_every_command_with_every_input(command, role, case, expect, tmp_path, capfd):
    by_name = {c.name: c.path for cases in corpus().values() for c in cases}
    inputs = {r: by_name[DEFAULTS[r]] for r in command.roles if r != "video"}
    if role == "video":
        inputs.pop("image", None)
    inputs[role] = case.path
    out = tmp_path / "out"
    out.mkdir()
    before = {p: _digest(p) for p in inputs.values()}
    capfd.readouterr()
    status = main(command.argv(inputs, out))
    err = capfd.readouterr().err
    ours = [line for line in err.splitlines() if line.startswith("talkingface")]
    assert "Traceback" not in err and "internal error" not in err, err
    assert status in (0, 2), err
    if expect != "either":
        assert status == (0 if expect == "ok" else 2), f"expected {expect}, got exit {status}: {err}"
    if status == 2:
        assert len(ours) == 1 and ours[0].startswith(f"talkingface {command.name}: error: "), err
        assert sorted(p.name for p in out.iterdir()) == []
    else:
        assert sorted(p.name for p in out.iterdir()) == sorted(command.outputs)
        for name in command.outputs:
            _check_output(out / name)
    assert {p: _digest(p) for p in inputs.values()} == before


def _check_output(path: Path) -> None:
    """The output reads back: a video with frames and sound, JSON, arrays."""
    if path.suffix == ".mp4":
        from talkingface.media import audio_info, probe_video

        info = probe_video(path)
        assert info.num_frames and info.num_frames > 0
        assert abs(audio_info(path).duration - info.num_frames / float(info.fps)) < 0.2
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".npy":
        assert np.isfinite(np.load(path)).all()
    elif path.suffix == ".npz":
        with np.load(path) as data:
            assert data.files


OUTPUT_CASES = ("an input", "no extension", "unknown extension", "missing folder", "a folder")


@pytest.mark.parametrize(
    "command, case",
    [
        pytest.param(command, case, id=f"{command.name}-{case}")
        for command in COMMANDS
        for case in OUTPUT_CASES
        if not (command.name == "mesh" and case in ("no extension", "a folder"))
    ],
)
def test_every_command_refuses_a_bad_output(command, case, tmp_path, capfd):
    """The output checked before any work: never one of the inputs, a known extension, an existing
    folder, a file path; refused in one line, the inputs untouched, nothing written. (``mesh`` takes
    a folder, or a name without extension, as the folder of an OBJ sequence.)"""
    import shutil

    by_name = {c.name: c.path for cases in corpus().values() for c in cases}
    inputs = {}
    for role in command.roles:
        if role == "image" and "video" in command.roles and command.name == "track":
            continue
        original = by_name[DEFAULTS[role]]
        inputs[role] = tmp_path / f"input_{role}{original.suffix}"
        shutil.copyfile(original, inputs[role])
    if "video" in inputs and "image" in inputs:
        inputs.pop("video")
    out = tmp_path / "out"
    out.mkdir()
    argv = command.argv(inputs, out)
    wanted = str(out / command.outputs[0])
    target = {
        "an input": str(next(iter(inputs.values()))),
        "no extension": str(out / "result"),
        "unknown extension": str(out / "result.xyz"),
        "missing folder": str(out / "no" / "such" / command.outputs[0]),
        "a folder": str(out),
    }[case]
    argv = [target if a == wanted else a for a in argv]
    before = {p: _digest(p) for p in inputs.values()}
    capfd.readouterr()
    status = main(argv)
    err = capfd.readouterr().err
    ours = [line for line in err.splitlines() if line.startswith("talkingface")]
    assert status == 2 and len(ours) == 1 and ours[0].startswith(f"talkingface {command.name}: error: "), err
    assert {p: _digest(p) for p in inputs.values()} == before
    assert list(out.iterdir()) == []
