"""Choosing the speaker's own mouths over time: the opening the speech needs, the pose, and runs of footage."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.animation.mouth_path import MAX_POSE_DISTANCE, MouthShapes, choose_path, pose_distance
from talkingface.animation.mouth_targets import SpeechFrames, fit_opening, target_opening
from talkingface.errors import InputError


def _library(openings: np.ndarray, poses: np.ndarray | None = None, runs: np.ndarray | None = None) -> MouthShapes:
    count = len(openings)
    pose = np.zeros((count, 22)) if poses is None else poses
    return MouthShapes(openings, pose, np.zeros(count, np.int64) if runs is None else runs)


def test_the_path_follows_the_target_and_keeps_to_runs_of_footage():
    rng = np.random.default_rng(0)
    footage = 0.04 + 0.03 * np.sin(np.arange(300) / 3.0) + rng.normal(0, 0.002, 300)
    library = _library(footage)
    target = 0.04 + 0.03 * np.sin(np.arange(100) / 2.5 + 1.0)
    path = choose_path(target, None, library)
    assert np.corrcoef(footage[path], target)[0, 1] > 0.9
    nearest = np.abs(footage[None, :] - target[:, None]).argmin(1)
    jumps = np.count_nonzero(np.diff(path) != 1)
    assert jumps < np.count_nonzero(np.diff(nearest) != 1) / 2  # not a flicker between nearest neighbours
    # runs: frame k + 1 of another run does not count as following frame k
    split = _library(footage, runs=np.arange(300) % 2)
    assert np.count_nonzero(np.diff(choose_path(target, None, split)) != 1) > jumps


def test_the_path_takes_mouths_seen_in_the_pose_of_the_frame():
    openings = np.tile(np.linspace(0.0, 0.08, 50), 2)
    poses = np.zeros((100, 22))
    poses[50:, 0] = 0.3  # the second half of the footage is turned
    library = _library(openings, poses, np.repeat([0, 1], 50))
    target = np.full(40, 0.05)
    turned = np.zeros((40, 22))
    turned[:, 0] = 0.3
    assert (choose_path(target, turned, library) >= 50).all()
    frontal = choose_path(target, np.zeros((40, 22)), library)
    assert (frontal < 50).all()
    assert (pose_distance(np.zeros((40, 22)), library, frontal) == 0).all()
    further = np.zeros((40, 22))
    further[:, 0] = -0.3  # turned the other way: no footage mouth is seen from there
    assert (pose_distance(further, library, choose_path(target, further, library)) > MAX_POSE_DISTANCE).all()


def test_bad_paths_are_refused():
    with pytest.raises(InputError, match="empty"):
        choose_path(np.zeros(3), None, _library(np.zeros(0)))
    with pytest.raises(InputError, match="finite"):
        choose_path(np.array([np.nan]), None, _library(np.zeros(5)))


def test_the_speakers_relation_is_learned_from_their_footage_and_given_their_spread():
    rng = np.random.default_rng(1)
    count = 400
    bands = rng.normal(size=(count, 24))
    model = rng.normal(size=count)  # a speech-only estimate that knows nothing here
    opening = 0.05 + 0.02 * np.tanh(bands[:, 3] - bands[:, 7]) + rng.normal(0, 0.003, count)
    footage = SpeechFrames(model[:300], bands[:300])
    fitted = fit_opening(footage, opening[:300])
    assert fitted is not None
    new = SpeechFrames(model[300:], bands[300:])
    assert np.corrcoef(fitted(new), opening[300:])[0, 1] > 0.7
    wanted = target_opening(new, opening[:300], fitted)
    assert np.corrcoef(wanted, opening[300:])[0, 1] > 0.4  # averaged with the (here useless) speech-only one
    assert wanted.mean() == pytest.approx(opening[:300].mean()) and wanted.std() == pytest.approx(opening[:300].std())
    assert fit_opening(SpeechFrames(model[:10], bands[:10]), opening[:10]) is None  # too little footage
    aligned = opening[300:] + rng.normal(0, 0.003, 100)  # a transcript's jaw that knows the speech
    assert np.corrcoef(target_opening(new, opening[:300], fitted, aligned), opening[300:])[0, 1] > 0.8
    with pytest.raises(InputError, match="speech-only values"):
        target_opening(new, opening[:300], fitted, aligned[:50])
    with pytest.raises(InputError, match="no measured mouth"):
        target_opening(new, np.full(5, np.nan))


def test_an_audio_offset_moves_the_mouth_as_wav2lips_does():
    from talkingface.pipelines.mouth_dub import _shifted

    wanted = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    assert _shifted(wanted, 1).tolist() == [0.0, 1.0, 0.0, 0.0, 0.0]  # positive: the mouth opens a frame earlier
    assert _shifted(wanted, -2).tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
