"""What this CPU's vector units can do: the features that decide which arithmetic is fast here."""

from __future__ import annotations

import functools
from pathlib import Path

#: The feature flags (as /proc/cpuinfo names them) that do bfloat16 arithmetic natively.
BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (None where the system does not say)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


def bfloat16_units() -> tuple[str, ...] | None:
    """The CPU's bfloat16 units (AMX, AVX512-BF16), () where it has none, None where unknown."""
    flags = cpu_flags()
    return None if flags is None else tuple(f for f in BFLOAT16_FLAGS if f in flags)


def vector_features() -> str:
    """The vector units that decide speed here, in words: e.g. "AVX2, no AVX-512, no AMX"."""
    flags = cpu_flags()
    if flags is None:
        return "CPU features unknown"
    parts = ["AVX2" if "avx2" in flags else "no AVX2"]
    parts.append("AVX-512" if "avx512f" in flags else "no AVX-512")
    parts.append("AMX" if "amx_tile" in flags else "no AMX")
    if bfloat16_units():
        parts.append("bfloat16 units")
    return ", ".join(parts)
