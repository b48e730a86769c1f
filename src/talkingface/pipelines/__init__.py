"""Inference pipelines composed from the toolkit's parts; each is an object with one ``__call__``."""

from .mesh_animation import MeshAnimationConfig, MeshAnimationPipeline, MeshAnimationResult
from .talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline, TalkingPhotoResult

__all__ = ["MeshAnimationConfig", "MeshAnimationPipeline", "MeshAnimationResult", "TalkingPhotoConfig", "TalkingPhotoPipeline", "TalkingPhotoResult"]
