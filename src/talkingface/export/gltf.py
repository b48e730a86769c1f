"""glTF 2.0 binary (.glb) with morph targets and an animation of their weights.

One mesh with POSITION/NORMAL and indices; one morph target per shape (POSITION deltas), named in
``mesh.extras.targetNames`` (the convention Blender, three.js and Babylon.js read); one animation
whose sampler drives the node's ``weights`` over time. :func:`write_glb_vertex_cache` stores a raw
vertex sequence the same way, one target per frame, switched by a STEP animation.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from ..animation.mesh import vertex_normals
from ..errors import InputError
from ..files import atomic_output

_FLOAT, _UINT = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


class _Builder:
    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, component: int, target: int | None = None, bounds: bool = False) -> int:
        data = np.ascontiguousarray(array).tobytes()
        while len(self.blob) % 4:
            self.blob += b"\0"
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        self.blob += data
        count = array.shape[0] if array.ndim > 1 or kind == "SCALAR" else 1
        accessor = {"bufferView": len(self.views) - 1, "componentType": component, "count": int(count), "type": kind}
        if bounds:
            flat = array.reshape(count, -1)
            accessor["min"] = [float(v) for v in flat.min(0)]
            accessor["max"] = [float(v) for v in flat.max(0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def write_glb(
    path: str | os.PathLike,
    vertices: np.ndarray,
    faces: np.ndarray,
    targets: np.ndarray,
    target_names: list[str],
    times: np.ndarray,
    weights: np.ndarray,
    interpolation: str = "LINEAR",
    name: str = "face",
    rotations: np.ndarray | None = None,
    translations: np.ndarray | None = None,
) -> Path:
    """Write a .glb.

    Args:
        vertices: ``(V, 3)`` neutral positions (metres, y up).
        faces: ``(F, 3)`` triangles.
        targets: ``(K, V, 3)`` morph target displacements.
        target_names: K names.
        times: ``(T,)`` seconds, increasing.
        weights: ``(T, K)`` morph weights per time.
        interpolation: "LINEAR" or "STEP".
        rotations, translations: ``(T, 4)`` unit quaternions (x, y, z, w) and ``(T, 3)`` offsets of
            the face's node per time (a head turning), both or neither.
    """

    vertices = np.asarray(vertices, np.float32)
    targets = np.asarray(targets, np.float32)
    weights = np.asarray(weights, np.float32)
    times = np.asarray(times, np.float32)
    if targets.shape[1:] != vertices.shape or len(target_names) != len(targets):
        raise InputError(f"targets must be (K, {len(vertices)}, 3) with K names, got {targets.shape}")
    if weights.shape != (len(times), len(targets)) or len(times) == 0:
        raise InputError(f"weights must be (T, K) = ({len(times)}, {len(targets)}), got {weights.shape}")
    if interpolation not in ("LINEAR", "STEP"):
        raise InputError(f"interpolation must be LINEAR or STEP, got {interpolation!r}")
    b = _Builder()
    position = b.add(vertices, "VEC3", _FLOAT, _ARRAY_BUFFER, bounds=True)
    normal = b.add(vertex_normals(vertices, faces).astype(np.float32), "VEC3", _FLOAT, _ARRAY_BUFFER)
    indices = b.add(np.asarray(faces, np.uint32).reshape(-1), "SCALAR", _UINT, _ELEMENT_ARRAY_BUFFER)
    morphs = [{"POSITION": b.add(t, "VEC3", _FLOAT, _ARRAY_BUFFER, bounds=True)} for t in targets]
    samplers, channels = _animation(b, times, weights, interpolation, rotations, translations)
    document = {
        "asset": {"version": "2.0", "generator": "talkingface"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name}],
        "meshes": [
            {
                "name": name,
                "primitives": [
                    {
                        "attributes": {"POSITION": position, "NORMAL": normal},
                        "indices": indices,
                        "targets": morphs,
                        "mode": 4,
                    }
                ],
                "weights": [0.0] * len(targets),
                "extras": {"targetNames": list(target_names)},
            }
        ],
        "animations": [
            {
                "name": "speech",
                "samplers": samplers,
                "channels": channels,
            }
        ],
    }
    return write_gltf_document(path, document, b)


def _animation(
    b: _Builder,
    times: np.ndarray,
    weights: np.ndarray,
    interpolation: str,
    rotations: np.ndarray | None,
    translations: np.ndarray | None,
) -> tuple[list[dict], list[dict]]:
    """The samplers and channels of node 0's animation: its morph weights, and its rotation and
    translation where given."""
    if (rotations is None) != (translations is None):
        raise InputError("give both rotations and translations, or neither")
    time_accessor = b.add(times, "SCALAR", _FLOAT, bounds=True)
    weight_accessor = b.add(weights.reshape(-1), "SCALAR", _FLOAT)
    samplers = [{"input": time_accessor, "output": weight_accessor, "interpolation": interpolation}]
    channels = [{"sampler": 0, "target": {"node": 0, "path": "weights"}}]
    if rotations is not None and translations is not None:
        rotations = np.asarray(rotations, np.float32)
        translations = np.asarray(translations, np.float32)
        if rotations.shape != (len(times), 4) or translations.shape != (len(times), 3):
            raise InputError(f"rotations must be (T, 4) and translations (T, 3) for T = {len(times)}")
        for path_name, values, kind in (("rotation", rotations, "VEC4"), ("translation", translations, "VEC3")):
            samplers.append(
                {"input": time_accessor, "output": b.add(values, kind, _FLOAT), "interpolation": interpolation}
            )
            channels.append({"sampler": len(samplers) - 1, "target": {"node": 0, "path": path_name}})
    return samplers, channels


def write_gltf_document(path: str | os.PathLike, document: dict, b: _Builder) -> Path:
    """``document`` with the builder's accessors, views and buffer, as a .glb file."""
    document = {**document, "accessors": b.accessors, "bufferViews": b.views, "buffers": [{"byteLength": len(b.blob)}]}
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 4)
    blob = bytes(b.blob) + b"\0" * (-len(b.blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        f.write(struct.pack("<4sII", b"glTF", 2, total))
        f.write(struct.pack("<I4s", len(text), b"JSON") + text)
        f.write(struct.pack("<I4s", len(blob), b"BIN\0") + blob)
    return Path(path)


def write_glb_vertex_cache(
    path: str | os.PathLike, frames: np.ndarray, faces: np.ndarray, fps: float, reference: np.ndarray | None = None
) -> Path:
    """A raw vertex sequence ``(T, V, 3)`` as a .glb: one morph target per frame, STEP-animated.

    ``reference`` is the base mesh (default: the first frame). Suits short clips; long ones grow by
    ``T * V * 12`` bytes plus a ``T x T`` weight table.
    """
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 3 or frames.shape[2] != 3:
        raise InputError(f"frames must be (T, V, 3), got {frames.shape}")
    base = frames[0] if reference is None else np.asarray(reference, np.float32)
    count = len(frames)
    times = np.arange(count, dtype=np.float32) / float(fps)
    return write_glb(
        path,
        base,
        faces,
        frames - base,
        [f"frame_{i:05d}" for i in range(count)],
        times,
        np.eye(count, dtype=np.float32),
        interpolation="STEP",
    )
