import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.features import syncnet_mfcc
from talkingface.features.visemenet import VISEMENET_FEATURES, visemenet_features


def test_65_values_per_10_ms_mfcc_log_filterbank_and_subband_centroids(speech16k):
    clip = speech16k[16000 : 16000 * 3]
    features = visemenet_features(clip)
    assert features.shape == (1 + int(np.ceil((len(clip) - 400) / 160)), VISEMENET_FEATURES)
    np.testing.assert_allclose(features[:, :13], syncnet_mfcc(clip).T, rtol=1e-5, atol=1e-4)  # the same MFCC
    log_energies, centroids = features[:, 13:39], features[:, 39:]
    assert np.isfinite(features).all()
    # Each centroid lies in the frequency range of its rising mel filter, so they rise band after band.
    assert (np.diff(centroids, axis=1) > 0).mean() > 0.99 and centroids.min() > 0 and centroids.max() < 8000
    # Louder speech raises the log energies by the same amount in every band (20 dB = log(100)).
    louder = visemenet_features(clip * 10)
    np.testing.assert_allclose(louder[:, 13:39] - log_energies, np.log(100), atol=1e-3)
    np.testing.assert_allclose(louder[:, 39:], centroids, rtol=1e-4)  # centroids ignore loudness


def test_bad_audio():
    with pytest.raises(InputError, match=r"\(N,\)"):
        visemenet_features(np.zeros((2, 800), np.float32))


def test_preemphasis_in_place_by_blocks_is_the_same_filter():
    import torch

    from talkingface.features._signal import preemphasis, preemphasis_

    x = torch.randn(20_011, dtype=torch.float64)
    expected = preemphasis(x.reshape(1, -1), 0.97)[0]
    for block in (7, 1000, 1 << 16):  # block edges inside, at and past the signal's end
        assert torch.equal(preemphasis_(x.clone(), 0.97, block=block), expected)
