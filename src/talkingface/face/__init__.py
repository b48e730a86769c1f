"""Faces in images and videos: detection, 478-point landmarks, tracking, crops and paste-back.

Needs the ``face`` extra (mediapipe 0.10.21 with its bundled models, OpenCV).
"""

from .detection import Detection, Face, FaceDetector, LandmarkModel, detect_faces, landmark_box
from .smoothing import OneEuroFilter, OneEuroParams, one_euro, smooth_zero_lag
from .topology import NUM_LANDMARKS, FaceTopology, face_topology
from .tracking import FaceTrack, FaceTracker, TargetFace, TrackerConfig, TrackingResult, fill_gaps

__all__ = [
    "NUM_LANDMARKS",
    "Detection",
    "Face",
    "FaceDetector",
    "FaceTopology",
    "FaceTrack",
    "FaceTracker",
    "LandmarkModel",
    "OneEuroFilter",
    "OneEuroParams",
    "TargetFace",
    "TrackerConfig",
    "TrackingResult",
    "detect_faces",
    "face_topology",
    "fill_gaps",
    "landmark_box",
    "one_euro",
    "smooth_zero_lag",
]
