"""Face tracks as boxes on every frame, and the SyncNet crops cut around them.

:func:`box_tracks` tracks faces on every ``stride``-th frame and interpolates their boxes in between;
:func:`syncnet_crops` cuts syncnet_python's crops along a track: the box median-filtered over 13
frames, widened by a margin, on a grey-padded frame, resized to a square.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np

from .crops import crop_box
from .tracking import FaceTracker, TrackingResult, frame_runs

SYNCNET_PAD_VALUE = 110  # syncnet_python pads frames with this grey before cutting its crops
SYNCNET_MEDIAN = 13  # frames over which syncnet_python median-filters the box


@dataclass
class BoxTrack:
    """A face track as boxes on every frame: ``frames`` ``(n,)`` consecutive runs, ``boxes`` ``(n, 4)``
    as (x1, y1, x2, y2) pixels."""

    track_id: int
    frames: np.ndarray
    boxes: np.ndarray

    @property
    def segments(self) -> list[tuple[int, int]]:
        return frame_runs(self.frames)


def box_tracks(video: str | os.PathLike, stride: int = 1, num_frames: int | None = None) -> list[BoxTrack]:
    """Face boxes of every track of ``video``, tracked on every ``stride``-th frame and interpolated
    linearly in between (held for the last ``stride - 1`` frames of a run)."""
    from ..media import VideoReader, prefetch

    reader = VideoReader(video)
    info = reader.info
    fps = info.fps / stride if info.fps else None
    result = FaceTracker().track_frames(
        prefetch(islice(reader, 0, None, stride)), fps=fps, size=(info.width, info.height)
    )
    return boxes_of(result, stride, num_frames or info.num_frames)


def boxes_of(result: TrackingResult, stride: int = 1, num_frames: int | None = None) -> list[BoxTrack]:
    """The tracks of ``result`` (made on every ``stride``-th frame) as boxes on every frame, interpolated
    linearly in between; ``num_frames`` bounds the frames."""
    total = num_frames
    tracks = []
    for track in result.tracks:
        frames, boxes = [], []
        track_boxes = track.boxes  # computed from the landmarks on each access
        for start, stop in track.segments:  # in strided frames
            keep = (track.frames >= start) & (track.frames < stop)
            known, known_boxes = track.frames[keep] * stride, track_boxes[keep]
            full = np.arange(known[0], known[-1] + stride)
            if total:
                full = full[full < total]
            frames.append(full)
            boxes.append(np.stack([np.interp(full, known, known_boxes[:, c]) for c in range(4)], axis=1))
        tracks.append(BoxTrack(track.track_id, np.concatenate(frames), np.concatenate(boxes)))
    return tracks


def syncnet_crops(video: str | os.PathLike, track: BoxTrack, size: int = 224, margin: float = 0.4) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 BGR crops along the first run of ``track``, as syncnet_python cuts
    them (:func:`iter_syncnet_crops`, all at once)."""
    crops = list(iter_syncnet_crops(video, track, size, margin))
    return np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)


def iter_syncnet_crops(
    video: str | os.PathLike, track: BoxTrack, size: int = 224, margin: float = 0.4
) -> Iterator[np.ndarray]:
    """``(size, size, 3)`` uint8 BGR crops along the first run of ``track``, one per frame as the video is
    read, as syncnet_python cuts them: half-size and centre median-filtered over 13 frames, the
    half-size widened by ``margin``, the frame padded with grey 110 where the box leaves it."""
    from scipy.signal import medfilt

    from ..media import VideoReader

    start, stop = track.segments[0]
    boxes = track.boxes[: stop - start]
    half_size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    if len(boxes) >= SYNCNET_MEDIAN:
        half_size, cx, cy = (medfilt(v, kernel_size=SYNCNET_MEDIAN) for v in (half_size, cx, cy))
    for index, frame in enumerate(VideoReader(video, order="bgr")):
        if index < start:
            continue
        if index >= stop:
            break
        k = index - start
        half = half_size[k] * (1 + margin)
        h, w = frame.shape[:2]
        # syncnet_python pads the frame with grey and cuts the box out of the padded frame; the same
        # pixels come from pasting the box's part inside the frame onto a grey canvas.
        shift = int(half) + 1
        box = np.array([cx[k] - half + shift, cy[k] - half + shift, cx[k] + half + shift, cy[k] + half + shift])
        x1, y1, x2, y2 = np.clip(np.round(box), 0, [w + 2 * shift, h + 2 * shift] * 2).astype(int) - shift
        canvas = np.full((y2 - y1, x2 - x1, 3), SYNCNET_PAD_VALUE, np.uint8)
        fx1, fy1, fx2, fy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        if fx1 < fx2 and fy1 < fy2:
            canvas[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1] = frame[fy1:fy2, fx1:fx2]
        yield crop_box(canvas, (0, 0, x2 - x1, y2 - y1), size).image
