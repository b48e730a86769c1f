"""Inference pipelines composed from the toolkit's parts.

Every pipeline is built from its components (models, where it has any) and one frozen config, moves
with ``.to(device)``, checks its inputs and outputs before any work and returns a result dataclass from
one ``__call__``. Each is imported on first use, so importing one pipeline loads only what it needs
(the talking photo needs no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "LipSyncConfig": "lipsync_config",
    "LipSyncPipeline": "lipsync",
    "LipSyncResult": "lipsync",
    "MouthDubPipeline": "mouth_dub",
    "MeshAnimationConfig": "mesh_animation",
    "MeshAnimationPipeline": "mesh_animation",
    "MeshAnimationResult": "mesh_animation",
    "SyncScoreConfig": "sync_score",
    "SyncScorePipeline": "sync_score",
    "SyncScoreResult": "sync_score",
    "TalkingPhotoConfig": "talking_photo",
    "TalkingPhotoPipeline": "talking_photo",
    "TalkingPhotoResult": "talking_photo",
}
__all__ = [
    "LipSyncConfig",
    "LipSyncPipeline",
    "LipSyncResult",
    "MeshAnimationConfig",
    "MeshAnimationPipeline",
    "MeshAnimationResult",
    "MouthDubPipeline",
    "SyncScoreConfig",
    "SyncScorePipeline",
    "SyncScoreResult",
    "TalkingPhotoConfig",
    "TalkingPhotoPipeline",
    "TalkingPhotoResult",
]

if TYPE_CHECKING:
    from .lipsync import LipSyncPipeline, LipSyncResult
    from .lipsync_config import LipSyncConfig
    from .mesh_animation import MeshAnimationConfig, MeshAnimationPipeline, MeshAnimationResult
    from .mouth_dub import MouthDubPipeline
    from .sync_score import SyncScoreConfig, SyncScorePipeline, SyncScoreResult
    from .talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline, TalkingPhotoResult


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
