"""Input files named on a command line: files, or the files of folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import InputError

#: Still images, by suffix (lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def listed_files(sources: Sequence[str | os.PathLike], kept: Callable[[Path], bool], none_found: str) -> list[Path]:
    """The files named in ``sources``, and the entries of the folders named there (not recursively,
    sorted) that ``kept`` accepts; ``none_found`` is the error when there are none."""
    found: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if kept(p))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError(none_found)
    return found
