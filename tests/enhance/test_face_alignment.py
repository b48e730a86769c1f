"""GFPGAN's alignment from our landmarks: real faces land on the template, paste-back restores the
frame, and smoothing steadies the transform of a still face."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.enhance.align import (
    TEMPLATE_512,
    face_transform,
    five_points,
    paste_face,
    soft_mask,
    steady_points,
    warp_face,
)
from talkingface.errors import InputError
from talkingface.face.crops import apply_affine


def test_a_real_face_lands_on_the_template(face):
    photo, landmarks = face
    points = five_points(landmarks)
    assert points[0, 0] < points[1, 0] and points[3, 0] < points[4, 0]
    assert points[0, 1] < points[2, 1] < points[3, 1]  # eyes above the nose above the mouth
    transform = face_transform(points)
    placed = apply_affine(transform, points)
    assert np.abs(placed - TEMPLATE_512).max() < 25  # a real face is not the template, but close
    aligned = warp_face(photo, transform)
    assert aligned.shape == (512, 512, 3)
    from talkingface.face.detection import detect_faces

    again = detect_faces(aligned)
    assert again and np.abs(five_points(again[0].landmarks) - placed).max() < 6  # the warp is what it says


def test_paste_back_of_the_unchanged_face_keeps_the_frame(face):
    photo, landmarks = face
    transform = face_transform(five_points(landmarks))
    back = paste_face(photo, warp_face(photo, transform), transform, soft_mask())
    assert np.abs(back.astype(int) - photo.astype(int)).mean() < 1.5
    # A changed face changes the frame only where the mask reaches.
    grey = np.full((512, 512, 3), 128, np.uint8)
    changed = np.abs(paste_face(photo, grey, transform, soft_mask()).astype(int) - photo.astype(int)).sum(2) > 0
    box = apply_affine(np.linalg.inv(np.vstack([transform, [0, 0, 1]]))[:2], np.array([[0, 0], [512, 512]]))
    assert changed.any() and not changed[: int(box[:, 1].min()) - 2].any()


def test_smoothing_steadies_a_still_face_and_keeps_a_moving_one(face):
    _, landmarks = face
    rng = np.random.default_rng(0)
    still = np.repeat(five_points(landmarks)[None], 40, 0)
    jittered = still + rng.normal(0, 1.5, still.shape)
    raw = np.array([face_transform(p)[:, 2] for p in jittered])
    steady = np.array([face_transform(p)[:, 2] for p in steady_points(jittered, 9)])
    assert np.abs(np.diff(steady, axis=0)).mean() < 0.4 * np.abs(np.diff(raw, axis=0)).mean()
    moving = still + np.arange(40)[:, None, None] * np.array([2.0, 0.0])  # a steady pan
    np.testing.assert_allclose(steady_points(moving, 9)[4:-4], moving[4:-4], atol=1e-9)
    with pytest.raises(InputError, match="odd"):
        steady_points(jittered, 4)
