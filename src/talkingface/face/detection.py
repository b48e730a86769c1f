"""Face detection and 478-point landmarks with mediapipe's bundled models.

:class:`FaceDetector` runs BlazeFace full-range (finds faces down to ~20 px in a 720p frame, several
per frame). :class:`LandmarkModel` runs the attention face mesh (468 points + 10 iris points) on a
square region around a face, cut from the frame and scaled to a fixed size, so small and huge faces
alike reach the model at a good resolution. In tracking mode it follows the face from frame to frame
without running the detector again. :func:`detect_faces` does both for a photo.

Frames are ``(H, W, 3) uint8`` RGB. Landmarks are ``(478, 3) float32``: x, y in frame pixels and z
in the same pixel scale, negative towards the camera (mediapipe's convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..optional import needs
from ._mediapipe import quiet_stderr, solutions
from .topology import NUM_LANDMARKS

# Landmark region side = scale x detection box side (BlazeFace boxes span brows to chin) ...
DETECTION_ROI_SCALE = 2.0
# ... or x landmark bounding-box side (forehead to chin), as mediapipe's own tracking does.
LANDMARK_ROI_SCALE = 1.5


@dataclass(frozen=True)
class Detection:
    """One detected face.

    Attributes:
        box: ``(4,) float32`` x1, y1, x2, y2 in pixels.
        score: detector confidence in [0, 1].
        keypoints: ``(6, 2) float32`` pixels: right eye, left eye, nose tip, mouth centre,
            right ear tragion, left ear tragion (the subject's right/left).
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray


@dataclass(frozen=True)
class Face:
    """A face in a still image: its detection and its ``(478, 3)`` landmarks."""

    detection: Detection
    landmarks: np.ndarray


def check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    return np.ascontiguousarray(frame)


_BLANK = np.zeros((64, 64, 3), np.uint8)


class FaceDetector:
    """BlazeFace detector. ``detector(frame) -> list[Detection]``, best score first."""

    def __init__(self, min_score: float = 0.5, full_range: bool = True):
        if not 0 < min_score < 1:
            raise InputError(f"min_score must be in (0, 1), got {min_score}")
        with quiet_stderr():
            self._model = solutions().face_detection.FaceDetection(
                model_selection=1 if full_range else 0, min_detection_confidence=min_score
            )
            self._model.process(_BLANK)  # the graph starts (and prints its notices) while muted

    def __call__(self, frame: np.ndarray, region: tuple[float, float, float, float] | None = None) -> list[Detection]:
        """Faces in ``frame``, or in its ``region`` (x1, y1, x2, y2), in frame pixels."""
        frame = check_frame(frame)
        x0 = y0 = 0
        if region is not None:
            h, w = frame.shape[:2]
            x0, y0 = max(0, int(region[0])), max(0, int(region[1]))
            x1, y1 = min(w, int(region[2])), min(h, int(region[3]))
            if x1 - x0 < 8 or y1 - y0 < 8:
                return []
            frame = np.ascontiguousarray(frame[y0:y1, x0:x1])
        h, w = frame.shape[:2]
        with quiet_stderr():
            result = self._model.process(frame)
        detections = []
        for det in result.detections or []:
            rel = det.location_data.relative_bounding_box
            box = np.array(
                [
                    x0 + rel.xmin * w,
                    y0 + rel.ymin * h,
                    x0 + (rel.xmin + rel.width) * w,
                    y0 + (rel.ymin + rel.height) * h,
                ],
                np.float32,
            )
            points = np.array([[x0 + p.x * w, y0 + p.y * h] for p in det.location_data.relative_keypoints], np.float32)
            detections.append(Detection(box=box, score=float(det.score[0]), keypoints=points))
        return sorted(detections, key=lambda d: -d.score)

    def detect_multiscale(self, frame: np.ndarray, min_face: int | None = None) -> list[Detection]:
        """Faces down to about ``min_face`` pixels wide, wherever they are in a large frame.

        BlazeFace sees its input at 192x192, so it finds faces of at least ~8% of the input's width.
        Beyond the whole frame this runs it on overlapping square tiles, halving their side until
        faces of ``min_face`` pixels (default: 32, or 2.5% of the frame's longer side if more) are
        covered, then keeps the best of overlapping detections.
        """
        frame = check_frame(frame)
        h, w = frame.shape[:2]
        smallest = max(32.0, 0.025 * max(w, h)) if min_face is None else float(min_face)
        found = self(frame)
        side = min(w, h)
        while side >= 64 and _MIN_FACE_FRACTION * max(w, h) > smallest:
            for x0, y0 in _tiles(w, h, side):
                found += self(frame, (x0, y0, x0 + side, y0 + side))
            if _MIN_FACE_FRACTION * side <= smallest:
                break
            side //= 2
        return suppress_overlaps(found)

    def detect_beyond_edges(self, frame: np.ndarray) -> list[Detection]:
        """Faces the frame's edges cut (a tight crop whose forehead or chin is outside the frame): the
        frame is searched with its edges extended by half its size, replicated, as the detector was
        trained on faces with context around them. Boxes and keypoints are in the frame's coordinates,
        some of them past its edges."""
        extended, pad = _extended(check_frame(frame))
        shift = np.float32(pad)
        return [Detection(d.box - shift, d.score, d.keypoints - shift) for d in self(extended)]

    def close(self) -> None:
        with quiet_stderr():
            self._model.close()

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# BlazeFace full-range finds faces down to about this fraction of its input's width.
_MIN_FACE_FRACTION = 0.08


def _tiles(width: int, height: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of ``side``-pixel squares covering the frame with >= 25% overlap."""

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        count = int(np.ceil((length - side) / (0.75 * side))) + 1
        return [round(k * (length - side) / (count - 1)) for k in range(count)]

    return [(x, y) for y in starts(height) for x in starts(width)]


def suppress_overlaps(detections: list[Detection], iou: float = 0.3) -> list[Detection]:
    """Keep the best-scoring of detections that overlap (IoU above ``iou`` or one inside another)."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(
            box_iou(det.box, k.box) <= iou and not _inside(det.box, k.box) and not _inside(k.box, det.box) for k in kept
        ):
            kept.append(det)
    return kept


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = ix * iy
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def _inside(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the centre of box ``a`` lies in box ``b``."""
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    return bool(b[0] <= cx <= b[2] and b[1] <= cy <= b[3])


def square_roi(box: np.ndarray, scale: float) -> tuple[float, float, float]:
    """Centre x, centre y and side of the square ``scale`` times the box's larger side."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * scale


def landmark_box(landmarks: np.ndarray) -> np.ndarray:
    """Bounding box ``(4,)`` x1, y1, x2, y2 of landmarks."""
    xy = landmarks[:, :2]
    return np.concatenate([xy.min(0), xy.max(0)]).astype(np.float32)


def landmark_centre(landmarks: np.ndarray) -> tuple[float, float]:
    """The centre (x, y) of the bounding box of ``(N, 2+)`` landmarks (points with NaN ignored)."""
    xy = landmarks[:, :2]
    low, high = np.nanmin(xy, 0), np.nanmax(xy, 0)
    return float((low[0] + high[0]) / 2), float((low[1] + high[1]) / 2)


def cut_square(frame: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """The square region of ``side`` pixels centred at (cx, cy), scaled to ``size`` (zero outside)."""
    with needs("face"):
        import cv2

    scale = size / side
    x0, y0 = cx - side / 2, cy - side / 2
    if scale < 0.5:
        # Shrinking a lot: area-average the region first so that fine detail does not alias.
        h, w = frame.shape[:2]
        xa, ya = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        xb, yb = min(w, int(np.ceil(x0 + side))), min(h, int(np.ceil(y0 + side)))
        if xb <= xa or yb <= ya:
            return np.zeros((size, size, 3), np.uint8)
        region_scale = 2 * scale
        region = cv2.resize(
            frame[ya:yb, xa:xb],
            (max(1, round((xb - xa) * region_scale)), max(1, round((yb - ya) * region_scale))),
            interpolation=cv2.INTER_AREA,
        )
        fx, fy = region.shape[1] / (xb - xa), region.shape[0] / (yb - ya)
        matrix = np.array([[scale / fx, 0, (xa - x0) * scale], [0, scale / fy, (ya - y0) * scale]])
        return cv2.warpAffine(region, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0,))
    matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0,))


class LandmarkModel:
    """The 478-point attention face mesh, run on a square region around a face.

    ``model(frame, roi) -> landmarks or None`` where ``roi = (cx, cy, side)`` in pixels. With
    ``tracking=True`` the model keeps its state between calls (one instance per followed face) and
    skips its internal detector while the face stays in view; :meth:`reset` forgets the face (use
    it at a scene cut).
    """

    def __init__(self, tracking: bool = True, crop_size: int = 256, min_score: float = 0.5):
        self.tracking = tracking
        self.crop_size = int(crop_size)
        self._min_score = min_score
        self._model: Any = None  # mediapipe's FaceMesh (untyped), opened on first use

    def _open(self):
        with quiet_stderr():
            self._model = solutions().face_mesh.FaceMesh(
                static_image_mode=not self.tracking,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=self._min_score,
                min_tracking_confidence=self._min_score,
            )
            self._model.process(_BLANK)  # the graph starts (and prints its notices) while muted

    def __call__(self, frame: np.ndarray, roi: tuple[float, float, float]) -> np.ndarray | None:
        frame = check_frame(frame)
        cx, cy, side = roi
        if not side > 1:
            raise InputError(f"region side must be > 1 pixel, got {side}")
        if self._model is None:
            self._open()
        crop = cut_square(frame, cx, cy, side, self.crop_size)
        # mediapipe prints notices from inside its graph the first time it projects a face.
        with quiet_stderr():
            result = self._model.process(crop)
        if not result.multi_face_landmarks:
            return None
        points = result.multi_face_landmarks[0].landmark
        if len(points) != NUM_LANDMARKS:
            return None
        normalised = np.array([(p.x, p.y, p.z) for p in points], np.float32)
        out = np.empty_like(normalised)
        out[:, 0] = cx - side / 2 + normalised[:, 0] * side
        out[:, 1] = cy - side / 2 + normalised[:, 1] * side
        out[:, 2] = normalised[:, 2] * side
        return out

    def reset(self) -> None:
        """Forget the tracked face (the next call detects it afresh)."""
        self.close()

    def close(self) -> None:
        if self._model is not None:
            with quiet_stderr():
                self._model.close()
            self._model = None

    def __enter__(self) -> LandmarkModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def detect_faces(
    image: np.ndarray, max_faces: int = 4, min_score: float = 0.5, min_face: int | None = None
) -> list[Face]:
    """Faces of a still image, largest first, each with its 478 landmarks.

    A detection the landmark model does not confirm as a face is dropped. When no face is found, the
    image is searched again with its edges extended by half its size: a face that fills the frame (a
    224 px dataset crop) is what the detector, trained on faces with context around them, misses; its
    landmarks then come back in the image's coordinates, some of them past its edges.

    Args:
        image: ``(H, W, 3) uint8`` RGB.
        max_faces: at most this many faces (the largest) get landmarks.
        min_face: smallest face width in pixels searched for (see :meth:`FaceDetector.detect_multiscale`).
    """
    image = check_frame(image)
    faces = _detect(image, max_faces, min_score, min_face)
    if faces:
        return faces
    extended, pad = _extended(image)
    shift = np.array([pad, pad], np.float32)
    return [
        Face(
            Detection(
                face.detection.box - np.tile(shift, 2),
                face.detection.score,
                face.detection.keypoints - shift,
            ),
            face.landmarks - np.array([pad, pad, 0], face.landmarks.dtype),
        )
        for face in _detect(extended, max_faces, min_score, min_face)
    ]


def _extended(image: np.ndarray) -> tuple[np.ndarray, int]:
    """``image`` with its edges extended by half its size (replicated), and that margin in pixels: the
    context the detector needs around a face the image's edges cut."""
    with needs("face"):
        import cv2

    pad = max(1, max(image.shape[:2]) // 2)
    return cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE), pad


def _detect(image: np.ndarray, max_faces: int, min_score: float, min_face: int | None) -> list[Face]:
    with FaceDetector(min_score=min_score) as detector:
        detections = detector.detect_multiscale(image, min_face=min_face)
    detections.sort(key=lambda d: -float((d.box[2] - d.box[0]) * (d.box[3] - d.box[1])))
    faces = []
    with LandmarkModel(tracking=False, min_score=min_score) as model:
        for det in detections[:max_faces]:
            landmarks = model(image, square_roi(det.box, DETECTION_ROI_SCALE))
            if landmarks is None:
                continue
            # Refine: a region centred on the mesh itself, as in tracking.
            refined = model(image, square_roi(landmark_box(landmarks), LANDMARK_ROI_SCALE))
            faces.append(Face(detection=det, landmarks=refined if refined is not None else landmarks))
    return faces
