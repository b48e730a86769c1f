"""Curves from speech as it arrives, for live avatars: VisemeNet over a stream of 16 kHz samples.

``stream.push(samples)`` returns the frames of curves that are ready, ``stream.finish()`` the rest; the
frames, together, equal what :class:`~talkingface.animation.visemenet.VisemeNetAnimator` makes from the
whole recording (within float rounding). Each stage keeps only what the next output needs: the
features' 25 ms window, the network's state and its lookahead, the smoothing window, one step for the
interpolation. A frame comes out once the audio has run past it by the window, the lookahead
(100 ms for the shipped model), half the smoothing (20 ms) and one step.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..speech.visemes import ARKIT_52
from ..timebase import num_frames_for_duration, to_fps
from .jali import STYLES, JaliConfig, pose_curves
from .visemenet import _SMOOTH_STEPS, FIRST_STEP, SAMPLE_RATE, STEP_SECONDS, frames_of

NAMES = ARKIT_52


class CurveStream:
    """``CurveStream(fps=30)``: ``push`` float samples in [-1, 1] at 16 kHz, mono; get ``(frames,
    values)``: the indices of the frames now ready and their ``(k, 52)`` ARKit values.

    Args:
        fps: frame rate of the curves.
        config: JA/LI style or fixed values (as for the JALI animator).
        model: a VisemeNet (None: the one shipped in the package).
    """

    def __init__(self, fps: float | Fraction = 30, config: JaliConfig | None = None, model=None):
        import torch

        from ..features.mfcc import SYNCNET_MFCC
        from ..models.visemenet import VisemeNetStream, builtin_visemenet

        self.fps = to_fps(fps)
        self.config = config or JaliConfig()
        self._network = VisemeNetStream(model if model is not None else builtin_visemenet())
        self._device = next(self._network.model.parameters()).device
        self._features = SYNCNET_MFCC
        self._signal = torch.zeros(0, dtype=torch.float64)  # pre-emphasised samples from _signal_start on
        self._signal_start = 0
        self._last_sample: float | None = None
        self._samples = 0
        self._steps_done = 0  # feature steps computed
        window = np.hanning(_SMOOTH_STEPS + 2)[1:-1]
        self._kernel = window / window.sum()
        self._half = (_SMOOTH_STEPS - 1) // 2
        self._raw: list[np.ndarray] = []  # per network step: 20 viseme weights + JA, LI (unsmoothed)
        self._raw_start = 0  # network step of _raw[0]
        self._raw_count = 0  # network steps received
        self._smooth: list[np.ndarray] = []  # smoothed steps from _smooth_start on
        self._smooth_start = 0
        self._smoothed = 0  # smoothed steps made
        self._frame = 0  # next frame to give
        self._finished = False

    # -- the stages -------------------------------------------------------------------------------
    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add ``samples``; the frames now ready."""
        if self._finished:
            raise InputError("the stream has finished")
        x = np.asarray(samples)
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.floating):
            raise InputError(f"push (N,) float samples, got {x.dtype} {x.shape}")
        if len(x) and not np.isfinite(x).all():
            raise InputError("the samples hold NaN or infinite values")
        self._add_samples(x)
        win, hop = self._features.win_length, self._features.hop_length
        ready = 0 if self._samples < win else 1 + (self._samples - win) // hop
        self._run_steps(ready)
        return self._frames(final=False)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """The stream ends: the last frames (the audio's end padded as the whole-file path pads it)."""
        import math

        import torch

        if self._finished:
            raise InputError("the stream has finished")
        if self._samples == 0:
            raise InputError("the stream had no audio")
        self._finished = True
        win, hop = self._features.win_length, self._features.hop_length
        steps = 1 if self._samples <= win else 1 + math.ceil((self._samples - win) / hop)
        end = (steps - 1) * hop + win
        self._signal = torch.nn.functional.pad(self._signal, (0, end - self._signal_start - len(self._signal)))
        self._run_steps(steps)
        self._take(self._network.finish())
        self._smooth_until(self._raw_count)
        return self._frames(final=True)

    def _add_samples(self, x: np.ndarray) -> None:
        import torch

        from ..features._signal import as_waveform

        if not len(x):
            return
        scaled, _ = as_waveform(x.astype(np.float32), float_scale=32768.0)
        coefficient = self._features.preemphasis
        previous = scaled[:1] if self._last_sample is None else torch.tensor([self._last_sample], dtype=torch.float64)
        shifted = torch.cat([previous, scaled[:-1]])
        emphasised = scaled - coefficient * shifted
        if self._last_sample is None:
            emphasised[0] = scaled[0]
        self._last_sample = float(scaled[-1])
        self._signal = torch.cat([self._signal, emphasised])
        self._samples += len(x)

    def _run_steps(self, upto: int) -> None:
        """Features of steps up to ``upto`` through the network."""
        from ..features.visemenet import step_features

        if upto <= self._steps_done:
            return
        hop = self._features.hop_length
        first = self._steps_done
        offset = first * hop - self._signal_start
        features = step_features(self._signal[offset:], upto - first, self._features)
        self._steps_done = upto
        keep_from = upto * hop  # what later steps read
        self._signal = self._signal[keep_from - self._signal_start :]
        self._signal_start = keep_from
        self._take(self._network.push(features.float()[None].to(self._device)))

    def _take(self, output) -> None:
        if output.jali.shape[1] == 0:
            return
        frames = frames_of(output)
        weights = frames.viseme_weights()
        for row in np.concatenate([weights, frames.jali], axis=1):
            self._raw.append(row.astype(np.float64))
        self._raw_count += len(frames.jali)
        self._smooth_until(self._raw_count - self._half)

    def _smooth_until(self, upto: int) -> None:
        """Smoothed steps up to ``upto`` (each needs ``half`` steps after it, unless the stream ended)."""
        half, kernel = self._half, self._kernel
        while self._smoothed < min(upto, self._raw_count):
            i = self._smoothed
            total = np.zeros_like(self._raw[0])
            weight = 0.0
            for k, w in enumerate(kernel):
                j = i - half + k
                if 0 <= j < self._raw_count:  # the edges renormalise, as the whole-file smoothing does
                    total += w * self._raw[j - self._raw_start]
                    weight += w
            row = total / weight
            row[-2:] = _styled(row[None, -2:], self.config)[0]  # on the smoothed steps, as the whole-file path
            self._smooth.append(row)
            self._smoothed += 1
        drop = max(0, self._smoothed - half - self._raw_start)  # raw steps no smoothing needs again
        del self._raw[:drop]
        self._raw_start += drop

    def _frames(self, final: bool) -> tuple[np.ndarray, np.ndarray]:
        """Frames whose time lies before the last smoothed step (or all, at the end)."""
        if not self._smooth:
            return np.zeros(0, int), np.zeros((0, len(NAMES)), np.float32)
        rate = float(self.fps)
        last_time = FIRST_STEP + STEP_SECONDS * (self._smoothed - 1)
        if final:
            count = num_frames_for_duration(self._samples / SAMPLE_RATE, self.fps)
        else:
            count = int(np.floor(last_time * rate)) + 1 if last_time >= 0 else 0
        indices = np.arange(self._frame, max(self._frame, count))
        if not len(indices):
            return indices, np.zeros((0, len(NAMES)), np.float32)
        step_times = FIRST_STEP + STEP_SECONDS * np.arange(self._smooth_start, self._smoothed)
        table = np.stack(self._smooth)
        at = indices / rate
        rows = np.stack([np.interp(at, step_times, table[:, k]) for k in range(table.shape[1])], 1)
        weights, field = rows[:, :-2], rows[:, -2:]
        self._frame = int(indices[-1]) + 1
        keep = max(0, int(np.searchsorted(step_times, at[-1], side="right")) - 1)
        del self._smooth[:keep]
        self._smooth_start += keep
        return indices, self._pose(weights, field)

    def _pose(self, weights: np.ndarray, field: np.ndarray) -> np.ndarray:
        values: np.ndarray = pose_curves(weights, field).astype(np.float32)
        return values


def _styled(field: np.ndarray, config: JaliConfig) -> np.ndarray:
    field = np.clip(field + STYLES[config.style], 0.05, 1.0)
    if config.jaw is not None:
        field[:, 0] = config.jaw
    if config.lip is not None:
        field[:, 1] = config.lip
    return field
