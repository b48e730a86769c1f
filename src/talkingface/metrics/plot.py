"""A picture of sync scores: mean distance per AV offset (its minimum is the offset, its depth LSE-C)
and the per-frame confidence over time, one row per face track."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..files import atomic_output
from ..optional import needs

_COLOURS = [(200, 80, 20), (30, 150, 40), (40, 60, 210), (160, 40, 160)]  # BGR


def _polyline(image, xs, ys, colour, thickness=2):
    with needs("face"):
        import cv2

    points = np.stack([xs, ys], axis=1).round().astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(image, [points], False, colour, thickness, cv2.LINE_AA)


def _label(
    image: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.45, colour: tuple[int, int, int] = (0, 0, 0)
) -> None:
    """``text`` drawn at ``origin`` (its baseline's left end) in the plot's font."""
    with needs("face", "plotting"):
        import cv2

    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def plot_sync_scores(path: str | os.PathLike, tracks: list, fps: float, title: str = "") -> Path:
    """PNG with, per track (``TrackScore``), distance vs offset (left) and confidence vs time (right)."""
    with needs("face", "plotting"):
        import cv2
    row_h, left_w, right_w, pad = 220, 360, 900, 40
    height = pad + max(1, len(tracks)) * (row_h + pad)
    image = np.full((height, left_w + right_w + 3 * pad, 3), 255, np.uint8)
    _label(image, title[-110:], (pad, 26), 0.55, (0, 0, 0))
    for row, track in enumerate(tracks):
        top = pad + row * (row_h + pad) + 10
        colour = _COLOURS[row % len(_COLOURS)]
        s = track.scores
        # Left: mean distance for offsets -max..+max (the reference's offset = max_shift - index).
        distances = np.asarray(s.distances, np.float64)
        n = len(distances)
        max_shift = (n - 1) // 2
        offsets = max_shift - np.arange(n)
        x0 = pad
        xs = x0 + (offsets + max_shift) / max(2 * max_shift, 1) * left_w
        lo, hi = distances.min(), max(distances.max(), distances.min() + 1e-6)
        ys = top + row_h - (distances - lo) / (hi - lo) * (row_h - 30) - 10
        cv2.rectangle(image, (x0, top), (x0 + left_w, top + row_h), (200, 200, 200), 1)
        _polyline(image, xs, ys, colour)
        best = int(np.argmin(distances))
        cv2.circle(image, (int(xs[best]), int(ys[best])), 5, (0, 0, 220), -1, cv2.LINE_AA)
        zero = x0 + left_w / 2
        cv2.line(image, (int(zero), top), (int(zero), top + row_h), (180, 180, 180), 1)
        heading = f"track {track.track_id}: offset {s.offset:+d}  LSE-D {s.lse_d:.2f}  LSE-C {s.lse_c:.2f}"
        _label(image, heading, (x0 + 4, top + 16))
        axis = f"-{max_shift}   distance vs AV offset (frames)   +{max_shift}"
        _label(image, axis, (x0 + 4, top + row_h + 16), 0.4, (90, 90, 90))
        # Right: per-frame confidence over the track's time span.
        confidence = np.asarray(s.confidence, np.float64)
        x1 = 2 * pad + left_w
        cv2.rectangle(image, (x1, top), (x1 + right_w, top + row_h), (200, 200, 200), 1)
        if len(confidence):
            top_value = max(float(confidence.max()), 1e-6)
            xs = x1 + np.arange(len(confidence)) / max(len(confidence) - 1, 1) * right_w
            ys = top + row_h - np.clip(confidence, 0, None) / top_value * (row_h - 30) - 10
            _polyline(image, xs, ys, colour)
            start = track.start / fps
            end = (track.start + track.num_frames) / fps
            heading = f"confidence per frame, {start:.1f}-{end:.1f} s (max {top_value:.2f})"
            _label(image, heading, (x1 + 4, top + 16))
    _ok, encoded = cv2.imencode(".png", image)
    with atomic_output(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return Path(path)
