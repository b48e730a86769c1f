"""How open the mouth should be at each frame of new speech, in one speaker's own terms.

The speech-only estimate is the openness model's (:mod:`talkingface.animation.openness`). When the
speaker's own footage has its own sound, their relation between sound and mouth is learned from it
on the fly (speaker adaptation): a ridge regression from the speech around each frame (the openness
model's output 3 frames either side, and 24 log-mel bands 2 frames either side, standardised over the
footage) to the mouth opening measured on that frame. The two are averaged as z-scores and the result
is given the spread of the footage's own openings, so that the speaker opens as wide as they do.

Chosen on the tune speakers (``bench/bench_dub.py``: their first 60 % as footage, their last 40 %
predicted): median r with the real openings 0.37 for the openness model alone, 0.48 for the ridge
alone, 0.52 for the two averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..features.openness import SAMPLE_RATE, openness_features
from .openness import at_frames, openness_steps

#: Frames of context either side: the openness model's output, and the mel bands.
MODEL_CONTEXT = 3
BAND_CONTEXT = 2
#: The ridge penalty on standardised features (chosen on the tune speakers).
RIDGE = 300.0
#: Fewest footage frames with sound and a mouth for the regression to be fitted.
MIN_FRAMES = 25


@dataclass(frozen=True)
class SpeechFrames:
    """What the speech says about each of a clip's video frames: ``model`` ``(T,)`` the openness
    model's output, ``bands`` ``(T, 24)`` the log-mel bands (both before any standardisation)."""

    model: np.ndarray
    bands: np.ndarray

    def __len__(self) -> int:
        return len(self.model)

    def features(self) -> np.ndarray:
        """``(T, F)`` each frame's context: the model's output and the bands at neighbouring frames."""
        return np.concatenate(
            [_context(self.model[:, None], MODEL_CONTEXT), _context(self.bands, BAND_CONTEXT)], axis=1
        )


def speech_frames(model, audio: np.ndarray, sample_rate: int, count: int, fps: float) -> SpeechFrames:
    """The openness model's output and the mel bands at ``count`` frames at ``fps`` of ``audio``."""
    from ..media.audio import speech_at

    if count < 1:
        raise InputError("speech_frames needs at least one frame")
    audio = speech_at(np.asarray(audio, np.float32), sample_rate, SAMPLE_RATE)
    steps = openness_steps(model, audio)
    bands = openness_features(audio)
    per_band = np.stack([at_frames(bands[:, b], count, fps) for b in range(bands.shape[1])], axis=1)
    return SpeechFrames(at_frames(steps, count, fps), per_band)


def _context(values: np.ndarray, reach: int) -> np.ndarray:
    """``(T, F)`` -> ``(T, F * (2 reach + 1))``: each frame with its neighbours (the ends repeated)."""
    count = len(values)
    shifted = [values[np.clip(np.arange(count) + lag, 0, count - 1)] for lag in range(-reach, reach + 1)]
    return np.concatenate(shifted, axis=1)


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


@dataclass(frozen=True)
class OpeningModel:
    """A speaker's sound-to-opening relation, fitted on their footage (:func:`fit_opening`)."""

    mean: np.ndarray  # (F,) feature means over the footage
    scale: np.ndarray  # (F,) feature standard deviations
    weights: np.ndarray  # (F,)
    bias: float

    def __call__(self, speech: SpeechFrames) -> np.ndarray:
        """The predicted opening at each frame of ``speech``."""
        prediction: np.ndarray = (speech.features() - self.mean) / self.scale @ self.weights + self.bias
        return prediction


def fit_opening(speech: SpeechFrames, opening: np.ndarray) -> OpeningModel | None:
    """The ridge regression of the footage's measured ``opening`` ``(T,)`` (NaN where no mouth) on its
    ``speech``; None when too few frames have both (fewer than :data:`MIN_FRAMES`)."""
    opening = np.asarray(opening, np.float64)
    if len(opening) != len(speech):
        raise InputError(f"{len(opening)} openings for {len(speech)} frames of speech")
    usable = np.isfinite(opening)
    if usable.sum() < MIN_FRAMES:
        return None
    x = speech.features()[usable].astype(np.float64)
    y = opening[usable]
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    weights = np.linalg.solve(z.T @ z + RIDGE * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    return OpeningModel(mean, scale, weights, float(y.mean()))


def target_opening(
    speech: SpeechFrames,
    footage_opening: np.ndarray,
    adapted: OpeningModel | None = None,
    speech_only: np.ndarray | None = None,
) -> np.ndarray:
    """``(T,)`` how far the mouth should open at each frame of ``speech``, in the units of
    ``footage_opening`` (the openings measured on the speaker's footage, NaN where none): the openness
    model's z-score (or ``speech_only``'s, e.g. the jaw of curves aligned to a transcript), averaged with
    ``adapted``'s where given, then given the footage's mean and spread."""
    known = np.asarray(footage_opening, np.float64)
    known = known[np.isfinite(known)]
    if len(known) == 0:
        raise InputError("no measured mouth in the footage")
    if speech_only is not None and len(speech_only) != len(speech):
        raise InputError(f"{len(speech_only)} speech-only values for {len(speech)} frames")
    estimate = _z(np.asarray(speech.model if speech_only is None else speech_only, np.float64))
    if adapted is not None:
        estimate = _z(estimate + _z(adapted(speech)))
    result: np.ndarray = known.mean() + known.std() * estimate
    return result
