"""Audio features on 60 s of real speech: ours vs the reference implementations, same run.

- Wav2Lip mel: ``talkingface.features.wav2lip_mel`` vs librosa (reflect-padded STFT) + scipy, the
  pipeline the public checkpoints were trained with. Goal >= 2x faster.
- SyncNet MFCC: ``talkingface.features.syncnet_mfcc`` vs ``python_speech_features.mfcc``.
  Goal >= 2x faster.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from _common import INPUTS, median_ms, report


def reference_mel(wav: np.ndarray) -> np.ndarray:
    import librosa
    import scipy.signal

    y = scipy.signal.lfilter([1, -0.97], [1], wav)
    spec = np.abs(librosa.stft(y=y, n_fft=800, hop_length=200, win_length=800, pad_mode="reflect"))
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, np.dot(basis, spec))) - 20
    return np.clip(8 * ((db + 100) / 100) - 4, -4, 4)


def main() -> bool:
    import python_speech_features

    from talkingface.features import syncnet_mfcc, wav2lip_mel
    from talkingface.media import load_audio

    warnings.simplefilter("ignore")
    speech = load_audio(INPUTS / "two_cities.wav", 16000)
    wav = np.concatenate([speech, speech])[: 60 * 16000]
    pcm = np.clip(np.round(wav * 32768), -32768, 32767).astype(np.int16)
    print(f"60 s of real speech at 16 kHz; torch threads: {torch.get_num_threads()}")
    assert np.abs(wav2lip_mel(wav) - reference_mel(wav)).max() <= 1e-4
    ok = report(
        "Wav2Lip mel (80 x 4801)",
        median_ms(lambda: wav2lip_mel(wav)),
        median_ms(lambda: reference_mel(wav)),
        "librosa+scipy reference",
        2.0,
    )
    ok &= report(
        "SyncNet MFCC (13 x 5999)",
        median_ms(lambda: syncnet_mfcc(pcm)),
        median_ms(lambda: python_speech_features.mfcc(pcm, 16000)),
        "python_speech_features",
        2.0,
    )
    return ok


if __name__ == "__main__":
    main()
