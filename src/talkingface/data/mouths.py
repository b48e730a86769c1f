"""Real mouths for the mouth upscaler: mouth canvases (:mod:`talkingface.enhance.mouth`) cut from
videos and photos at their own resolution, in runs of consecutive frames.

Each video's faces are tracked and its largest face's 5 points smoothed over time (as the upscaler
sees them at work); each frame whose mouth is large enough in the video (a canvas pixel covering at
least ``min_ratio`` video pixels: no target is itself an enlargement) gives a canvas and the
transform it was cut with, so that a run's canvases can be moved onto one another. A photo gives
runs of the same face under small random moves (the still face the upscaler must keep still). Each
source is cut once and kept as ``<name>.npz`` in a cache folder.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..enhance.align import five_points, steady_points
from ..enhance.mouth import canvas_height, compose, cut_canvas, frame_pixels_per_canvas_pixel, mouth_transform
from ..face import FaceTracker, detect_faces
from ..files import atomic_output
from .sources import IMAGE_SUFFIXES, listed_files


@dataclass
class MouthRuns:
    """The canvases of one source: ``canvases`` ``(N, H, W, 3)`` uint8 RGB, ``transforms`` ``(N, 2,
    3)`` (frame -> canvas), ``runs`` ``(N,)`` run of each canvas (a run's canvases are consecutive);
    ``photo``: made of a photo."""

    name: str
    canvases: np.ndarray
    transforms: np.ndarray
    runs: np.ndarray
    photo: bool = False

    def starts(self, length: int) -> np.ndarray:
        """Indices at which ``length`` canvases of one run begin."""
        if len(self.runs) < length:
            return np.zeros(0, np.int64)
        same = np.lib.stride_tricks.sliding_window_view(self.runs, length)
        return np.flatnonzero((same == same[:, :1]).all(1))


def _cache_name(source: Path, width: int, min_ratio: float, max_frames: int, photo_runs: int) -> str:
    key = f"{source.resolve()}|{source.stat().st_size}|{width}|{min_ratio}|{max_frames}|{photo_runs}"
    return f"{source.stem}-{hashlib.sha1(key.encode()).hexdigest()[:10]}.npz"


def mouth_runs(
    sources: list[Path],
    cache: str | os.PathLike,
    width: int = 96,
    min_ratio: float = 1.0,
    max_frames: int = 750,
    photo_runs: int = 8,
    run_length: int = 4,
    log=None,
) -> list[MouthRuns]:
    """The canvases of every source (videos and photos), cut or read back from ``cache``."""
    folder = Path(cache)
    folder.mkdir(parents=True, exist_ok=True)
    found = []
    for source in sources:
        path = folder / _cache_name(source, width, min_ratio, max_frames, photo_runs)
        photo = source.suffix.lower() in IMAGE_SUFFIXES
        if not path.is_file():
            if photo:
                runs = _photo_runs(source, width, photo_runs, run_length, min_ratio)
            else:
                runs = _video_runs(source, width, min_ratio, max_frames)
            with atomic_output(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, canvases=runs.canvases, transforms=runs.transforms, runs=runs.runs)
        with np.load(path) as data:
            runs = MouthRuns(source.stem, data["canvases"], data["transforms"], data["runs"], photo)
        if log:
            log(f"{source.name}: {len(runs.canvases)} mouth canvases in {len(np.unique(runs.runs))} runs")
        found.append(runs)
    return found


def _video_runs(source: Path, width: int, min_ratio: float, max_frames: int) -> MouthRuns:
    from ..media import read_frames

    tracking = FaceTracker().track_video(source)
    target = tracking.target("largest")
    present = np.asarray(target.has_face, bool) & np.isfinite(target.landmarks[:, :, :2]).all(axis=(1, 2))
    cuts = np.zeros(len(present), bool)
    cuts[[c for c in tracking.scene_cuts if 0 <= c < len(cuts)]] = True
    run_of = np.full(len(present), -1)
    run = -1
    for t in range(len(present)):
        if present[t]:
            if t == 0 or not present[t - 1] or cuts[t] or target.track_ids[t] != target.track_ids[t - 1]:
                run += 1
            run_of[t] = run
    points = np.zeros((len(present), 5, 2))
    for t in np.flatnonzero(present):
        points[t] = five_points(target.landmarks[t])
    for r in range(run + 1):
        members = np.flatnonzero(run_of == r)
        window = min(5, len(members) if len(members) % 2 else len(members) - 1)
        points[members] = steady_points(points[members], max(1, window))
    canvases: list[np.ndarray] = []
    transforms: list[np.ndarray] = []
    runs: list[int] = []
    segment, last = 0, -2
    for t, frame in enumerate(read_frames(source)):
        if len(canvases) >= max_frames:
            break
        if t >= len(present) or not present[t]:
            continue
        transform = mouth_transform(points[t], width)
        if frame_pixels_per_canvas_pixel(transform) < min_ratio:
            continue
        canvases.append(cut_canvas(frame, transform, width))
        transforms.append(transform)
        if runs and (t != last + 1 or run_of[t] != run_of[last]):
            segment += 1  # a gap or a new track: the next run begins
        runs.append(segment)
        last = t
    return _collected(source, width, canvases, transforms, runs)


def _photo_runs(source: Path, width: int, count: int, length: int, min_ratio: float) -> MouthRuns:
    from ..media import read_image

    image = read_image(source)
    faces = detect_faces(image, max_faces=1)
    canvases: list[np.ndarray] = []
    transforms: list[np.ndarray] = []
    runs: list[int] = []
    if faces:
        base = mouth_transform(five_points(faces[0].landmarks), width)
        if frame_pixels_per_canvas_pixel(base) >= min_ratio:
            rng = np.random.default_rng(int(hashlib.sha1(source.name.encode()).hexdigest()[:8], 16))
            centre = np.array([width / 2, width * 0.3])
            for r in range(count):
                for _ in range(length):
                    angle = np.radians(rng.uniform(-1.5, 1.5))
                    scale = rng.uniform(0.97, 1.03)
                    shift = rng.uniform(-2, 2, 2)
                    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
                    move = np.concatenate([rotation, (centre - rotation @ centre + shift)[:, None]], 1)
                    transform = compose(move, base)
                    canvases.append(cut_canvas(image, transform, width))
                    transforms.append(transform)
                    runs.append(r)
    return _collected(source, width, canvases, transforms, runs)


def _collected(source: Path, width: int, canvases: list, transforms: list, runs: list) -> MouthRuns:
    """The canvases cut from ``source`` as arrays (empty ones shaped alike)."""

    return MouthRuns(
        source.stem,
        np.asarray(canvases, np.uint8).reshape(-1, canvas_height(width), width, 3),
        np.asarray(transforms, np.float32).reshape(-1, 2, 3),
        np.asarray(runs, np.int64),
    )


def sources_of(paths: list[str | os.PathLike]) -> list[Path]:
    """Videos and photos named, or found (not recursively) in folders named."""
    return listed_files(paths, lambda p: p.is_file() and not p.name.startswith("."), "no videos or photos found")
