"""VisemeNet's audio features: 65 values per 10 ms step (Zhou et al., SIGGRAPH 2018).

For each 25 ms frame (10 ms step, 16 kHz, pre-emphasis 0.97, 512-point FFT, 26 mel filters; the framing
of :func:`~talkingface.features.syncnet_mfcc`):

- 13 MFCC (the first replaced by the log frame energy), exactly :func:`syncnet_mfcc`'s;
- 26 log filterbank energies;
- 26 spectral subband centroids: for each mel filter, the power-weighted mean frequency under it, Hz.

Raw values are returned; the model normalises them with statistics of its training data.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._signal import as_waveform, preemphasis_
from .mfcc import SYNCNET_MFCC, MfccConfig, _dct_lifter_matrix, mfcc_filterbank

#: Values per step: 13 MFCC + 26 log filterbank + 26 subband centroids.
VISEMENET_FEATURES = 65
_EPS = float(np.finfo(np.float64).eps)


def visemenet_features(wav: np.ndarray, config: MfccConfig = SYNCNET_MFCC) -> np.ndarray:
    """``(N,)`` samples at 16 kHz (float in [-1, 1] or int16) -> ``(T, 65) float32`` at 100 steps/s,
    ``T = 1 + ceil((N - 400) / 160)``; step ``t`` covers samples ``[160 t, 160 t + 400)``."""
    x, _ = as_waveform(wav, float_scale=32768.0)
    if x.ndim != 1:
        raise InputError(f"audio must be (N,) samples, got shape {tuple(x.shape)}")
    x = preemphasis_(x, config.preemphasis)  # x is our own copy: changed in place
    n = x.shape[-1]
    win, hop = config.win_length, config.hop_length
    steps = 1 if n <= win else 1 + math.ceil((n - win) / hop)
    out = step_features(x, steps, config)
    features: np.ndarray = out.numpy().astype(np.float32)
    return features


def step_features(x: torch.Tensor, steps: int, config: MfccConfig = SYNCNET_MFCC) -> torch.Tensor:
    """``(steps, 65) float64`` features of a pre-emphasised signal ``x`` (float64, the units of
    :func:`visemenet_features`) whose sample 0 starts step 0; ``x`` holds at least the last step's
    window, or zeros stand for what it lacks. Steps are independent, so a stream can compute them piece by piece."""
    win, hop = config.win_length, config.hop_length
    fbank = torch.from_numpy(
        np.array(mfcc_filterbank(config.n_filters, config.n_fft, config.sample_rate, config.low_freq, config.high_freq))
    )
    dct = torch.from_numpy(np.array(_dct_lifter_matrix(config.n_filters, config.n_ceps, config.cep_lifter)))
    frequencies = torch.linspace(1.0, config.sample_rate / 2, config.n_fft // 2 + 1, dtype=torch.float64)
    out = torch.empty(steps, config.n_ceps + 2 * config.n_filters, dtype=torch.float64)
    for start in range(0, steps, 1024):
        stop = min(steps, start + 1024)
        piece = x[start * hop : (stop - 1) * hop + win]
        need = (stop - 1 - start) * hop + win
        if piece.shape[-1] < need:  # past the end of the signal: zeros
            piece = nn.functional.pad(piece, (0, need - piece.shape[-1]))
        frames = piece.unfold(-1, win, hop).double()
        power = torch.view_as_real(torch.fft.rfft(frames, n=config.n_fft)).square().sum(-1) / config.n_fft
        energies = power @ fbank.T
        energies = torch.where(energies == 0, _EPS, energies)
        log_energies = torch.log(energies)
        ceps = log_energies @ dct.T
        if config.append_energy:
            total = power.sum(-1)
            ceps[:, 0] = torch.log(torch.where(total == 0, _EPS, total))
        centroids = ((power * frequencies) @ fbank.T) / energies
        out[start:stop] = torch.cat([ceps, log_energies, centroids], dim=1)
    return out
