"""Vertex sequences as files: an OBJ per frame, or one NumPy array in VOCASET's layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_output


def write_npy(path: str | os.PathLike, frames: np.ndarray) -> Path:
    """``(T, V, 3)`` vertices as a ``(T, V*3) float32`` .npy - VOCASET's (and FaceFormer's) layout."""
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 3 or frames.shape[2] != 3:
        raise InputError(f"frames must be (T, V, 3), got {frames.shape}")
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, frames.reshape(len(frames), -1))
    return Path(path)


def write_obj_sequence(folder: str | os.PathLike, frames: np.ndarray, faces: np.ndarray, prefix: str = "frame") -> Path:
    """One OBJ per frame, ``folder/frame_00000.obj ...``; the folder appears complete or not at all."""
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 3 or frames.shape[2] != 3:
        raise InputError(f"frames must be (T, V, 3), got {frames.shape}")
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise InputError(f"{target}: folder exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        face_lines = "\n".join(f"f {a + 1} {b + 1} {c + 1}" for a, b, c in np.asarray(faces)) + "\n"
        for i, vertices in enumerate(frames):
            text = "\n".join(f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices) + "\n" + face_lines
            (staging / f"{prefix}_{i:05d}.obj").write_text(text)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
