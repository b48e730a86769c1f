"""Signal helpers shared by the feature extractors (torch, float64 where precision matters)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError


def as_waveform(
    wav: np.ndarray | torch.Tensor, float_scale: float = 1.0, int16_scale: float = 1.0
) -> tuple[torch.Tensor, bool]:
    """Return ``wav`` as a float64 tensor ``(..., N)`` and whether the input was a numpy array.

    Float samples are multiplied by ``float_scale`` and int16 PCM by ``int16_scale``, so each
    feature works in the units its reference was defined in.
    """
    if isinstance(wav, torch.Tensor):
        tensor, is_numpy = wav, False
    else:
        tensor, is_numpy = torch.from_numpy(np.asarray(wav)), True
    # One float64 copy, scaled in place (never the caller's own array).
    if tensor.dtype == torch.int16:
        tensor = tensor.to(torch.float64, copy=True).mul_(int16_scale)
    elif tensor.is_floating_point():
        tensor = tensor.to(torch.float64, copy=True).mul_(float_scale)
    else:
        raise InputError(f"audio must be float samples or int16 PCM, got dtype {tensor.dtype}")
    if tensor.ndim == 0 or tensor.shape[-1] == 0:
        raise InputError(f"audio must have shape (..., N) with N > 0 samples, got {tuple(tensor.shape)}")
    return tensor, is_numpy


def preemphasis(x: torch.Tensor, coef: float) -> torch.Tensor:
    """``y[0] = x[0]``, ``y[n] = x[n] - coef * x[n-1]`` along the last axis."""
    if coef == 0:
        return x
    return torch.cat([x[..., :1], x[..., 1:] - coef * x[..., :-1]], dim=-1)


def preemphasis_(x: torch.Tensor, coef: float, block: int = 1 << 16) -> torch.Tensor:
    """:func:`preemphasis` of a 1-D ``x`` in place, a block at a time from the end (each block reads
    the samples before it while they are still the input): long speech needs no second copy."""
    for start in range(((x.shape[-1] - 1) // block) * block, -1, -block):
        stop = min(x.shape[-1], start + block)
        if start == 0:
            x[1:stop].sub_(coef * x[: stop - 1])
        else:
            x[start:stop].sub_(coef * x[start - 1 : stop - 1])
    return x


def reflect_pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    """numpy-style reflect padding of the last axis, valid for any length (repeats the reflection)."""
    n = x.shape[-1]
    if n > pad:
        return torch.cat([x[..., 1 : pad + 1].flip(-1), x, x[..., n - pad - 1 : n - 1].flip(-1)], dim=-1)
    if n == 1:
        return x.expand(*x.shape[:-1], n + 2 * pad)
    period = 2 * (n - 1)
    index = torch.arange(-pad, n + pad, device=x.device).abs() % period
    index = torch.where(index >= n, period - index, index)
    return x[..., index]


def to_output(features: torch.Tensor, as_numpy: bool) -> np.ndarray | torch.Tensor:
    features = features.to(torch.float32)
    return features.numpy() if as_numpy else features
