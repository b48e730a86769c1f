"""Scenes made from the real photo: faces placed, moved, hidden and cut, written as real videos."""

from __future__ import annotations

import numpy as np
import pytest

# Where mediapipe's landmarks of the 512x512 photo lie (checked by eye on a drawn overlay).
PHOTO_POINTS = {
    1: (223.1, 130.8),  # nose tip
    152: (221.9, 177.3),  # chin
    61: (202.2, 139.1),  # mouth corner, image left
    291: (245.2, 140.6),  # mouth corner, image right
    468: (203.4, 101.3),  # iris centre, image left
    473: (246.6, 103.5),  # iris centre, image right
}


def place(
    photo: np.ndarray,
    canvas: tuple[int, int],
    x: int,
    y: int,
    scale: float = 1.0,
    background: int = 110,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The photo scaled by ``scale`` with its top-left corner at (x, y) on a ``(width, height)`` canvas."""
    from talkingface.media import resize_image

    width, height = canvas
    if out is None:
        out = np.full((height, width, 3), background, np.uint8)
    image = photo if scale == 1 else resize_image(photo, round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    h, w = image.shape[:2]
    xa, ya, xb, yb = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if xb > xa and yb > ya:
        out[ya:yb, xa:xb] = image[ya - y : yb - y, xa - x : xb - x]
    return out


@pytest.fixture(scope="session")
def track_video(tmp_path_factory):
    """Factory: write ``frames`` as a video once per name and return (path, TrackingResult)."""
    from talkingface.face import FaceTracker, TrackerConfig
    from talkingface.media import write_video

    folder = tmp_path_factory.mktemp("face_videos")
    cache: dict = {}

    def make(name: str, frames_fn, fps=25, config: TrackerConfig | None = None):
        if name not in cache:
            path = write_video(folder / f"{name}.mp4", frames_fn(), fps)
            cache[name] = (path, FaceTracker(config or TrackerConfig()).track_video(path))
        return cache[name]

    return make
