"""Progress of long runs: a small line on stderr for a person at a terminal, and JSON lines on a
channel a supervising program opened (``TALKINGFACE_PROGRESS_FD``: a file descriptor inherited from it,
as the web service does)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from functools import lru_cache
from typing import IO

PROGRESS_FD = "TALKINGFACE_PROGRESS_FD"


@lru_cache(maxsize=1)
def _channel() -> IO[str] | None:
    value = os.environ.get(PROGRESS_FD, "")
    if not value.isdigit():
        return None
    try:
        return os.fdopen(int(value), "w", buffering=1, encoding="utf-8", closefd=False)
    except OSError:
        return None


def _report(event: dict) -> None:
    channel = _channel()
    if channel is None:
        return
    with contextlib.suppress(OSError):  # the supervisor went away; the run goes on
        channel.write(json.dumps(event) + "\n")


def stage(label: str) -> None:
    """Announce a step of the run (``"tracking faces"``) to a supervising program."""
    _report({"stage": label})


class Progress:
    """``with Progress(total, "rendering") as bar: bar.update()`` - the terminal line is printed only
    when enabled and stderr is a terminal; a supervising program's channel hears of it either way."""

    def __init__(self, total: int, label: str, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.label = max(1, int(total)), label
        self.enabled = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self._start = time.perf_counter()
        self._last = 0.0
        self._reported = -1.0
        _report({"stage": label, "done": 0, "total": self.total})

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self._reported > 0.2 or self.done >= self.total:
            self._reported = now
            _report({"stage": self.label, "done": min(self.done, self.total), "total": self.total})
        if self.enabled and (now - self._last > 0.25 or self.done >= self.total):
            self._last = now
            rate = self.done / max(now - self._start, 1e-9)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            width = 24
            filled = int(width * self.done / self.total)
            self.stream.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:5.1f}/s {left:4.0f}s left "
            )
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
