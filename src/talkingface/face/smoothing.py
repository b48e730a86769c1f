"""Smoothing of tracked positions: the one-euro filter, causal and zero-lag.

The one-euro filter (Casiez et al., CHI 2012) is a first-order low-pass whose cutoff rises with the
signal's speed: still faces are smoothed hard (jitter goes), moving faces lightly (no lag), and being
first order it never overshoots. Offline, running it forwards and backwards and averaging the two
cancels the remaining lag of moving segments.

Positions should be given in units of the face size (see ``scale``), so one set of parameters suits
small and large faces alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class OneEuroParams:
    """Attributes:
    min_cutoff: Hz, cutoff when still (lower = smoother).
    beta: Hz per (unit/s) of speed added to the cutoff (higher = less lag when moving).
    d_cutoff: Hz, cutoff of the speed estimate.
    """

    min_cutoff: float = 1.0
    beta: float = 10.0
    d_cutoff: float = 1.0

    def __post_init__(self):
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0:
            raise InputError(f"one-euro cutoffs must be > 0 and beta >= 0, got {self}")


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau * rate)


class OneEuroFilter:
    """Causal one-euro filter for streams: ``filter(x) -> smoothed x`` per sample (any shape)."""

    def __init__(self, rate: float, params: OneEuroParams = OneEuroParams(), scale: float = 1.0):
        if rate <= 0 or scale <= 0:
            raise InputError(f"rate and scale must be positive, got {rate}, {scale}")
        self.rate, self.params, self.scale = float(rate), params, float(scale)
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64) / self.scale
        if self._x is None:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x * self.scale
        p = self.params
        dx = (x - self._x) * self.rate
        self._dx += _alpha(p.d_cutoff, self.rate) * (dx - self._dx)
        cutoff = p.min_cutoff + p.beta * np.abs(self._dx)
        self._x += _alpha(cutoff, self.rate) * (x - self._x)
        return self._x * self.scale


def one_euro(
    signal: np.ndarray, rate: float, params: OneEuroParams = OneEuroParams(), scale: float = 1.0
) -> np.ndarray:
    """Causal one-euro filter along axis 0 of ``signal`` ``(T, ...)`` sampled at ``rate`` Hz."""
    signal = np.asarray(signal, dtype=np.float64)
    out = np.empty_like(signal)
    filt = OneEuroFilter(rate, params, scale)
    for t in range(len(signal)):
        out[t] = filt(signal[t])
    return out


def smooth_zero_lag(
    signal: np.ndarray, rate: float, params: OneEuroParams = OneEuroParams(), scale: float = 1.0
) -> np.ndarray:
    """Offline smoothing without lag: the mean of a forward and a backward one-euro pass."""
    signal = np.asarray(signal, dtype=np.float64)
    return smooth_zero_lag_into(signal, np.empty_like(signal), rate, params, scale)


def smooth_zero_lag_into(
    signal: np.ndarray, out: np.ndarray, rate: float, params: OneEuroParams = OneEuroParams(), scale: float = 1.0
) -> np.ndarray:
    """:func:`smooth_zero_lag` of ``signal`` ``(T, ...)`` written into ``out`` (which may be ``signal``
    itself), holding the forward pass in ``out``'s type: a long signal needs one extra copy of itself,
    not several in float64."""
    if len(signal) < 3:
        out[...] = signal
        return out
    forward = np.empty(signal.shape, out.dtype)
    filt = OneEuroFilter(rate, params, scale)
    for t in range(len(signal)):
        forward[t] = filt(signal[t])
    filt.reset()
    for t in range(len(signal) - 1, -1, -1):  # backwards: each step reads signal[t] before out[t] is written
        out[t] = (forward[t] + filt(signal[t])) / 2
    return out
