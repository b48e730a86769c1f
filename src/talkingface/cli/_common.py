"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path


def output_path(path: str) -> Path:
    """An output file path whose folder exists (created if needed)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
