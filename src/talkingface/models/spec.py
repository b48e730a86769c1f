"""What a pipeline must know to feed a model and read its output: one frozen spec per variant.

Pipelines read ``model.spec`` (set by :func:`~talkingface.models.create_model` and
:func:`~talkingface.models.load_model`) instead of repeating sample rates, window sizes, crop sizes and
channel orders as literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

AUDIO_FEATURES = ("wav2lip_mel", "syncnet_mfcc", "lipgan_mfcc", "raw")
ROLES = ("generator", "discriminator", "sync", "mesh", "enhancer")
VISUALS = ("crops", "lip_landmarks")


@dataclass(frozen=True)
class ModelSpec:
    """Inputs and outputs of one model variant.

    Attributes:
        family: model family ("wav2lip", "syncnet", "lipgan", "faceformer").
        role: "generator" (makes mouths), "discriminator" (judges frames), "sync" (audio-visual
            embeddings), "mesh" (vertex sequences) or "enhancer" (sharpens mouths).
        sample_rate: audio rate the features assume, Hz.
        fps: video frame rate the windows assume (the features are placed by time at any other rate).
        audio_features: "wav2lip_mel" (80-band log-mel, 80 columns/s), "syncnet_mfcc" (13 MFCC,
            100 columns/s), "lipgan_mfcc" or "raw" (16 kHz samples).
        audio_rate: feature columns per second of audio.
        audio_window: feature columns per window.
        image_size: face crop side, pixels (None: no image input).
        frames_per_window: video frames per window (5 for SyncNet).
        channel_order: "bgr" or "rgb" of the face crops.
        value_range: pixel value range the model takes, e.g. (0, 1) or (0, 255).
        face_pads: pixels added to the face box (top, bottom, left, right).
        crop_margin: margin around the face box, as a fraction of its half-size (syncnet_python's
            crops); None where the face box with ``face_pads`` is used.
        speakers: names of the training speakers (style one-hots, in order).
        template: the mesh whose vertices the model predicts.
        visual: what the model sees of the face: "crops" (face crops of ``image_size`` pixels) or
            "lip_landmarks" (lip motion from tracked landmarks, :mod:`talkingface.features.lips`).
    """

    family: str
    role: str
    sample_rate: int = 16000
    fps: float = 25.0
    audio_features: str = "wav2lip_mel"
    audio_rate: float = 80.0
    audio_window: int = 16
    image_size: int | None = 96
    frames_per_window: int = 1
    channel_order: str = "bgr"
    value_range: tuple[float, float] = (0.0, 1.0)
    face_pads: tuple[int, int, int, int] = (0, 10, 0, 0)
    crop_margin: float | None = None
    speakers: tuple[str, ...] = ()
    template: str = ""
    visual: str = "crops"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if self.audio_features not in AUDIO_FEATURES:
            raise InputError(f"audio_features must be one of {', '.join(AUDIO_FEATURES)}, got {self.audio_features!r}")
        if self.visual not in VISUALS:
            raise InputError(f"visual must be one of {', '.join(VISUALS)}, got {self.visual!r}")
        if self.channel_order not in ("bgr", "rgb"):
            raise InputError(f"channel_order must be 'bgr' or 'rgb', got {self.channel_order!r}")
        if self.sample_rate <= 0 or self.fps <= 0 or self.audio_rate <= 0:
            raise InputError("sample_rate, fps and audio_rate must be positive")

    @classmethod
    def from_speech(cls, family: str, role: str = "mesh") -> ModelSpec:
        """A model that takes raw speech (its own features, 100 steps a second) and no image."""
        return cls(family=family, role=role, audio_features="raw", audio_rate=100.0, audio_window=1, image_size=None)

    @classmethod
    def enhancer(cls, family: str, image_size: int | None, value_range: tuple[float, float]) -> ModelSpec:
        """An image enhancer (no audio): RGB in ``value_range``, of ``image_size`` pixels (None: any)."""
        return cls(
            family=family,
            role="enhancer",
            audio_features="raw",
            audio_window=1,
            image_size=image_size,
            channel_order="rgb",
            value_range=value_range,
        )

    def window_seconds(self) -> float:
        """Duration of one audio window, seconds (0.2 s for Wav2Lip's 16 mel columns)."""
        return self.audio_window / self.audio_rate
