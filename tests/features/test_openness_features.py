"""The openness model's audio features: log-mel bands every 10 ms, standardised per clip; frame spans."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.features.openness import BANDS, frame_spans, log_bands, openness_features


def test_steps_every_10_ms_and_bands_standardised_over_the_clip(speech16k):
    audio = speech16k[: 3 * 16000]
    features = openness_features(audio)
    assert features.shape == (1 + len(audio) // 160, BANDS) and features.dtype == np.float32
    assert np.allclose(features.mean(0), 0, atol=1e-4)
    assert np.allclose(features.std(0), 1, atol=1e-3)
    # The level does not matter: a quieter copy gives the same features.
    assert np.allclose(openness_features(audio * 0.05), features, atol=1e-3)


def test_the_loud_parts_of_speech_are_high_and_digital_silence_is_floored(speech16k):
    audio = np.concatenate([np.zeros(16000, np.float32), speech16k[: 2 * 16000]])
    bands = log_bands(audio)
    assert bands[:90].max() - bands.max() == pytest.approx(np.log(1e-6), abs=1e-4)  # 60 dB down, not -inf
    features = openness_features(audio)
    assert features[:90].mean() < -0.5 < features[110:].mean()
    assert np.isfinite(openness_features(np.zeros(8000, np.float32))).all()  # nothing but silence
    with pytest.raises(InputError, match="NaN"):
        openness_features(np.full(1000, np.nan, np.float32))
    with pytest.raises(InputError, match="N > 0"):
        openness_features(np.zeros(0, np.float32))


def test_each_frame_takes_the_steps_within_half_a_frame_of_its_time():
    start, stop = frame_spans(101, 26, 25.0)  # 1 s at 25 fps, steps every 10 ms
    assert (start[0], stop[0]) == (0, 2)  # frame 0 at 0 s: steps at 0 and 10 ms
    assert (start[10], stop[10]) == (38, 42)  # frame 10 at 0.4 s: the steps from 0.38 s to before 0.42 s
    assert (start[25], stop[25]) == (98, 101)  # the last frame: up to the last step
    assert (stop > start).all()
    start, stop = frame_spans(10, 40, 25.0)  # frames past the speech take its last step
    assert (start[-1], stop[-1]) == (9, 10)
    with pytest.raises(InputError):
        frame_spans(10, 4, 0.0)
