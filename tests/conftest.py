"""Shared fixtures: the real test inputs and small videos generated through our own writer."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
INPUTS = Path(os.environ.get("TALKINGFACE_INPUTS", REPO / ".cache" / "inputs"))

# What two_cities.wav says (the first paragraph of A Tale of Two Cities), as the set-up writes it.
TWO_CITIES_TEXT = (INPUTS / "two_cities.txt").read_text().strip() if (INPUTS / "two_cities.txt").exists() else ""


def in_shared(path: Path) -> Path:
    """``path``, a file of ``../shared`` beside the checkout, or a skip where it is absent (a plain clone)."""
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared is not beside the checkout")
    return path


def _input(name: str) -> Path:
    path = INPUTS / name
    if not path.exists():
        pytest.fail(f"test input {path} is missing: run `make test` (it fetches the inputs)")
    return path


@pytest.fixture(scope="session")
def speech_path() -> Path:
    """Real read English speech: 44 s, 48 kHz mono wav."""
    return _input("two_cities.wav")


@pytest.fixture(scope="session")
def photo_path() -> Path:
    """Real frontal face photo, 512x512 PNG."""
    return _input("astronaut.png")


@pytest.fixture(scope="session")
def speech16k(speech_path) -> np.ndarray:
    from talkingface.media import load_audio

    return load_audio(speech_path, 16000)


@pytest.fixture(scope="session")
def photo(photo_path) -> np.ndarray:
    from talkingface.media import read_image

    return read_image(photo_path)


def moving_frames(photo: np.ndarray, num_frames: int, width: int, height: int):
    """The photo fitted into ``width x height`` with a small horizontal sway, frame by frame."""
    from talkingface.media import fit_image

    base = fit_image(photo, width, height)
    for i in range(num_frames):
        yield np.roll(base, int(round(6 * np.sin(i / 5))), axis=1)


@pytest.fixture(scope="session")
def make_video(tmp_path_factory, photo, speech16k):
    """Factory: a small real-photo video written through talkingface's writer (cached per args)."""
    from talkingface.media import write_video

    cache: dict = {}
    folder = tmp_path_factory.mktemp("videos")

    def make(fps=25, seconds=2.0, width=160, height=120, audio_seconds: float | None = -1.0, suffix=".mp4") -> Path:
        key = (fps, seconds, width, height, audio_seconds, suffix)
        if key not in cache:
            num_frames = int(round(seconds * float(Fraction(fps))))
            path = folder / f"v{len(cache)}{suffix}"
            audio = {}
            if audio_seconds is not None:
                duration = seconds if audio_seconds < 0 else audio_seconds
                audio = dict(audio=speech16k[: int(round(duration * 16000))], sample_rate=16000)
            write_video(path, moving_frames(photo, num_frames, width, height), fps, **audio)
            cache[key] = path
        return cache[key]

    return make


@pytest.fixture(scope="session")
def two_cities_alignment(speech16k):
    """Forced alignment of the real speech to its transcript (computed once)."""
    from talkingface.speech.align import align

    return align(speech16k, TWO_CITIES_TEXT)


@pytest.fixture(scope="session")
def gltf_validate():
    """Khronos' glTF validator (npm ``gltf-validator``, installed by ``make test``) as a function:
    ``.glb`` paths -> one report ``{"errors", "warnings", "messages"}`` per file."""
    import json
    import shutil
    import subprocess

    tools = REPO / ".cache" / "node"
    if shutil.which("node") is None or not (tools / "node_modules" / "gltf-validator").is_dir():
        pytest.fail(f"Khronos' glTF validator is missing from {tools}: run `make test` (it installs it)")

    def validate(*paths: Path) -> list[dict]:
        script = REPO / "tests" / "tools" / "validate_gltf.cjs"
        run = subprocess.run(
            ["node", str(script), str(tools), *map(str, paths)],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return [json.loads(line) for line in run.stdout.splitlines()]

    return validate


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A 60-byte PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's claim,
    without its pixels): what a reader must refuse before it decodes anything."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def status(argv: list[str]) -> int:
    """The exit status of ``talkingface ARGV`` run in this process: what main returns, or the status of
    argparse's own refusal (an option's value refused as it is parsed)."""
    from talkingface.cli import main

    try:
        return main(argv)
    except SystemExit as stopped:
        return int(stopped.code or 0)
