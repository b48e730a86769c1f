"""SyncNet's MFCC features, numerically equal to ``python_speech_features.mfcc`` with its defaults.

syncnet_python (the LSE-D / LSE-C metric, ``syncnet_v2.model``) computes
``python_speech_features.mfcc(int16_signal, 16000)``: pre-emphasis 0.97, 25 ms rectangular frames
every 10 ms (the last one zero-padded), 512-point power spectrum, 26 triangular mel filters
(HTK mel scale, 0-8000 Hz), log, orthonormal DCT-II keeping 13 cepstra, sinusoidal lifter 22, and
the first cepstrum replaced by the log frame energy. All in float64, as the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import overload

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._signal import as_waveform, preemphasis, to_output

_EPS = float(np.finfo(float).eps)


def _round_half_up(value: float) -> int:
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MfccConfig:
    """Settings of the MFCC (defaults: python_speech_features', as syncnet_python uses them).

    Attributes:
        sample_rate: Hz.
        win_length_s, hop_length_s: frame length and step in seconds (25 ms, 10 ms).
        n_ceps, n_filters, n_fft: cepstra kept, mel filters, FFT size.
        low_freq, high_freq: filter range in Hz (high_freq None = Nyquist).
        preemphasis, cep_lifter: pre-emphasis coefficient and lifter length (0 disables either).
        append_energy: replace the first cepstrum by the log frame energy.
    """

    sample_rate: int = 16000
    win_length_s: float = 0.025
    hop_length_s: float = 0.01
    n_ceps: int = 13
    n_filters: int = 26
    n_fft: int = 512
    low_freq: float = 0.0
    high_freq: float | None = None
    preemphasis: float = 0.97
    cep_lifter: int = 22
    append_energy: bool = True

    def __post_init__(self) -> None:
        if self.win_length > self.n_fft:
            raise InputError(f"frame length {self.win_length} samples exceeds n_fft {self.n_fft}")
        if not 0 < self.n_ceps <= self.n_filters:
            raise InputError(f"need 0 < n_ceps <= n_filters, got {self.n_ceps}, {self.n_filters}")

    @property
    def win_length(self) -> int:
        """Frame length in samples (rounded half up, as the reference)."""
        return _round_half_up(self.win_length_s * self.sample_rate)

    @property
    def hop_length(self) -> int:
        return _round_half_up(self.hop_length_s * self.sample_rate)

    @property
    def frames_per_second(self) -> float:
        """Feature columns per second (100 for SyncNet)."""
        return self.sample_rate / self.hop_length


SYNCNET_MFCC = MfccConfig()


def _hz_to_mel_htk(hz: float | np.ndarray) -> np.ndarray:
    mel: np.ndarray = 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)
    return mel


def _mel_to_hz_htk(mel: float | np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mfcc_filterbank(
    n_filters: int, n_fft: int, sample_rate: int, low_freq: float, high_freq: float | None
) -> np.ndarray:
    """Triangular filters on FFT bins snapped down to integers (python_speech_features' layout).

    Returns:
        ``(n_filters, n_fft // 2 + 1) float64``, peak 1 per filter; read-only (cached).
    """
    high_freq = sample_rate / 2 if high_freq is None else high_freq
    mel_points = np.linspace(_hz_to_mel_htk(low_freq), _hz_to_mel_htk(high_freq), n_filters + 2)
    bins = np.floor((n_fft + 1) * _mel_to_hz_htk(mel_points) / sample_rate)
    k = np.arange(n_fft // 2 + 1, dtype=np.float64)[None, :]
    left, centre, right = bins[:-2, None], bins[1:-1, None], bins[2:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = np.where((k >= left) & (k < centre), (k - left) / (centre - left), 0.0)
        falling = np.where((k >= centre) & (k < right), (right - k) / (right - centre), 0.0)
    weights: np.ndarray = rising + falling
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=16)
def _dct_lifter_matrix(n_filters: int, n_ceps: int, lifter: int) -> np.ndarray:
    """``(n_ceps, n_filters)``: orthonormal DCT-II rows times the sinusoidal lifter."""
    n = np.arange(n_filters)[None, :]
    k = np.arange(n_ceps)[:, None]
    dct: np.ndarray = np.cos(np.pi * k * (2 * n + 1) / (2 * n_filters)) * math.sqrt(2.0 / n_filters)
    dct[0] /= math.sqrt(2.0)
    if lifter > 0:
        dct *= (1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(n_ceps) / lifter))[:, None]
    dct.setflags(write=False)
    return dct


@overload
def syncnet_mfcc(wav: np.ndarray, config: MfccConfig = ...) -> np.ndarray: ...
@overload
def syncnet_mfcc(wav: torch.Tensor, config: MfccConfig = ...) -> torch.Tensor: ...
@overload
def syncnet_mfcc(wav: np.ndarray | torch.Tensor, config: MfccConfig = ...) -> np.ndarray | torch.Tensor: ...
def syncnet_mfcc(wav: np.ndarray | torch.Tensor, config: MfccConfig = SYNCNET_MFCC) -> np.ndarray | torch.Tensor:
    """MFCC of ``wav`` as SyncNet (syncnet_python) expects it.

    Args:
        wav: ``(..., N)`` samples at ``config.sample_rate``: int16 PCM (the reference's input), or
            float in [-1, 1], which is scaled by 32768 to int16 units.

    Returns:
        ``(..., n_ceps, T) float32`` with ``T = 1 + ceil((N - 400) / 160)`` (1 if N <= 400) at the
        default settings; column ``t`` covers samples ``[160 t, 160 t + 400)`` (10 ms steps).
    """
    x, as_numpy = as_waveform(wav, float_scale=32768.0)
    batch_shape, n = x.shape[:-1], x.shape[-1]
    x = preemphasis(x.reshape(-1, n), config.preemphasis)
    win, hop = config.win_length, config.hop_length
    n_frames = 1 if n <= win else 1 + math.ceil((n - win) / hop)
    x = nn.functional.pad(x, (0, (n_frames - 1) * hop + win - n))
    fbank = torch.from_numpy(
        np.array(mfcc_filterbank(config.n_filters, config.n_fft, config.sample_rate, config.low_freq, config.high_freq))
    ).to(x.device)
    dct = torch.from_numpy(np.array(_dct_lifter_matrix(config.n_filters, config.n_ceps, config.cep_lifter))).to(
        x.device
    )
    out = torch.empty(x.shape[0], config.n_ceps, n_frames, dtype=torch.float64, device=x.device)
    # Blocks of frames keep the working memory in cache.
    for start in range(0, n_frames, _FRAMES_PER_BLOCK):
        stop = min(n_frames, start + _FRAMES_PER_BLOCK)
        frames = x[:, start * hop : (stop - 1) * hop + win].unfold(-1, win, hop)
        spectrum = torch.fft.rfft(frames, n=config.n_fft)
        power = torch.view_as_real(spectrum).square().sum(-1) / config.n_fft
        energies = torch.matmul(power, fbank.T)
        energies = torch.where(energies == 0, _EPS, energies)
        ceps = torch.matmul(torch.log(energies), dct.T)
        if config.append_energy:
            total = power.sum(-1)
            ceps[..., 0] = torch.log(torch.where(total == 0, _EPS, total))
        out[:, :, start:stop] = ceps.transpose(-1, -2)
    return to_output(out.reshape(*batch_shape, config.n_ceps, n_frames), as_numpy)


_FRAMES_PER_BLOCK = 1024


class SyncNetMfcc(nn.Module):
    """Module form of :func:`syncnet_mfcc` (holds the config)."""

    def __init__(self, config: MfccConfig = SYNCNET_MFCC):
        super().__init__()
        self.config = config

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``(..., N)`` samples -> ``(..., n_ceps, T)``."""
        return syncnet_mfcc(wav, self.config)
