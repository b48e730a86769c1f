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
    np.save(folder / "landmarks.npy", np.zeros((frames, 478, 3), np.float16))
    info = ClipInfo(str(folder), folder.parent.name, 25.0, 96, frames, tuple(range(frames)), 0.0, (0, 10, 0, 0))
    (folder / "clip.json").write_text(info.to_json())


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
