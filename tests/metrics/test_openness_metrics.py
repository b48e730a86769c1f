"""How far a mouth opens and how well one mouth follows another (metrics.openness)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkingface.animation.mouth_cues import MouthCue
from talkingface.errors import InputError
from talkingface.metrics.openness import (
    CUE_OPENNESS,
    best_lag,
    correlation,
    cue_openness,
    lagged_correlation,
    lip_opening,
    measure_video,
    opening_ratio,
)

GRID_CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips" / "rizkiarm__LipNet__bbaf2n.mpg"


def test_lip_opening_is_the_inner_gap_over_face_height(photo):
    from talkingface.face import detect_faces

    landmarks = detect_faces(photo, max_faces=1)[0].landmarks
    frames = np.repeat(landmarks[None], 3, 0).astype(np.float64)
    frames[1, 14, 1] += 10.0  # the lower inner lip 10 px further down
    frames[2] = np.nan  # no face
    opening = lip_opening(frames)
    height = np.linalg.norm(landmarks[152, :2] - landmarks[10, :2])
    assert opening[1] - opening[0] == pytest.approx(10.0 / height, rel=0.05)
    assert np.isnan(opening[2])
    # The same face twice as large opens as far.
    assert lip_opening(frames[:2] * 2)[1] == pytest.approx(opening[1])
    with pytest.raises(InputError, match="478"):
        lip_opening(np.zeros((3, 10, 2)))


def test_cue_openness_follows_the_cues_in_time():
    cues = [MouthCue(0.0, 0.2, "X"), MouthCue(0.2, 0.4, "D"), MouthCue(0.4, 0.5, "A")]
    opening = cue_openness(cues, 15, 25.0)  # frames at 0, 0.04, ... 0.56 s
    assert np.allclose(opening[:5], CUE_OPENNESS["X"])
    assert np.allclose(opening[5:10], 1.0)
    assert np.allclose(opening[10:13], 0.0)
    assert np.allclose(opening[13:], CUE_OPENNESS["X"])  # after the last cue: at rest
    # Shapes are ordered from closed to wide open.
    assert CUE_OPENNESS["A"] < CUE_OPENNESS["G"] < CUE_OPENNESS["B"] < CUE_OPENNESS["C"] < CUE_OPENNESS["D"]
    with pytest.raises(InputError, match="unknown mouth shape"):
        cue_openness([MouthCue(0.0, 0.1, "Q")], 5, 25.0)


def test_a_lag_is_lips_taken_earlier_than_the_signal():
    rng = np.random.default_rng(0)
    lips = np.convolve(rng.normal(size=300), np.ones(3) / 3, mode="same")
    late = np.roll(lips, 2)  # the signal comes 2 frames after the lips
    assert correlation(late, lips) < 0.5
    assert lagged_correlation(late, lips, 2) == pytest.approx(1.0, abs=1e-6)
    assert lagged_correlation(late, lips, -2) < 0.5
    assert best_lag(late, lips, 2) == (2, pytest.approx(1.0, abs=1e-6))
    assert best_lag(np.roll(lips, -1), lips, 2)[0] == -1


def test_correlation_skips_missing_frames_and_constant_signals():
    lips = np.sin(np.arange(50) / 3)
    gappy = lips.copy()
    gappy[::4] = np.nan
    assert correlation(gappy, lips) == pytest.approx(1.0)
    assert np.isnan(correlation(np.ones(50), lips))
    assert np.isnan(correlation(lips[:5], lips[:5]))  # too few frames
    assert correlation(lips, -lips[:40]) == pytest.approx(-1.0)  # the common length


def test_opening_ratio_compares_how_wide_mouths_open():
    real = np.linspace(0, 0.1, 101)
    assert opening_ratio(real * 0.5, real) == pytest.approx(0.5)
    assert opening_ratio(np.r_[real * 2, np.nan], real) == pytest.approx(2.0)
    assert np.isnan(opening_ratio(real, np.zeros(10)))


@pytest.mark.slow
def test_a_real_speakers_mouth_opens_when_they_speak():
    if not GRID_CLIP.is_file():
        pytest.skip("../shared/data is not beside the checkout")
    from talkingface.media import load_audio

    lips = measure_video(GRID_CLIP)
    assert lips.fps == 25 and len(lips.opening) == 75 and np.isfinite(lips.opening).all()
    audio = load_audio(GRID_CLIP, 16000)
    loud = np.array([np.sqrt(np.mean(audio[k * 640 : (k + 1) * 640] ** 2)) for k in range(75)])
    speaking = loud > np.percentile(loud, 60)
    # Open while speaking, near closed in the silence before the sentence.
    assert np.median(lips.opening[speaking]) > 2 * np.median(lips.opening[:8])
    assert 0.02 < np.percentile(lips.opening, 90) < 0.2
