import numpy as np
import pytest
import torch

from talkingface.metrics.sync import sync_scores


def embeddings(n=90, dim=64, lag=4, seed=0):
    """Lip embeddings of a clip and audio embeddings that match them ``lag`` frames later."""
    g = torch.Generator().manual_seed(seed)
    content = torch.randn(n + 40, dim, generator=g)
    lip = content[20 : 20 + n]
    audio = content[20 - lag : 20 - lag + n] + 0.05 * torch.randn(n, dim, generator=g)
    return lip, audio


@pytest.mark.parametrize("padding", ["zeros", "valid"])
def test_offset_lse_d_and_lse_c(padding):
    lip, audio = embeddings(lag=4)
    scores = sync_scores(lip, audio, padding=padding)
    # Lip frame i matches audio frame i + 4: the audio lags by 4 frames -> syncnet_python's offset -4.
    assert scores.offset == -4
    assert scores.lse_d == pytest.approx(scores.distances.min()) and scores.lse_d < 1.0
    assert scores.lse_c > 5  # a clear minimum among distances of unrelated frames (~11)
    assert scores.distances.shape == (31,)


@pytest.mark.parametrize("k", [-5, -2, 3, 7])
def test_delaying_the_audio_moves_the_offset_by_exactly_k(k):
    lip, audio = embeddings(lag=0, seed=1)
    base = sync_scores(lip, audio, padding="valid").offset
    delayed = torch.cat(
        [
            torch.zeros(max(k, 0), audio.shape[1]),
            audio[max(-k, 0) : len(audio) - max(k, 0)],
            torch.zeros(max(-k, 0), audio.shape[1]),
        ]
    )
    assert sync_scores(lip, delayed, padding="valid").offset == base - k


def test_bad_arguments():
    lip, audio = embeddings(n=20)
    with pytest.raises(ValueError, match="at least 31 frames"):
        sync_scores(lip, audio, padding="valid")
    with pytest.raises(ValueError, match="padding"):
        sync_scores(lip, audio, padding="edge")
    assert np.isfinite(sync_scores(lip, audio).confidence).all()


def test_shift_report_counts_offsets_found_and_pairs_told_apart():
    from talkingface.errors import InputError
    from talkingface.metrics.sync import shift_report

    measured = {("a", 0): 0, ("a", 3): 3, ("a", -5): -4, ("a", 6): 1, ("b", 0): 2, ("b", 5): 7, ("b", -6): -4}
    report = shift_report(measured)
    assert report.pairs == 7
    assert report.within_one == pytest.approx(3 / 7)  # a0, a3, a-5 (b is 2 frames off from the start)
    assert report.within_one_relative == pytest.approx(6 / 7)  # b's own offset of 2 taken into account; a6 missed
    # shift 0: a called in sync (right), b not (wrong); far off: a-5, b5, b-6 called off (right), a6 at 1 (wrong)
    assert report.told_apart == pytest.approx(4 / 6)
    with pytest.raises(InputError, match="no score at shift 0"):
        shift_report({("c", 2): 2})
