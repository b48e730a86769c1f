"""Atomic file output: results appear complete under their final name, or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


class AtomicFile:
    """A temporary file beside ``path`` that becomes ``path`` on :meth:`commit`.

    The temporary file lives in the target folder (so the rename is atomic) and keeps the target's
    suffix (so writers that choose a format by extension choose the right one). :meth:`discard`
    removes it; an existing file at ``path`` is untouched until a commit replaces it.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, expected a file path")
        folder = self.path.parent
        if not folder.is_dir():
            raise InputError(f"{self.path}: folder {folder} does not exist")
        fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".partial{self.path.suffix}", dir=folder)
        os.close(fd)
        self.tmp = Path(name)
        # An AtomicFile dropped without commit or discard still removes its temporary file.
        self._cleanup = weakref.finalize(self, _remove, self.tmp)

    def commit(self) -> Path:
        # mkstemp creates the file private (0600); give the result the permissions of a normal file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)
        os.replace(self.tmp, self.path)
        self._cleanup.detach()
        return self.path

    def discard(self) -> None:
        self._cleanup()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; it is renamed to ``path`` when the block succeeds.

    On any error the temporary file is removed and an existing ``path`` is left as it was.
    """
    atomic = AtomicFile(path)
    try:
        yield atomic.tmp
        atomic.commit()
    except BaseException:
        atomic.discard()
        raise
