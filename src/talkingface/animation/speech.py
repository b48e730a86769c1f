"""Speech -> ARKit-52 curves and timed phonemes, by the method that suits the input.

- "jali": timed phonemes (forced alignment of the transcript, else phoneme recognition) through the
  JALI animator;
- "visemenet": the VisemeNet shipped in the package, from the audio alone (no transcript, any language);
- "auto": the mouth's shapes from "jali" with forced alignment when a transcript is given, else from
  :data:`NO_TRANSCRIPT_METHOD`, and the jaw from the mouth-openness model trained on real speakers' lips
  (:mod:`talkingface.models.openness`; a share :data:`TRANSCRIPT_OPENNESS` of it with a transcript;
  without one the lips close only where that jaw is shut).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .. import choices
from ..errors import InputError
from ..settings import setting
from ..speech.phonemes import PhonemeSequence
from .curves import AnimationCurves
from .jali import JaliAnimator, JaliConfig

SPEECH_METHODS = choices.SPEECH_METHODS
#: What "auto" takes the mouth's shapes from without a transcript (VisemeNet: fast, any language).
NO_TRANSCRIPT_METHOD = "visemenet"
#: With a transcript, the share of "auto"'s jaw that comes from the openness model (the rest from the
#: aligned phonemes through JALI), chosen on held-out GRID speakers with their transcripts.
TRANSCRIPT_OPENNESS = 0.5


@dataclass(frozen=True)
class CurveSettings:
    """What :func:`speech_curves` is asked for by the ``visemes`` command and the service; the JALI style
    is :class:`~talkingface.animation.jali.JaliConfig`'s."""

    fps: float | Fraction = setting(30, "frames per second of the curves", above=0)
    method: str = setting("auto", "speech to curves", choices=SPEECH_METHODS)


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
    openness_model=None,
    language: str = "en",
) -> tuple[AnimationCurves, PhonemeSequence]:
    """Curves covering the whole ``audio`` at ``fps`` and the phonemes they follow (for "visemenet":
    its phoneme groups, source "visemenet"). ``model``: a VisemeNet instead of the shipped one;
    ``openness_model``: a mouth-openness model instead of the shipped one ("auto"); ``language``: the
    transcript's (an espeak-ng voice: :func:`~talkingface.animation.warp.transcript_phonemes`)."""
    config = config or JaliConfig()
    chosen = resolve_method(method, text)
    if chosen == "visemenet":
        from .visemenet import VisemeNetAnimator

        curves, phonemes = VisemeNetAnimator(model, config).animate(audio, sample_rate, fps)
    else:
        from .warp import transcript_phonemes

        phonemes = transcript_phonemes(audio, sample_rate, text, language)
        curves = JaliAnimator(config).animate(phonemes, fps, audio, sample_rate)
    if method == "auto":
        from ..models.openness import load_openness
        from .openness import REST, SILENT_DB, openness_frames, with_openness

        openness_model = openness_model if openness_model is not None else load_openness()
        found = openness_frames(openness_model, audio, sample_rate, curves.num_frames, float(curves.fps))
        if (found <= REST + 1e-9).all():
            phonemes.notes.append(f"the speech is silent (under {SILENT_DB:g} dB): the mouth stays at rest")
        if chosen == "jali":  # aligned phonemes: their closures stand
            curves = with_openness(curves, found, TRANSCRIPT_OPENNESS)
        else:
            curves = with_openness(curves, found, closures=True)
    return curves, phonemes
