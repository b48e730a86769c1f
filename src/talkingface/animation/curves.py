"""Animation curves: named channels sampled at a frame rate, with exports that tools read.

Both hold the weights an ARKit rig takes (:meth:`AnimationCurves.arkit_weights`: ``mouthClose`` never
above ``jawOpen``), as do the glTF and every animator's file made from the same curves.

- JSON: ``{"fps", "names", "weights": "arkit", "frames": [[...], ...], ...}``.
- CSV in the Live Link Face layout: ``Timecode, BlendShapeCount`` then the 52 ARKit blendshapes
  (capitalised, in the app's column order) and 9 head/eye rotations (head yaw and pitch from a lively face's
  head motion) - what Unreal's and Blender's Live Link Face importers read.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MediaError
from ..files import atomic_output, read_json
from ..speech.visemes import ARKIT_52


def _live_link_order() -> tuple[str, ...]:
    """The 52 blendshapes in the order of Live Link Face's CSV columns: Apple's, except that the app
    writes ``JawRight`` before ``JawLeft`` and ``MouthRight`` before ``MouthLeft`` (importers that read
    by position depend on it)."""
    order = list(ARKIT_52)
    for left, right in (("jawLeft", "jawRight"), ("mouthLeft", "mouthRight")):
        i, j = order.index(left), order.index(right)
        order[i], order[j] = right, left
    return tuple(order)


LIVE_LINK_52 = _live_link_order()


def arkit_weights(names: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    """A copy of ``(T, len(names))`` curve values as an ARKit rig takes them (see
    :meth:`AnimationCurves.arkit_weights`): ``mouthClose`` times ``jawOpen``, where both are named."""
    weights = np.array(values, np.float32)
    if "mouthClose" in names and "jawOpen" in names:
        weights[:, names.index("mouthClose")] *= weights[:, names.index("jawOpen")]
    return weights


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

    def arkit_weights(self) -> AnimationCurves:
        """These curves as the weights an ARKit rig takes, which every file holds. Here ``mouthClose``
        is the share of the jaw's opening that the lips close again (how our rigs apply it); ARKit's
        weight is that share times ``jawOpen``, so it never exceeds ``jawOpen`` (a closure at a closed
        jaw would push the lips through each other)."""
        if "mouthClose" not in self.names or "jawOpen" not in self.names:
            return self
        return replace(self, values=arkit_weights(self.names, self.values))

    @classmethod
    def from_arkit_weights(cls, curves: AnimationCurves) -> AnimationCurves:
        """The inverse of :meth:`arkit_weights` (where ``jawOpen`` is 0 the share is 0: it closes
        nothing there either way)."""
        if "mouthClose" not in curves.names or "jawOpen" not in curves.names:
            return curves
        values = curves.values.copy()
        close, jaw = curves.names.index("mouthClose"), curves.names.index("jawOpen")
        opened = values[:, jaw] > 1e-6
        values[:, close] = np.where(opened, values[:, close] / np.where(opened, values[:, jaw], 1.0), 0.0)
        return replace(curves, values=np.clip(values, 0.0, None).astype(np.float32))

    # -- export ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON document of :meth:`save_json` (the weights an ARKit rig takes: :meth:`arkit_weights`)."""
        data = {
            "fps": float(self.fps),
            "fps_exact": str(self.fps),
            "num_frames": self.num_frames,
            "names": list(self.names),
            "weights": "arkit",
            "frames": np.round(self.arkit_weights().values, 5).tolist(),
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
            "weights": "arkit",
        }

        def rows(array: np.ndarray):
            yield "["
            for k, row in enumerate(np.round(array, 5)):
                yield ("," if k else "") + json.dumps(row.tolist(), separators=compact)
            yield "]"

        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(head, separators=compact)[:-1] + ',"frames":')
            f.writelines(rows(self.arkit_weights().values))
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
            curves = cls(fps, tuple(data["names"]), np.asarray(data["frames"], np.float32), extra, names)
            return cls.from_arkit_weights(curves) if data.get("weights") == "arkit" else curves
        except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise InputError(f"{type(error).__name__}: {error}") from None

    def to_live_link_csv(self) -> str:
        """Live Link Face CSV text (61 channels of :meth:`arkit_weights`; ARKit channels missing from ``names``
        are 0). A lively
        face's head motion (extra ``head``, degrees) fills ``HeadYaw`` and ``HeadPitch`` as Live Link
        Face scales them, -1..1 for a quarter turn either way; roll and the eyes are 0."""
        index = {n: i for i, n in enumerate(self.names)}
        weights = self.arkit_weights().values
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in LIVE_LINK_52] + list(_LIVE_LINK_EXTRA)
        writer.writerow(header)
        nominal = math.ceil(self.fps)  # frame numbers within a second (30 for 29.97)
        head = np.zeros((self.num_frames, 3))
        if "head" in self.extra:  # yaw and pitch in degrees -> Live Link Face's -1..1 (a quarter turn)
            head[:, :2] = np.clip(np.asarray(self.extra["head"], np.float64)[:, :2] / 90.0, -1.0, 1.0)
        for i in range(self.num_frames):
            row = [_timecode(i, self.fps, nominal), len(ARKIT_52) + len(_LIVE_LINK_EXTRA)]
            row += [f"{weights[i, index[n]]:.5f}" if n in index else "0" for n in LIVE_LINK_52]
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
