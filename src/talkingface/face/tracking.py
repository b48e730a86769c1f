"""Following faces through a whole video: one track per person, gaps filled, smoothed, never aborting.

The detector runs on keyframes (every ``detect_every`` frames, and whenever a face is lost; where it
finds none on a keyframe, it looks again with the frame's edges extended, for a face the frame cuts); between
them each face's landmark model follows it from the previous frame's landmarks. Frames where a face
is lost (blur, a turn, occlusion) are filled by interpolation when the gap is at most ``max_gap``
frames; longer gaps stay face-less spans, which later stages pass through unchanged. A scene cut ends
every track segment, so nothing is interpolated or smoothed across it. Finally each segment is
smoothed with a zero-lag one-euro filter in units of the face's size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError, MediaError
from ..files import atomic_output, read_json
from ..progress import Progress
from ._mediapipe import quiet_stderr
from .detection import (
    DETECTION_ROI_SCALE,
    LANDMARK_ROI_SCALE,
    Detection,
    FaceDetector,
    LandmarkModel,
    box_iou,
    check_frame,
    landmark_box,
    square_roi,
    suppress_overlaps,
)
from .scenes import SceneCutDetector
from .smoothing import OneEuroParams, smooth_zero_lag_into
from .topology import NUM_LANDMARKS

#: Threads that follow several faces of a frame at once (one per core, at most 4).
#: The most frames one run tracks (from the video's header before decoding, and as frames arrive where
#: the header does not say or lies): 20 minutes at 25 fps, within 1.5 GB of memory for the commands
#: that track (``bench/bench_long_inputs.py``).
MAX_TRACKED_FRAMES = 30_000
#: The most landmark sets one run records over all its faces (two faces followed for the longest video).
MAX_TRACKED_ROWS = 2 * MAX_TRACKED_FRAMES
FOLLOWERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of :class:`FaceTracker`.

    Attributes:
        max_faces: faces followed at once (the most confident are kept).
        detect_every: frames between detector runs while faces are followed. While none is, the
            detector runs on every frame, and every ``detect_every`` frames (and on the first frame
            of each shot) it searches all scales.
        min_face: smallest face width in pixels searched for (None: 32, or 2.5% of the frame's
            longer side if more).
        min_score: detection and landmark confidence threshold.
        max_gap: longest run of lost frames (in frames) filled by interpolation.
        crop_size: pixels of the square region the landmark model sees.
        smoothing: one-euro parameters in face-size units, or None for raw landmarks.
        scene_cuts: detect scene cuts (tracks never continue across one).
    """

    max_faces: int = 4
    detect_every: int = 15
    min_face: int | None = None
    min_score: float = 0.5
    max_gap: int = 12
    crop_size: int = 256
    smoothing: OneEuroParams | None = field(default_factory=OneEuroParams)
    scene_cuts: bool = True

    def __post_init__(self):
        if self.max_faces < 1 or self.detect_every < 1 or self.max_gap < 0 or self.crop_size < 64:
            raise InputError(f"invalid tracker settings: {self}")


def frame_runs(frames: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive frame indices ``[start, stop)`` in increasing ``frames``."""
    breaks = np.flatnonzero(np.diff(frames) > 1) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [len(frames)]])
    return [(int(frames[a]), int(frames[b - 1]) + 1) for a, b in zip(starts, stops)]


@dataclass
class FaceTrack:
    """One person's face through a video.

    Attributes:
        track_id: stable identifier.
        scene: index of the shot the track lies in.
        frames: ``(n,) int64`` frame indices with a face, increasing.
        landmarks: ``(n, 478, 3) float32`` (x, y pixels; z in pixel scale).
        interpolated: ``(n,) bool``, True where the face was lost and the landmarks interpolated.
    """

    track_id: int
    scene: int
    frames: np.ndarray
    landmarks: np.ndarray
    interpolated: np.ndarray

    @property
    def boxes(self) -> np.ndarray:
        """``(n, 4)`` landmark bounding boxes x1, y1, x2, y2."""
        xy = self.landmarks[..., :2]
        return np.concatenate([xy.min(1), xy.max(1)], axis=1)

    @property
    def segments(self) -> list[tuple[int, int]]:
        """Runs of consecutive frames ``[start, stop)`` with a face."""
        return frame_runs(self.frames)

    def presence(self) -> float:
        """Sum over frames of box area: how much of the video this face occupies."""
        b = self.boxes
        return float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).sum())


@dataclass
class TargetFace:
    """The face chosen for processing, frame by frame.

    Attributes:
        landmarks: ``(num_frames, 478, 3) float32``, NaN where there is no face.
        has_face: ``(num_frames,) bool``.
        track_ids: ``(num_frames,) int64`` the track used per frame, -1 where none.
    """

    landmarks: np.ndarray
    has_face: np.ndarray
    track_ids: np.ndarray

    @property
    def faceless_spans(self) -> list[tuple[int, int]]:
        """Runs of frames ``[start, stop)`` without the face (later stages pass them through)."""
        padded = np.concatenate([[True], self.has_face, [True]])
        edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
        return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


@dataclass
class TrackingResult:
    """Faces found in a video: tracks, scene cuts, and the video's geometry."""

    num_frames: int
    fps: Fraction | None
    width: int
    height: int
    tracks: list[FaceTrack]
    scene_cuts: list[int]

    def track(self, track_id: int) -> FaceTrack:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        raise InputError(f"no track {track_id}; tracks are {[t.track_id for t in self.tracks]}")

    def target(self, choice: str | int | tuple[float, float] | dict[int, int] = "largest") -> TargetFace:
        """The face to process in each frame.

        Args:
            choice: ``"largest"`` (per shot, the face occupying the most area over time), a track id,
                an ``(x, y)`` point (per shot, the face whose median centre is nearest it), or a dict
                ``{scene: track id}`` (that track in those shots, the largest face in the others).
        """
        landmarks = np.full((self.num_frames, NUM_LANDMARKS, 3), np.nan, np.float32)
        track_ids = np.full(self.num_frames, -1, np.int64)
        if isinstance(choice, (int, np.integer)) and not isinstance(choice, bool):
            chosen = [self.track(int(choice))]
        elif isinstance(choice, dict):
            chosen = []
            for scene in sorted({t.scene for t in self.tracks}):
                if scene in choice:
                    chosen.append(self.track(int(choice[scene])))
                else:
                    chosen.append(max((t for t in self.tracks if t.scene == scene), key=FaceTrack.presence))
        elif choice == "largest" or (isinstance(choice, tuple) and len(choice) == 2):
            chosen = []
            for scene in sorted({t.scene for t in self.tracks}):
                candidates = [t for t in self.tracks if t.scene == scene]
                if choice == "largest":
                    chosen.append(max(candidates, key=FaceTrack.presence))
                else:
                    point = np.asarray(choice, np.float64)

                    def distance(t: FaceTrack, point: np.ndarray = point) -> float:
                        b = np.median(t.boxes, axis=0)
                        return float(np.hypot((b[0] + b[2]) / 2 - point[0], (b[1] + b[3]) / 2 - point[1]))

                    chosen.append(min(candidates, key=distance))
        else:
            raise InputError(f"target must be 'largest', a track id or an (x, y) point, got {choice!r}")
        for t in chosen:
            landmarks[t.frames] = t.landmarks
            track_ids[t.frames] = t.track_id
        return TargetFace(landmarks=landmarks, has_face=track_ids >= 0, track_ids=track_ids)

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self, landmarks: bool = True) -> dict:
        return {**self._header(), "tracks": [self._track_dict(t, landmarks) for t in self.tracks]}

    def _header(self) -> dict:
        return {
            "num_frames": self.num_frames,
            "fps": str(self.fps) if self.fps else None,
            "width": self.width,
            "height": self.height,
            "scene_cuts": self.scene_cuts,
        }

    @staticmethod
    def _track_dict(t: FaceTrack, landmarks: bool) -> dict:
        d = {
            "id": t.track_id,
            "scene": t.scene,
            "frames": t.frames.tolist(),
            "segments": t.segments,
            "interpolated": np.flatnonzero(t.interpolated).tolist(),
            "boxes": np.round(t.boxes, 2).tolist(),
        }
        if landmarks:
            d["landmarks"] = np.round(t.landmarks, 2).tolist()
        return d

    def save_json(self, path: str | os.PathLike, landmarks: bool = True) -> Path:
        """Write the result as JSON (the text of :meth:`to_dict`), atomically and a frame at a time: a
        long video's landmarks never sit in memory as Python lists or one string."""
        compact = (",", ":")
        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(self._header(), separators=compact)[:-1] + ',"tracks":[')
            for k, track in enumerate(self.tracks):
                f.write(("," if k else "") + json.dumps(self._track_dict(track, False), separators=compact)[:-1])
                if landmarks:
                    f.write(',"landmarks":[')
                    for i, frame in enumerate(track.landmarks):
                        f.write(("," if i else "") + json.dumps(np.round(frame, 2).tolist(), separators=compact))
                    f.write("]")
                f.write("}")
            f.write("]}")
        return Path(path)

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> TrackingResult:
        data = read_json(path, "tracking file")
        try:
            tracks = []
            for d in data["tracks"]:
                if "landmarks" not in d:
                    raise InputError(f"{path}: saved without landmarks; it cannot be loaded as tracks")
                frames = np.asarray(d["frames"], np.int64)
                interpolated = np.zeros(len(frames), bool)
                interpolated[np.searchsorted(frames, d["interpolated"])] = True
                tracks.append(
                    FaceTrack(d["id"], d["scene"], frames, np.asarray(d["landmarks"], np.float32), interpolated)
                )
            return cls(
                data["num_frames"],
                Fraction(data["fps"]) if data["fps"] else None,
                data["width"],
                data["height"],
                tracks,
                list(data["scene_cuts"]),
            )
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as error:
            raise MediaError(path, f"not a tracking file ({type(error).__name__}: {error})") from None


class _Following:
    """A face being followed: its model and what has been recorded so far."""

    def __init__(self, track_id: int, scene: int, model: LandmarkModel):
        self.track_id, self.scene, self.model = track_id, scene, model
        self.frames: list[int] = []
        self.landmarks: list[np.ndarray] = []
        self.misses = 0

    @property
    def last(self) -> np.ndarray:
        return self.landmarks[-1]


def _contains(box: np.ndarray, point: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


class FaceTracker:
    """Track every face of a video (or any frame sequence).

    Example::

        result = FaceTracker().track_video("talk.mp4")
        target = result.target("largest")     # landmarks per frame, NaN where no face
    """

    def __init__(self, config: TrackerConfig = TrackerConfig()):
        self.config = config
        self._pool: ThreadPoolExecutor | None = None  # threads following several faces, while a video is tracked
        self._rows = 0  # landmark sets recorded by the run under way

    def track_video(self, path: str | os.PathLike) -> TrackingResult:
        """Track the faces of a video or image file (decoding runs ahead in a thread)."""
        from ..media import VideoReader, prefetch

        reader = VideoReader(path)
        info = reader.info
        check_trackable(info, path)
        total = stated_frames(info) or 1

        def counted(bar: Progress):
            for frame in prefetch(reader):
                yield frame
                bar.update()

        with Progress(total, "tracking faces", enabled=False) as bar:
            return self.track_frames(counted(bar), fps=info.fps, size=(info.width, info.height))

    def track_frames(
        self, frames: Iterable[np.ndarray], fps: float | Fraction | None = None, size: tuple[int, int] | None = None
    ) -> TrackingResult:
        """Track faces over ``(H, W, 3) uint8`` RGB frames; ``fps`` is needed for smoothing."""
        with quiet_stderr():
            return self._track(frames, fps, size)

    def _track(self, frames: Iterable[np.ndarray], fps, size) -> TrackingResult:
        cfg = self.config
        self._rows = 0
        detector = FaceDetector(min_score=cfg.min_score)
        cuts = SceneCutDetector() if cfg.scene_cuts else None
        following: list[_Following] = []
        finished: list[_Following] = []
        scene_cuts: list[int] = []
        next_id, scene, last_detect, last_search, index = 0, 0, -cfg.detect_every, -cfg.detect_every, -1
        scene_start = True
        width = height = 0
        try:
            for index, frame in enumerate(frames):
                if index >= MAX_TRACKED_FRAMES:
                    raise InputError(_too_long(f"a video of more than {MAX_TRACKED_FRAMES:,} frames"))
                frame = check_frame(frame)
                height, width = frame.shape[:2]
                if cuts is not None and cuts(frame):
                    scene_cuts.append(index)
                    scene += 1
                    for f in following:
                        f.model.close()
                    finished += following
                    following = []
                    scene_start = True
                detections: list[Detection] = []
                if scene_start or (not following and index - last_search >= cfg.detect_every):
                    # a face the frame's edges cut is looked for only where no other is found
                    detections = detector.detect_multiscale(frame, cfg.min_face) or detector.detect_beyond_edges(frame)
                    last_search = last_detect = index
                elif not following or index - last_detect >= cfg.detect_every:
                    detections = detector(frame)  # every frame while no face is followed
                    last_detect = index
                for f in following:
                    if f.misses:  # look again where a lost face was last seen
                        cx, cy, side = square_roi(landmark_box(f.last), 3.0)
                        detections += detector(frame, (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
                detections = suppress_overlaps(detections)
                scene_start = False
                matched = self._match(following, detections)
                next_id = self._start_new(following, finished, detections, matched, scene, next_id)
                self._advance(following, finished, frame, matched, index)
                following = self._drop_duplicates(following, finished)
        finally:
            detector.close()
            for f in following:
                f.model.close()
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
        finished += following
        if size is not None:
            width, height = size
        tracks = self._finish(finished, fps)
        return TrackingResult(
            num_frames=index + 1,
            fps=Fraction(fps) if fps else None,
            width=width,
            height=height,
            tracks=tracks,
            scene_cuts=scene_cuts,
        )

    # -- steps -------------------------------------------------------------------------------
    def _start_new(
        self,
        following: list[_Following],
        finished: list[_Following],
        detections: list[Detection],
        matched: dict[int, Detection],
        scene: int,
        next_id: int,
    ) -> int:
        """Follow each detection that no followed face took and that lies on none of them (up to
        ``max_faces``), under the id of a face it resumes or a new one; the next free id."""
        cfg = self.config
        for det in detections:
            if any(m is det for m in matched.values()) or len(following) >= cfg.max_faces:
                continue
            if any(
                box_iou(det.box, landmark_box(f.last)) > 0.1 or _contains(landmark_box(f.last), _centre(det))
                for f in following
                if f.landmarks
            ):
                continue
            track_id = self._resume(finished, det, scene)
            if track_id is None:
                track_id, next_id = next_id, next_id + 1
            new = _Following(track_id, scene, LandmarkModel(crop_size=cfg.crop_size, min_score=cfg.min_score))
            following.append(new)
            matched[id(new)] = det
        return next_id

    def _advance(
        self,
        following: list[_Following],
        finished: list[_Following],
        frame: np.ndarray,
        matched: dict[int, Detection],
        index: int,
    ) -> None:
        """Each followed face's landmarks in frame ``index``; a face missed for longer than ``max_gap``
        frames (or at its start) stops being followed, and one with landmarks is finished."""
        found = self._follow_all(following, frame, matched)
        for f, landmarks in zip(list(following), found):
            if landmarks is None:
                f.misses += 1
                if f.misses > self.config.max_gap or not f.landmarks:
                    f.model.close()
                    following.remove(f)
                    if f.landmarks:
                        finished.append(f)
                continue
            f.misses = 0
            f.frames.append(index)
            f.landmarks.append(landmarks.astype(np.float32, copy=False))
            self._rows += 1
        if self._rows > MAX_TRACKED_ROWS:
            raise InputError(
                f"faces were followed in {self._rows:,} frames in all: at most {MAX_TRACKED_ROWS:,} are tracked at "
                "once (several faces over a long video), to stay within 1.5 GB of memory: cut the video into parts"
            )

    def _follow_all(
        self, following: list[_Following], frame: np.ndarray, matched: dict[int, Detection]
    ) -> list[np.ndarray | None]:
        """Each followed face's landmarks in ``frame``. Several faces are followed at once on
        :data:`FOLLOWERS` threads: each has its own model, and the model runs outside Python's lock."""
        if len(following) < 2 or FOLLOWERS < 2:
            return [self._follow(f, frame, matched.get(id(f))) for f in following]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(FOLLOWERS, thread_name_prefix="face")
        return list(self._pool.map(lambda f: self._follow(f, frame, matched.get(id(f))), following))

    @staticmethod
    def _match(following: list[_Following], detections: list[Detection]) -> dict[int, Detection]:
        """Pair detections with followed faces: a detection belongs to the face whose last box holds
        its centre (or overlaps it most)."""
        matched: dict[int, Detection] = {}
        taken: set[int] = set()
        for f in following:
            if not f.landmarks:
                continue
            box = landmark_box(f.last)
            best, best_iou = None, 0.0
            for k, det in enumerate(detections):
                if k in taken:
                    continue
                overlap = box_iou(det.box, box) + (1.0 if _contains(box, _centre(det)) else 0.0)
                if overlap > best_iou:
                    best, best_iou = k, overlap
            if best is not None and best_iou > 0.1:
                matched[id(f)] = detections[best]
                taken.add(best)
        return matched

    @staticmethod
    def _resume(finished: list[_Following], det: Detection, scene: int) -> int | None:
        """The id of a face lost earlier in this shot where ``det`` appears (same person back)."""
        for f in reversed(finished):
            if f.scene == scene and _contains(landmark_box(f.last), _centre(det)):
                return f.track_id
        return None

    def _follow(self, f: _Following, frame: np.ndarray, det: Detection | None) -> np.ndarray | None:
        if f.landmarks and f.misses == 0:
            landmarks = f.model(frame, square_roi(landmark_box(f.last), LANDMARK_ROI_SCALE))
            if landmarks is not None:
                return landmarks
        if det is None:
            return None
        f.model.reset()
        landmarks = f.model(frame, square_roi(det.box, DETECTION_ROI_SCALE))
        if landmarks is None:
            return None
        # Re-centre on the mesh itself, as the following frames will.
        refined = f.model(frame, square_roi(landmark_box(landmarks), LANDMARK_ROI_SCALE))
        return refined if refined is not None else landmarks

    @staticmethod
    def _drop_duplicates(following: list[_Following], finished: list[_Following]) -> list[_Following]:
        """Two followers on one face (after a re-detection): keep the longer-lived one."""
        keep: list[_Following] = []
        for f in sorted(following, key=lambda f: -len(f.frames)):
            if (
                f.landmarks
                and f.misses == 0
                and any(
                    k.landmarks and k.misses == 0 and box_iou(landmark_box(f.last), landmark_box(k.last)) > 0.5
                    for k in keep
                )
            ):
                f.model.close()
                if len(f.frames) > 1:
                    finished.append(f)
                continue
            keep.append(f)
        return sorted(keep, key=lambda f: f.track_id)

    def _finish(self, followed: list[_Following], fps) -> list[FaceTrack]:
        """Merge the pieces of each person, fill short gaps, smooth each segment."""
        by_id: dict[int, list[_Following]] = {}
        for f in followed:
            if f.frames:
                by_id.setdefault(f.track_id, []).append(f)
        tracks = []
        for track_id, pieces in sorted(by_id.items()):
            frames, landmarks = _gathered(pieces)
            if np.any(np.diff(frames) <= 0):  # pieces overlap or interleave (rare): order them, once each
                frames, unique = np.unique(frames, return_index=True)  # the first piece's frame wins
                landmarks = landmarks[unique]
            frames, landmarks, interpolated = fill_gaps(frames, landmarks, self.config.max_gap)
            if self.config.smoothing is not None and fps:
                landmarks = smooth_segments(frames, landmarks, float(fps), self.config.smoothing, in_place=True)
            tracks.append(FaceTrack(track_id, pieces[0].scene, frames, landmarks, interpolated))
        return tracks


def _gathered(pieces: list[_Following]) -> tuple[np.ndarray, np.ndarray]:
    """The frames and ``(n, 478, 3)`` landmarks the pieces recorded, in one array; each piece's
    per-frame arrays are released as they are copied, so a long video holds one copy of its landmarks."""
    frames = np.concatenate([np.asarray(p.frames, np.int64) for p in pieces])
    landmarks = np.empty((len(frames), NUM_LANDMARKS, 3), np.float32)
    end = 0
    for p in pieces:
        end += len(p.landmarks)
        for row in range(end - 1, end - len(p.landmarks) - 1, -1):
            landmarks[row] = p.landmarks.pop()
    return frames, landmarks


def check_trackable(info, path: str | os.PathLike) -> None:
    """Refuse, before decoding, a video whose header states more than :data:`MAX_TRACKED_FRAMES`
    frames (``info``: its :class:`~talkingface.media.VideoInfo`)."""
    stated = stated_frames(info)
    if stated > MAX_TRACKED_FRAMES:
        minutes = f" ({info.duration / 60:.0f} minutes)" if info.duration else ""
        raise InputError(f"{path}: " + _too_long(f"{stated:,} frames{minutes}"))


def stated_frames(info) -> int:
    """The frame count a video's header states, or its duration times its rate (0: it says neither)."""
    return info.num_frames or int(round((info.duration or 0) * float(info.fps or 0)))


def _too_long(what: str) -> str:
    return (
        f"{what}; at most {MAX_TRACKED_FRAMES:,} frames (20 minutes at 25 fps) are tracked at once, to stay within "
        "1.5 GB of memory: cut the video into parts"
    )


def _centre(det: Detection) -> np.ndarray:
    return np.array([(det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2])


def fill_gaps(frames: np.ndarray, values: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linearly interpolate ``values`` over runs of at most ``max_gap`` missing frames.

    Args:
        frames: ``(n,)`` increasing frame indices that have values.
        values: ``(n, ...)``.

    Returns:
        frames, values with the short gaps filled, and a mask of the filled entries.
    """
    steps = np.diff(frames) - 1
    filled_gaps = (steps > 0) & (steps <= max_gap)
    if len(frames) < 2 or not filled_gaps.any():
        return frames, values, np.zeros(len(frames), bool)
    added = np.where(filled_gaps, steps, 0)
    places = np.arange(len(frames)) + np.concatenate([[0], np.cumsum(added)])  # each known frame's row
    out_frames = np.empty(len(frames) + int(added.sum()), frames.dtype)
    out_values = np.empty((len(out_frames), *values.shape[1:]), values.dtype)
    filled = np.ones(len(out_frames), bool)
    out_frames[places], out_values[places], filled[places] = frames, values, False
    for k in np.flatnonzero(filled_gaps):
        gap = int(steps[k])
        t = (np.arange(1, gap + 1) / (gap + 1)).reshape(-1, *([1] * (values.ndim - 1)))
        rows = slice(int(places[k]) + 1, int(places[k + 1]))
        out_frames[rows] = np.arange(frames[k] + 1, frames[k + 1])
        out_values[rows] = (1 - t) * values[k] + t * values[k + 1]
    return out_frames, out_values, filled


def face_scale(landmarks: np.ndarray) -> float:
    """A robust face size in pixels: the median landmark-box diagonal over the frames given."""
    xy = landmarks[..., :2]
    diag = np.hypot(*(xy.max(-2) - xy.min(-2)).reshape(-1, 2).T)
    return float(np.median(diag))


def smooth_segments(
    frames: np.ndarray, landmarks: np.ndarray, fps: float, params: OneEuroParams, in_place: bool = False
) -> np.ndarray:
    """Zero-lag one-euro smoothing of each run of consecutive frames, in face-size units (``in_place``:
    into ``landmarks`` itself, which is returned)."""
    out = landmarks if in_place else landmarks.copy()
    breaks = np.flatnonzero(np.diff(frames) > 1) + 1
    for segment in np.split(np.arange(len(frames)), breaks):
        if len(segment) >= 3:
            rows = slice(int(segment[0]), int(segment[-1]) + 1)
            smooth_zero_lag_into(landmarks[rows], out[rows], fps, params, scale=face_scale(landmarks[rows]))
    return out
