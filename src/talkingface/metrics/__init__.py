"""Evaluation metrics: audio-visual sync (LSE-D, LSE-C, offset) and 3D face motion (LVE, FDD)."""

from .mesh import face_dynamics_deviation, lip_vertex_error, load_vertex_group, vertex_groups, vertex_groups_for
from .sync import SyncScores, sync_scores

__all__ = [
    "SyncScores",
    "face_dynamics_deviation",
    "lip_vertex_error",
    "load_vertex_group",
    "sync_scores",
    "vertex_groups",
    "vertex_groups_for",
]
