"""The built-in neutral face's 478 points (the landmark topology, closed mouth, metres, y up, z towards
the viewer), made by ``scripts/make_face_template.py``. Lower layers that align landmarks with it (the
lips seen from the front) read the points here; ``animation.mesh.face_template`` makes the mesh."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def template_points() -> np.ndarray:
    """``(478, 3) float32`` (read once; not writable)."""
    data = json.loads((Path(__file__).parent / "face_template.json").read_text())
    points = np.asarray(data["vertices"], np.float32)
    points.setflags(write=False)
    return points
