"""LSE-D, LSE-C and the audio-visual offset from SyncNet embeddings (syncnet_python's protocol).

Lip embedding ``i`` (frames ``[i, i+5)``) is compared with audio embeddings ``i - 15 ... i + 15``
by Euclidean distance: with ``padding="zeros"`` (syncnet_python's, the default, for comparable
numbers) audio beyond the clip's ends is a zero embedding; with ``padding="valid"`` only the frames
whose 31 partners all exist are used, so every offset is averaged over the same frames - then
delaying the audio by k frames moves the offset by exactly k, whatever the network. Averaged over frames this gives a distance per
offset. With ``padding="context"`` the audio embeddings are given for 15 frames more on each side
(the speech around the face's frames, silence past the audio's ends), so every frame is compared with
real partners. LSE-D is its minimum, the offset is where the minimum lies (positive: the audio leads the
video), LSE-C is the median minus the minimum. Per frame, the same median-minus-minimum, median
filtered over 9 frames, gives the confidence curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError


@dataclass
class SyncScores:
    """Attributes:
    lse_d: minimum mean distance (lower is better).
    lse_c: median minus minimum of the mean distances (higher is better).
    offset: syncnet_python's AV offset, frames: positive when the audio leads the video (a frame's
        sound was recorded ``offset`` frames before it), negative when the audio lags.
    distances: ``(31,)`` mean distance per offset -15..15.
    confidence: ``(N,)`` per-frame confidence.
    """

    lse_d: float
    lse_c: float
    offset: int
    distances: np.ndarray
    confidence: np.ndarray

    def to_dict(self) -> dict:
        return {
            "lse_d": round(self.lse_d, 4),
            "lse_c": round(self.lse_c, 4),
            "offset": self.offset,
            "distances": np.round(self.distances, 4).tolist(),
            "confidence": np.round(self.confidence, 4).tolist(),
        }


def sync_scores(lip: torch.Tensor, audio: torch.Tensor, max_shift: int = 15, padding: str = "zeros") -> SyncScores:
    """Scores from lip embeddings ``(N, D)`` and audio embeddings ``(N, D)`` of the same frames
    (``(N + 2 * max_shift, D)`` from frame ``-max_shift`` with ``padding="context"``)."""
    from scipy.signal import medfilt

    window = 2 * max_shift + 1
    if padding == "context":
        n = min(len(lip), len(audio) - 2 * max_shift)
    else:
        n = min(len(lip), len(audio))
    if n < 1:
        raise InputError("no frames to score")
    lip = lip[:n].float()
    audio = audio[: n + 2 * max_shift].float() if padding == "context" else audio[:n].float()
    if padding == "context":
        padded, frames = audio, range(n)
    elif padding == "zeros":
        padded, frames = torch.nn.functional.pad(audio, (0, 0, max_shift, max_shift)), range(n)
    elif padding == "valid":
        if n < window:
            raise InputError(f"valid scoring needs at least {window} frames, got {n}")
        padded, frames = audio, range(max_shift, n - max_shift)
    else:
        raise InputError(f"padding must be 'zeros', 'valid' or 'context', got {padding!r}")
    start = max_shift if padding == "valid" else 0
    dists = torch.stack(
        [
            torch.nn.functional.pairwise_distance(
                lip[i : i + 1].expand(window, -1), padded[i - start : i - start + window]
            )
            for i in frames
        ]
    )  # (N', 31)
    mean = dists.mean(dim=0).numpy()
    best = int(np.argmin(mean))
    per_frame = dists.numpy()
    confidence = np.median(per_frame, axis=1) - per_frame.min(axis=1)
    if len(confidence) >= 9:
        confidence = medfilt(confidence, kernel_size=9)
    return SyncScores(
        lse_d=float(mean[best]),
        lse_c=float(np.median(mean) - mean[best]),
        offset=max_shift - best,
        distances=mean,
        confidence=confidence,
    )


@dataclass
class ShiftReport:
    """How well AV offsets are found on clips whose audio was moved by known shifts.

    Attributes:
        pairs: (clip, shift) pairs scored.
        within_one: share whose measured offset is within 1 frame of the shift (the clips taken as in
            sync to begin with).
        within_one_relative: the same against the clip's own offset at shift 0 plus the shift.
        told_apart: share of in-sync (shift 0) and far-off (|shift| >= ``far``) pairs called right, a pair
            being called in sync when its measured offset is within 1 frame of 0.
        far: the shift from which a pair counts as far off.
    """

    pairs: int
    within_one: float
    within_one_relative: float
    told_apart: float
    far: int

    def to_dict(self) -> dict:
        return {
            "pairs": self.pairs,
            "within_one": round(self.within_one, 4),
            "within_one_relative": round(self.within_one_relative, 4),
            "told_apart": round(self.told_apart, 4),
            "far": self.far,
        }


def shift_report(measured: dict[tuple[str, int], int], far: int = 5) -> ShiftReport:
    """:class:`ShiftReport` from ``{(clip, shift): measured offset}`` (each clip needs shift 0 too)."""
    if not measured:
        raise InputError("no (clip, shift) pairs to report on")
    clips = {clip for clip, _ in measured}
    missing = [clip for clip in clips if (clip, 0) not in measured]
    if missing:
        raise InputError(f"{missing[0]}: no score at shift 0, the clip's own offset")
    within = [abs(offset - shift) <= 1 for (clip, shift), offset in measured.items()]
    relative = [abs(offset - (measured[(clip, 0)] + shift)) <= 1 for (clip, shift), offset in measured.items()]
    calls = [
        (abs(offset) <= 1) == (shift == 0)
        for (clip, shift), offset in measured.items()
        if shift == 0 or abs(shift) >= far
    ]
    return ShiftReport(
        len(measured), float(np.mean(within)), float(np.mean(relative)), float(np.mean(calls)) if calls else 0.0, far
    )
