"""Small geometry shared across the package."""

from __future__ import annotations

import numpy as np

from .errors import InputError


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


def vertex_array(values, what: str, count: int | None = None, why: str = "", dtype=np.float32) -> np.ndarray:
    """``values`` as ``(V, 3)`` vertices of ``dtype``, from ``(V, 3)`` or flat ``(V*3,)`` finite numbers (``count``
    vertices where given); otherwise a one-line error that names ``what`` (and ``why`` the shape is needed)."""
    array = np.asarray(values)
    size = "V" if count is None else str(count)
    flat = "V*3" if count is None else str(count * 3)
    if (
        array.dtype.kind not in "fiu"
        or array.size == 0
        or array.size % 3
        or (count is not None and array.size != count * 3)
        or array.ndim not in (1, 2)
        or (array.ndim == 2 and array.shape[1] != 3)
    ):
        raise InputError(
            f"{what} must be ({size}, 3) or ({flat},) numbers{why}, got shape {tuple(array.shape)} dtype {array.dtype}"
        )
    if not np.isfinite(array).all():
        raise InputError(f"{what} contains NaN or infinite values")
    return np.ascontiguousarray(array, dtype=dtype).reshape(-1, 3)
