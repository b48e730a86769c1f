"""The mouth-openness model's output at a video's frames (:mod:`talkingface.models.openness`).

:func:`openness_frames` runs the model over a clip's speech and gives, for each frame, the mean of its
10 ms steps within half a frame of the frame's time, standardised over the clip: how open the mouth is
against the speaker's own spread (0 the clip's mean, 1 a standard deviation wider).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..features.openness import SAMPLE_RATE, frame_spans, openness_features
from .curves import AnimationCurves


def openness_steps(model, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``(N,)`` speech -> ``(1 + N' // 160,)`` the model's output every 10 ms (``N'`` samples at 16 kHz)."""
    import torch

    from ..media.audio import speech_at

    audio = speech_at(audio, sample_rate, SAMPLE_RATE)
    features = torch.from_numpy(openness_features(audio))[None]
    device = next(model.parameters()).device
    with torch.no_grad():
        out: np.ndarray = model.eval()(features.to(device))[0].float().cpu().numpy()
    return out


def at_frames(steps: np.ndarray, count: int, fps: float) -> np.ndarray:
    """Per-step values ``(T,)`` -> ``(count,)``, each frame the mean of its span (:func:`frame_spans`)."""
    start, stop = frame_spans(len(steps), count, fps)
    total = np.concatenate([[0.0], np.cumsum(np.asarray(steps, np.float64))])
    means: np.ndarray = (total[stop] - total[start]) / (stop - start)
    return means


def openness_frames(model, audio: np.ndarray, sample_rate: int, count: int, fps: float) -> np.ndarray:
    """How open the mouth is at each of ``count`` frames at ``fps`` (see the module), ``(count,) float64``.
    Frames of silence (under :data:`SILENT_DB`) are at rest: the model hears each clip relative to
    itself, and would open the mouth to a hum or hiss."""
    values = at_frames(openness_steps(model, audio, sample_rate), count, fps)
    silent = frame_levels(audio, sample_rate, count, fps) < SILENT_DB
    spoken = values[~silent]
    spread = spoken.std() if spoken.size else 0.0
    standardised = (values - spoken.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
    standardised[silent] = np.minimum(REST, standardised.min())
    return np.asarray(standardised, np.float64)


#: A frame quieter than this (RMS, dB below full scale) is silence, whatever the model hears in it.
SILENT_DB = -70.0


def frame_levels(audio: np.ndarray, sample_rate: int, count: int, fps: float) -> np.ndarray:
    """The RMS level of ``audio`` over each of ``count`` frames at ``fps``, in dB below full scale."""
    samples = np.asarray(audio)
    edges = np.minimum((np.arange(count + 1) / fps * sample_rate).astype(np.int64), len(samples))
    power = np.zeros(count)
    for first in range(0, count, _LEVEL_FRAMES):  # a block of frames at a time: long speech stays small
        last = min(count, first + _LEVEL_FRAMES)
        start = edges[first]
        energy = np.concatenate([[0.0], np.cumsum(np.square(samples[start : edges[last]], dtype=np.float64))])
        ends = edges[first : last + 1] - start
        power[first:last] = (energy[ends[1:]] - energy[ends[:-1]]) / np.maximum(ends[1:] - ends[:-1], 1)
    return np.asarray(10 * np.log10(np.maximum(power, 1e-20)), np.float64)


#: Frames whose levels :func:`frame_levels` finds at once.
_LEVEL_FRAMES = 1000


#: ``jawOpen`` at the clip's mean openness, and its change per standard deviation of openness: chosen on
#: the tune speakers so that a talking photo's lips open as wide as the real speakers' (their
#: 90th-percentile openings, measured alike by the tracker, in the median).
JAW_LEVEL = 0.176
JAW_SPREAD = 0.112
#: The openness of a mouth at rest (``jawOpen`` 0).
REST = -JAW_LEVEL / JAW_SPREAD


def jaw_from_openness(openness: np.ndarray) -> np.ndarray:
    """Standardised openness ``(T,)`` -> ``jawOpen`` ``(T,)`` in [0, 1] (:data:`JAW_LEVEL`, :data:`JAW_SPREAD`)."""
    jaw: np.ndarray = np.clip(JAW_LEVEL + JAW_SPREAD * np.asarray(openness, np.float64), 0.0, 1.0)
    return jaw


#: With ``closures``, the lips close (``mouthClose``) fully where the jaw is below the first value and not
#: at all above the second (chosen on the tune speakers: the 3D face's lips then follow real lips as
#: closely as the jaw does).
CLOSURE_JAW = (0.04, 0.12)


def with_openness(curves, openness: np.ndarray, share: float = 1.0, closures: bool = False):
    """``curves`` whose ``jawOpen`` is ``share`` of :func:`jaw_from_openness` and ``1 - share`` of its own;
    with ``closures``, their ``mouthClose`` (bilabials) is kept only where that jaw is nearly shut
    (:data:`CLOSURE_JAW`): the openness model hears an open mouth better than the shapes' source hears a
    closed one. The openness is kept as the extra ``"openness"`` ``(T, 1)``."""

    openness = np.asarray(openness, np.float64)
    if openness.shape != (curves.num_frames,):
        raise InputError(f"openness must be ({curves.num_frames},), got {openness.shape}")
    if not 0 <= share <= 1:
        raise InputError(f"share must be in [0, 1], got {share}")
    values = curves.values.copy()
    jaw = curves.names.index("jawOpen")
    values[:, jaw] = share * jaw_from_openness(openness) + (1 - share) * values[:, jaw]
    if closures:
        low, high = CLOSURE_JAW
        close = curves.names.index("mouthClose")
        values[:, close] *= np.clip((high - values[:, jaw]) / (high - low), 0.0, 1.0)
    return AnimationCurves(
        fps=curves.fps,
        names=curves.names,
        values=values,
        extra={**curves.extra, "openness": openness.astype(np.float32)[:, None]},
        extra_names={**curves.extra_names, "openness": ("openness",)},
    )
