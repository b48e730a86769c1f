"""Lip-sync output measures on real faces: LMD, mouth sharpness and flicker."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.metrics.lipsync import (
    landmark_distance,
    lip_points,
    mouth_boxes,
    mouth_flicker,
    mouth_sharpness,
)


@pytest.fixture(scope="module")
def face(photo):
    from talkingface.face import detect_faces

    return photo, detect_faces(photo, max_faces=1)[0].landmarks


def test_lmd_is_zero_for_the_same_lips_and_ignores_a_shift(face):
    _, landmarks = face
    real = np.repeat(landmarks[None], 3, 0)
    assert landmark_distance(real, real, 512) == 0
    assert landmark_distance(real + 7.0, real, 512) == pytest.approx(0, abs=1e-9)  # a moved crop is not an error
    opened = real.copy()
    lower = lip_points()[len(lip_points()) // 4 :]  # move some lip points down by 4 px of a 96 px crop
    opened[:, lower, 1] += 4 * 512 / 96
    distance = landmark_distance(opened, real, 512)
    assert 0.5 < distance < 4
    gaps = real.copy()
    gaps[1] = np.nan  # a frame without a face is left out
    assert landmark_distance(gaps, real, 512) == 0
    with pytest.raises(InputError, match="one length"):
        landmark_distance(real[:2], real, 512)


def test_blur_lowers_sharpness_and_unsteady_detail_raises_flicker(face):
    import cv2

    photo, landmarks = face
    boxes = np.repeat(mouth_boxes(landmarks[None]), 6, 0)
    steady = np.repeat(photo[None], 6, 0)
    blurred = np.stack([cv2.GaussianBlur(photo, (0, 0), 3) for _ in range(6)])
    assert mouth_sharpness(blurred, boxes) < 0.3 * mouth_sharpness(steady, boxes)
    rng = np.random.default_rng(0)
    shaky = np.stack(
        [np.clip(photo.astype(int) + rng.integers(-12, 13, photo.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    )
    assert mouth_flicker(steady, boxes) == 0
    assert mouth_flicker(shaky, boxes) > 5 * (mouth_flicker(blurred, boxes) + 1e-6)
    with pytest.raises(InputError, match="2 or more frames"):
        mouth_flicker(steady[:1], boxes[:1])


def test_evaluate_lipsync_compares_output_with_the_real_video(make_video, tmp_path, capsys):
    import json

    import cv2

    from talkingface.cli import main
    from talkingface.media import read_frames, write_video

    real = make_video(seconds=1.0, width=320, height=240)
    blurred = write_video(tmp_path / "blurred.mp4", [cv2.GaussianBlur(f, (0, 0), 1.5) for f in read_frames(real)], 25)
    assert (
        main(["evaluate", "lipsync", str(real), "--reference", str(real), "--json", str(tmp_path / "same.json")]) == 0
    )
    same = json.loads((tmp_path / "same.json").read_text())
    assert same["frames"] == 25 and same["lmd"] == 0 and same["sharpness_output"] == same["sharpness_reference"]
    assert (
        main(["evaluate", "lipsync", str(blurred), "--reference", str(real), "--json", str(tmp_path / "b.json")]) == 0
    )
    report = json.loads((tmp_path / "b.json").read_text())
    assert (
        report["sharpness_output"] < 0.7 * report["sharpness_reference"] and report["lmd"] < 4
    )  # the lips found on a blurred face move a little
    assert "LMD" in capsys.readouterr().out
    assert main(["evaluate", "lipsync", str(tmp_path / "nope.mp4"), "--reference", str(real)]) == 2
