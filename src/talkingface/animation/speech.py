"""Speech -> ARKit-52 curves and timed phonemes, by the method that suits the input.

- "jali": timed phonemes (forced alignment of the transcript, else phoneme recognition) through the
  JALI animator;
- "visemenet": the VisemeNet shipped in the package, from the audio alone (no transcript, any language);
- "auto": "jali" with forced alignment when a transcript is given, else :data:`NO_TRANSCRIPT_METHOD`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..speech.phonemes import PhonemeSequence
from .curves import AnimationCurves
from .jali import JaliAnimator, JaliConfig

SPEECH_METHODS = ("auto", "jali", "visemenet")
#: What "auto" uses without a transcript: VisemeNet follows real lips better than phoneme recognition
#: + JALI on held-out speakers (``bench/bench_visemenet.py``).
NO_TRANSCRIPT_METHOD = "visemenet"


def resolve_method(method: str, text: str | None) -> str:
    """The method "auto" stands for, given whether there is a transcript; checks the combination."""
    if method not in SPEECH_METHODS:
        raise InputError(f"method must be one of {', '.join(SPEECH_METHODS)}, got {method!r}")
    has_text = text is not None and bool(text.strip())
    if method == "auto":
        return "jali" if has_text else NO_TRANSCRIPT_METHOD
    if method == "visemenet" and has_text:
        raise InputError("VisemeNet animates from the audio alone; a transcript is not used (use --method jali)")
    return method


def speech_curves(
    audio: np.ndarray,
    sample_rate: int,
    fps: float | Fraction,
    text: str | None = None,
    method: str = "auto",
    config: JaliConfig | None = None,
    model=None,
) -> tuple[AnimationCurves, PhonemeSequence]:
    """Curves covering the whole ``audio`` at ``fps`` and the phonemes they follow (for "visemenet":
    its phoneme groups, source "visemenet"). ``model``: a VisemeNet instead of the shipped one."""
    config = config or JaliConfig()
    chosen = resolve_method(method, text)
    if chosen == "visemenet":
        from .visemenet import VisemeNetAnimator

        return VisemeNetAnimator(model, config).animate(audio, sample_rate, fps)
    from ..speech import timed_phonemes

    phonemes = timed_phonemes(audio, sample_rate, text)
    return JaliAnimator(config).animate(phonemes, fps, audio, sample_rate), phonemes
