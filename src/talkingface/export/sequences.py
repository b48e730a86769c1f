"""Vertex sequences as files: an OBJ per frame, or one NumPy array in VOCASET's layout."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_folder, atomic_output


def write_npy(path: str | os.PathLike, frames, count: int | None = None) -> Path:
    """Vertices as a ``(T, V*3) float32`` .npy - VOCASET's (and FaceFormer's) layout. ``frames``: a
    ``(T, V, 3)`` array, or an iterable of ``count`` ``(V, 3)`` frames, written as they come (a long
    sequence never sits in memory whole)."""
    if count is None or isinstance(frames, np.ndarray):
        array = np.asarray(frames, np.float32)
        if array.ndim != 3 or array.shape[2] != 3:
            raise InputError(f"frames must be (T, V, 3), got {array.shape}")
        with atomic_output(path) as tmp, open(tmp, "wb") as f:
            np.save(f, array.reshape(len(array), -1))
        return Path(path)
    iterator = iter(frames)
    first = np.asarray(next(iterator, np.zeros((0, 3))), np.float32)
    if count < 1 or first.ndim != 2 or first.shape[1] != 3 or len(first) == 0:
        raise InputError(f"frames must be {count} (V, 3) vertex arrays, got {first.shape} first")
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False}
        np.lib.format.write_array_header_1_0(f, {**header, "shape": (count, first.size)})
        written = 0
        for frame in itertools.chain([first], iterator):
            vertices = np.ascontiguousarray(frame, "<f4")
            if vertices.shape != first.shape:
                raise InputError(f"frame {written} is {vertices.shape}, expected {first.shape}")
            f.write(vertices.tobytes())
            written += 1
        if written != count:
            raise InputError(f"{written} frames written, {count} announced")
    return Path(path)


def write_obj_sequence(folder: str | os.PathLike, frames, faces: np.ndarray, prefix: str = "frame") -> Path:
    """One OBJ per frame of ``frames`` (a ``(T, V, 3)`` array or an iterable of ``(V, 3)`` frames),
    ``folder/frame_00000.obj ...``; the folder appears complete or not at all."""
    if isinstance(frames, np.ndarray) and (frames.ndim != 3 or frames.shape[2] != 3):
        raise InputError(f"frames must be (T, V, 3), got {frames.shape}")
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise InputError(f"{target}: folder exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    face_lines = "\n".join(f"f {a + 1} {b + 1} {c + 1}" for a, b, c in np.asarray(faces)) + "\n"
    with atomic_folder(target) as staging:
        for i, vertices in enumerate(frames):
            vertices = np.asarray(vertices, np.float32)
            if vertices.ndim != 2 or vertices.shape[1] != 3:
                raise InputError(f"frame {i} must be (V, 3) vertices, got {vertices.shape}")
            text = "\n".join(f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices) + "\n" + face_lines
            (staging / f"{prefix}_{i:05d}.obj").write_text(text)
    return target
