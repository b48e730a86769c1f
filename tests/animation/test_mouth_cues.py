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


# -- cues chosen from the curves ----------------------------------------------------------------------
def _curves(**channels):
    """ARKit curves at 25 fps, each named channel given as a per-frame sequence (the others 0)."""
    import numpy as np

    from talkingface.animation import AnimationCurves
    from talkingface.speech import ARKIT_52

    count = len(next(iter(channels.values())))
    values = np.zeros((count, 52), np.float32)
    for name, series in channels.items():
        values[:, ARKIT_52.index(name)] = series
    return AnimationCurves(25, ARKIT_52, values)


def test_curve_cues_take_the_jaws_openness_and_the_lips_shape():
    import numpy as np

    from talkingface.animation.mouth_cues import JAW_CLOSED, JAW_WIDE, curve_cues

    # Closed, B, C and D, a rounded open mouth (E), a tucked lip (G), a closure (A): 0.2 s each.
    level = np.repeat([0.0, 1 / 3, 2 / 3, 1.0, 2 / 3, 0.1, 2 / 3, 0.1], 5)
    jaw = JAW_CLOSED + level * (JAW_WIDE - JAW_CLOSED)
    funnel = np.repeat([0, 0, 0, 0, 0.8, 0, 0, 0], 5)
    roll = np.repeat([0, 0, 0, 0, 0, 0.6, 0, 0], 5)
    close = np.repeat([0, 0, 0, 0, 0, 0, 0, 1.0], 5)
    cues = curve_cues(_curves(jawOpen=jaw, mouthFunnel=funnel, mouthRollLower=roll, mouthClose=close))
    assert cues[0].start == 0 and cues[-1].end == 1.6
    # The silence at the start rests (X); a closure is a closure (A), not a pause, reached from C through a
    # tween of B as Rhubarb does.
    assert "".join(c.shape for c in cues) == "XBCDEGCBA"


def test_curve_cues_pause_with_rhubarbs_rules_and_keep_its_timing(two_cities_alignment, speech16k):
    import numpy as np

    from talkingface.animation.speech import speech_curves
    from talkingface.metrics.openness import correlation, cue_openness

    curves, phonemes = speech_curves(speech16k, 16000, 25, method="visemenet")
    from talkingface.animation.mouth_cues import curve_cues

    cues = curve_cues(curves, phonemes)
    assert cues[0].start == 0 and cues[-1].end == pytest.approx(curves.duration, abs=0.006)
    assert cues[0].shape == "X"  # 1.17 s of silence at the start
    for a, b in itertools.pairwise(cues):
        assert a.end == b.start and a.shape != b.shape
    for k, cue in enumerate(cues[1:-1], 1):
        if cue.end - cue.start < MIN_CUE - 0.0051:
            assert _BETWEEN[frozenset(cues[k - 1].shape + cues[k + 1].shape)] == cue.shape
    # The cues follow the jaw they come from.
    opening = cue_openness(cues, curves.num_frames, 25.0)
    assert correlation(opening, curves.channel("jawOpen")) > 0.7
    # Where the aligned transcript closes the lips, the cues are closed or nearly (A, B, G, X, F).
    closures = [p for p in two_cities_alignment.phonemes if p.phone in ("M", "B", "P")]
    shut = [opening[int(round((p.start + p.end) / 2 * 25))] <= 1 / 3 for p in closures]
    assert np.mean(shut) > 0.7


@pytest.mark.parametrize("source", ["alignment", "recognition", "visemenet"])
def test_curve_cues_trust_the_pauses_of_timed_phonemes_only(source):
    import numpy as np

    from talkingface.animation.mouth_cues import JAW_CLOSED, JAW_WIDE, curve_cues
    from talkingface.speech.phonemes import Phoneme, PhonemeSequence

    # The jaw is open (C) from 0.2 s to 1.4 s; the phonemes have a 0.6 s gap in the middle of it.
    jaw = JAW_CLOSED + np.repeat([0.0, 2 / 3, 0.0], [5, 30, 5]) * (JAW_WIDE - JAW_CLOSED)
    phonemes = PhonemeSequence([Phoneme("AE", 0.2, 0.5), Phoneme("AE", 1.1, 1.4)], duration=1.6, source=source)
    cues = curve_cues(_curves(jawOpen=jaw), phonemes)
    middle = [c.shape for c in cues if c.start < 0.8 < c.end]
    if source == "alignment":  # the transcript's pause rests the mouth
        assert middle == ["X"]
    else:  # a gap between phonemes guessed from the sound does not shut a jaw that is open
        assert middle == ["C"]


def test_curve_cues_fall_back_without_extended_shapes():
    import numpy as np

    from talkingface.animation.mouth_cues import curve_cues

    curves = _curves(jawOpen=np.repeat([0.0, 0.3, 0.0, 0.12], 10), mouthRollLower=np.repeat([0, 0, 0, 0.6], 10))
    shapes = {c.shape for c in curve_cues(curves, extended="")}
    assert shapes <= set("ABCDEF") and "A" in shapes
    with pytest.raises(InputError, match="G, H, X"):
        curve_cues(curves, extended="Q")
