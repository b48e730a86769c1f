"""Native libraries' own output: what C and C++ code (mediapipe, espeak-ng) prints to descriptor 2."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_fd: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what native code writes to file descriptor 2, but not Python's ``sys.stderr``.

    mediapipe's C++ side prints TensorFlow Lite and absl notices straight to descriptor 2, some of
    them from its own threads while a graph runs, and espeak-ng prints dictionary and file notices;
    they would clutter the command line, whose errors are one line. Python's own output (warnings, progress bars, tracebacks) goes to a copy of the original
    descriptor for the duration. Re-entrant.
    """
    global _quiet_depth, _saved_fd
    with _quiet_lock:
        _quiet_depth += 1
        first = _quiet_depth == 1
        if first:
            try:
                sys.stderr.flush()
                _saved_fd = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
                python_stderr = sys.stderr
                sys.stderr = open(_saved_fd, "w", buffering=1, closefd=False)  # noqa: SIM115 (restored on exit)
            except (OSError, AttributeError, ValueError):
                _saved_fd = None
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if first and _saved_fd is not None:
                sys.stderr.flush()
                sys.stderr = python_stderr
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd = None
