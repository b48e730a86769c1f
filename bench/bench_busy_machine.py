"""How a command slows down when the machine is busy, and how much of its time is spent in the kernel.

Runs ``animate`` (the bundled photo and the first 20 s of the bundled speech, 512 px) in its own process
on an idle machine (the baseline) and again while as many other processes as there are cores spin on
the CPU. With fair sharing the busy run should take about twice as long; threads that spin or fight over
the cores make it far slower. Also prints the user and system CPU seconds of each run: time in the
kernel is time not spent on the work.

    python bench/bench_busy_machine.py
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import INPUTS


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def run_animate(folder: Path) -> tuple[float, float, float]:
    """(wall, user, system) seconds of one animate run."""
    import soundfile

    from talkingface.media import load_audio

    speech = folder / "speech.wav"
    if not speech.exists():
        soundfile.write(speech, load_audio(INPUTS / "two_cities.wav", 16000)[: 20 * 16000], 16000)
    argv = [
        "/usr/bin/time", "-f", "%e %U %S", sys.executable, "-m", "talkingface", "animate", "--face",
        str(INPUTS / "astronaut.png"), "--audio", str(speech), "--size", "512", "--quiet", "-o", str(folder / "a.mp4"),
    ]  # fmt: skip
    run = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall, user, system = (float(v) for v in run.stderr.strip().splitlines()[-1].split())
    (folder / "a.mp4").unlink()
    return wall, user, system


def main() -> bool:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        idle = run_animate(folder)
        stop = multiprocessing.Event()
        spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(cores)]
        for process in spinners:
            process.start()
        try:
            busy = run_animate(folder)
        finally:
            stop.set()
            for process in spinners:
                process.join()
    for name, (wall, user, system) in (("idle", idle), (f"{cores} spinning", busy)):
        print(f"animate 20 s at 512 px, {name:<12} {wall:6.1f} s wall, {user:6.1f} s user, {system:5.1f} s system")
    slowdown = busy[0] / idle[0]
    ok = slowdown <= 3.0
    print(
        f"busy / idle: {slowdown:.2f}x slower (fair sharing of {cores} cores: about 2x; goal <= 3x) {'ok' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
