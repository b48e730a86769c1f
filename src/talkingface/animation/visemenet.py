"""VisemeNet's outputs as animation: ARKit-52 curves (through the JALI mapping), viseme curves, the JA/LI
field and timed phoneme groups, at any frame rate.

The network (:mod:`talkingface.models.visemenet`) gives, every 10 ms, 20 viseme activations and values,
JA and LI, mouth landmarks and 21 phoneme-group scores. A viseme's weight is its value, gated by its
activation (the paper's gate, ``activation > 0.5``, softened over 0.25-0.75 so that a viseme fades
instead of popping); the weights and JA/LI are smoothed (a 50 ms Hann window) and mixed into ARKit
poses by :func:`~talkingface.animation.jali.pose_curves`, the same mix the JALI animator uses. The
predicted lips are stage 2's input, as in the paper; the curves come from the visemes and JA/LI alone
(on held-out speakers, a jaw read from the predicted lips follows real lips no better, as its model
card says), so they keep JALI's scale and stream step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..speech.phonemes import SILENCE, Phoneme, PhonemeSequence
from ..speech.visemes import ARKIT_52, JALI_VISEMES, PHONEME_GROUPS
from ..timebase import num_frames_for_duration, to_fps
from .curves import AnimationCurves
from .jali import STYLES, JaliConfig, pose_curves

SAMPLE_RATE = 16000
STEP_SECONDS = 0.01
FIRST_STEP = 0.0125  # centre of step 0's 25 ms frame
_SMOOTH_STEPS = 5


@dataclass
class VisemeNetFrames:
    """The network's outputs for one clip, per 10 ms step (numpy).

    Attributes:
        lips: ``(T, 80)`` predicted lip motion (frontal frame, offsets from the clip's median mouth).
        groups: ``(T, 21)`` phoneme-group probabilities.
        jali: ``(T, 2)`` JA and LI.
        activations, values: ``(T, 20)`` per viseme (JALI order).
    """

    lips: np.ndarray
    groups: np.ndarray
    jali: np.ndarray
    activations: np.ndarray
    values: np.ndarray

    @property
    def times(self) -> np.ndarray:
        """Centre time of each step, seconds."""
        return FIRST_STEP + STEP_SECONDS * np.arange(len(self.jali))

    def viseme_weights(self) -> np.ndarray:
        """``(T, 20)`` each viseme's value gated (softly) by its activation."""
        gate = np.clip((self.activations - 0.25) / 0.5, 0.0, 1.0)
        weights: np.ndarray = self.values * gate
        return weights


def frames_of(output) -> VisemeNetFrames:
    """A :class:`VisemeNetFrames` from the model's output for one clip (batch item 0)."""
    import torch

    def first(x):
        return x[0].detach().float().cpu().numpy()

    return VisemeNetFrames(
        lips=first(output.landmarks),
        groups=first(torch.softmax(output.phonemes, -1)),
        jali=first(output.jali),
        activations=first(output.activations),
        values=first(output.values),
    )


_WHOLE_STEPS = 6000  # 60 s: longer clips run through the network a minute at a time


def predict(model, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> VisemeNetFrames:
    """Run ``model`` (a VisemeNet) on ``(N,)`` speech over the whole clip."""
    import torch

    from ..features.visemenet import visemenet_features
    from ..media.audio import speech_at

    audio = speech_at(audio, sample_rate, SAMPLE_RATE)
    features = torch.from_numpy(visemenet_features(audio))[None]
    device = next(model.parameters()).device
    if features.shape[1] <= _WHOLE_STEPS:
        with torch.no_grad():
            return frames_of(model.eval()(features.to(device)))
    # A long clip runs as a stream of pieces, its state carried over (the same outputs, in bounded memory).
    from ..models.visemenet import VisemeNetOutput, VisemeNetStream

    stream = VisemeNetStream(model)
    pieces = [
        stream.push(features[:, k : k + _WHOLE_STEPS].to(device)) for k in range(0, features.shape[1], _WHOLE_STEPS)
    ]
    pieces.append(stream.finish())
    names = VisemeNetOutput.__dataclass_fields__
    return frames_of(VisemeNetOutput(*(torch.cat([getattr(p, n) for p in pieces], dim=1) for n in names)))


def _smooth(x: np.ndarray, steps: int = _SMOOTH_STEPS) -> np.ndarray:
    """Hann-window smoothing along time (edges: the window renormalised)."""
    if len(x) < 2 or steps < 2:
        return x
    window = np.hanning(steps + 2)[1:-1]
    kernel = window / window.sum()
    flat = x.reshape(len(x), -1)
    ones = np.convolve(np.ones(len(x)), kernel, mode="same")
    out = np.stack([np.convolve(flat[:, k], kernel, mode="same") for k in range(flat.shape[1])], 1) / ones[:, None]
    return out.reshape(x.shape)


def _at_frames(x: np.ndarray, times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    out = np.stack([np.interp(frame_times, times, flat[:, k]) for k in range(flat.shape[1])], 1)
    return out.reshape((len(frame_times), *x.shape[1:]))


def frames_to_curves(
    frames: VisemeNetFrames, duration: float, fps, config: JaliConfig | None = None
) -> AnimationCurves:
    """ARKit-52 curves for ``duration`` seconds at ``fps`` from the network's outputs, with extras
    ``visemes`` (20 weights) and ``jali`` (JA, LI) as :class:`JaliAnimator` gives them. ``config``'s
    style shifts JA/LI, its ``jaw``/``lip`` fix them; its timings do not apply."""
    config = config or JaliConfig()
    rate = to_fps(fps)
    count = num_frames_for_duration(duration, rate)
    frame_times = np.arange(count) / float(rate)
    weights = _smooth(frames.viseme_weights())
    field = _smooth(frames.jali)
    shift = STYLES[config.style]
    field = np.clip(field + shift, 0.05, 1.0)
    if config.jaw is not None:
        field[:, 0] = config.jaw
    if config.lip is not None:
        field[:, 1] = config.lip
    if len(frames.jali) == 0:
        weights, field = np.zeros((count, len(JALI_VISEMES))), np.full((count, 2), 0.45)
    else:
        weights = _at_frames(weights, frames.times, frame_times)
        field = _at_frames(field, frames.times, frame_times)
    return AnimationCurves(
        fps=rate,
        names=ARKIT_52,
        values=pose_curves(weights, field),
        extra={"visemes": weights.astype(np.float32), "jali": field.astype(np.float32)},
        extra_names={"visemes": JALI_VISEMES, "jali": ("JA", "LI")},
    )


def frames_to_phonemes(frames: VisemeNetFrames, duration: float, min_seconds: float = 0.03) -> PhonemeSequence:
    """Timed phonemes from the most likely phoneme group of each step (each group named by its first
    phoneme, e.g. "M" for m/b/p); runs shorter than ``min_seconds`` join their neighbours."""
    from scipy.ndimage import median_filter

    if len(frames.groups) == 0:
        return PhonemeSequence([], [], duration=duration, source="visemenet")
    best = median_filter(frames.groups.argmax(1), size=5, mode="nearest")
    edges = np.flatnonzero(np.diff(best)) + 1
    starts, stops = np.concatenate([[0], edges]), np.concatenate([edges, [len(best)]])
    phonemes = []
    for a, b in zip(starts, stops):
        group = int(best[a])
        start = max(0.0, FIRST_STEP + STEP_SECONDS * (a - 0.5))
        end = min(duration, FIRST_STEP + STEP_SECONDS * (b - 0.5))
        phone = PHONEME_GROUPS[group][0]
        if phone == SILENCE or end - start < min_seconds or end <= start:
            continue
        phonemes.append(Phoneme(phone, start, end))
    return PhonemeSequence(phonemes, [], duration=duration, source="visemenet")


class VisemeNetAnimator:
    """Speech -> ARKit-52 curves and timed phoneme groups, no transcript (see the module).

    Example::

        curves, phonemes = VisemeNetAnimator().animate(samples, 16000, fps=30)

    Args:
        model: a VisemeNet (None: the one shipped in the package).
        config: JA/LI style or fixed values (as for the JALI animator).
    """

    def __init__(self, model=None, config: JaliConfig | None = None):
        if model is None:
            from ..models.visemenet import builtin_visemenet

            model = builtin_visemenet()
        self.model = model
        self.config = config or JaliConfig()

    def animate(
        self, audio: np.ndarray, sample_rate: int, fps: float | Fraction = 30
    ) -> tuple[AnimationCurves, PhonemeSequence]:
        duration = len(audio) / sample_rate
        frames = predict(self.model, audio, sample_rate)
        return frames_to_curves(frames, duration, fps, self.config), frames_to_phonemes(frames, duration)
