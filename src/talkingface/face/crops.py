"""Face crops for models, each with the transform that maps it back into the frame.

- :func:`wav2lip_box` + :func:`crop_box`: Wav2Lip's crop. The face box (here the landmarks' face oval,
  made square) grows by the pads (top, bottom, left, right) = (0, 10, 0, 0) by default, is clipped to
  the frame and resized to the model size (96, or 192/256/288 for larger models) with OpenCV's
  default bilinear resize, as the public checkpoints were trained.
- :func:`smooth_boxes_mean`: the reference's 5-frame mean of boxes (for exact reproduction; tracks
  are already smoothed by the tracker).
- :func:`aligned_crop`: a similarity transform that puts the eyes and mouth at fixed places, for
  models trained on aligned faces.

A :class:`Crop` carries ``matrix`` (frame -> crop pixels, 2x3); ``inverse`` maps back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..geometry import umeyama
from ..optional import needs
from .topology import NUM_LANDMARKS, face_topology

WAV2LIP_PADS = (0, 10, 0, 0)  # top, bottom, left, right


@dataclass(frozen=True)
class Crop:
    """A crop of a frame.

    Attributes:
        image: ``(h, w, 3) uint8`` in the frame's channel order.
        matrix: ``(2, 3) float64`` affine map from frame pixels to crop pixels.
        frame_size: (width, height) of the frame it came from.
        box: ``(4,) int64`` x1, y1, x2, y2 of the frame region for box crops, else None.
    """

    image: np.ndarray
    matrix: np.ndarray
    frame_size: tuple[int, int]
    box: np.ndarray | None = None

    @property
    def inverse(self) -> np.ndarray:
        """``(2, 3)`` affine map from crop pixels to frame pixels."""
        return invert_affine(self.matrix)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Frame ``(N, 2)`` points in crop pixels."""
        return apply_affine(self.matrix, points)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Crop ``(N, 2)`` points in frame pixels."""
        return apply_affine(self.inverse, points)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([np.asarray(matrix, np.float64), [0, 0, 1]])
    return np.linalg.inv(full)[:2]


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, np.float64)
    return points[..., :2] @ matrix[:, :2].T + matrix[:, 2]


def _check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    landmarks = np.asarray(landmarks)
    if landmarks.shape[-2:] not in ((NUM_LANDMARKS, 3), (NUM_LANDMARKS, 2)) or landmarks.ndim != 2:
        raise InputError(f"landmarks must be ({NUM_LANDMARKS}, 3) or ({NUM_LANDMARKS}, 2), got {landmarks.shape}")
    if not np.isfinite(landmarks[:, :2]).all():
        raise InputError("landmarks contain NaN (a frame without a face has no crop)")
    return landmarks


def wav2lip_box(
    landmarks: np.ndarray, frame_size: tuple[int, int], pads: tuple[int, int, int, int] = WAV2LIP_PADS
) -> np.ndarray:
    """Wav2Lip's face box: the square around the face oval, plus pads, clipped to the frame.

    Args:
        landmarks: ``(478, 2|3)`` pixels.
        frame_size: (width, height).
        pads: pixels added (top, bottom, left, right); Wav2Lip's default adds 10 below the chin.

    Returns:
        ``(4,) int64`` x1, y1, x2, y2 (x2, y2 exclusive).
    """
    landmarks = _check_landmarks(landmarks)
    width, height = frame_size
    oval = landmarks[face_topology().group("face_oval"), :2]
    (x1, y1), (x2, y2) = oval.min(0), oval.max(0)
    side = max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    top, bottom, left, right = pads
    box = np.array(
        [
            np.floor(cx - side / 2 - left),
            np.floor(cy - side / 2 - top),
            np.ceil(cx + side / 2 + right),
            np.ceil(cy + side / 2 + bottom),
        ]
    ).astype(np.int64)
    box[[0, 2]] = np.clip(box[[0, 2]], 0, width)
    box[[1, 3]] = np.clip(box[[1, 3]], 0, height)
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        raise InputError(f"face box {box.tolist()} lies outside the {width}x{height} frame")
    return box


def crop_box(
    frame: np.ndarray, box: np.ndarray | Sequence[float], size: int | tuple[int, int], interpolation: str = "linear"
) -> Crop:
    """Cut ``box`` (x1, y1, x2, y2) out of ``frame`` and resize it to ``size`` (square or (w, h)).

    ``interpolation`` "linear" is OpenCV's default (what the Wav2Lip checkpoints saw in training);
    "area" averages when shrinking.
    """
    with needs("face"):
        import cv2

    x1, y1, x2, y2 = (int(v) for v in box)
    h, w = frame.shape[:2]
    if not (0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h):
        raise InputError(f"box {[x1, y1, x2, y2]} is not inside the {w}x{h} frame")
    out_w, out_h = (size, size) if isinstance(size, (int, np.integer)) else size
    flags = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}.get(interpolation)
    if flags is None:
        raise InputError(f"interpolation must be 'linear' or 'area', got {interpolation!r}")
    image = cv2.resize(frame[y1:y2, x1:x2], (out_w, out_h), interpolation=flags)
    sx, sy = out_w / (x2 - x1), out_h / (y2 - y1)
    # OpenCV's resize maps pixel centres: u + 0.5 = (x - x1 + 0.5) * sx.
    matrix = np.array([[sx, 0, (0.5 - x1) * sx - 0.5], [0, sy, (0.5 - y1) * sy - 0.5]])
    return Crop(image=image, matrix=matrix, frame_size=(w, h), box=np.array([x1, y1, x2, y2], np.int64))


def smooth_boxes_mean(boxes: np.ndarray, window: int = 5) -> np.ndarray:
    """Wav2Lip's box smoothing: each box becomes the mean of itself and the next ``window - 1``
    (the last ``window`` boxes near the end). ``(T, 4)`` -> ``(T, 4)`` float."""
    boxes = np.asarray(boxes, np.float64)
    out = np.empty_like(boxes)
    n = len(boxes)
    for i in range(n):
        chunk = boxes[n - window :] if i + window > n else boxes[i : i + window]
        out[i] = chunk.mean(axis=0)
    return out


# Where the aligned crop puts the eye centres and the mouth centre, in units of the crop side.
ALIGNED_TEMPLATE = np.array([[0.35, 0.42], [0.65, 0.42], [0.50, 0.74]])


def alignment_points(landmarks: np.ndarray) -> np.ndarray:
    """``(3, 2)``: the image-left eye centre, image-right eye centre and mouth centre."""
    landmarks = _check_landmarks(landmarks)
    topo = face_topology()
    right_eye = landmarks[topo.group("right_eye"), :2].mean(0)
    left_eye = landmarks[topo.group("left_eye"), :2].mean(0)
    mouth = landmarks[topo.group("lips_outer"), :2].mean(0)
    return np.stack([right_eye, left_eye, mouth])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation taking ``src`` (N, 2) onto ``dst``
    (Umeyama, without reflection). Returns ``(2, 3)``."""

    scale, rotation, translation = umeyama(src, dst)
    return np.concatenate([scale * rotation, translation[:, None]], axis=1)


def aligned_crop(
    frame: np.ndarray, landmarks: np.ndarray, size: int = 256, template: np.ndarray = ALIGNED_TEMPLATE
) -> Crop:
    """A ``size x size`` crop rotated and scaled so the eyes and mouth land on ``template``."""
    with needs("face"):
        import cv2

    matrix = similarity_transform(alignment_points(landmarks), np.asarray(template) * size)
    image = cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return Crop(image=image, matrix=matrix, frame_size=(frame.shape[1], frame.shape[0]))
