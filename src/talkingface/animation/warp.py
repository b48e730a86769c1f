"""Transcripts aligned in any language espeak-ng speaks: its rendering of the text warped onto the speech.

espeak-ng speaks the transcript, and knows exactly when each of its phonemes and words is. Both its
rendering and the real speech are described every 10 ms by features that carry over from one voice to
another (:func:`voice_free_features`): VisemeNet's 21 phoneme-group probabilities (VisemeNet was
trained on espeak-ng speech in every language and on real speech) and log-mel bands standardised over
each utterance. Dynamic time warping (:func:`warp_path`) pairs the two step by step, within a band
around the diagonal scaled to the two lengths, and each phoneme and word of the rendering takes the
real times its steps were paired with. Silence is added before and after the rendering, so the real
speech's own pauses at its ends have silence to match.

:func:`transcript_phonemes` chooses: English transcripts are aligned by pocketsphinx's English
acoustic model (:func:`talkingface.speech.align.align`), every other language by the warp.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..speech import SPEECH_RATE, check_language, is_english, timed_phonemes
from ..speech.phonemes import Phoneme, PhonemeSequence, Word

#: Features per second (10 ms steps).
STEPS_PER_SECOND = 100
#: Silence around the rendering, seconds.
PAD_SECONDS = 0.5
#: The band's half-width: this share of the longer of the two, at least :data:`MIN_BAND` steps and at
#: most :data:`MAX_BAND` (a speaker who drifts further from espeak-ng's pace than 15 s is not followed).
BAND_SHARE = 0.2
MIN_BAND = 150
MAX_BAND = 1500
#: The weight of the phoneme-group probabilities against the log-mel bands in the steps' distances.
GROUP_WEIGHT = 1.0


def transcript_phonemes(
    audio: np.ndarray, sample_rate: int, text: str | None = None, language: str = "en"
) -> PhonemeSequence:
    """Phonemes with times for real speech: its transcript ``text`` aligned when given, else recognition.
    ``language``: the transcript's, an espeak-ng voice (``en``, ``de``, ``fr``, ``es``, ...): English is
    aligned by pocketsphinx, every other language by :func:`warp_align`."""
    if text is None or not text.strip() or is_english(check_language(language)):
        return timed_phonemes(audio, sample_rate, text)
    return warp_align(audio, sample_rate, text, language)


def warp_align(audio: np.ndarray, sample_rate: int, text: str, voice: str, model=None) -> PhonemeSequence:
    """Phonemes and words of ``text`` (in the language of espeak-ng's ``voice``) timed on ``(N,)`` speech.

    ``model``: a VisemeNet (default: the built-in one)."""
    from ..media.audio import speech_at
    from ..speech.espeak import synthesize

    speech = speech_at(audio, sample_rate, SPEECH_RATE)
    duration = len(speech) / SPEECH_RATE
    if duration < 0.2:
        raise InputError("the speech is too short to align a transcript to (under 0.2 s)")
    rendering = synthesize(text, voice=voice)
    if not rendering.phonemes.phonemes:
        raise InputError(f"espeak-ng ({voice}) speaks no phoneme of the transcript")
    pad = np.zeros(int(PAD_SECONDS * SPEECH_RATE), np.float32)
    spoken = np.concatenate([pad, speech_at(rendering.audio, rendering.sample_rate, SPEECH_RATE), pad])
    if model is None:
        from ..models.registry import load_builtin

        model = load_builtin("visemenet")
    real, made = voice_free_features(speech, model), voice_free_features(spoken, model)
    real_steps = warp_path(real, made)  # for each step of the rendering, the real step it is paired with
    steps = np.arange(len(real_steps))

    def moved(seconds: np.ndarray) -> np.ndarray:
        """Times in the rendering (seconds) -> times in the real speech."""
        paired = np.interp((seconds + PAD_SECONDS) * STEPS_PER_SECOND, steps, real_steps)
        return np.clip(paired / STEPS_PER_SECOND, 0, duration)

    made_phonemes, made_words = rendering.phonemes.phonemes, rendering.phonemes.words
    starts = moved(np.array([p.start for p in made_phonemes], np.float64))
    ends = moved(np.array([p.end for p in made_phonemes], np.float64))
    phonemes = [
        Phoneme(p.phone, float(start), float(end), p.stress, p.word)
        for p, start, end in zip(made_phonemes, starts, ends, strict=True)
        if end > start
    ]
    word_starts = moved(np.array([w.start for w in made_words], np.float64))
    word_ends = np.maximum(word_starts, moved(np.array([w.end for w in made_words], np.float64)))
    words = [
        Word(w.text, float(start), float(end)) for w, start, end in zip(made_words, word_starts, word_ends, strict=True)
    ]
    return PhonemeSequence(phonemes, words, duration=duration, source="alignment")


def voice_free_features(speech: np.ndarray, model) -> np.ndarray:
    """``(T, 45)`` features of 16 kHz speech every 10 ms: the square roots of VisemeNet's phoneme-group
    probabilities (times :data:`GROUP_WEIGHT`) and the 24 log-mel bands standardised over the utterance
    (scaled to the same overall size)."""
    from ..features.openness import openness_features
    from .visemenet import predict

    groups = np.sqrt(np.clip(predict(model, speech, SPEECH_RATE).groups, 0, 1))
    bands = openness_features(speech) / np.sqrt(24.0)
    steps = min(len(groups), len(bands))
    features: np.ndarray = np.concatenate([GROUP_WEIGHT * groups[:steps], bands[:steps]], axis=1)
    return features.astype(np.float64)


def warp_path(real: np.ndarray, made: np.ndarray) -> np.ndarray:
    """For each step of ``made`` ``(M, F)``, the mean step of ``real`` ``(R, F)`` the cheapest monotonic
    pairing of the two sequences (dynamic time warping, squared distances, steps diagonal, down or
    across; within the band around the scaled diagonal) pairs with it: ``(M,) float64``.

    Each row of the cost is found at once: with ``a`` the cheaper of the cells above and above-left, the
    cost at column ``j`` is the least, over ``k <= j``, of ``a[k]`` plus the costs from ``k`` to ``j``: a
    running minimum over cumulative sums."""
    rows, cols = len(real), len(made)
    if rows < 2 or cols < 2:
        raise InputError("the speech or its transcript is too short to align")
    width = int(np.clip(BAND_SHARE * max(rows, cols), MIN_BAND, MAX_BAND))
    slope = (cols - 1) / (rows - 1)
    low = np.clip(np.round(np.arange(rows) * slope) - width, 0, cols - 1).astype(np.int64)
    high = np.clip(np.round(np.arange(rows) * slope) + width + 1, 1, cols).astype(np.int64)
    high[-1] = cols  # the path ends at the last pair
    low[0] = 0
    span = int((high - low).max())
    moves = np.zeros((rows, span), np.int8)  # 0: from above-left, 1: from above, 2: from the left
    made_squares = (made**2).sum(1)
    previous = np.full(cols + 1, np.inf)  # costs of the row above, by column (+1: column -1)
    last_lo, last_hi = 0, 0  # the band the row above filled in ``previous``
    for i in range(rows):
        lo, hi = low[i], high[i]
        cost = made_squares[lo:hi] - 2 * made[lo:hi] @ real[i] + real[i] @ real[i]
        if i == 0:
            above_left, above = np.full(hi - lo, np.inf), np.full(hi - lo, np.inf)
            above_left[0] = 0.0
        else:
            above_left, above = previous[lo:hi], previous[lo + 1 : hi + 1]
        entry = np.minimum(above_left, above)
        sums = np.cumsum(cost)
        before = np.concatenate([[0.0], sums[:-1]])
        best = np.minimum.accumulate(entry - before)
        row = best + sums
        own = entry - before <= best  # the running minimum is this column's own entry
        moves[i, : hi - lo] = np.where(own, np.where(above_left <= above, 0, 1), 2)
        previous[last_lo + 1 : last_hi + 1] = np.inf  # only the row above's band was ever set
        previous[lo + 1 : hi + 1] = row
        last_lo, last_hi = lo, hi
    if not np.isfinite(previous[cols]):
        raise InputError("the transcript could not be aligned to the speech")
    # Back from the last pair, collecting the real steps each made step meets.
    total, count = np.zeros(cols), np.zeros(cols)
    i, j = rows - 1, cols - 1
    while True:
        total[j] += i
        count[j] += 1
        if i == 0 and j == 0:
            break
        move = moves[i, j - low[i]]
        if move == 0:
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            j -= 1
        if i < 0 or j < 0:
            raise InputError("the transcript could not be aligned to the speech")
    paired: np.ndarray = total / np.maximum(count, 1)
    return paired
