"""Real talking-face videos -> the Wav2Lip / LRS2 training layout (:mod:`.lrs2`).

For each video: faces are tracked (478 landmarks, scene cuts, short losses filled); every shot in
which one face is seen is cut into runs of consecutive frames with that face; each run long enough
becomes a clip: its frames resampled to 25 fps by time, the Wav2Lip box (face plus pads) cropped and
resized to ``size``, its landmarks in crop pixels, and the speech of exactly those frames at 16 kHz.
What is dropped is reported with the reason: no audio, unreadable, no face, several faces in a shot
(whose speech would it be?), or too short. Videos are independent: several run at once in worker
processes, and a run that stops resumes where it left off (each finished video leaves a record in
``.done/``; clips appear under their final names only when complete).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data.lrs2 import LAYOUT_FPS, SAMPLE_RATE, ClipInfo, check_fractions, split_speakers, write_filelists
from ..errors import InputError, TalkingFaceError
from ..face import FaceTracker
from ..face.crops import crop_box, wav2lip_box
from ..face.tracking import frame_runs
from ..files import atomic_output
from ..optional import needs

if TYPE_CHECKING:
    from ..face.tracking import TrackingResult

LOCK = ".preprocess.lock"
DONE = ".done"


@dataclass(frozen=True)
class PreprocessConfig:
    """Attributes:
    size: side of the saved crops, pixels (96 for the public Wav2Lip; 192/256/288 for larger models).
    pads: pixels added to the face box (top, bottom, left, right), as Wav2Lip's inference does.
    min_frames: shortest clip kept, in 25 fps frames (the windows need 5 frames and their neighbours).
    several_faces: a shot in which a second face is seen on more than this share of its frames is
        dropped: the speech could be either person's.
    split: shares of the speakers for train, val and test.
    seed: the speaker split's shuffle.
    quality: JPEG quality of the crops.
    syncnet: a SyncNet evaluation model file (``syncnet_v2.model`` or ours) to check each clip's sync
        with: its face track is scored (LSE-C, AV offset) on the source video. With ``min_confidence``
        or ``shift`` and no file, the built-in sync model scores them.
    min_confidence: clips whose LSE-C is below this are dropped ("low sync
        confidence"); None keeps all.
    shift: take each clip's speech at its measured AV offset (as LatentSync prepares
        its data), so that the kept clips are in sync.
    """

    size: int = 96
    pads: tuple[int, int, int, int] = (0, 10, 0, 0)
    min_frames: int = 25
    several_faces: float = 0.1
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    quality: int = 95
    syncnet: str | None = None
    min_confidence: float | None = None
    shift: bool = False

    def __post_init__(self) -> None:
        if not 32 <= self.size <= 1024:
            raise InputError(f"size must be 32-1024 pixels, got {self.size}")
        if self.min_frames < 5:
            raise InputError(f"min_frames must be >= 5 (one SyncNet window), got {self.min_frames}")
        if not 0 <= self.several_faces <= 1:
            raise InputError(f"several_faces must be a share in [0, 1], got {self.several_faces}")
        if not 1 <= self.quality <= 100:
            raise InputError(f"quality must be 1-100, got {self.quality}")
        check_fractions(self.split)

    @property
    def scorer(self) -> str | None:
        """The sync model that scores the clips: the ``syncnet`` file, "builtin", or None (no scoring)."""
        if self.syncnet is not None:
            return self.syncnet
        return "builtin" if self.min_confidence is not None or self.shift else None

    def key(self) -> str:
        """What a finished video's record must match to be reused when resuming."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("split", "seed")}
        return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class VideoReport:
    """What became of one video: the clips written (``'<speaker>/<clip>'``) and what was dropped."""

    video: str
    speaker: str
    clips: list[str] = field(default_factory=list)
    frames: int = 0
    dropped: list[dict] = field(default_factory=list)  # {"reason": ..., "frames": n, "detail": ...}
    error: str | None = None  # the whole video was skipped: why
    error_kind: str | None = None  # "unusable video" (unreadable, no audio, ...) or "internal error"


@dataclass
class PreprocessResult:
    root: Path
    reports: list[VideoReport]
    splits: dict[str, list[str]]

    @property
    def clips(self) -> int:
        return sum(len(r.clips) for r in self.reports)

    def dropped(self) -> dict[str, int]:
        """Dropped pieces (and failed videos) by reason."""
        counts: dict[str, int] = {}
        for report in self.reports:
            if report.error:
                kind = report.error_kind or "unusable video"
                counts[kind] = counts.get(kind, 0) + 1
            for drop in report.dropped:
                counts[drop["reason"]] = counts.get(drop["reason"], 0) + 1
        return counts

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in self.splits.items())
        return f"PreprocessResult({self.root}: {self.clips} clips from {len(self.reports)} videos; {sizes})"


def speakers_for(videos: Sequence[str | os.PathLike], mapping: dict[str, str] | None = None) -> list[str]:
    """Each video's speaker: from ``mapping`` (video file name or stem -> speaker), else its folder's
    name - unless all videos share one folder, in which case each video is its own speaker."""
    paths = [Path(v) for v in videos]
    one_folder = len({p.resolve().parent for p in paths}) == 1
    speakers = []
    for p in paths:
        if mapping and (p.name in mapping or p.stem in mapping):
            speakers.append(mapping.get(p.name) or mapping[p.stem])
        else:
            speakers.append(p.stem if one_folder else p.resolve().parent.name)
    return [_safe_name(s) for s in speakers]


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    if not cleaned:
        raise InputError(f"{name!r} cannot name a folder")
    return cleaned


def preprocess(
    videos: Sequence[str | os.PathLike],
    root: str | os.PathLike,
    config: PreprocessConfig = PreprocessConfig(),
    speakers: Sequence[str] | None = None,
    workers: int = 1,
    progress: Callable[[int, int, VideoReport], None] | None = None,
) -> PreprocessResult:
    """Preprocess ``videos`` into ``root`` (see the module docstring); resumes a run left in ``root``.

    Args:
        videos: video files with speech.
        root: the set's folder (its parent must exist; created if missing).
        config: crop size, pads, minimum length, split.
        speakers: each video's speaker (default :func:`speakers_for`): the split keeps a speaker's
            clips together.
        workers: videos processed at once, each in its own process.
        progress: called after each video with (done, total, its report).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: is a file, expected a folder for the set")
    if not root.parent.is_dir():
        raise InputError(f"{root}: folder {root.parent} does not exist")
    if not videos:
        raise InputError("no videos to preprocess")
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    names = list(speakers) if speakers is not None else speakers_for(videos)
    if len(names) != len(videos):
        raise InputError(f"{len(videos)} videos but {len(names)} speakers")
    missing = [str(v) for v in videos if not Path(v).is_file()]
    if missing:
        raise InputError(
            f"{missing[0]}: file not found" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    (root / DONE).mkdir(parents=True, exist_ok=True)
    claim = _claim(root)  # held until this run returns
    jobs = [(str(Path(v).resolve()), _safe_name(s)) for v, s in zip(videos, names)]
    reports: list[VideoReport] = []
    todo = []
    for video, speaker in jobs:
        done = _record(root, video, speaker, config)
        if done is not None:
            reports.append(done)
        else:
            todo.append((video, speaker))
    finished = len(reports)
    if workers == 1 or len(todo) <= 1:
        results = (process_video(v, s, root, config) for v, s in todo)
        for report in results:
            reports.append(report)
            finished += 1
            if progress:
                progress(finished, len(jobs), report)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # mediapipe and torch do not survive fork
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(process_video, v, s, root, config) for v, s in todo]
            for future in futures:
                report = future.result()
                reports.append(report)
                finished += 1
                if progress:
                    progress(finished, len(jobs), report)
    order = {video: k for k, (video, _) in enumerate(jobs)}
    reports.sort(key=lambda r: order.get(r.video, len(order)))
    assignment = split_speakers([r.speaker for r in reports if r.clips], config.split, config.seed)
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for report in reports:
        for clip in report.clips:
            splits[assignment[report.speaker]].append(clip)
    write_filelists(root, splits)
    result = PreprocessResult(root, reports, splits)
    _write_report(root, result, config)
    claim.close()
    return result


def _claim(root: Path):
    """The set's folder for this run alone: an exclusive lock on its lock file, released when the
    returned file is closed (or the process ends). A second run into the same set is refused at once,
    instead of both finishing with file lists that each name only their own clips."""
    import fcntl

    handle = open(root / LOCK, "a+")  # noqa: SIM115 - held open for the run
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise InputError(
            f"{root}: another preprocess run is writing this set; wait for it, or choose another folder"
        ) from None
    return handle


def _done_path(root: Path, video: str) -> Path:
    return root / DONE / (hashlib.sha1(video.encode()).hexdigest()[:16] + ".json")


def _record(root: Path, video: str, speaker: str, config: PreprocessConfig) -> VideoReport | None:
    """The report of a video finished by an earlier run with the same settings, else None."""
    path = _done_path(root, video)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("key") != config.key() or data.get("speaker") != speaker:
        return None
    report = VideoReport(**{k: v for k, v in data.items() if k != "key"})
    if not all((root / clip / "clip.json").is_file() for clip in report.clips):
        return None
    return report


def _write_report(root: Path, result: PreprocessResult, config: PreprocessConfig) -> None:
    data = {
        "config": asdict(config),
        "clips": result.clips,
        "frames": sum(r.frames for r in result.reports),
        "splits": {k: len(v) for k, v in result.splits.items()},
        "dropped": result.dropped(),
        "videos": [asdict(r) for r in result.reports],
    }
    with atomic_output(root / "report.json") as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")


def process_video(video: str, speaker: str, root: str | os.PathLike, config: PreprocessConfig) -> VideoReport:
    """Preprocess one video into ``root`` (a worker's job); errors about the video go into the report."""

    root = Path(root)
    report = VideoReport(video=video, speaker=speaker)
    try:
        _cut_clips(Path(video), speaker, root, config, report)
    except TalkingFaceError as error:
        report.error, report.error_kind, report.clips = str(error), "unusable video", []
    except Exception as error:  # one bad video must not end a long run: reported, the others go on
        detail = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        report.error, report.error_kind, report.clips = detail, "internal error", []
    with atomic_output(_done_path(root, video)) as tmp:
        tmp.write_text(json.dumps({**asdict(report), "key": config.key()}))
    return report


def _cut_clips(video: Path, speaker: str, root: Path, config: PreprocessConfig, report: VideoReport) -> None:
    from fractions import Fraction

    from ..media import audio_info, load_audio, probe_video

    info = probe_video(video)
    if info.is_image or not info.fps:
        raise InputError(f"{video}: a still image, not a video")
    audio_info(video)  # no audio stream: a one-line error, the video is reported and skipped
    tracking = FaceTracker().track_video(video)
    fps = float(Fraction(tracking.fps or info.fps))
    total = tracking.num_frames
    if not tracking.tracks:
        report.dropped.append({"reason": "no face", "frames": total, "detail": "no face in any frame"})
        return
    cuts = [0, *tracking.scene_cuts, total]
    shots = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    faces_per_frame = np.zeros(total, np.int32)
    for track in tracking.tracks:
        faces_per_frame[track.frames] += 1
    target = tracking.target("largest")
    pieces: list[tuple[int, int]] = []
    for start, stop in shots:
        seen = faces_per_frame[start:stop]
        if not (seen > 0).any():
            report.dropped.append({"reason": "no face", "frames": stop - start, "detail": f"shot {start}-{stop}"})
            continue
        several = float((seen > 1).mean())
        if several > config.several_faces:
            report.dropped.append(
                {"reason": "several faces", "frames": stop - start, "detail": f"shot {start}-{stop}: {several:.0%}"}
            )
            continue
        frames = np.flatnonzero(target.has_face[start:stop]) + start
        for a, b in frame_runs(frames):
            pieces.append((a, b))
    scored = _sync_scores(video, config, tracking) if config.scorer else None
    speech = load_audio(video, SAMPLE_RATE)
    last_heard = int(np.floor(len(speech) * LAYOUT_FPS / SAMPLE_RATE + 1e-6)) - 1  # last frame the speech covers
    plans = []
    for a, b in pieces:
        # Output frame k (at 25 fps) shows the source frame nearest its time, within the run.
        first = int(np.ceil(a * LAYOUT_FPS / fps - 1e-6))
        last = min(int(np.floor((b - 1) * LAYOUT_FPS / fps + 1e-6)), last_heard)
        outputs = np.arange(first, last + 1)
        sources = np.clip(np.round(outputs * fps / LAYOUT_FPS).astype(np.int64), a, b - 1)
        if len(outputs) < config.min_frames:
            detail = f"frames {a}-{b}" + (" (the speech ends first)" if last == last_heard else "")
            report.dropped.append({"reason": "too short", "frames": int(max(0, len(outputs))), "detail": detail})
            continue
        offset = 0
        if scored is not None:
            score = _covering(scored, a, b)
            if score is None:
                report.dropped.append(
                    {"reason": "not scored", "frames": int(len(outputs)), "detail": f"frames {a}-{b}"}
                )
                continue
            confidence, measured = score
            if config.min_confidence is not None and confidence < config.min_confidence:
                detail = f"frames {a}-{b}: LSE-C {confidence:.2f} < {config.min_confidence:g}, offset {measured}"
                report.dropped.append({"reason": "low sync confidence", "frames": int(len(outputs)), "detail": detail})
                continue
            # syncnet_python's AV offset m: the speech of frame k was recorded at frame k - m (m > 0: it
            # leads the lips). Frame k takes the speech of frame k + offset; frames whose speech is not
            # recorded are cut.
            offset = -measured if config.shift else 0
            keep = (outputs + offset >= 0) & (outputs + offset <= last_heard)
            outputs, sources = outputs[keep], sources[keep]
            if len(outputs) < config.min_frames:
                detail = f"frames {a}-{b}: the speech moved by {offset} frames leaves too little"
                report.dropped.append({"reason": "too short", "frames": int(len(outputs)), "detail": detail})
                continue
            first = int(outputs[0])
        plans.append((first, outputs, sources, offset))
    if not plans:
        return
    _write_clips(video, speaker, root, config, plans, target.landmarks, speech, report)


def _write_clips(video, speaker, root, config, plans, landmarks, speech, report) -> None:
    """Crop every planned frame in one pass over the video and write each clip atomically."""
    import shutil

    with needs("face"):
        import cv2
    import soundfile

    from ..media import VideoReader

    folder = root / speaker
    folder.mkdir(parents=True, exist_ok=True)
    names = [video.stem if len(plans) == 1 else f"{video.stem}_{k:02d}" for k in range(len(plans))]
    temps = []
    for name in names:
        tmp = folder / f".{name}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        temps.append(tmp)
    wanted: dict[int, list[tuple[int, int]]] = {}  # source frame -> (clip, output index)
    for k, (_, _, sources, _) in enumerate(plans):
        for j, s in enumerate(sources):
            wanted.setdefault(int(s), []).append((k, j))
    crop_landmarks = [np.zeros((len(p[1]), landmarks.shape[1], 3), np.float16) for p in plans]
    last_needed = max(wanted)
    params = [cv2.IMWRITE_JPEG_QUALITY, config.quality]
    try:
        for index, frame in enumerate(VideoReader(video, order="bgr")):
            if index > last_needed:
                break
            if index not in wanted:
                continue
            points = landmarks[index]
            crop = crop_box(frame, wav2lip_box(points, (frame.shape[1], frame.shape[0]), config.pads), config.size)
            local = points.copy()
            local[:, :2] = crop.to_crop(points[:, :2])
            local[:, 2] *= config.size / max(1.0, float(crop.box[2] - crop.box[0])) if crop.box is not None else 1.0
            for k, j in wanted[index]:
                if not cv2.imwrite(str(temps[k] / f"{j}.jpg"), crop.image, params):
                    raise InputError(f"{temps[k]}: could not write a frame")
                crop_landmarks[k][j] = local
        for k, ((first, outputs, sources, offset), name, tmp) in enumerate(zip(plans, names, temps)):
            start = int(round((first + offset) / LAYOUT_FPS * SAMPLE_RATE))
            stop = int(round((first + offset + len(outputs)) / LAYOUT_FPS * SAMPLE_RATE))
            soundfile.write(tmp / "audio.wav", np.clip(speech[start:stop], -1, 1), SAMPLE_RATE, subtype="PCM_16")
            np.save(tmp / "landmarks.npy", crop_landmarks[k])
            info = ClipInfo(
                source=str(video),
                speaker=speaker,
                fps=float(LAYOUT_FPS),
                size=config.size,
                num_frames=len(outputs),
                source_frames=tuple(int(s) for s in sources),
                start_seconds=first / LAYOUT_FPS,
                pads=tuple(config.pads),
                audio_offset=int(offset),
            )
            (tmp / "clip.json").write_text(info.to_json())
            final = folder / name
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            report.clips.append(f"{speaker}/{name}")
            report.frames += len(outputs)
    finally:
        for tmp in temps:
            shutil.rmtree(tmp, ignore_errors=True)


_SYNCNETS: dict[str, object] = {}  # one scorer per model file and process (workers load theirs once)


def _sync_scores(video: Path, config: PreprocessConfig, tracking: TrackingResult) -> list[tuple[int, int, float, int]]:
    """(first frame, frames, LSE-C, AV offset) of every face track of ``video`` (tracked already) that
    the SyncNet scores."""
    from ..models import load_model
    from ..pipelines.sync_score import SyncScorePipeline

    name = config.scorer
    assert name is not None
    scorer = _SYNCNETS.get(name)
    if scorer is None:
        model = None if name == "builtin" else load_model(name, family="syncnet", role="sync")
        scorer = _SYNCNETS[name] = SyncScorePipeline(model)
    assert isinstance(scorer, SyncScorePipeline)
    try:
        result = scorer.shifted(video, (0,), tracking)[0]
    except InputError:  # no face run long enough to score
        return []
    return [(t.start, t.num_frames, float(t.scores.lse_c), int(t.scores.offset)) for t in result.tracks]


def _covering(scored: list[tuple[int, int, float, int]], a: int, b: int) -> tuple[float, int] | None:
    """(LSE-C, offset) of the scored track that overlaps source frames ``[a, b)`` the most."""
    best, overlap = None, 0
    for start, count, confidence, offset in scored:
        shared = min(b, start + count) - max(a, start)
        if shared > overlap:
            best, overlap = (confidence, offset), shared
    return best
