"""Parity of SyncNet's MFCC with python_speech_features.mfcc (syncnet_python's call)."""

import numpy as np
import pytest
import python_speech_features
import torch

from talkingface.errors import InputError
from talkingface.features import MfccConfig, SyncNetMfcc, mfcc_filterbank, syncnet_mfcc

# Our float64 pipeline equals the reference's; the float32 output rounds values up to ~60 by 4e-6.
TOLERANCE = 1e-5


def reference_mfcc(pcm):
    """syncnet_python: ``zip(*python_speech_features.mfcc(audio, sample_rate))`` -> (13, T)."""
    return python_speech_features.mfcc(pcm, 16000).T


def _pcm(x):
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("case", ["speech", "noise", "silence", "clipped"])
def test_matches_python_speech_features(speech16k, case):
    rng = np.random.default_rng(1)
    wav = {
        "speech": speech16k,
        "noise": 0.2 * rng.standard_normal(16000 * 2),
        "silence": np.zeros(16000),
        "clipped": np.clip(speech16k[: 16000 * 4] * 30, -1, 1),
    }[case]
    pcm = _pcm(wav)
    ours, ref = syncnet_mfcc(pcm), reference_mfcc(pcm)
    assert ours.shape == ref.shape and ours.shape[0] == 13
    np.testing.assert_allclose(ours, ref, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("length", [1, 100, 400, 401, 560, 561, 16000, 16001])
def test_frame_count_and_values_for_any_length(length):
    pcm = _pcm(0.1 * np.random.default_rng(length).standard_normal(length))
    ours = syncnet_mfcc(pcm)
    expected_frames = 1 if length <= 400 else 1 + int(np.ceil((length - 400) / 160))
    assert ours.shape == (13, expected_frames)
    np.testing.assert_allclose(ours, reference_mfcc(pcm), atol=TOLERANCE, rtol=0)


def test_float_input_is_scaled_to_int16_units(speech16k):
    wav = speech16k[:16000]
    np.testing.assert_allclose(syncnet_mfcc(wav), reference_mfcc(wav * 32768.0), atol=TOLERANCE, rtol=0)


def test_filterbank_matches_reference():
    np.testing.assert_array_equal(
        mfcc_filterbank(26, 512, 16000, 0.0, None), python_speech_features.get_filterbanks(26, 512, 16000, 0, None)
    )


def test_module_and_batch(speech16k):
    clips = torch.from_numpy(_pcm(np.stack([speech16k[:8000], speech16k[8000:16000]])))
    out = SyncNetMfcc()(clips)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 13, 49)
    for i in range(2):
        np.testing.assert_allclose(out[i].numpy(), syncnet_mfcc(clips[i].numpy()), atol=1e-6)


def test_rejects_bad_settings():
    with pytest.raises(InputError, match="exceeds n_fft"):
        MfccConfig(win_length_s=0.05)
    with pytest.raises(InputError, match="n_ceps"):
        MfccConfig(n_ceps=30)
