"""Drawing tracked faces onto frames, so a person can check what was tracked."""

from __future__ import annotations

import numpy as np

from ..optional import needs
from .topology import face_topology

_COLOURS = [(0, 220, 90), (255, 170, 0), (0, 160, 255), (230, 60, 200), (255, 230, 40), (60, 220, 230)]


def track_colour(track_id: int) -> tuple[int, int, int]:
    """An RGB colour per track id."""
    return _COLOURS[track_id % len(_COLOURS)]


def draw_face(frame: np.ndarray, landmarks: np.ndarray, track_id: int, interpolated: bool = False) -> None:
    """Draw box, id, landmark points and lip/eye/oval contours of one face onto ``frame`` in place.

    Interpolated faces (filled across a short loss) are drawn in grey.
    """
    with needs("face"):
        import cv2

    colour = (150, 150, 150) if interpolated else track_colour(track_id)
    xy = landmarks[:, :2]
    (x1, y1), (x2, y2) = xy.min(0), xy.max(0)
    thickness = max(1, int(round((x2 - x1) / 150)))
    cv2.rectangle(frame, (int(x1), int(y1)), (int(x2), int(y2)), colour, thickness, cv2.LINE_AA)
    cv2.putText(
        frame,
        f"#{track_id}{' interp' if interpolated else ''}",
        (int(x1), max(12, int(y1) - 6)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        colour,
        1,
        cv2.LINE_AA,
    )
    topo = face_topology()
    for name in ("lips_outer", "lips_inner", "right_eye", "left_eye", "face_oval"):
        contour = np.round(xy[topo.group(name)] * 16).astype(np.int32)
        cv2.polylines(frame, [contour], True, colour, 1, cv2.LINE_AA, shift=4)
    points = np.round(xy).astype(np.int64)
    h, w = frame.shape[:2]
    inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
    frame[points[inside, 1], points[inside, 0]] = colour


def draw_no_face(frame: np.ndarray) -> None:
    with needs("face"):
        import cv2

    cv2.putText(frame, "no face", (12, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 60, 60), 2, cv2.LINE_AA)
