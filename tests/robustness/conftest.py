"""The bad-input corpus, written once per session into a temporary folder (``corpus.py`` says what is in
it); the matrix tests are generated from its cases."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from tests.robustness.corpus import Case, build_corpus

_CORPUS: dict[str, list[Case]] | None = None
_FOLDER: Path | None = None


def corpus() -> dict[str, list[Case]]:
    """The corpus, built on first use (at collection, so that its cases name the tests)."""
    global _CORPUS, _FOLDER
    if _CORPUS is None:
        from tests.conftest import INPUTS

        from talkingface.media import load_audio, read_image

        if not (INPUTS / "astronaut.png").exists():
            pytest.exit(f"test inputs missing from {INPUTS}: run `make test` (it fetches them)", 2)
        _FOLDER = Path(tempfile.mkdtemp(prefix="talkingface-corpus-"))
        _CORPUS = build_corpus(
            _FOLDER, read_image(INPUTS / "astronaut.png"), load_audio(INPUTS / "two_cities.wav", 16000)
        )
    return _CORPUS


def pytest_sessionfinish(session, exitstatus):
    if _FOLDER is not None:
        shutil.rmtree(_FOLDER, ignore_errors=True)
