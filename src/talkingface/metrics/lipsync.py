"""Measures of lip-sync output against the real video: mouth landmark distance, sharpness and flicker.

- :func:`landmark_distance` (LMD, after Chen et al., "Lip Movements Generation at a Glance", ECCV
  2018): the mean Euclidean distance between the lip landmarks (outer and inner contours, 40 points)
  of the generated and the real frames, each set first centred on its own mean, so that a shifted
  crop does not count, and expressed in pixels of a 96 px face crop.
- :func:`mouth_sharpness`: the variance of the Laplacian inside the mouth region, the usual focus
  measure (a blurry 96 px mouth pasted into an HD frame scores low).
- :func:`mouth_flicker`: the mean absolute frame-to-frame change of the mouth region's fine detail
  (its Laplacian), which a temporally unstable generator or upscaler raises while steady motion does
  not; compare it with the real video's own value.
All take per-frame arrays and return plain floats; none needs a model.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import InputError
from ..face import FaceTracker
from ..features.lips import lip_points
from ..optional import needs


def landmark_distance(generated: np.ndarray, real: np.ndarray, crop_size: float = 96.0) -> float:
    """LMD between landmarks ``(T, 478, 2|3)`` of generated and real frames, both in the pixels of crops
    of side ``crop_size`` (e.g. from ``data.lrs2`` clips); NaN frames (no face) are left out."""
    generated, real = np.asarray(generated, np.float64), np.asarray(real, np.float64)
    if generated.ndim != 3 or generated.shape[:2] != real.shape[:2] or generated.shape[1] != 478:
        raise InputError(
            f"expected two (T, 478, 2|3) landmark arrays of one length; got {generated.shape} and {real.shape}"
        )
    lips = lip_points()
    a, b = generated[:, lips, :2], real[:, lips, :2]
    valid = np.isfinite(a).all(axis=(1, 2)) & np.isfinite(b).all(axis=(1, 2))
    if not valid.any():
        raise InputError("no frame has lip landmarks on both sides")
    a, b = a[valid], b[valid]
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return float(np.linalg.norm(a - b, axis=2).mean() * 96.0 / crop_size)


def _grey_regions(frames: np.ndarray, boxes: np.ndarray, size: tuple[int, int]) -> list[np.ndarray]:
    """Grey uint8 mouth regions, each resized to ``size`` (width, height) so frames of any size
    compare alike."""
    with needs("face"):
        import cv2

    regions = []
    for frame, (x1, y1, x2, y2) in zip(frames, np.round(boxes).astype(int)):
        h, w = frame.shape[:2]
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 - x1 < 4 or y2 - y1 < 4:
            raise InputError(f"mouth box {x1, y1, x2, y2} is empty or outside the {w}x{h} frame")
        grey = cv2.cvtColor(np.ascontiguousarray(frame[y1:y2, x1:x2]), cv2.COLOR_RGB2GRAY)
        regions.append(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))
    return regions


def _mouth_regions(frames: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
    """Grey mouth regions at 64x32, as float64."""
    return [r.astype(np.float64) for r in _grey_regions(frames, boxes, (64, 32))]


def mouth_boxes(landmarks: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """``(T, 4)`` x1, y1, x2, y2 around the lips of landmarks ``(T, 478, 2|3)``, widened by ``margin``."""
    lips = np.asarray(landmarks)[:, lip_points(), :2]
    lo, hi = lips.min(axis=1), lips.max(axis=1)
    pad = (hi - lo) * margin
    return np.concatenate([lo - pad, hi + pad], axis=1)


def mouth_sharpness(frames: np.ndarray, boxes: np.ndarray) -> float:
    """Mean variance of the Laplacian of the mouth regions of ``frames`` ``(T, H, W, 3)`` uint8 RGB
    inside ``boxes`` ``(T, 4)`` (higher is sharper)."""
    with needs("face"):
        import cv2

    if len(frames) == 0 or len(frames) != len(boxes):
        raise InputError(f"need one mouth box per frame; got {len(frames)} frames and {len(boxes)} boxes")
    return float(np.mean([cv2.Laplacian(r, cv2.CV_64F).var() for r in _mouth_regions(frames, boxes)]))


def mouth_flicker(frames: np.ndarray, boxes: np.ndarray) -> float:
    """Mean absolute frame-to-frame change of the mouth regions' Laplacian (grey levels; lower is
    steadier) for ``frames`` ``(T, H, W, 3)`` uint8 RGB and ``boxes`` ``(T, 4)``; needs 2 frames or more."""
    with needs("face"):
        import cv2

    if len(frames) < 2 or len(frames) != len(boxes):
        raise InputError(f"need 2 or more frames with one mouth box each; got {len(frames)} and {len(boxes)}")
    detail = [cv2.Laplacian(r, cv2.CV_64F) for r in _mouth_regions(frames, boxes)]
    return float(np.mean([np.abs(b - a).mean() for a, b in itertools.pairwise(detail)]))


def compensated_flicker(frames: np.ndarray, boxes: np.ndarray, size: tuple[int, int] = (128, 64)) -> float:
    """Temporal flicker of the mouth regions after motion compensation: each region is warped onto
    the one before it along the optical flow between them (Farneback), and the mean absolute
    difference that remains is averaged (grey levels; lower is steadier). Motion itself costs
    nothing; shimmer, popping detail and jitter the flow cannot explain do. ``frames`` ``(T, H, W, 3)``
    uint8 RGB, ``boxes`` ``(T, 4)``; the regions are compared at ``size`` (width, height)."""
    with needs("face"):
        import cv2

    if len(frames) < 2 or len(frames) != len(boxes):
        raise InputError(f"need 2 or more frames with one mouth box each; got {len(frames)} and {len(boxes)}")
    regions = _grey_regions(frames, boxes, size)
    grid_x, grid_y = np.meshgrid(np.arange(size[0], dtype=np.float32), np.arange(size[1], dtype=np.float32))
    margin = 4  # the warp's borders hold no information
    residuals = []
    for before, after in itertools.pairwise(regions):
        flow = cv2.calcOpticalFlowFarneback(before, after, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        warped = cv2.remap(
            after, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        diff = np.abs(warped.astype(np.float64) - before.astype(np.float64))
        residuals.append(diff[margin:-margin, margin:-margin].mean())
    return float(np.mean(residuals))


def compare_videos(output: str, reference: str) -> dict:
    """Lip-sync output against the real video of the same speech: LMD (96 px crop pixels, each frame
    scaled by the reference face's width), and the mouth's sharpness and flicker in both. The largest
    face of each is tracked; frames where either has none are left out."""
    from ..media import read_frames

    tracked = [FaceTracker().track_video(path).target("largest") for path in (output, reference)]
    count = min(len(tracked[0].has_face), len(tracked[1].has_face))
    both = tracked[0].has_face[:count] & tracked[1].has_face[:count]
    if both.sum() < 2:
        raise InputError(f"{output} and {reference}: fewer than 2 frames with a face in both")
    frames_with = np.flatnonzero(both)
    generated, real = tracked[0].landmarks[frames_with], tracked[1].landmarks[frames_with]
    width = real[..., 0].max(axis=1) - real[..., 0].min(axis=1)  # the reference face's width per frame
    scale = (96.0 / np.maximum(width, 1.0))[:, None, None]
    report: dict = {"frames": int(len(frames_with)), "lmd": landmark_distance(generated * scale, real * scale, 96.0)}
    for name, path, landmarks in (("output", output, generated), ("reference", reference, real)):
        wanted = set(frames_with.tolist())
        frames = np.stack([f for i, f in enumerate(read_frames(path)) if i in wanted])
        boxes = mouth_boxes(landmarks)
        report[f"sharpness_{name}"] = mouth_sharpness(frames, boxes)
        report[f"flicker_{name}"] = mouth_flicker(frames, boxes)
    return report
