"""Small geometry shared across the package."""

from __future__ import annotations

import numpy as np


def umeyama(src: np.ndarray, dst: np.ndarray, scale: float | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ~ s R src + t`` between ``(N, D)`` point sets (Umeyama 1991,
    without reflection). With ``scale`` given, only the rotation and translation are fitted.

    Returns ``(s, R (D, D), t (D,))``.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(b.T @ a / len(src))
    sign = np.ones(src.shape[1])
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    if scale is None:
        scale = float((sigma * sign).sum() / a.var(0).sum())
    return scale, rotation, mu_d - scale * rotation @ mu_s
