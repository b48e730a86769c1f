"""Atomic file output: results appear complete under their final name, or not at all."""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError, MediaError

# Outputs finished inside an :func:`all_or_nothing` block, waiting for the block to succeed.
_PENDING: contextvars.ContextVar[list[AtomicFile] | None] = contextvars.ContextVar("pending_outputs", default=None)


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
        # mkstemp adds 8 characters; the stem is cut so that the temporary name fits where the final one does.
        sweep_stale(folder)
        suffix = f".partial{self.path.suffix}"
        mark = f".{os.getpid()}."
        prefix = f".{_cut(self.path.stem, NAME_MAX - len(os.fsencode(suffix)) - len(mark) - 9)}{mark}"
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        os.close(fd)
        self.tmp = Path(name)
        # An AtomicFile dropped without commit or discard still removes its temporary file.
        self._cleanup = weakref.finalize(self, _remove, self.tmp)
        self._deferred = False

    _MODE = 0o666  # what a new file gets before the umask

    def commit(self) -> Path:
        # mkstemp / mkdtemp make it private; give the result the permissions of a normal output.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, self._MODE & ~umask)
        os.replace(self.tmp, self.path)
        self._cleanup.detach()
        return self.path

    def finish(self) -> Path:
        """Commit now, or inside :func:`all_or_nothing` when that block succeeds."""
        pending = _PENDING.get()
        if pending is None:
            return self.commit()
        pending.append(self)
        self._deferred = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (not once it waits for an :func:`all_or_nothing` block, which
        then decides)."""
        if not self._deferred:
            self._cleanup()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class AtomicFolder(AtomicFile):
    """A temporary folder beside ``path`` that becomes the folder ``path`` on :meth:`commit` (which
    must then be missing or empty); :class:`AtomicFile`'s finishing and discarding, for a folder."""

    _MODE = 0o777

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise InputError(f"{self.path}: exists and is not an empty folder")
        folder = self.path.parent
        if not folder.is_dir():
            raise InputError(f"{self.path}: folder {folder} does not exist")
        sweep_stale(folder)
        mark = f".{os.getpid()}."
        prefix = f".{_cut(self.path.name, NAME_MAX - len('.partial') - len(mark) - 9)}{mark}"
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=folder))
        self._cleanup = weakref.finalize(self, _remove_tree, self.tmp)
        self._deferred = False

    def commit(self) -> Path:
        if self.path.is_dir():
            self.path.rmdir()  # empty (checked when made); a file put there meanwhile stops the commit
        return super().commit()


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder to fill; it becomes ``path`` when the block succeeds (or, inside
    :func:`all_or_nothing`, when that block does), and is removed on any error."""
    yield from _finished_unless_error(AtomicFolder(path))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; it is renamed to ``path`` when the block succeeds (or, inside
    :func:`all_or_nothing`, when that block does).

    On any error the temporary file is removed and an existing ``path`` is left as it was.
    """
    yield from _finished_unless_error(AtomicFile(path))


def _finished_unless_error(atomic: AtomicFile | AtomicFolder) -> Iterator[Path]:
    """Yield ``atomic``'s temporary path; finish it after the block, discard it on any error."""
    try:
        yield atomic.tmp
    except BaseException:
        atomic.discard()
        raise
    atomic.finish()


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """A run with several outputs writes all of them or none: each finished output waits under its
    temporary name until the block succeeds, and an error (or a signal) anywhere removes them all."""
    pending: list[AtomicFile] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for atomic in pending:
            atomic._cleanup()
        raise
    finally:
        _PENDING.reset(token)
    for atomic in pending:
        atomic.commit()


def written(path: str | os.PathLike) -> Path:
    """Where the finished output ``path`` can be read now: its temporary file while it waits for an
    :func:`all_or_nothing` block, else ``path`` itself."""
    target = Path(path)
    for atomic in _PENDING.get() or []:
        if atomic.path == target:
            return atomic.tmp
    return target


@contextlib.contextmanager
def immediate_outputs() -> Iterator[None]:
    """Inside :func:`all_or_nothing`, outputs of this block are committed at once (an intermediate
    file the run reads back)."""
    token = _PENDING.set(None)
    try:
        yield
    finally:
        _PENDING.reset(token)


def check_output(
    path: str | os.PathLike,
    *,
    suffixes: tuple[str, ...] | None = None,
    inputs: tuple[str | os.PathLike | None, ...] = (),
    what: str = "output",
) -> Path:
    """``path`` as an output file, checked before any work: not a folder, its folder exists and is
    writable, its extension one of ``suffixes`` (if given), and it is none of ``inputs`` (an input is
    never overwritten). One-line :class:`InputError` otherwise."""
    p = Path(path)
    size = len(os.fsencode(p.name))
    if size > NAME_MAX:
        raise InputError(f"{p.name[:40]}...: the name is {size} bytes, longer than a file name may be ({NAME_MAX})")
    if str(path) == "" or p.is_dir() or str(path).endswith(os.sep):
        raise InputError(f"{path}: is a folder, expected a file path for the {what}")
    folder = p.parent
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{path}: folder {folder} is not writable")
    _check_takes_files(folder, path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        shown = p.suffix or "no extension"
        raise InputError(f"{path}: the {what} must be {', '.join(suffixes)}, not {shown}")
    for source in inputs:
        if source is not None and _same_file(p, Path(source)):
            raise InputError(f"{path}: is also an input; choose another {what} name (inputs are never overwritten)")
    return p


#: A temporary output's name: ``.<name>.<pid of its writer>.<8 random characters>.partial[.ext]``.
_PARTIAL = re.compile(r"^\..*\.(\d+)\.[A-Za-z0-9_]{8}\.partial(\.[^.]*)?$")


def sweep_stale(folder: Path) -> int:
    """Remove the temporary outputs in ``folder`` left by runs that were killed (SIGKILL, a power cut):
    those whose writing process is gone, or is a newer process with the same id. How many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        found = _PARTIAL.match(entry.name)
        if not found or _writer_alive(int(found.group(1)), entry):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
    return removed


def _writer_alive(pid: int, entry: os.DirEntry) -> bool:
    """Whether the process that made ``entry`` still runs: ``pid`` exists and started before it was made."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process: not ours to judge
    try:
        started = os.stat(f"/proc/{pid}").st_ctime
        return started <= entry.stat(follow_symlinks=False).st_mtime + 1.0
    except OSError:
        return True


#: The longest file name (bytes) the common file systems take (ext4, XFS, APFS, NTFS in UTF-16 units).
NAME_MAX = 255


def _cut(name: str, room: int) -> str:
    """``name`` cut to at most ``room`` bytes of the file system's encoding (whole characters)."""
    while len(os.fsencode(name)) > max(0, room):
        name = name[:-1]
    return name


def _check_takes_files(folder: Path, path: str | os.PathLike) -> None:
    """The output's folder takes a new file (not /proc or /sys, a read-only mount, a full disk's last
    inode): one is made and removed, before any work."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".", suffix=".probe", dir=folder)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"{path}: folder {folder} does not take new files ({reason})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        try:
            return a.samefile(b)
        except OSError:
            return False
    return a.resolve() == b.resolve()


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """The document in JSON file ``path``; a missing, unreadable or malformed file is a one-line
    :class:`~talkingface.errors.MediaError` that says it is not a ``what``."""
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MediaError(path, "file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MediaError(path, f"not a {what} ({type(error).__name__}: {error})") from None


#: Byte-order marks and the encodings they announce, the 4-byte ones first (UTF-32 LE starts as UTF-16 LE).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(data: bytes) -> str:
    """A text file's bytes as text: by its byte-order mark where it has one (UTF-8, UTF-16 or UTF-32, as
    editors on Windows and Praat write them), else UTF-8. UnicodeDecodeError where it is none of these."""
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            return data[len(mark) :].decode(encoding)
    return data.decode("utf-8")
