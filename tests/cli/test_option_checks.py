"""Options checked before any work: every numeric option of every command, read from the parser
itself, refuses what is not a number it can use (NaN, infinity, huge values, values past its bounds)
as it is parsed, in one line with status 2; and no two outputs of one run name the same file."""

from __future__ import annotations

import argparse

import pytest

from talkingface.cli import build_parser, main

#: Never a number an option can use.
HOSTILE = ("nan", "inf", "-inf", "NaN", "1" + "0" * 400, "0x10", "", "1,5")
#: Past the bounds of every option the commands bound themselves (those of a training config are the
#: config's, checked as it is made).
HUGE = ("1e308", "-1e308", "1" + "0" * 30)


def _numeric_options() -> list[tuple[str, str, argparse.Action]]:
    found = []
    numeric = ("int", "float", "whole number", "number", "fps_argument")

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}".strip())
            elif action.option_strings and getattr(action.type, "__name__", "") in numeric:
                found.append((path, action.option_strings[-1], action))

    walk(build_parser(), "")
    return found


OPTIONS = _numeric_options()


def test_the_parser_has_the_numeric_options_it_should():
    assert len(OPTIONS) > 60
    names = {(command, flag) for command, flag, _ in OPTIONS}
    assert {
        ("animate", "--seed"),
        ("features", "--duration"),
        ("lipsync", "--fps"),
        ("train openness", "--lr"),
    } <= names


@pytest.mark.parametrize(("command", "flag", "action"), OPTIONS, ids=[f"{c}{f}" for c, f, _ in OPTIONS])
def test_hostile_numbers_are_refused_as_they_are_parsed(command, flag, action):
    assert action.type is not float  # a bare float takes NaN and infinity
    if action.type is int:  # argparse refuses all but the huge whole number, which the config bounds
        assert command.startswith("train"), "a bare int has no bounds"
        return
    own = not command.startswith("train")  # a training option's bounds are its config's
    for text in HOSTILE + (HUGE if own else ()):
        with pytest.raises(argparse.ArgumentTypeError):
            action.type(text)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["animate", "--face", "f.png", "--audio", "a.wav", "-o", "o.mp4", "--seed", "-1"], "--seed"),
        (["features", "a.wav", "--duration", "1e308", "-o", "f.npy"], "--duration"),
        (["animate", "--face", "f.png", "--audio", "a.wav", "-o", "o.mp4", "--fps", "0.001"], "--fps"),
        (["lipsync", "--face", "f.mp4", "--audio", "a.wav", "-o", "o.mp4", "--batch-size", "0"], "--batch-size"),
        (["say", "hello", "-o", "s.wav", "--rate", "1e9"], "--rate"),
        (["visemes", "a.wav", "-o", "c.json", "--idle", "nan"], "--idle"),
    ],
)
def test_out_of_bounds_values_get_one_line_naming_the_option(tmp_path, capsys, monkeypatch, argv, flag):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:  # argparse's refusal
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err and "internal error" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_offset_of_a_billion_frames_is_refused_before_the_work(tmp_path, capsys, photo_path, speech_path):
    out = tmp_path / "o.mp4"
    argv = ["lipsync", "--face", str(photo_path), "--audio", str(speech_path), "-o", str(out), "--offset", "1000000000"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "--offset" in err and "at most 250 frames" in err and "memory" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["visemes", "{speech}", "-o", "c.json", "--phonemes", "c.json"], "-o and --phonemes both name c.json"),
        (["visemes", "{speech}", "-o", "c.json", "-o", "./c.json"], "-o names ./c.json twice"),
        (["visemes", "{speech}", "-o", "c.json", "--plot", "{here}/c.json"], "-o and --plot both name"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "-o", "t.mp4", "--sheet", "t.mp4"], "--sheet"),
        (["sync-score", "{photo}", "--json", "s.out", "--csv", "s.out"], "--json and --csv both name s.out"),
    ],
)
def test_two_outputs_of_one_run_never_name_the_same_file(
    tmp_path, monkeypatch, capsys, photo_path, speech_path, argv, message
):
    monkeypatch.chdir(tmp_path)
    filled = [a.format(speech=speech_path, photo=photo_path, here=tmp_path) for a in argv]
    assert main(filled) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "a file of its own" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_file_name_that_is_not_utf8_is_scored_and_reported(tmp_path, make_video):
    import json
    import os
    import subprocess
    import sys

    video = tmp_path / os.fsdecode(b"caf\xe9 \xff.mp4")  # Latin-1 bytes, as an old disk names them
    video.write_bytes(make_video().read_bytes())
    argv = ["sync-score", str(video), "--json", str(tmp_path / "s.json"), "--csv", str(tmp_path / "s.csv")]
    run = subprocess.run([sys.executable, "-m", "talkingface", *argv], capture_output=True, check=False)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert b"internal error" not in run.stderr and b"caf\\udce9" in run.stdout  # shown escaped
    scores = json.loads((tmp_path / "s.json").read_text(encoding="ascii"))
    assert scores[0]["tracks"] and "\\udce9" in (tmp_path / "s.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/proc/curves.json", "does not take new files"),
        ("/sys/curves.json", "does not take new files"),
        ("{here}/" + "a" * 251 + ".json", "longer than a file name may be (255)"),
    ],
)
def test_an_output_its_folder_cannot_take_is_refused_before_the_work(tmp_path, capsys, speech_path, name, message):
    assert main(["visemes", str(speech_path), "-o", name.format(here=tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    said = message in err or (message == "does not take new files" and "is not writable" in err)  # not root
    assert said and ".partial" not in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_the_longest_legal_name_is_written_whole(tmp_path, speech_path):
    # Its temporary name is cut so that it fits too (it was "File name too long" on a .partial file).
    out = tmp_path / ("c" * 250 + ".json")
    assert main(["visemes", str(speech_path), "-o", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
