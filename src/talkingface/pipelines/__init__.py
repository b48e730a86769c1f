"""Inference pipelines composed from the toolkit's parts; each is an object with one ``__call__``."""

from .lipsync import LipSyncConfig, LipSyncPipeline, LipSyncResult, load_generator
from .mesh_animation import MeshAnimationConfig, MeshAnimationPipeline, MeshAnimationResult
from .sync_score import SyncScorePipeline, SyncScoreResult
from .talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline, TalkingPhotoResult

__all__ = [
    "LipSyncConfig",
    "LipSyncPipeline",
    "LipSyncResult",
    "MeshAnimationConfig",
    "MeshAnimationPipeline",
    "MeshAnimationResult",
    "SyncScorePipeline",
    "SyncScoreResult",
    "TalkingPhotoConfig",
    "TalkingPhotoPipeline",
    "TalkingPhotoResult",
    "load_generator",
]
