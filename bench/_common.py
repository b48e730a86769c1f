"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / ".cache" / "inputs"


def median_ms(fn: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def report(name: str, ours_ms: float, baseline_ms: float, baseline: str, goal: float) -> bool:
    ratio = baseline_ms / ours_ms
    met = ratio >= goal
    print(
        f"{name:<34} ours {ours_ms:8.2f} ms   {baseline:<28} {baseline_ms:8.2f} ms   "
        f"{ratio:5.2f}x faster (goal >= {goal:g}x) {'ok' if met else 'MISSED'}"
    )
    return met
