"""Peak memory of each command on long inputs: does it stay bounded as the input grows?

Builds real long inputs from the bundled recording and photo - speech looped to N minutes, and an N-minute
720p video of the photo swaying with that speech - then runs ``visemes``, ``mesh``, ``animate``,
``track``, ``sync-score`` and ``lipsync`` (a tiny generator with random weights: the work and memory of
the pipeline, not its look) on the full length and on a fifth of it, each in its own process under
``/usr/bin/time``. Prints each command's peak RSS at both lengths, their ratio (the baseline is the
short run: 1.0 means memory does not grow with length) and the wall time.

    python bench/bench_long_inputs.py [--minutes 10] [--only visemes track ...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import INPUTS

COMMANDS = ("visemes", "mesh", "animate", "track", "sync-score", "lipsync")


def build_inputs(folder: Path, minutes: float) -> dict[str, Path]:
    """``speech.wav`` (16 kHz) and ``talk.mp4`` (1280x720, 25 fps, with the speech) of ``minutes``."""
    import cv2
    import soundfile

    from talkingface.media import VideoWriter, load_audio, read_image
    from talkingface.models import create_model, save_model

    speech = load_audio(INPUTS / "two_cities.wav", 16000)
    samples = int(minutes * 60 * 16000)
    audio = np.resize(speech, samples).astype(np.float32)
    soundfile.write(folder / "speech.wav", audio, 16000, subtype="PCM_16")
    photo = read_image(INPUTS / "astronaut.png")
    face = cv2.resize(photo, (560, 560), interpolation=cv2.INTER_AREA)
    background = np.full((720, 1280, 3), 96, np.uint8)
    frames = int(minutes * 60 * 25)
    with VideoWriter(folder / "talk.mp4", 25, audio=audio, sample_rate=16000, preset="ultrafast") as writer:
        for k in range(frames):
            frame = background.copy()
            x = 360 + int(20 * np.sin(k / 40))
            frame[80:640, x : x + 560] = face
            writer.write(frame)
    save_model(create_model("wav2lip", channel_divisor=4), folder / "wav2lip_tiny.safetensors")
    return {"audio": folder / "speech.wav", "video": folder / "talk.mp4", "photo": INPUTS / "astronaut.png"}


def argv_of(command: str, inputs: dict[str, Path], out: Path) -> list[str]:
    folder = inputs["audio"].parent
    return {
        "visemes": ["visemes", str(inputs["audio"]), "-o", str(out / "v.json")],
        "mesh": ["mesh", "--audio", str(inputs["audio"]), "--quiet", "-o", str(out / "m.npy")],
        "animate": [
            "animate", "--face", str(inputs["photo"]), "--audio", str(inputs["audio"]), "--size", "256", "--quiet",
            "-o", str(out / "a.mp4"),
        ],
        "track": ["track", str(inputs["video"]), "-o", str(out / "t.json")],
        "sync-score": ["sync-score", str(inputs["video"]), "--json", str(out / "s.json")],
        "lipsync": [
            "lipsync", "--face", str(inputs["video"]), "--audio", str(inputs["audio"]), "--checkpoint",
            str(folder / "wav2lip_tiny.safetensors"), "--quiet", "-o", str(out / "l.mp4"),
        ],
    }[command]  # fmt: skip


def measure(command: str, inputs: dict[str, Path]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one run in its own process."""
    out = Path(tempfile.mkdtemp(prefix="long-out-"))
    try:
        run = subprocess.run(
            ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "talkingface", *argv_of(command, inputs, out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise RuntimeError(f"{command} failed: {run.stderr.strip().splitlines()[-2:]}")
        rss_kb, seconds = run.stderr.strip().splitlines()[-1].split()
        return int(rss_kb) / 1024, float(seconds)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--only", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--keep", help="build the inputs here and keep them (reused when present)")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="long-inputs-"))
    lengths = {"short": args.minutes / 5, "long": args.minutes}
    inputs = {}
    for name, minutes in lengths.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "talk.mp4").exists():
            build_inputs(folder, minutes)
        inputs[name] = {"audio": folder / "speech.wav", "video": folder / "talk.mp4", "photo": INPUTS / "astronaut.png"}
    from talkingface.cpu import vector_features

    print(f"peak memory on {lengths['short']:g}- and {lengths['long']:g}-minute inputs (720p video, 16 kHz speech)")
    print(f"times on this CPU: {vector_features()}, {len(os.sched_getaffinity(0))} cores")
    bounded = True
    for command in args.only:
        short_mb, short_s = measure(command, inputs["short"])
        long_mb, long_s = measure(command, inputs["long"])
        ratio = long_mb / short_mb
        bounded &= ratio < 1.5
        print(
            f"{command:<11} {short_mb:8.0f} MB in {short_s:6.0f} s   {long_mb:8.0f} MB in {long_s:6.0f} s   "
            f"growth {ratio:4.2f}x for {lengths['long'] / lengths['short']:g}x the length, "
            f"{(long_mb - short_mb) / (lengths['long'] - lengths['short']):3.0f} MB per further minute"
        )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return bounded


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
