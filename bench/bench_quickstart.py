"""The README's Quick start, timed: each recipe run as a user runs it (the command line, a fresh process),
on the bundled photo and speech and on a real 720p interview clip where ``../shared`` has it.

Prints each recipe's wall-clock seconds and its ratio to the speech's length (below 1: faster than real
time), with the machine's CPU. ``python bench/bench_quickstart.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / ".cache" / "inputs"
VIDEO = REPO.parent / "shared" / "data" / "clips" / "facebookresearch__VisualVoice__interview.mp4"  # 720p, 17.5 s


def recipes(folder: Path, speech: Path, video: Path | None) -> list[tuple[str, list[str]]]:
    """(name, talkingface arguments) of each Quick start recipe."""
    photo = INPUTS / "astronaut.png"
    out = folder
    steps = [("talking photo", ["animate", "--face", str(photo), "--audio", str(speech), "-o", str(out / "talk.mp4")])]
    if video is not None:
        steps.append(
            ("dub a video", ["lipsync", "--face", str(video), "--audio", str(speech), "-o", str(out / "dub.mp4")])
        )
        steps.append(("sync score", ["sync-score", str(out / "dub.mp4")]))
    else:
        steps.append(("sync score", ["sync-score", str(out / "talk.mp4")]))
    steps.append(
        (
            "animator curves and cues",
            ["visemes", str(speech), "-o", str(out / "face.anim"), "-o", str(out / "cues.tsv")],
        )
    )
    steps.append(
        ("3D face", ["mesh", "--audio", str(speech), "-o", str(out / "face.mp4"), "-o", str(out / "face.glb")])
    )
    return steps


def cpu_summary() -> str:
    """The CPU's name, its core count and which of AVX2, AVX-512 and AMX it has."""
    import os

    from talkingface.cpu import vector_features

    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "CPU")
    return f"{name}, {os.cpu_count()} cores ({vector_features()})"


def main(argv=None) -> bool:
    from talkingface.media import load_audio, write_wav

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of the bundled speech to use")
    args = parser.parse_args(argv)
    command = [str(Path(sys.executable).parent / "talkingface")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        speech = write_wav(
            folder / "speech.wav", load_audio(INPUTS / "two_cities.wav", 16000)[: int(args.seconds * 16000)], 16000
        )
        video = VIDEO if VIDEO.exists() else None
        print(f"{cpu_summary()}; {args.seconds:g} s of speech" + ("" if video else "; no ../shared: no video to dub"))
        ok = True
        for name, arguments in recipes(folder, speech, video):
            start = time.perf_counter()
            quiet = ["--quiet"] if arguments[0] in ("animate", "lipsync", "mesh") else []
            done = subprocess.run([*command, *arguments, *quiet], check=False, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            ok &= done.returncode == 0
            status = "" if done.returncode == 0 else f"  FAILED: {done.stderr.strip().splitlines()[-1:]}"
            print(f"{name:26s} {seconds:6.1f} s  ({seconds / args.seconds:.2f}x the speech's length){status}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
