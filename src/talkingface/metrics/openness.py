"""How far a mouth opens over time, and how well one mouth follows another: the measure behind every
"follows real lips" figure of the speech-driven animation.

- :func:`lip_opening`: the inner-lip opening of tracked faces, per frame: the gap between the middles
  of the inner lips (landmarks 13 and 14) over the face height (forehead 10 to chin 152). It is what a
  viewer sees of the mouth, and it is measured the same way on real video and on our output.
- :func:`measure_video`: that opening for the speaker of a video file (the largest face), with its fps.
- :data:`CUE_OPENNESS` and :func:`cue_openness`: how open each of Rhubarb's mouth shapes (A-H, X) is,
  and a cue list as an opening per frame, so that 2D cues are scored like curves.
- :func:`correlation`, :func:`lagged_correlation` and :func:`best_lag`: Pearson's r over the frames
  where both signals exist, at zero lag or with the real lips taken some frames earlier.
- :func:`opening_ratio`: how wide one mouth opens against another (their 90th percentiles).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..animation.mouth_cues import OPENNESS
from ..errors import InputError
from ..face import FaceTracker, TrackerConfig
from ..features.lips import FACE_HEIGHT, INNER_LIPS, lip_opening  # noqa: F401 (the measure is defined with the lips)

#: How open each Rhubarb shape is, from closed (0) to wide open (1): A closed, B teeth together, C open,
#: D wide open, E slightly rounded, F puckered, G lower lip under the teeth, H tongue behind the teeth,
#: X at rest. The scale that orders the shapes when cues are chosen.
CUE_OPENNESS = OPENNESS


@dataclass(frozen=True)
class MeasuredLips:
    """A video's measured mouth: ``opening`` ``(N,)`` per frame (NaN where no face) at ``fps``."""

    opening: np.ndarray
    fps: float

    @property
    def times(self) -> np.ndarray:
        """Each frame's time, seconds."""
        return np.arange(len(self.opening)) / self.fps


def measure_video(path: str | os.PathLike) -> MeasuredLips:
    """The inner-lip opening of the largest face in each frame of a video (landmarks unsmoothed)."""
    from ..media import probe_video

    fps = float(probe_video(path).fps or 25)
    landmarks = FaceTracker(TrackerConfig(smoothing=None)).track_video(path).target().landmarks
    return MeasuredLips(lip_opening(landmarks), fps)


def cue_openness(cues: Sequence, count: int, fps: float) -> np.ndarray:
    """Mouth cues (objects with ``start``, ``end`` in seconds and ``shape`` A-H or X) -> ``(count,)``
    openness at each frame's time ``k / fps`` (:data:`CUE_OPENNESS`; rest where no cue covers it)."""
    if fps <= 0 or count < 0:
        raise InputError(f"fps must be positive and count not negative, got {fps}, {count}")
    out = np.full(count, CUE_OPENNESS["X"])
    times = np.arange(count) / fps
    for cue in cues:
        if cue.shape not in CUE_OPENNESS:
            raise InputError(f"unknown mouth shape {cue.shape!r} (expected one of {''.join(CUE_OPENNESS)})")
        out[(times >= cue.start) & (times < cue.end)] = CUE_OPENNESS[cue.shape]
    return out


def correlation(signal: np.ndarray, lips: np.ndarray) -> float:
    """Pearson's r of two per-frame signals over their common length, where both are finite; NaN when
    fewer than 10 frames are left or either is constant there."""
    a, b = np.asarray(signal, np.float64), np.asarray(lips, np.float64)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 10 or a[keep].std() < 1e-9 or b[keep].std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def lagged_correlation(signal: np.ndarray, lips: np.ndarray, lag: int) -> float:
    """:func:`correlation` with the lips taken ``lag`` frames earlier than the signal (frame ``t`` of the
    signal against frame ``t - lag`` of the lips): a positive lag is lips that lead the sound."""
    a, b = np.asarray(signal, np.float64), np.asarray(lips, np.float64)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    if lag > 0:
        return correlation(a[lag:], b[: n - lag])
    if lag < 0:
        return correlation(a[: n + lag], b[-lag:])
    return correlation(a, b)


def best_lag(signal: np.ndarray, lips: np.ndarray, max_lag: int = 2) -> tuple[int, float]:
    """The lag within ``±max_lag`` frames where :func:`lagged_correlation` is highest, and that r
    (``(0, nan)`` when no lag gives a number)."""
    found = [(lag, lagged_correlation(signal, lips, lag)) for lag in range(-max_lag, max_lag + 1)]
    found = [(lag, r) for lag, r in found if np.isfinite(r)]
    if not found:
        return 0, float("nan")
    return max(found, key=lambda item: item[1])


def opening_ratio(ours: np.ndarray, real: np.ndarray, percentile: float = 90) -> float:
    """How wide ``ours`` opens against ``real``: the ratio of their ``percentile``-th percentiles over
    the frames each has (NaN when the real one never opens)."""
    a, b = np.asarray(ours, np.float64), np.asarray(real, np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not a.size or not b.size:
        return float("nan")
    top = float(np.percentile(b, percentile))
    return float(np.percentile(a, percentile)) / top if top > 1e-9 else float("nan")
