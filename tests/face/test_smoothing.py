import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.face import OneEuroFilter, OneEuroParams, fill_gaps, one_euro, smooth_zero_lag


def test_constant_signal_is_unchanged():
    x = np.full((50, 3), 7.5)
    np.testing.assert_allclose(one_euro(x, 25), x)
    np.testing.assert_allclose(smooth_zero_lag(x, 25), x)


def test_noise_is_reduced_on_a_still_point():
    rng = np.random.default_rng(0)
    x = 100 + rng.normal(0, 1.0, (200, 2))
    smoothed = smooth_zero_lag(x, 25, OneEuroParams(min_cutoff=1.0, beta=10.0), scale=100)
    assert smoothed[20:-20].std(axis=0).max() < 0.5 * x.std(axis=0).min()


def test_zero_lag_on_steady_motion_and_no_overshoot_at_a_stop():
    t = np.arange(100, dtype=float)
    x = np.where(t < 60, 5.0 * t, 300.0)[:, None]  # moves, then stops
    causal = one_euro(x, 25, scale=100)
    zero_lag = smooth_zero_lag(x, 25, scale=100)
    assert np.abs(causal[10:55] - x[10:55]).mean() > 0.5  # the causal filter lags
    assert np.abs(zero_lag[10:55] - x[10:55]).max() < 0.5  # the two passes cancel it
    assert causal.max() <= 300 + 1e-9 and zero_lag.max() <= 300 + 1e-9  # first order: no overshoot


def test_streaming_filter_equals_function():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (30, 4))
    filt = OneEuroFilter(30, OneEuroParams(0.5, 2.0), scale=2.0)
    np.testing.assert_allclose(np.stack([filt(v) for v in x]), one_euro(x, 30, OneEuroParams(0.5, 2.0), 2.0))


def test_fill_gaps_interpolates_short_and_keeps_long():
    frames = np.array([0, 1, 4, 20])
    values = np.array([[0.0], [1.0], [4.0], [20.0]])
    out_frames, out_values, filled = fill_gaps(frames, values, max_gap=3)
    assert out_frames.tolist() == [0, 1, 2, 3, 4, 20]
    np.testing.assert_allclose(out_values[:, 0], [0, 1, 2, 3, 4, 20])
    assert filled.tolist() == [False, False, True, True, False, False]


def test_bad_params():
    with pytest.raises(InputError):
        OneEuroParams(min_cutoff=0)


def test_smoothing_into_an_array_matches_the_float64_smoothing_in_place_or_not():
    from talkingface.face.smoothing import smooth_zero_lag_into

    rng = np.random.default_rng(3)
    positions = (500 + np.cumsum(rng.normal(size=(400, 20, 3)), 0)).astype(np.float32)
    expected = smooth_zero_lag(positions, 25.0, scale=120.0)
    into = smooth_zero_lag_into(positions, np.empty_like(positions), 25.0, scale=120.0)
    assert into.dtype == np.float32 and np.abs(into - expected).max() < 1e-3  # float32's step near 500 px
    assert np.abs(into - positions).max() > 0.1  # it did smooth
    in_place = positions.copy()
    assert smooth_zero_lag_into(in_place, in_place, 25.0, scale=120.0) is in_place
    assert np.array_equal(in_place, into)
