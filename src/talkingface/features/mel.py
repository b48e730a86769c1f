"""The Wav2Lip mel spectrogram, numerically equal to the reference's (librosa 0.7 + scipy).

Reference pipeline (Wav2Lip ``audio.melspectrogram`` with its ``hparams``): pre-emphasis 0.97 ->
centred STFT (n_fft 800, hop 200, Hann, reflect padding) -> magnitude -> Slaney mel basis (80 bands,
55-7600 Hz) -> ``20 log10(max(1e-5, x)) - 20`` dB -> normalised to [-4, 4]. The public Wav2Lip and
SyncNet checkpoints were trained on these features. librosa >= 0.9 pads with zeros instead of
reflection, which changes the first and last two frames; ``pad_mode="constant"`` gives that variant.

The STFT runs in float64 (like the reference), the rest in float32: the result matches the
reference to ~1e-6 on the [-4, 4] scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._signal import as_waveform, preemphasis, reflect_pad, to_output


@dataclass(frozen=True)
class MelConfig:
    """Settings of the Wav2Lip-style mel spectrogram (defaults: Wav2Lip's hparams).

    Attributes:
        sample_rate: Hz of the input samples.
        n_fft, hop_length, win_length: STFT sizes in samples (hop 200 at 16 kHz = 80 frames/s).
        n_mels, fmin, fmax: mel bands and their frequency range in Hz.
        preemphasis: pre-emphasis coefficient (0 disables it).
        min_level_db, ref_level_db: dB floor and reference level.
        max_abs_value, symmetric, clip: output range ``[-m, m]`` (symmetric) or ``[0, m]``, clipped.
        pad_mode: "reflect" (librosa 0.7, as the public checkpoints were trained) or "constant"
            (zeros, librosa >= 0.9's default).
    """

    sample_rate: int = 16000
    n_fft: int = 800
    hop_length: int = 200
    win_length: int = 800
    n_mels: int = 80
    fmin: float = 55.0
    fmax: float = 7600.0
    preemphasis: float = 0.97
    min_level_db: float = -100.0
    ref_level_db: float = 20.0
    max_abs_value: float = 4.0
    symmetric: bool = True
    clip: bool = True
    pad_mode: str = "reflect"

    def __post_init__(self) -> None:
        if self.pad_mode not in ("reflect", "constant"):
            raise InputError(f"pad_mode must be 'reflect' or 'constant', got {self.pad_mode!r}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise InputError(f"need 0 <= fmin < fmax <= sample_rate/2, got {self.fmin}, {self.fmax}")
        if self.win_length > self.n_fft:
            raise InputError(f"win_length {self.win_length} exceeds n_fft {self.n_fft}")

    @property
    def frames_per_second(self) -> float:
        """Spectrogram columns per second (80 for Wav2Lip)."""
        return self.sample_rate / self.hop_length

    @property
    def silence_value(self) -> float:
        """The value of a silent column (the bottom of the output range)."""
        return -self.max_abs_value if self.symmetric else 0.0


WAV2LIP_MEL = MelConfig()


def _hz_to_mel_slaney(hz: np.ndarray) -> np.ndarray:
    # Slaney's Auditory Toolbox scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mel = hz / f_sp
    log_part = hz >= min_log_hz
    mel[log_part] = min_log_mel + np.log(hz[log_part] / min_log_hz) / logstep
    return mel


def _mel_to_hz_slaney(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    hz = f_sp * mel
    log_part = mel >= min_log_mel
    hz[log_part] = min_log_hz * np.exp(logstep * (mel[log_part] - min_log_mel))
    return hz


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-style, area-normalised triangular mel filters (librosa's default, non-HTK).

    Returns:
        ``(n_mels, n_fft // 2 + 1) float64``; read-only (cached).
    """
    fft_hz = np.linspace(0.0, sample_rate / 2, 1 + n_fft // 2)
    edges_hz = _mel_to_hz_slaney(
        np.linspace(_hz_to_mel_slaney(np.array([fmin]))[0], _hz_to_mel_slaney(np.array([fmax]))[0], n_mels + 2)
    )
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights: np.ndarray = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    weights.setflags(write=False)
    return weights


def hann_window(length: int) -> np.ndarray:
    """Periodic Hann window (as used for spectral analysis), ``(length,) float64``."""
    window: np.ndarray = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)
    return window


def _mel_basis(config: MelConfig) -> torch.Tensor:
    return torch.from_numpy(
        np.array(
            mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax), dtype=np.float32
        )
    )


def _window(config: MelConfig) -> torch.Tensor:
    window = np.zeros(config.n_fft)
    offset = (config.n_fft - config.win_length) // 2
    window[offset : offset + config.win_length] = hann_window(config.win_length)
    return torch.from_numpy(window)


@overload
def wav2lip_mel(
    wav: np.ndarray,
    config: MelConfig = ...,
    *,
    mel_basis: torch.Tensor | None = ...,
    window: torch.Tensor | None = ...,
) -> np.ndarray: ...
@overload
def wav2lip_mel(
    wav: torch.Tensor,
    config: MelConfig = ...,
    *,
    mel_basis: torch.Tensor | None = ...,
    window: torch.Tensor | None = ...,
) -> torch.Tensor: ...
@overload
def wav2lip_mel(
    wav: np.ndarray | torch.Tensor,
    config: MelConfig = ...,
    *,
    mel_basis: torch.Tensor | None = ...,
    window: torch.Tensor | None = ...,
) -> np.ndarray | torch.Tensor: ...
def wav2lip_mel(
    wav: np.ndarray | torch.Tensor,
    config: MelConfig = WAV2LIP_MEL,
    *,
    mel_basis: torch.Tensor | None = None,
    window: torch.Tensor | None = None,
) -> np.ndarray | torch.Tensor:
    """Mel spectrogram of ``wav`` as the Wav2Lip models expect it.

    Args:
        wav: ``(..., N)`` samples at ``config.sample_rate``: float in [-1, 1], or int16 PCM.
        config: feature settings; the default is Wav2Lip's.
        mel_basis, window: precomputed ``(n_mels, n_fft//2+1)`` float32 basis and ``(n_fft,)``
            float64 window (a module passes its buffers); built from ``config`` when omitted.

    Returns:
        ``(..., n_mels, 1 + N // hop_length) float32``, a numpy array for numpy input, else a tensor
        on the input's device. At Wav2Lip's settings column ``t`` is centred at ``t / 80`` s.
    """
    x, as_numpy = as_waveform(wav, int16_scale=1.0 / 32768)
    mel_basis = _mel_basis(config) if mel_basis is None else mel_basis
    window = (_window(config) if window is None else window).to(x)
    batch_shape, n = x.shape[:-1], x.shape[-1]
    padded = _padded_preemphasis(x.reshape(-1, n), config)
    n_frames = 1 + n // config.hop_length
    # Only the bins some mel band uses need their magnitude (Wav2Lip: 3..379 of 401).
    used = torch.nonzero(mel_basis.abs().sum(0)).flatten()
    lo, hi = int(used[0]), int(used[-1]) + 1
    basis = mel_basis[:, lo:hi].to(device=x.device, dtype=torch.float32)
    mel = torch.empty(padded.shape[0], config.n_mels, n_frames, device=x.device)
    # Blocks of frames keep the STFT's working memory in cache: faster than one big STFT.
    for start in range(0, n_frames, _FRAMES_PER_BLOCK):
        stop = min(n_frames, start + _FRAMES_PER_BLOCK)
        segment = padded[:, start * config.hop_length : (stop - 1) * config.hop_length + config.n_fft]
        spec = torch.stft(segment, config.n_fft, config.hop_length, window=window, center=False, return_complex=True)
        mel[:, :, start:stop] = torch.matmul(basis, spec[:, lo:hi].to(torch.complex64).abs())
    db = 20.0 * torch.log10(torch.clamp(mel, min=1e-5)) - config.ref_level_db
    out = _normalize(db, config)
    return to_output(out.reshape(*batch_shape, config.n_mels, n_frames), as_numpy)


_FRAMES_PER_BLOCK = 512


def _padded_preemphasis(x: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Pre-emphasised ``(B, N)`` signal with n_fft/2 samples of centring padding on each side."""
    pad, n = config.n_fft // 2, x.shape[-1]
    if config.pad_mode == "reflect" and n <= pad:
        return reflect_pad(preemphasis(x, config.preemphasis), pad)
    out = torch.zeros(x.shape[0], n + 2 * pad, dtype=x.dtype, device=x.device)
    middle = out[:, pad : pad + n]
    middle[:, 0] = x[:, 0]
    torch.sub(x[:, 1:], x[:, :-1], alpha=config.preemphasis, out=middle[:, 1:])
    if config.pad_mode == "reflect":
        out[:, :pad] = out[:, pad + 1 : 2 * pad + 1].flip(-1)
        out[:, pad + n :] = out[:, n - 1 : pad + n - 1].flip(-1)
    return out


def _normalize(db: torch.Tensor, config: MelConfig) -> torch.Tensor:
    m, floor = config.max_abs_value, config.min_level_db
    if config.symmetric:
        out = (2 * m) * ((db - floor) / -floor) - m
        return torch.clamp(out, -m, m) if config.clip else out
    out = m * ((db - floor) / -floor)
    return torch.clamp(out, 0, m) if config.clip else out


class Wav2LipMel(nn.Module):
    """Module form of :func:`wav2lip_mel`: holds the config, mel basis and window as buffers."""

    mel_basis: torch.Tensor
    window: torch.Tensor

    def __init__(self, config: MelConfig = WAV2LIP_MEL):
        super().__init__()
        self.config = config
        self.register_buffer("mel_basis", _mel_basis(config), persistent=False)
        self.register_buffer("window", _window(config), persistent=False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``(..., N)`` samples -> ``(..., n_mels, 1 + N // hop_length)``."""
        return wav2lip_mel(wav, self.config, mel_basis=self.mel_basis, window=self.window)
