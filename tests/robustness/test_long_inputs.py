"""Long input, as users bring: ten minutes of speech followed to its end and four minutes of 720p video
scored, in bounded memory (each command in its own process; its peak resident memory read from the
kernel). The ten-minute figures of every command are ``bench/bench_long_inputs.py``'s."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow
MINUTES = 10
#: The video's length: long enough that a per-frame leak would show (sync-score holds about 45 MB a
#: minute of tracking data by design), short enough for the suite's time.
VIDEO_MINUTES = 4


# The command runs in a fresh process that reports its own peak (VmHWM): the kernel's ru_maxrss of a
# child would include the test process's memory, inherited through fork and exec.
_RUN_AND_REPORT = """
import sys
from talkingface.cli import main
code = main(sys.argv[1:])
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("peak-kb", peak.split()[1], file=sys.stderr)
sys.exit(code)
"""


def run(*argv: str) -> float:
    """Run a command; its peak resident memory in MB."""
    result = subprocess.run([sys.executable, "-c", _RUN_AND_REPORT, *argv], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return int(result.stderr.split("peak-kb")[-1].split()[0]) / 1024


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory, speech16k):
    from talkingface.media import write_wav

    audio = np.resize(np.asarray(speech16k, np.float32), MINUTES * 60 * 16000)
    return write_wav(tmp_path_factory.mktemp("long") / "speech.wav", audio, 16000)


def test_ten_minutes_of_speech_move_the_mouth_to_the_end(long_speech, tmp_path):
    peak = run("visemes", str(long_speech), "-o", str(tmp_path / "c.json"), "--phonemes", str(tmp_path / "p.json"))
    curves = json.loads((tmp_path / "c.json").read_text())
    assert curves["num_frames"] == MINUTES * 60 * 30
    jaw = np.asarray(curves["frames"])[:, curves["names"].index("jawOpen")]
    for minute in range(MINUTES):  # the mouth keeps moving (recognition does not stall)
        part = jaw[minute * 1800 : (minute + 1) * 1800]
        assert part.max() > 0.25 and part.min() < 0.05, minute
    phonemes = json.loads((tmp_path / "p.json").read_text())["phonemes"]
    assert phonemes[-1]["end"] > MINUTES * 60 - 5
    assert peak < 800
    assert run("mesh", "--audio", str(long_speech), "--quiet", "-o", str(tmp_path / "m.npy")) < 800
    assert np.load(tmp_path / "m.npy", mmap_mode="r").shape == (MINUTES * 60 * 30, 478 * 3)


def test_minutes_of_720p_video_are_scored(tmp_path, photo, long_speech):
    import cv2

    from talkingface.media import VideoWriter, load_audio

    audio = load_audio(long_speech, 16000)[: VIDEO_MINUTES * 60 * 16000]
    face = cv2.resize(photo, (560, 560), interpolation=cv2.INTER_AREA)
    video = tmp_path / "talk.mp4"
    with VideoWriter(video, 25, audio=audio, sample_rate=16000, preset="ultrafast") as writer:
        for k in range(VIDEO_MINUTES * 60 * 25):
            frame = np.full((720, 1280, 3), 96, np.uint8)
            x = 360 + int(20 * np.sin(k / 40))
            frame[80:640, x : x + 560] = face
            writer.write(frame)
    peak = run("sync-score", str(video), "--json", str(tmp_path / "s.json"))
    track = json.loads((tmp_path / "s.json").read_text())[0]["tracks"][0]
    assert track["frames"] == VIDEO_MINUTES * 60 * 25
    assert peak < 1200  # the bench measures 0.98 GB at ten minutes
