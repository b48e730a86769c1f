"""VisemeNet's training data: synthetic speech in many languages with exact targets, degraded audio,
real clips' measured lips, GRID transcripts, and sets saved and read back."""

from __future__ import annotations

import numpy as np
import pytest
from tests.train.conftest import write_clip

from talkingface.data.grid import grid_sentence
from talkingface.data.visemenet import (
    UNKNOWN,
    degrade,
    load_utterances,
    reads_latin,
    real_utterance,
    save_utterances,
    step_groups,
    synthetic_utterance,
    utterance_text,
)
from talkingface.errors import InputError
from talkingface.features.lips import inner_opening
from talkingface.speech import ARPABET, JALI_VISEMES, SILENCE, Phoneme, PhonemeSequence
from talkingface.speech.visemes import GROUP_OF, PHONEME_GROUPS


def test_21_groups_cover_every_phoneme_once():
    assert len(PHONEME_GROUPS) == 21
    members = [p for group in PHONEME_GROUPS for p in group]
    assert sorted(members) == sorted([*ARPABET, SILENCE])


def test_step_groups_follow_the_phoneme_times():
    sequence = PhonemeSequence([Phoneme("M", 0.10, 0.20), Phoneme("AA", 0.20, 0.40)], [], duration=0.5)
    groups = step_groups(sequence, 48)
    centres = (np.arange(48) * 160 + 200) / 16000
    assert (groups[(centres >= 0.1) & (centres < 0.2)] == GROUP_OF["M"]).all()
    assert (groups[(centres >= 0.2) & (centres < 0.4)] == GROUP_OF["AA"]).all()
    assert (groups[(centres < 0.1) | (centres >= 0.4)] == 0).all()


@pytest.fixture(scope="module")
def english():
    rng = np.random.default_rng(3)
    return [synthetic_utterance(rng, "en-us", augment=0.0) for _ in range(6)]


def test_synthetic_targets_agree_with_each_other(english):
    mbp, group_m = JALI_VISEMES.index("MBP"), GROUP_OF["M"]
    open_groups = [GROUP_OF[p] for p in ("AA", "AE", "AH", "OW")]
    closed, opened, closure_viseme = [], [], []
    for u in english:
        n = len(u)
        assert u.features.shape == (n, 65) and u.lips.shape == (n, 80) and u.groups.shape == (n,)
        assert u.visemes is not None and u.jali is not None
        assert u.visemes.shape == (n, 20) and u.jali.shape == (n, 2) and np.isfinite(u.lips).all()
        assert (u.groups[:5] == 0).all()  # padded with silence
        opening = inner_opening(u.lips)
        closed += list(opening[u.groups == group_m])
        opened += list(opening[np.isin(u.groups, open_groups)])
        closure_viseme += list(u.visemes[u.groups == group_m, mbp])
    # The rig's lips close on m/b/p and open on open vowels; JALI's MBP viseme is on during m/b/p.
    assert np.mean(closed) < np.mean(opened) - 0.1
    assert np.median(closure_viseme) > 0.8


@pytest.mark.parametrize("language", ["de", "sw", "fr", "cmn", "ja", "ar", "hi", "ru"])
def test_every_script_speaks_its_own_words(language):
    rng = np.random.default_rng(0)
    u = synthetic_utterance(rng, language, augment=1.0)
    speech = (u.groups != 0).mean()
    assert u.language == language and len(u) > 50 and 0.3 < speech < 0.98
    # Non-Latin languages never get Latin pseudo-words (espeak-ng would read them in English).
    text = utterance_text(np.random.default_rng(1), language)
    if not reads_latin(language):
        assert not any(c.isascii() and c.isalpha() for c in text), text


def test_latin_reading_is_told_apart():
    assert reads_latin("de") and reads_latin("sw") and not reads_latin("ja") and not reads_latin("ru")


def test_degrade_keeps_length_and_range_and_changes_the_sound():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    assert np.array_equal(degrade(audio, rng, 0.0), audio)
    changed = [degrade(audio, np.random.default_rng(k), 2.0) for k in range(5)]
    for x in changed:
        assert x.shape == audio.shape and np.isfinite(x).all() and np.abs(x).max() <= 1.0
    assert all(np.abs(x - audio).mean() > 1e-3 for x in changed)


def test_real_clip_gives_measured_lips(tmp_path):
    folder = tmp_path / "s" / "c"
    write_clip(folder, np.random.default_rng(5), frames=60)
    u = real_utterance(folder)
    assert u.real and u.visemes is None and u.jali is None and (u.groups == UNKNOWN).all()
    assert u.features.shape[0] == len(u) == 1 + (60 * 640 - 400) // 160 + 1
    # The clip's lower lip drops with its tone: the measured lips follow the loudness.
    loudness = u.features[:, 0]
    known = np.isfinite(u.lips).all(1)
    lowered = u.lips[known, 40:].mean(1)  # mean height of the lip points (image y grows downwards)
    assert np.corrcoef(lowered, loudness[known])[0, 1] > 0.7
    timed = PhonemeSequence([Phoneme("AA", 0.2, 0.6)], [], duration=2.4)
    assert (real_utterance(folder, timed).groups == GROUP_OF["AA"]).sum() == 40
    # Played faster, the speech, lips and phonemes shrink together.
    fast = real_utterance(folder, timed, speed=1.25)
    assert abs(len(fast) - len(u) / 1.25) <= 2 and (fast.groups == GROUP_OF["AA"]).sum() == 32
    lowered_fast = fast.lips[np.isfinite(fast.lips).all(1), 40:].mean(1)
    assert np.corrcoef(lowered_fast, fast.features[np.isfinite(fast.lips).all(1), 0])[0, 1] > 0.7
    with pytest.raises(InputError, match="speed"):
        real_utterance(folder, speed=3.0)


def test_sets_round_trip(tmp_path, english):
    folder = tmp_path / "s" / "c"
    write_clip(folder, np.random.default_rng(5))
    utterances = [*english[:2], real_utterance(folder)]
    back = load_utterances(save_utterances(tmp_path / "set.npz", utterances))
    assert [u.name for u in back] == [u.name for u in utterances]
    assert [u.real for u in back] == [False, False, True]
    assert back[2].visemes is None and back[0].visemes is not None
    np.testing.assert_array_equal(back[0].features, utterances[0].features)
    np.testing.assert_array_equal(back[1].groups, utterances[1].groups)
    np.testing.assert_array_equal(back[2].lips, utterances[2].lips)


def test_grid_sentences():
    assert grid_sentence("bbaf2n") == "bin blue at f two now"
    assert grid_sentence("rizkiarm__LipNet__lrwp9a") == "lay red with p nine again"
    assert grid_sentence("id2_vcd_swwp2s") == "set white with p two soon"
    for bad in ("video_20251208_015857_cac80689", "bbawzn", "ab"):
        with pytest.raises(InputError):
            grid_sentence(bad)
