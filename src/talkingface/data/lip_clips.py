"""Real speakers' lips with their speech: the training data of the mouth-openness model.

Each video (one person speaking with their own voice, in sync) gives its speech at 16 kHz and the
inner-lip opening of its largest face in every frame (:func:`talkingface.metrics.openness.measure_video`:
the tracker's landmarks, unsmoothed; NaN where no face is found). Tracking is slow, so each video's
result is kept in a cache folder under a name made of the file's path, size and time of change.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_output
from .sources import listed_files

#: Video files taken from a folder.
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".avi", ".mpg", ".mpeg")
#: A clip is used when its face is found in at least this share of frames and it lasts this long.
MIN_FACE_SHARE = 0.5
MIN_SECONDS = 1.0


@dataclass(frozen=True)
class LipClip:
    """``audio``: ``(S,)`` float32 speech at 16 kHz; ``opening``: ``(N,)`` inner-lip opening over face
    height per video frame (NaN without a face) at ``fps``."""

    name: str
    audio: np.ndarray
    opening: np.ndarray
    fps: float

    @property
    def seconds(self) -> float:
        return len(self.audio) / 16000


def video_sources(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The video files named in ``paths`` and the videos of the folders named there."""
    return listed_files(
        paths, lambda p: p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES, "no videos found (.mp4, .mov, ...)"
    )


def _cache_name(source: Path) -> str:
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return f"{source.stem}-{hashlib.sha1(key.encode()).hexdigest()[:10]}.lips.npz"


def lip_clip(source: Path, cache: Path | None = None) -> LipClip:
    """One video's speech and measured lips (read back from ``cache`` when it has them)."""
    from ..media import load_audio, probe_video
    from ..metrics.openness import measure_video

    cached = cache / _cache_name(source) if cache is not None else None
    if cached is not None and cached.is_file():
        with np.load(cached) as data:
            return LipClip(source.name, data["audio"], data["opening"], float(data["fps"]))
    if not probe_video(source).has_audio:
        raise InputError(f"{source}: has no sound")
    audio = load_audio(source, 16000).astype(np.float32)
    lips = measure_video(source)
    clip = LipClip(source.name, audio, lips.opening.astype(np.float32), lips.fps)
    if cached is not None:
        with atomic_output(cached) as tmp, open(tmp, "wb") as f:
            np.savez(f, audio=clip.audio, opening=clip.opening, fps=clip.fps)
    return clip


def lip_clips(
    sources: Sequence[Path], cache: str | os.PathLike | None = None, log: Callable[[str], None] | None = None
) -> tuple[list[LipClip], list[str]]:
    """The usable clips of ``sources`` and, for each one left out, why."""
    folder = Path(cache) if cache is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    clips, skipped = [], []
    for source in sources:
        try:
            clip = lip_clip(source, folder)
        except InputError as error:
            skipped.append(str(error))
            continue
        share = float(np.isfinite(clip.opening).mean()) if len(clip.opening) else 0.0
        if share < MIN_FACE_SHARE or clip.seconds < MIN_SECONDS:
            skipped.append(
                f"{source}: a face in {share:.0%} of {len(clip.opening)} frames, {clip.seconds:.1f} s of sound"
            )
            continue
        if log:
            log(f"{source.name}: {clip.seconds:.1f} s, a face in {share:.0%} of the frames")
        clips.append(clip)
    return clips, skipped
