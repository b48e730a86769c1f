"""Parity of the Wav2Lip mel spectrogram with the reference pipeline (librosa + scipy)."""

import warnings

import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.features import WAV2LIP_MEL, MelConfig, Wav2LipMel, mel_filterbank, wav2lip_mel

TOLERANCE = 1e-4  # on the [-4, 4] output scale


def reference_mel(wav, pad_mode="reflect"):
    """Wav2Lip's audio.melspectrogram with its hparams, as trained with librosa 0.7 (reflect)."""
    import librosa
    import scipy.signal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns on inputs shorter than n_fft
        y = scipy.signal.lfilter([1, -0.97], [1], wav)
        spec = np.abs(librosa.stft(y=y, n_fft=800, hop_length=200, win_length=800, pad_mode=pad_mode))
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, np.dot(basis, spec))) - 20
    return np.clip(8 * ((db + 100) / 100) - 4, -4, 4)


def _cases(speech):
    rng = np.random.default_rng(0)
    return {
        "speech": speech,
        "white_noise": (0.3 * rng.standard_normal(16000 * 3)).astype(np.float32),
        "silence": np.zeros(16000, np.float32),
        "clipped_speech": np.clip(speech[: 16000 * 5] * 25, -1, 1),
        "whisper_quiet": speech[16000 * 5 : 16000 * 10] * 1e-3,
        "full_scale_tone": np.sin(2 * np.pi * 220 * np.arange(32000) / 16000).astype(np.float32),
        "dc_offset": np.full(8000, 0.5, np.float32),
    }


@pytest.mark.parametrize(
    "case", ["speech", "white_noise", "silence", "clipped_speech", "whisper_quiet", "full_scale_tone", "dc_offset"]
)
def test_matches_reference(speech16k, case):
    wav = _cases(speech16k)[case]
    ours = wav2lip_mel(wav)
    ref = reference_mel(wav)
    assert ours.shape == ref.shape == (80, 1 + len(wav) // 200)
    assert ours.dtype == np.float32
    assert np.abs(ours - ref).max() <= TOLERANCE


@pytest.mark.parametrize("length", [1, 2, 150, 399, 400, 401, 799, 800, 801, 16001])
def test_short_and_odd_lengths(length):
    wav = (0.2 * np.random.default_rng(length).standard_normal(length)).astype(np.float32)
    ours = wav2lip_mel(wav)
    assert ours.shape == (80, 1 + length // 200)
    assert np.abs(ours - reference_mel(wav)).max() <= TOLERANCE


def test_zero_padding_variant_matches_new_librosa_and_differs_at_edges(speech16k):
    wav = speech16k[16000 : 16000 * 4]
    zero = wav2lip_mel(wav, MelConfig(pad_mode="constant"))
    assert np.abs(zero - reference_mel(wav, pad_mode="constant")).max() <= TOLERANCE
    reflect = wav2lip_mel(wav)
    edge_diff = np.abs(zero - reflect).max(axis=0)
    assert edge_diff[2:-2].max() == 0  # only the first and last two columns see the padding
    assert max(edge_diff[:2].max(), edge_diff[-2:].max()) > 0.01


def test_filterbank_matches_librosa_slaney():
    import librosa

    ours = mel_filterbank(16000, 800, 80, 55.0, 7600.0)
    ref = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    assert ours.shape == (80, 401)
    np.testing.assert_allclose(ours, ref, atol=1e-7)
    assert not ours.flags.writeable


def test_int16_input_equals_scaled_float(speech16k):
    pcm = np.round(speech16k[:16000] * 32767).astype(np.int16)
    np.testing.assert_allclose(wav2lip_mel(pcm), wav2lip_mel(pcm / 32768.0), atol=1e-6)


def test_module_equals_functional_and_batches(speech16k):
    clips = np.stack([speech16k[:16000], speech16k[16000:32000], np.zeros(16000, np.float32)])
    module = Wav2LipMel()
    batch = module(torch.from_numpy(clips))
    assert isinstance(batch, torch.Tensor) and batch.shape == (3, 80, 81)
    for i in range(3):
        np.testing.assert_allclose(batch[i].numpy(), wav2lip_mel(clips[i]), atol=1e-6)
    assert module.config == WAV2LIP_MEL


def test_rejects_bad_input():
    with pytest.raises(InputError, match="N > 0"):
        wav2lip_mel(np.zeros(0, np.float32))
    with pytest.raises(InputError, match="int16"):
        wav2lip_mel(np.zeros(100, np.int64))
    with pytest.raises(InputError, match="pad_mode"):
        MelConfig(pad_mode="edge")
