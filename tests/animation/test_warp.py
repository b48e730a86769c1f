"""Transcripts in any language: espeak-ng's rendering of the text warped onto the speech."""

from __future__ import annotations

import difflib
import re

import numpy as np
import pytest
from tests.conftest import TWO_CITIES_TEXT

from talkingface.animation.warp import transcript_phonemes, warp_align, warp_path
from talkingface.errors import InputError
from talkingface.speech import check_language, is_english

SENTENCES = {
    "de": "Guten Morgen, heute möchte ich über Gesichter sprechen und wie sie sich bewegen.",
    "es": "Buenos días, hoy quiero hablar de las caras y de cómo se mueven al hablar.",
    "fr": "Bonjour, aujourd'hui je voudrais parler des visages et de leur mouvement.",
}


@pytest.fixture(scope="module")
def visemenet():
    from talkingface.models.registry import load_builtin

    return load_builtin("visemenet")


def test_the_warp_recovers_a_known_stretch():
    rng = np.random.default_rng(0)
    made = np.repeat(rng.normal(size=(40, 6)), 3, axis=0)  # 40 distinct sounds, 3 steps each
    real = np.repeat(made[::3], 5, axis=0)  # the same sounds, 5 steps each
    paired = warp_path(real, made)
    expected = np.repeat(np.arange(40) * 5 + 2, 3)  # each sound's middle
    assert np.abs(paired - expected).max() <= 2.5
    assert np.all(np.diff(paired) >= 0)


def plain_warp(real: np.ndarray, made: np.ndarray) -> np.ndarray:
    """Dynamic time warping cell by cell over the whole table, for reference."""
    rows, cols = len(real), len(made)
    cost = ((real[:, None, :] - made[None, :, :]) ** 2).sum(2)
    table = np.full((rows + 1, cols + 1), np.inf)
    table[0, 0] = 0.0
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            table[i, j] = cost[i - 1, j - 1] + min(table[i - 1, j - 1], table[i - 1, j], table[i, j - 1])
    total, count = np.zeros(cols), np.zeros(cols)
    i, j = rows, cols
    while i > 0 and j > 0:
        total[j - 1] += i - 1
        count[j - 1] += 1
        options = {(i - 1, j - 1): table[i - 1, j - 1], (i - 1, j): table[i - 1, j], (i, j - 1): table[i, j - 1]}
        i, j = min(options, key=lambda cell: options[cell])
    return total / count


@pytest.mark.parametrize("seed", range(5))
def test_the_warp_is_the_cheapest_pairing_when_the_band_spans_the_table(seed):
    rng = np.random.default_rng(seed)
    real, made = rng.normal(size=(37 + seed, 4)), rng.normal(size=(29 + 3 * seed, 4))
    np.testing.assert_allclose(warp_path(real, made), plain_warp(real, made), atol=1e-9)


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_other_languages_align_within_40_ms_on_speech_of_another_voice(language, visemenet):
    """Speech of another voice (a variant, slower, with pauses between words, a room and noise) and its
    exact phoneme times; the transcript is aligned through the default voice's rendering."""
    from talkingface.data.visemenet import degrade
    from talkingface.media.audio import speech_at
    from talkingface.speech.espeak import synthesize

    text = SENTENCES[language]
    spoken = synthesize(text, f"{language}+f3", rate=140, word_gap=3)
    lead = np.zeros(int(0.4 * 16000), np.float32)
    audio = np.concatenate([lead, speech_at(spoken.audio, spoken.sample_rate, 16000), lead])
    audio = degrade(audio, np.random.default_rng(7), 1.5)
    aligned = transcript_phonemes(audio, 16000, text, language)
    assert aligned.source == "alignment"
    want = np.array([p.start + 0.4 for p in spoken.phonemes.phonemes])
    have = np.array([p.start for p in aligned.phonemes])
    assert len(have) == len(want)
    assert np.median(np.abs(have - want)) < 0.040
    assert [w.text for w in aligned.words] == [w.text for w in spoken.phonemes.words]


def test_real_english_speech_warps_to_the_words_pocketsphinx_finds(speech16k, two_cities_alignment, visemenet):
    """44 s of real read speech: the warp, which knows no English model, puts the words where English
    forced alignment does (median 17 ms apart when measured, 60 ms allowed)."""
    warped = warp_align(speech16k, 16000, TWO_CITIES_TEXT, "en-us", visemenet)

    def words(sequence):
        return [re.sub(r"[^a-z']", "", w.text.lower()) for w in sequence.words]

    reference = two_cities_alignment
    matcher = difflib.SequenceMatcher(a=words(reference), b=words(warped), autojunk=False)
    gaps = [
        abs(reference.words[block.a + k].start - warped.words[block.b + k].start)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    assert len(gaps) > 0.8 * len(reference.words)
    assert np.median(gaps) < 0.060


def test_languages_are_checked_in_one_line():
    assert is_english("en-us") and is_english("en") and not is_english("de")
    assert check_language("de") == "de"
    with pytest.raises(InputError, match="klingon.*espeak-ng"):
        check_language("klingon")
    with pytest.raises(InputError, match="did you mean"):
        check_language("en-xx")
