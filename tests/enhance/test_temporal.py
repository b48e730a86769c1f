"""Restoring the faces of a real clip without flicker. The restorer here stands in for GFPGAN's
behaviour: it sharpens, and it shimmers (fresh noise on every call), as a per-frame restorer does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import in_shared

from talkingface.enhance.align import face_transform, five_points, paste_face, soft_mask, warp_face
from talkingface.enhance.temporal import TemporalConfig
from talkingface.enhance.video import restore_video
from talkingface.errors import InputError
from talkingface.metrics.lipsync import compensated_flicker, mouth_boxes, mouth_sharpness

pytestmark = pytest.mark.slow
GRID_CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips" / "rizkiarm__LipNet__bbaf2n.mpg"


@pytest.fixture(scope="module")
def clip():
    from talkingface.face.tracking import FaceTracker
    from talkingface.media import read_frames

    frames = np.stack(list(read_frames(in_shared(GRID_CLIP))))[:50]
    landmarks = FaceTracker().track_video(GRID_CLIP).target("largest").landmarks[:50]
    return frames, landmarks


def shimmering_restorer(seed: int = 0):
    import cv2

    rng = np.random.default_rng(seed)

    def restore(face: np.ndarray) -> np.ndarray:
        sharp = cv2.addWeighted(face, 2.0, cv2.GaussianBlur(face, (0, 0), 2.0), -1.0, 0)
        noisy = sharp.astype(np.float32) + rng.normal(0, 6, face.shape[:2])[..., None]
        return np.clip(noisy, 0, 255).astype(np.uint8)

    return restore


def test_steadied_restoration_is_sharper_without_the_per_frame_flicker(clip):
    frames, landmarks = clip
    boxes = mouth_boxes(landmarks)
    original = compensated_flicker(frames, boxes), mouth_sharpness(frames, boxes)
    restore = shimmering_restorer()
    naive = np.stack(
        [
            paste_face(f, restore(warp_face(f, t)), t, soft_mask())
            for f, t in ((f, face_transform(five_points(lm))) for f, lm in zip(frames, landmarks))
        ]
    )
    naive_flicker = compensated_flicker(naive, boxes)
    ours = np.stack(list(restore_video(frames, landmarks, shimmering_restorer())))
    ours_flicker, ours_sharpness = compensated_flicker(ours, boxes), mouth_sharpness(ours, boxes)
    assert naive_flicker > 1.5 * original[0]  # restoring frame by frame flickers
    assert ours_flicker < 0.75 * naive_flicker and ours_sharpness > 1.3 * original[1]
    # With keyframes every 3rd frame the restoration is carried along the flow: no more flicker than
    # the original video at all, and still sharper.
    keyed = np.stack(list(restore_video(frames, landmarks, shimmering_restorer(), TemporalConfig(every=3))))
    assert compensated_flicker(keyed, boxes) <= original[0] and mouth_sharpness(keyed, boxes) > 1.2 * original[1]
    assert ours.shape == frames.shape


def test_frames_without_a_face_pass_through(clip):
    frames, landmarks = clip
    gone = landmarks.copy()
    gone[10:15] = np.nan
    out = list(restore_video(frames[:20], gone[:20], lambda face: face // 2))
    assert all(np.array_equal(out[t], frames[t]) for t in range(10, 15))
    assert not np.array_equal(out[5], frames[5])
    with pytest.raises(InputError, match="region"):
        TemporalConfig(region="eyes")
