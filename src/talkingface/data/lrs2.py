"""The Wav2Lip / LRS2-preprocessed training layout: face crops per frame and the clip's speech.

Layout under ``root`` (the one Wav2Lip's reference trainers read, plus our per-clip extras)::

    <speaker>/<clip>/0.jpg, 1.jpg, ...   face crops (Wav2Lip's box: the face plus pads), one per video
                                         frame at the layout's fps (25), square, ``size`` pixels
    <speaker>/<clip>/audio.wav           the clip's speech, 16 kHz mono 16-bit, starting at frame 0
    <speaker>/<clip>/landmarks.npy       (N, 478, 3) float16: mediapipe landmarks in crop pixels
    <speaker>/<clip>/clip.json           source video, its frame of each crop, fps, size, pads, speaker
    filelists/{train,val,test}.txt       '<speaker>/<clip>' per line, split by speaker
    report.json                          what preprocessing kept and dropped, and why

:class:`ClipData` reads one clip (frames decoded on demand); :func:`read_filelist` lists a split.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import InputError, MediaError, TalkingFaceError
from ..files import atomic_output
from ..optional import needs

LAYOUT_FPS = 25
SAMPLE_RATE = 16000
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ClipInfo:
    """What ``clip.json`` records about a clip."""

    source: str
    speaker: str
    fps: float
    size: int
    num_frames: int
    source_frames: tuple[int, ...]
    start_seconds: float
    pads: tuple[int, int, int, int]
    audio_offset: int = 0  # frames by which the speech was taken later than the frames (sync correction)

    def to_json(self) -> str:
        data = asdict(self)
        data["source_frames"] = list(self.source_frames)
        data["pads"] = list(self.pads)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ClipInfo:
        data = json.loads(text)
        data["source_frames"] = tuple(int(i) for i in data["source_frames"])
        data["pads"] = tuple(int(p) for p in data["pads"])
        return cls(**data)


class ClipData:
    """One preprocessed clip: ``len(clip)`` frames, ``clip.frame(i)`` ``(S, S, 3) uint8`` BGR, the
    speech ``clip.audio`` (16 kHz float32) and ``clip.landmarks`` ``(N, 478, 3)`` in crop pixels."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        info = self.folder / "clip.json"
        if not info.is_file():
            raise MediaError(self.folder, "not a preprocessed clip (no clip.json)")
        try:
            self.info = ClipInfo.from_json(info.read_text())
        except (ValueError, KeyError, TypeError):
            raise MediaError(info, "unreadable clip.json") from None

    def __len__(self) -> int:
        return self.info.num_frames

    def frame(self, index: int) -> np.ndarray:
        """Crop ``index`` as ``(S, S, 3) uint8`` BGR (as the reference trainers read it)."""
        with needs("face"):
            import cv2

        path = self.folder / f"{index}.jpg"
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise MediaError(path, "missing or unreadable frame")
        if image.shape[:2] != (self.info.size, self.info.size):
            image = cv2.resize(image, (self.info.size, self.info.size), interpolation=cv2.INTER_AREA)
        return image

    @cached_property
    def audio(self) -> np.ndarray:
        from ..media import load_audio

        return load_audio(self.folder / "audio.wav", SAMPLE_RATE)

    @cached_property
    def landmarks(self) -> np.ndarray:
        path = self.folder / "landmarks.npy"
        if not path.is_file():
            raise MediaError(path, "file not found")
        return np.load(path).astype(np.float32)


def read_filelist(root: str | os.PathLike, split: str) -> list[Path]:
    """The clip folders of ``split`` ("train", "val" or "test") of a preprocessed set."""
    if split not in SPLITS:
        raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    root = Path(root)
    path = root / "filelists" / f"{split}.txt"
    if not path.is_file():
        raise MediaError(path, "file not found (run talkingface preprocess first)")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return [root / name for name in names]


def write_filelists(root: str | os.PathLike, parts: dict[str, list[str]]) -> None:
    """``filelists/{train,val,test}.txt`` (atomically each), one ``'<speaker>/<clip>'`` per line."""

    folder = Path(root) / "filelists"
    folder.mkdir(exist_ok=True)
    for split in SPLITS:
        with atomic_output(folder / f"{split}.txt") as tmp:
            tmp.write_text("".join(f"{name}\n" for name in sorted(parts.get(split, []))))


def check_fractions(fractions: Sequence[float]) -> None:
    """Shares of the speakers for train, val and test: three finite numbers >= 0, some above 0."""
    shares = tuple(fractions)
    if len(shares) != 3 or not all(math.isfinite(f) and f >= 0 for f in shares) or not sum(shares) > 0:
        raise InputError(f"split must be three shares >= 0 with some above 0 (train, val, test), got {shares}")


def split_speakers(speakers: list[str], fractions: tuple[float, float, float], seed: int = 0) -> dict[str, str]:
    """Speaker -> split, by ``fractions`` (train, val, test) of the speakers after a seeded shuffle.
    Every split but train gets at least one speaker once there are three or more."""
    check_fractions(fractions)
    unique = sorted(set(speakers))
    order = list(np.random.default_rng(seed).permutation(len(unique)))
    total = sum(fractions)
    n = len(unique)
    n_val = round(n * fractions[1] / total)
    n_test = round(n * fractions[2] / total)
    if n >= 3:
        n_val = max(n_val, 1) if fractions[1] > 0 else 0
        n_test = max(n_test, 1) if fractions[2] > 0 else 0
    else:
        n_val = n_test = 0
    n_val = min(n_val, max(0, n - 1 - n_test))
    parts = {}
    for rank, k in enumerate(order):
        parts[unique[k]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    return parts


class ClipPool:
    """The clips of a split that training can draw from, each decoded once on first use and kept in
    memory: frames ``(N, S, S, 3)`` uint8 BGR (resized to ``size`` when given) and frame i's Wav2Lip mel
    window ``(N, 80, 16)``.

    Folders that are not clips, and clips shorter than ``min_frames``, are left out and listed in
    ``skipped``; a clip whose frames turn out unreadable decodes as empty (its samples are passed over).
    """

    def __init__(
        self, folders: Sequence[str | os.PathLike], min_frames: int, short: str = "too short", size: int | None = None
    ):
        self.clips: list[ClipData] = []
        self.skipped: list[str] = []
        for folder in folders:
            try:
                clip = ClipData(folder)
            except TalkingFaceError as error:
                self.skipped.append(str(error))
                continue
            if len(clip) >= min_frames:
                self.clips.append(clip)
            else:
                self.skipped.append(f"{folder}: {len(clip)} frames, {short}")
        if not self.clips:
            raise InputError(f"no usable clips (each needs {min_frames} frames or more)")
        self.size = size
        self._decoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.clips)

    def decoded(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames and mel windows of clip ``k`` (both empty if the clip cannot be read)."""
        if k not in self._decoded:
            from ..errors import TalkingFaceError
            from ..features import mel_windows, wav2lip_mel

            clip = self.clips[k]
            try:
                frames = np.stack([clip.frame(i) for i in range(len(clip))])
                if self.size is not None and frames.shape[1] != self.size:
                    from ..media import resize_image

                    frames = np.stack([resize_image(f, self.size, self.size) for f in frames])
                mels = mel_windows(wav2lip_mel(clip.audio), len(clip), clip.info.fps).astype(np.float32)
            except TalkingFaceError:
                frames = np.zeros((0, clip.info.size, clip.info.size, 3), np.uint8)
                mels = np.zeros((0, 80, 16), np.float32)
            self._decoded[k] = (frames, mels)
        return self._decoded[k]
