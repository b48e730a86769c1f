"""Evaluation metrics: audio-visual sync (LSE-D, LSE-C, offset)."""

from .sync import SyncScores, sync_scores

__all__ = ["SyncScores", "sync_scores"]
