"""The 478-point face-mesh topology: triangles, named contours and points.

Generated from mediapipe's connection sets by ``scripts/make_face_topology.py`` into
``topology.json``, so using it needs no mediapipe. Landmark index ``i`` means the same facial point
in every frame and on the built-in mesh template; "left" and "right" are the subject's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError

NUM_LANDMARKS = 478


@dataclass(frozen=True)
class FaceTopology:
    """Attributes:
    triangles: ``(852, 3) int64`` consistently wound faces of the tessellation (irises excluded).
    groups: ordered landmark indices of each named region: ``lips_outer``, ``lips_inner``,
        ``face_oval``, ``jaw`` (right cheek -> chin -> left cheek), ``right_eye``, ``left_eye``,
        ``right_eyebrow``, ``left_eyebrow``, ``right_iris``/``left_iris`` (centre first), ``nose``.
    points: single named landmarks (``nose_tip``, ``chin``, ``mouth_left``, ...).
    """

    triangles: np.ndarray
    groups: dict[str, np.ndarray]
    points: dict[str, int]

    def group(self, name: str) -> np.ndarray:
        try:
            return self.groups[name]
        except KeyError:
            raise InputError(f"unknown landmark group {name!r}; known: {', '.join(sorted(self.groups))}") from None


@lru_cache(maxsize=1)
def face_topology() -> FaceTopology:
    """The topology (loaded once)."""
    data = json.loads((Path(__file__).parent / "topology.json").read_text())
    groups = {name: np.asarray(indices, dtype=np.int64) for name, indices in data["groups"].items()}
    for array in groups.values():
        array.setflags(write=False)
    triangles = np.asarray(data["triangles"], dtype=np.int64)
    triangles.setflags(write=False)
    return FaceTopology(triangles=triangles, groups=groups, points=dict(data["points"]))
