"""Faults while a command runs: a signal mid-run, two runs writing the same output, a full disk. Each run
is a real process of the command line; afterwards the output folder holds a whole output or nothing
(no ``.partial`` file), and the error is one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import INPUTS

pytestmark = pytest.mark.slow


def _command(*argv: str, limit_bytes: int | None = None) -> list[str]:
    """The command line as a Python process; ``limit_bytes`` caps the size of any file it writes
    (RLIMIT_FSIZE, writes beyond fail as on a full disk)."""
    setup = ""
    if limit_bytes is not None:
        setup = (
            "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit_bytes}, {limit_bytes})); "
        )
    # Ctrl-C as at a terminal, even when this suite runs in the background (where SIGINT is ignored).
    setup += "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    code = f"{setup}import sys; from talkingface.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, *argv]


def _animate(out: Path, *extra: str) -> list[str]:
    return [
        "animate", "--face", str(INPUTS / "astronaut.png"), "--audio", str(INPUTS / "two_cities.wav"),
        "--size", "256", "--quiet", "-o", str(out), *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2])
def test_a_signal_mid_run_leaves_nothing(tmp_path, signum):
    out = tmp_path / "talk.mp4"
    process = subprocess.Popen(
        _command(*_animate(out, "--sheet", str(tmp_path / "sheet.png"))),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("*.partial*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it began writing"
    time.sleep(0.3)  # well into the writing
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    lines = [line for line in err.splitlines() if line.startswith("talkingface")]
    assert len(lines) == 1 and "nothing was written" in lines[0], err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_runs_writing_one_output_or_one_folder_never_collide(tmp_path):
    from talkingface.media import probe_video

    outs = [tmp_path / "same.mp4", tmp_path / "same.mp4", tmp_path / "other.mp4"]
    processes = [
        subprocess.Popen(_command(*_animate(out, "--still")), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for out in outs
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.mp4", "same.mp4"]
    for name in ("same.mp4", "other.mp4"):
        assert probe_video(tmp_path / name).num_frames == probe_video(tmp_path / "other.mp4").num_frames > 1000


@pytest.mark.parametrize(
    "argv, limit",
    [
        (["visemes", str(INPUTS / "two_cities.wav"), "-o", "{out}/v.json", "--plot", "{out}/v.png"], 20_000),
        (_animate(Path("{out}/talk.mp4")), 200_000),
        (["say", "hello there", "-o", "{out}/hello.wav"], 2_000),
    ],
    ids=["visemes", "animate", "say"],
)
def test_a_full_disk_gives_one_line_and_no_partial_file(tmp_path, argv, limit):
    argv = [a.replace("{out}", str(tmp_path)) for a in argv]
    run = subprocess.run(_command(*argv, limit_bytes=limit), capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"talkingface {argv[0]}: error: "), run.stderr
    assert "too large" in lines[0].lower() or "no space" in lines[0].lower(), lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_partial_files_are_swept_by_the_next_run_into_that_folder(tmp_path):
    import os

    dead = 1
    while True:  # a process id that no process has now
        dead += 7919
        try:
            os.kill(dead, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            continue
    stale_file = tmp_path / f".talk.{dead}.a1b2c3d4.partial.mp4"
    stale_file.write_bytes(b"half a video")
    stale_folder = tmp_path / f".frames.{dead}.z9y8x7w6.partial"
    stale_folder.mkdir()
    (stale_folder / "0001.png").write_bytes(b"x")
    live = tmp_path / f".other.{os.getpid()}.q1w2e3r4.partial.wav"  # a run still writing (this one)
    live.write_bytes(b"in progress")
    mine = tmp_path / "notes.partial.txt"  # not a name of ours
    mine.write_text("keep me")
    out = tmp_path / "s.wav"
    result = subprocess.run(_command("say", "hello there", "-o", str(out)), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, live.name, mine.name])


def test_a_deleted_working_folder_is_named_as_the_problem(tmp_path, speech_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    process = subprocess.Popen(
        [
            "sh",
            "-c",
            f'cd "{gone}" && rmdir "{gone}" && exec "$0" "$@"',
            *_command("visemes", str(speech_path), "-o", "c.json"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and "the working folder was deleted" in err and err.count("\n") == 1, err
