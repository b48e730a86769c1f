"""Curves while the speech arrives: the same frames as the whole recording gives, from any chunking,
through the library, standard input and a file still being written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from talkingface.animation.stream import CurveStream
from talkingface.animation.visemenet import VisemeNetAnimator
from talkingface.errors import InputError
from talkingface.media import write_wav


@pytest.fixture(scope="module")
def speech(speech16k):
    return np.asarray(speech16k[: 16000 * 12], np.float32)


def test_the_stream_equals_the_whole_recording(speech):
    whole, _ = VisemeNetAnimator().animate(speech, 16000, 30)
    stream = CurveStream(30)
    rng = np.random.default_rng(1)
    got: dict[int, np.ndarray] = {}
    at = 0
    while at < len(speech):
        size = int(rng.choice([1, 7, 160, 333, 1600, 4000]))
        for i, row in zip(*stream.push(speech[at : at + size])):
            assert int(i) not in got
            got[int(i)] = row
        at += size
    for i, row in zip(*stream.finish()):
        got[int(i)] = row
    assert sorted(got) == list(range(whole.num_frames))
    values = np.stack([got[i] for i in range(whole.num_frames)])
    assert np.abs(values - whole.values).max() < 1e-5


def test_frames_come_out_soon_after_their_audio(speech):
    stream = CurveStream(25)
    chunk = 320  # 20 ms
    worst = 0.0
    for at in range(0, 16000 * 4, chunk):
        frames, _ = stream.push(speech[at : at + chunk])
        heard = (at + chunk) / 16000
        if len(frames):
            worst = max(worst, heard - frames[-1] / 25)
    assert worst < 0.25  # window 25 ms + lookahead 100 ms + smoothing 20 ms + a step + a frame
    with pytest.raises(InputError, match="NaN"):
        stream.push(np.array([np.nan], np.float32))


def run_stream(args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "talkingface", "visemes", *args], input=stdin, capture_output=True, check=False
    )


def curves_of(lines: bytes) -> np.ndarray:
    rows = [json.loads(line) for line in lines.decode().splitlines()]
    assert rows[0]["fps"] == 30 and len(rows[0]["names"]) == 52
    assert [r["frame"] for r in rows[1:]] == list(range(len(rows) - 1))
    return np.array([r["values"] for r in rows[1:]])


@pytest.mark.slow
def test_standard_input_and_a_growing_file_give_the_whole_files_curves(speech, tmp_path):
    wav = write_wav(tmp_path / "speech.wav", speech, 16000)
    whole = tmp_path / "whole.json"
    assert run_stream([str(wav), "--method", "visemenet", "-o", str(whole)]).returncode == 0
    expected = np.array(json.loads(whole.read_text())["frames"])
    piped = run_stream(["-", "--stream"], stdin=wav.read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert np.abs(curves_of(piped.stdout) - expected).max() <= 1e-5
    # A recorder still writing: the file grows for about a second.
    growing = tmp_path / "growing.wav"
    data = wav.read_bytes()

    def record() -> None:
        with open(growing, "wb") as f:
            for k in range(0, len(data), 32000):
                f.write(data[k : k + 32000])
                f.flush()
                time.sleep(0.08)

    growing.write_bytes(b"")
    writer = threading.Thread(target=record)
    writer.start()
    followed = run_stream([str(growing), "--stream", "--idle", "1.5"])
    writer.join()
    assert followed.returncode == 0, followed.stderr
    assert np.abs(curves_of(followed.stdout) - expected).max() <= 1e-5


def test_streams_it_cannot_follow_are_refused_in_one_line(speech, tmp_path):
    wav = write_wav(tmp_path / "fast.wav", np.resize(speech, 44100), 44100)
    result = run_stream(["-", "--stream"], stdin=wav.read_bytes())
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "16 kHz mono 16-bit PCM" in result.stderr.decode()
    result = run_stream(["-", "--stream", "--text", "hello"], stdin=b"")
    assert result.returncode == 2 and "audio alone" in result.stderr.decode()
