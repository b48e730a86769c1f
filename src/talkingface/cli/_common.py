"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path


def output_path(path: str) -> Path:
    """An output file path whose folder exists (created if needed)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def read_text_argument(text: str | None, transcript: str | None) -> str | None:
    """The transcript given inline (``--text``) or as a file (``--transcript``)."""
    if not transcript:
        return text
    from ..errors import MediaError

    path = Path(transcript)
    if not path.is_file():
        raise MediaError(path, "file not found")
    return path.read_text(encoding="utf-8", errors="replace")
