"""Rhubarb mouth cues from the real recording's alignment: Rhubarb's timing rules hold."""

from __future__ import annotations

import itertools

import pytest

from talkingface.animation.mouth_cues import _BETWEEN, MIN_CUE, mouth_cues
from talkingface.errors import InputError
from talkingface.speech.espeak import synthesize


@pytest.fixture(scope="module")
def cues(two_cities_alignment):
    return mouth_cues(two_cities_alignment)


def test_cues_cover_the_speech_on_a_centisecond_grid(cues, two_cities_alignment):
    assert cues[0].start == 0 and cues[-1].end == round(two_cities_alignment.duration, 2)
    for a, b in itertools.pairwise(cues):
        assert a.end == b.start and a.shape != b.shape
    assert all(round(c.start * 100) == pytest.approx(c.start * 100, abs=1e-6) for c in cues)
    assert {c.shape for c in cues} <= set("ABCDEFGHX")
    assert {"A", "B", "C", "D", "E", "F", "G", "X"} <= {c.shape for c in cues}  # 44 s of real speech: all in use


def test_no_cue_is_shorter_than_its_minimum(cues):
    for k, cue in enumerate(cues[1:-1], 1):
        length = cue.end - cue.start
        if length < MIN_CUE - 0.0051:  # a tween, between the two shapes it joins
            assert length >= 0.04 - 0.0051
            assert _BETWEEN[frozenset(cues[k - 1].shape + cues[k + 1].shape)] == cue.shape


def test_lips_close_for_every_m_b_p_and_rest_in_long_pauses(cues, two_cities_alignment):
    def shapes_during(start, end):
        return {c.shape for c in cues if c.start < end and c.end > start}

    closures = [p for p in two_cities_alignment.phonemes if p.phone in ("M", "B", "P")]
    closed = sum("A" in shapes_during(p.start, p.end) for p in closures)
    assert closed >= 0.9 * len(closures)
    pauses = [(a.end, b.start) for a, b in zip(two_cities_alignment.phonemes, two_cities_alignment.phonemes[1:])]
    long_pauses = [(s, e) for s, e in pauses if e - s > 0.5]
    assert long_pauses and all("X" in shapes_during(s + 0.2, e - 0.2) for s, e in long_pauses)


def test_vowels_are_anticipated_and_diphthongs_split():
    speech = synthesize("Hi, how are you?")
    cues = mouth_cues(speech.phonemes)
    ay = next(p for p in speech.phonemes.phonemes if p.phone == "AY")  # "hi": D then B, 60/40
    during = [c.shape for c in cues if c.start < ay.end - 0.01 and c.end > ay.start + 0.01]
    assert during[:2] == ["D", "B"] or (during[0] == "D" and "B" in during)
    hh = speech.phonemes.phonemes[speech.phonemes.phonemes.index(ay) - 1]
    assert hh.phone == "HH"
    opening = next(c for c in cues if c.shape == "D")
    assert opening.start < ay.start - 0.02  # the h already shows the coming vowel


def test_rigs_without_extended_shapes_get_the_fallbacks(two_cities_alignment):
    basic = mouth_cues(two_cities_alignment, extended="")
    assert {c.shape for c in basic} <= set("ABCDEF")
    no_x = mouth_cues(two_cities_alignment, extended="GH")
    assert "X" not in {c.shape for c in no_x} and "G" in {c.shape for c in no_x}
    with pytest.raises(InputError, match="some of G, H, X"):
        mouth_cues(two_cities_alignment, extended="Q")
