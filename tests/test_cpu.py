"""What the CPU's vector units can do, as the precision choice and the benches read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingface import cpu


def test_the_flags_are_the_ones_proc_cpuinfo_lists():
    if not Path("/proc/cpuinfo").exists():
        pytest.skip("this system has no /proc/cpuinfo")
    text = Path("/proc/cpuinfo").read_text()
    flags = cpu.cpu_flags()
    assert flags is not None and flags
    assert ("avx2" in flags) == (" avx2" in text)
    assert cpu.vector_features().startswith("AVX2" if "avx2" in flags else "no AVX2")


@pytest.mark.parametrize(
    ("flags", "words", "units"),
    [
        ({"avx2", "fma"}, "AVX2, no AVX-512, no AMX", ()),
        ({"avx2", "avx512f", "avx512_bf16"}, "AVX2, AVX-512, no AMX, bfloat16 units", ("avx512_bf16",)),
        ({"avx2", "avx512f", "amx_tile", "amx_bf16"}, "AVX2, AVX-512, AMX, bfloat16 units", ("amx_bf16",)),
        (None, "CPU features unknown", None),
    ],
)
def test_features_in_words_and_bfloat16_units(monkeypatch, flags, words, units):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: None if flags is None else frozenset(flags))
    assert cpu.vector_features() == words
    assert cpu.bfloat16_units() == units


def test_bfloat16_is_run_as_float32_only_on_a_cpu_without_its_units(monkeypatch):
    from talkingface.models.inference import usable_precision

    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2"}))
    precision, note = usable_precision("bf16", "cpu")
    assert precision == "fp32" and note and "no bfloat16 units" in note
    assert usable_precision("fp32", "cpu") == ("fp32", None)
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert usable_precision("bf16", "cpu") == ("bf16", None)
    monkeypatch.setattr(cpu, "cpu_flags", lambda: None)  # unknown: the user's choice stands
    assert usable_precision("bf16", "cpu") == ("bf16", None)
