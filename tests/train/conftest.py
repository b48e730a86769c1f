"""A small set in the preprocessed layout whose mouths open with the sound, for the 2D recipes."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.data.lrs2 import ClipInfo, write_filelists


def write_clip(folder, rng, frames=40):
    """Frames whose dark mouth opens with the loudness of a tone that comes and goes."""
    import cv2
    import soundfile

    folder.mkdir(parents=True)
    loud = np.repeat(rng.random(frames // 4 + 1) > 0.5, 4)[:frames].astype(float)
    t = np.arange(frames * 640) / 16000
    audio = 0.5 * np.sin(2 * np.pi * 220 * t) * np.repeat(loud, 640) + 0.01 * rng.standard_normal(len(t))
    soundfile.write(folder / "audio.wav", audio.astype(np.float32), 16000, subtype="PCM_16")
    for i in range(frames):
        image = np.full((96, 96, 3), 170, np.uint8)
        height = 2 + int(18 * loud[i])
        image[60 : 60 + height, 30:66] = 30
        cv2.imwrite(str(folder / f"{i}.jpg"), image)
    np.save(folder / "landmarks.npy", face_landmarks(loud))
    info = ClipInfo(str(folder), folder.parent.name, 25.0, 96, frames, tuple(range(frames)), 0.0, (0, 10, 0, 0))
    (folder / "clip.json").write_text(info.to_json())


def face_landmarks(opening: np.ndarray) -> np.ndarray:
    """``(N, 478, 3)`` landmarks of the built-in face in a 96 px crop, the lower lip lowered by
    ``opening`` (0-1) in each frame."""
    from talkingface.animation.mesh import face_template
    from talkingface.features.lips import lip_points

    vertices = face_template().vertices.astype(np.float64)
    xy = np.stack([vertices[:, 0], -vertices[:, 1]], axis=1)  # image rows grow downwards
    xy = (xy - xy.min(0)) / (xy.max(0) - xy.min(0)).max() * 60 + 18
    lips = lip_points()
    lower = lips[xy[lips, 1] > xy[lips, 1].mean()]
    out = np.repeat(xy[None], len(opening), axis=0)
    out[:, lower, 1] += 6 * np.asarray(opening, np.float64)[:, None]
    return np.concatenate([out, np.zeros((*out.shape[:2], 1))], axis=2).astype(np.float16)


@pytest.fixture(scope="module")
def sync_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("syncset")
    rng = np.random.default_rng(0)
    names = []
    for k in range(6):
        write_clip(root / f"s{k}" / "c", rng)
        names.append(f"s{k}/c")
    write_filelists(root, {"train": names[:4], "val": names[4:], "test": []})
    return root
