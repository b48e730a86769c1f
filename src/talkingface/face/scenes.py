"""Scene-cut detection from tiny colour thumbnails (a few microseconds a frame)."""

from __future__ import annotations

import numpy as np


class SceneCutDetector:
    """``detector(frame) -> True`` when ``frame`` starts a new shot.

    A cut changes both the picture (mean absolute difference of 64x36 thumbnails) and its colours
    (distance of colour histograms); motion within a shot changes the first much more than the second,
    and a change of lighting the second more than the first, so both must exceed their thresholds.
    """

    def __init__(self, pixel_threshold: float = 30.0, histogram_threshold: float = 0.35):
        self.pixel_threshold = pixel_threshold
        self.histogram_threshold = histogram_threshold
        self._previous: tuple[np.ndarray, np.ndarray] | None = None

    @staticmethod
    def _signature(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        # A strided view first: reading every pixel of a large frame costs more than the rest.
        step = max(1, min(frame.shape[0] // 144, frame.shape[1] // 256))
        thumb = cv2.resize(frame[::step, ::step], (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32)
        bins = (thumb // 32).astype(np.int32)  # 8 levels per channel
        codes = bins[..., 0] * 64 + bins[..., 1] * 8 + bins[..., 2]
        hist = np.bincount(codes.ravel(), minlength=512).astype(np.float32) / codes.size
        return thumb, hist

    def __call__(self, frame: np.ndarray) -> bool:
        current = self._signature(frame)
        previous, self._previous = self._previous, current
        if previous is None:
            return False
        pixels = float(np.abs(current[0] - previous[0]).mean())
        colours = 0.5 * float(np.abs(current[1] - previous[1]).sum())  # in [0, 1]
        return pixels > self.pixel_threshold and colours > self.histogram_threshold

    def reset(self) -> None:
        self._previous = None
