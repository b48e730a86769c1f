"""Inference pipelines composed from the toolkit's parts; each is an object with one ``__call__``."""

from .talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline, TalkingPhotoResult

__all__ = ["TalkingPhotoConfig", "TalkingPhotoPipeline", "TalkingPhotoResult"]
