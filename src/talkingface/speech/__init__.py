"""Speech -> phonemes with times: espeak-ng synthesis, pocketsphinx alignment and recognition,
one ARPAbet-based inventory, viseme maps for the common standards."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
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
    "check_language",
    "ipa_to_arpabet",
    "is_english",
    "normalize_arpabet",
    "timed_phonemes",
    "viseme_of",
]


def timed_phonemes(audio: np.ndarray, sample_rate: int, text: str | None = None) -> PhonemeSequence:
    """Phonemes with times for real speech: forced alignment of an English ``text`` when given, else
    recognition (transcripts in other languages: :func:`talkingface.animation.warp.transcript_phonemes`).

    Args:
        audio: ``(N,)`` float samples in [-1, 1].
        sample_rate: Hz (resampled to 16 kHz for pocketsphinx).
    """
    from ..media.audio import speech_at

    audio = speech_at(audio, sample_rate, SAMPLE_RATE)
    if text is not None and text.strip():
        return align(audio, text)
    return recognize(audio)


def is_english(language: str) -> bool:
    """Whether ``language`` (an espeak-ng voice) is English, which pocketsphinx's model aligns."""
    return language.lower().split("-")[0].split("+")[0] == "en"


def check_language(language: str) -> str:
    """``language`` when espeak-ng speaks it here, else a one-line error."""
    from .espeak import languages

    known = languages()
    if language not in known:
        near = [v for v in known if v.split("-")[0] == language.lower().split("-")[0]][:4]
        hint = (
            f" (did you mean {', '.join(near)}?)" if near else " (e.g. en, de, fr, es; `espeak-ng --voices` lists them)"
        )
        raise InputError(f"transcript language {language!r}: not one espeak-ng speaks here{hint}")
    return language
