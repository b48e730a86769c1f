"""Linear blendshape bases: a neutral mesh plus one displacement field per ARKit shape.

:func:`face_basis` builds the ARKit mouth, jaw and eyelid shapes of the built-in face from the landmark
rig, the way ARKit defines them: each shape on its own at full weight, except ``mouthClose``, which is
the correction that closes the lips on top of ``jawOpen``. A basis evaluates curves to vertex
sequences, exports as glTF morph targets, and transfers to other meshes
(:mod:`talkingface.animation.transfer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..speech.visemes import ARKIT_52
from .curves import AnimationCurves
from .mesh import Mesh, face_template
from .rig import LandmarkRig

_LIPS = slice(ARKIT_52.index("mouthRollLower"), ARKIT_52.index("mouthUpperUpRight") + 1)
#: The ARKit shapes the built-in face has, in its basis's order: the jaw and mouth, ARKit's ten lip shapes
#: from mouthRollLower to mouthUpperUpRight, the blinks and the brows.
RIG_SHAPES = (
    *("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker"),
    *("mouthStretchLeft", "mouthStretchRight", "mouthSmileLeft", "mouthSmileRight"),
    *ARKIT_52[_LIPS],
    *("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
)


@dataclass
class BlendshapeBasis:
    """``vertices = mesh.vertices + sum_k w_k * deltas[k]``.

    Attributes:
        mesh: the neutral mesh.
        names: shape names (ARKit).
        deltas: ``(K, V, 3) float32`` displacement of each shape at weight 1.
    """

    mesh: Mesh
    names: tuple[str, ...]
    deltas: np.ndarray

    def __post_init__(self):
        self.deltas = np.asarray(self.deltas, np.float32)
        if self.deltas.shape != (len(self.names), self.mesh.num_vertices, 3):
            raise InputError(
                f"deltas must be ({len(self.names)}, {self.mesh.num_vertices}, 3), got {self.deltas.shape}"
            )

    def weights_from(self, curves: AnimationCurves) -> np.ndarray:
        """``(T, K)`` weights of this basis's shapes taken from ``curves`` (missing ones are 0).

        ``mouthClose`` is a correction measured at full ``jawOpen``; the rig applies it in proportion
        to the jaw's opening, so its weight here is ``mouthClose * jawOpen`` (a closed jaw with
        ``mouthClose`` 1 - a bilabial - keeps the lips together instead of pushing one through the other):
        :meth:`AnimationCurves.arkit_weights`, as every file holds them.
        """
        out = np.zeros((curves.num_frames, len(self.names)), np.float32)
        weights = curves.arkit_weights()
        for k, name in enumerate(self.names):
            if name in curves.names:
                out[:, k] = weights.channel(name)
        return out

    def evaluate(self, weights: np.ndarray) -> np.ndarray:
        """``(T, K)`` or ``(K,)`` weights -> ``(T, V, 3)`` or ``(V, 3)`` vertices."""
        w = np.asarray(weights, np.float32)
        if w.shape[-1] != len(self.names):
            raise InputError(f"weights must have {len(self.names)} columns, got {w.shape}")
        return self.mesh.vertices + np.tensordot(w, self.deltas, axes=(-1, 0))

    def fit(self, frames: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
        """Weights ``(T, K)`` in [0, 1] whose shapes best explain ``frames`` ``(T, V, 3)`` (bounded
        least squares on the displacements from the neutral mesh, over ``region`` vertices if given):
        ARKit curves for a vertex animation made by another method."""
        from scipy.optimize import lsq_linear

        frames = np.asarray(frames, np.float64)
        if frames.ndim != 3 or frames.shape[1:] != self.deltas.shape[1:]:
            raise InputError(f"frames must be (T, {self.mesh.num_vertices}, 3), got {frames.shape}")
        rows = slice(None) if region is None else np.asarray(region)
        a = self.deltas[:, rows].reshape(len(self.names), -1).T.astype(np.float64)
        used = np.abs(a).max(axis=0) > 0
        b = (frames[:, rows] - self.mesh.vertices[rows]).reshape(len(frames), -1)
        # A little ridge picks the smallest weights among equal fits (some shapes combine into others).
        ridge = 1e-3 * np.linalg.norm(a[:, used], axis=0).mean() * np.eye(int(used.sum()))
        a = np.vstack([a[:, used], ridge])
        out = np.zeros((len(frames), len(self.names)), np.float32)
        for t in range(len(frames)):
            out[t, used] = lsq_linear(
                a, np.concatenate([b[t], np.zeros(len(ridge))]), bounds=(0.0, 1.0), method="bvls"
            ).x
        return out


def face_basis(template: Mesh | None = None) -> BlendshapeBasis:
    """The ARKit shapes of the landmark rig on the built-in face (478 vertices)."""

    mesh = template or face_template()
    if mesh.num_vertices != 478:
        raise InputError("face_basis needs the 478-vertex face; transfer it to other meshes")
    to_image = np.array([1.0, -1.0, -1.0], np.float32)  # y up, z to viewer <-> image y down, z away
    rig = LandmarkRig(mesh.vertices * to_image)
    neutral = rig() * to_image
    jaw_open = rig({"jawOpen": 1.0}) * to_image
    deltas = []
    for name in RIG_SHAPES:
        if name == "mouthClose":
            deltas.append(rig({"jawOpen": 1.0, "mouthClose": 1.0}) * to_image - jaw_open)
        else:
            deltas.append(rig({name: 1.0}) * to_image - neutral)
    return BlendshapeBasis(Mesh(neutral, mesh.faces, mesh.groups, mesh.name), RIG_SHAPES, np.stack(deltas))
