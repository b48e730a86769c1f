"""Speech -> phonemes with times: espeak-ng synthesis, pocketsphinx alignment and recognition,
one ARPAbet-based inventory, viseme maps for the common standards."""

from __future__ import annotations

import numpy as np

from .align import SAMPLE_RATE, align, recognize
from .phonemes import ARPABET, SILENCE, VOWELS, Phoneme, PhonemeSequence, Word, ipa_to_arpabet, normalize_arpabet
from .visemes import ARKIT_52, JALI_VISEMES, VISEME_POSES, viseme_of

SPEECH_RATE = 16000  # Hz: what alignment and recognition (pocketsphinx's acoustic model) work at

__all__ = [
    "ARKIT_52",
    "ARPABET",
    "JALI_VISEMES",
    "SILENCE",
    "SPEECH_RATE",
    "VISEME_POSES",
    "VOWELS",
    "Phoneme",
    "PhonemeSequence",
    "Word",
    "ipa_to_arpabet",
    "normalize_arpabet",
    "timed_phonemes",
    "viseme_of",
]


def timed_phonemes(audio: np.ndarray, sample_rate: int, text: str | None = None) -> PhonemeSequence:
    """Phonemes with times for real speech: forced alignment of ``text`` when given, else recognition.

    Args:
        audio: ``(N,)`` float samples in [-1, 1].
        sample_rate: Hz (resampled to 16 kHz for pocketsphinx).
    """
    from ..media.audio import speech_at

    audio = speech_at(audio, sample_rate, SAMPLE_RATE)
    if text is not None and text.strip():
        return align(audio, text)
    return recognize(audio)
