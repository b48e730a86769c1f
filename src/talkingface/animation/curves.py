"""Animation curves: named channels sampled at a frame rate, with exports that tools read.

- JSON: ``{"fps", "names", "frames": [[...], ...], ...}``.
- CSV in the Live Link Face layout: ``Timecode, BlendShapeCount`` then the 52 ARKit blendshapes
  (capitalised, Apple's order) and 9 head/eye rotations (head yaw and pitch from a lively face's
  head motion) - what Unreal's and Blender's Live Link Face importers read.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MediaError
from ..files import atomic_output, read_json
from ..speech.visemes import ARKIT_52

_LIVE_LINK_EXTRA = (
    "HeadYaw",
    "HeadPitch",
    "HeadRoll",
    "LeftEyeYaw",
    "LeftEyePitch",
    "LeftEyeRoll",
    "RightEyeYaw",
    "RightEyePitch",
    "RightEyeRoll",
)


@dataclass
class AnimationCurves:
    """Per-frame values of named channels.

    Attributes:
        fps: frames per second; frame ``i`` is at ``i / fps`` seconds.
        names: channel names, e.g. the 52 ARKit blendshapes.
        values: ``(T, len(names)) float32``, blendshape weights in [0, 1].
        extra: further named per-frame arrays ``(T, ...)`` (viseme activations, JA/LI field...).
        extra_names: channel names of the 2-D extras.
    """

    fps: Fraction
    names: tuple[str, ...]
    values: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    extra_names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        self.fps = Fraction(self.fps)
        self.values = np.asarray(self.values, np.float32)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise InputError(f"values must be (T, {len(self.names)}), got {self.values.shape}")

    @property
    def num_frames(self) -> int:
        return len(self.values)

    @property
    def duration(self) -> float:
        return self.num_frames / float(self.fps)

    def channel(self, name: str) -> np.ndarray:
        """``(T,)`` values of one channel."""
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise InputError(f"no channel {name!r}") from None

    def as_dict(self, frame: int) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, self.values[frame])}

    # -- export ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {
            "fps": float(self.fps),
            "fps_exact": str(self.fps),
            "num_frames": self.num_frames,
            "names": list(self.names),
            "frames": np.round(self.values, 5).tolist(),
        }
        for key, array in self.extra.items():
            data[key] = {"names": list(self.extra_names.get(key, ())), "frames": np.round(array, 5).tolist()}
        return data

    def save_json(self, path: str | os.PathLike) -> Path:
        """:meth:`to_dict` as compact JSON, written a frame at a time (a long take never sits in
        memory as Python lists)."""
        compact = (",", ":")
        head = {
            "fps": float(self.fps),
            "fps_exact": str(self.fps),
            "num_frames": self.num_frames,
            "names": list(self.names),
        }

        def rows(array: np.ndarray):
            yield "["
            for k, row in enumerate(np.round(array, 5)):
                yield ("," if k else "") + json.dumps(row.tolist(), separators=compact)
            yield "]"

        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(head, separators=compact)[:-1] + ',"frames":')
            f.writelines(rows(self.values))
            for key, array in self.extra.items():
                f.write(
                    f",{json.dumps(key)}:"
                    + '{"names":'
                    + json.dumps(list(self.extra_names.get(key, ())), separators=compact)
                )
                f.write(',"frames":')
                f.writelines(rows(array))
                f.write("}")
            f.write("}")
        return Path(path)

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> AnimationCurves:
        """Curves saved by :meth:`save_json`; a file that is not such a document is a one-line error."""
        try:
            return cls.from_dict(read_json(path, "curves file"))
        except InputError as error:
            raise MediaError(path, f"not a curves file ({error})") from None

    @classmethod
    def from_dict(cls, data: Any) -> AnimationCurves:
        """The curves of a :meth:`to_dict` document."""
        try:
            fps = Fraction(data.get("fps_exact") or data["fps"])
            extra = {
                k: np.asarray(v["frames"], np.float32) for k, v in data.items() if isinstance(v, dict) and "frames" in v
            }
            names = {k: tuple(v["names"]) for k, v in data.items() if isinstance(v, dict) and "names" in v}
            return cls(fps, tuple(data["names"]), np.asarray(data["frames"], np.float32), extra, names)
        except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise InputError(f"{type(error).__name__}: {error}") from None

    def to_live_link_csv(self) -> str:
        """Live Link Face CSV text (61 channels; ARKit channels missing from ``names`` are 0). A lively
        face's head motion (extra ``head``, degrees) fills ``HeadYaw`` and ``HeadPitch`` as Live Link
        Face scales them, -1..1 for a quarter turn either way; roll and the eyes are 0."""
        index = {n: i for i, n in enumerate(self.names)}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in ARKIT_52] + list(_LIVE_LINK_EXTRA)
        writer.writerow(header)
        nominal = math.ceil(self.fps)  # frame numbers within a second (30 for 29.97)
        head = np.zeros((self.num_frames, 3))
        if "head" in self.extra:  # yaw and pitch in degrees -> Live Link Face's -1..1 (a quarter turn)
            head[:, :2] = np.clip(np.asarray(self.extra["head"], np.float64)[:, :2] / 90.0, -1.0, 1.0)
        for i in range(self.num_frames):
            row = [_timecode(i, self.fps, nominal), len(ARKIT_52) + len(_LIVE_LINK_EXTRA)]
            row += [f"{self.values[i, index[n]]:.5f}" if n in index else "0" for n in ARKIT_52]
            row += [f"{v:.5f}" if v else "0" for v in head[i]] + ["0"] * (len(_LIVE_LINK_EXTRA) - 3)
            writer.writerow(row)
        return out.getvalue()

    def save_csv(self, path: str | os.PathLike) -> Path:
        with atomic_output(path) as tmp:
            tmp.write_text(self.to_live_link_csv())
        return Path(path)

    def save(self, path: str | os.PathLike) -> Path:
        """Write by extension: .json or .csv (Live Link Face)."""
        suffix = Path(path).suffix.lower()
        if suffix == ".json":
            return self.save_json(path)
        if suffix == ".csv":
            return self.save_csv(path)
        raise InputError(f"{path}: curves are written as .json or .csv, not {suffix or 'no extension'}")


def _timecode(frame: int, fps: Fraction, nominal: int) -> str:
    """``HH:MM:SS:FF.mmm`` for a frame (FF counts frames within the second; mmm is the sub-frame)."""
    seconds = frame / fps
    whole = int(seconds)
    sub = (seconds - whole) * nominal
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    frames = int(sub)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frames:02d}.{int(round((sub - frames) * 1000)) % 1000:03d}"
