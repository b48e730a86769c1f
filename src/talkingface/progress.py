"""A small progress line on stderr for long runs (frames done, rate, time left)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "rendering") as bar: bar.update()`` - prints only when enabled."""

    def __init__(self, total: int, label: str, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.label = max(1, int(total)), label
        self.enabled = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self._start = time.perf_counter()
        self._last = 0.0

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
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
