"""SyncNet models: Wav2Lip's lip-sync expert and syncnet_python's evaluation network.

- :class:`SyncNetColor` - the expert of Prajwal et al. (2020), ``lipsync_expert.pth`` of
  Rudrabha/Wav2Lip: the lower halves of 5 consecutive 96 px BGR crops stacked on channels
  ``(B, 15, 48, 96)`` and a mel window ``(B, 1, 80, 16)`` -> two L2-normalised 512-d embeddings whose
  cosine similarity (in [0, 1] thanks to the final ReLUs) is trained with BCE.
- :class:`SyncNetV2` - Chung & Zisserman, "Out of time: automated lip sync in the wild" (ACCV 2016
  workshops), ``syncnet_v2.model`` of joonson/syncnet_python: 5 colour 224x224 frames
  ``(B, 3, 5, 224, 224)`` (raw 0-255) and an MFCC window ``(B, 1, 13, 20)`` -> 1024-d embeddings
  compared by Euclidean distance (the LSE-D / LSE-C metrics).

Module trees and parameter names are the upstream ones, so the public files load strictly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import InputError
from .checkpoint import fill_batchnorm_counters, standard_filter
from .layers import ConvBlock, residual_stack
from .registry import register_detector, register_network
from .spec import ModelSpec
from .wav2lip import audio_encoder, channels, check_divisor


@dataclass(frozen=True)
class SyncNetConfig:
    """Attributes:
    channel_divisor: every layer's channels (and the embedding size) divided by this (1, 2, 4, 8 or
        16): 1 is the published network; larger values make tiny networks for tests.
    """

    channel_divisor: int = 1

    def __post_init__(self) -> None:
        check_divisor(self.channel_divisor)


class SyncNetColor(nn.Module):
    """Wav2Lip's lip-sync expert (16,435,072 parameters)."""

    def __init__(self, config: SyncNetConfig = SyncNetConfig()):
        super().__init__()
        self.config = config
        c = channels(config.channel_divisor)

        self.face_encoder = nn.Sequential(
            ConvBlock(15, c(32), 7, 1, 3),
            ConvBlock(c(32), c(64), 5, (1, 2), 1),
            *residual_stack(c(64), 2),
            ConvBlock(c(64), c(128), 3, 2, 1),
            *residual_stack(c(128), 3),
            ConvBlock(c(128), c(256), 3, 2, 1),
            *residual_stack(c(256), 2),
            ConvBlock(c(256), c(512), 3, 2, 1),
            *residual_stack(c(512), 2),
            ConvBlock(c(512), c(512), 3, 2, 1),
            ConvBlock(c(512), c(512), 3, 1, 0),
            ConvBlock(c(512), c(512), 1, 1, 0),
        )
        self.audio_encoder = audio_encoder(extra_res256=2, divisor=config.channel_divisor)

    def forward(self, audio: torch.Tensor, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mel ``(B, 1, 80, 16)``, faces ``(B, 15, 48, 96)`` -> (audio, face) embeddings ``(B, 512)``."""
        if face.dim() != 4 or face.shape[1] != 15 or audio.dim() != 4 or audio.shape[1:] != (1, 80, 16):
            raise InputError(
                f"expected mel (B, 1, 80, 16) and faces (B, 15, 48, 96); got "
                f"{tuple(audio.shape)} and {tuple(face.shape)}"
            )
        face_embedding = self.face_encoder(face).view(face.size(0), -1)
        audio_embedding = self.audio_encoder(audio).view(audio.size(0), -1)
        return nn.functional.normalize(audio_embedding, p=2, dim=1), nn.functional.normalize(face_embedding, p=2, dim=1)

    @staticmethod
    def sync_probability(audio_embedding: torch.Tensor, face_embedding: torch.Tensor) -> torch.Tensor:
        """Cosine similarity ``(B,)``, read as the probability that audio and lips are in sync."""
        return nn.functional.cosine_similarity(audio_embedding, face_embedding)

    @staticmethod
    def sync_loss(audio_embedding: torch.Tensor, face_embedding: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        p = nn.functional.cosine_similarity(audio_embedding, face_embedding).clamp(1e-7, 1 - 1e-7)
        return nn.functional.binary_cross_entropy(p, label.float().view(-1))


class SyncNetV2(nn.Module):
    """syncnet_python's evaluation model (13,631,616 parameters)."""

    def __init__(self, config: SyncNetConfig = SyncNetConfig()):
        super().__init__()
        self.config = config
        c = channels(config.channel_divisor)

        self.netcnnaud = nn.Sequential(
            nn.Conv2d(1, c(64), 3, 1, 1),
            nn.BatchNorm2d(c(64)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(1, 1),
            nn.Conv2d(c(64), c(192), 3, 1, 1),
            nn.BatchNorm2d(c(192)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, (1, 2)),
            nn.Conv2d(c(192), c(384), 3, 1, 1),
            nn.BatchNorm2d(c(384)),
            nn.ReLU(inplace=True),
            nn.Conv2d(c(384), c(256), 3, 1, 1),
            nn.BatchNorm2d(c(256)),
            nn.ReLU(inplace=True),
            nn.Conv2d(c(256), c(256), 3, 1, 1),
            nn.BatchNorm2d(c(256)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c(256), c(512), (5, 4), 1, 0),
            nn.BatchNorm2d(c(512)),
            nn.ReLU(),
        )
        self.netfcaud = nn.Sequential(
            nn.Linear(c(512), c(512)), nn.BatchNorm1d(c(512)), nn.ReLU(), nn.Linear(c(512), c(1024))
        )
        self.netfclip = nn.Sequential(
            nn.Linear(c(512), c(512)), nn.BatchNorm1d(c(512)), nn.ReLU(), nn.Linear(c(512), c(1024))
        )
        self.netcnnlip = nn.Sequential(
            nn.Conv3d(3, c(96), (5, 7, 7), (1, 2, 2), 0),
            nn.BatchNorm3d(c(96)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(c(96), c(256), (1, 5, 5), (1, 2, 2), (0, 1, 1)),
            nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(c(256), c(512), (1, 6, 6), padding=0),
            nn.BatchNorm3d(c(512)),
            nn.ReLU(inplace=True),
        )

    def forward_audio(self, mfcc: torch.Tensor) -> torch.Tensor:
        """MFCC windows ``(B, 1, 13, 20)`` -> ``(B, 1024)``."""
        if mfcc.dim() != 4 or mfcc.shape[1:] != (1, 13, 20):
            raise InputError(f"expected MFCC windows (B, 1, 13, 20), got {tuple(mfcc.shape)}")
        embedding: torch.Tensor = self.netfcaud(self.netcnnaud(mfcc).view(mfcc.size(0), -1))
        return embedding

    def forward_lips(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, 3, 5, 224, 224)`` (0-255) -> ``(B, 1024)``. Also takes the five frames stacked on
        channels, ``(B, 15, 224, 224)`` with channel ``c * 5 + t`` (any memory format)."""
        if frames.dim() == 4 and frames.shape[1:] == (15, 224, 224):
            if not isinstance(self.netcnnlip, nn.Sequential):  # the 2D inference form takes them as they are
                return self.netfclip(self.netcnnlip(frames).flatten(1))
            frames = frames.reshape(frames.size(0), 3, 5, 224, 224)
        if frames.dim() != 5 or frames.shape[1:] != (3, 5, 224, 224):
            raise InputError(f"expected frames (B, 3, 5, 224, 224) or (B, 15, 224, 224), got {tuple(frames.shape)}")
        embedding: torch.Tensor = self.netfclip(self.netcnnlip(frames).flatten(1))
        return embedding

    def forward(self, mfcc: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_audio(mfcc), self.forward_lips(frames)


# -- registry ---------------------------------------------------------------------------------------
EXPERT_SPEC = ModelSpec(family="syncnet", role="sync", image_size=96, frames_per_window=5)
V2_SPEC = ModelSpec(
    family="syncnet",
    role="sync",
    audio_features="syncnet_mfcc",
    audio_rate=100.0,
    audio_window=20,
    image_size=224,
    frames_per_window=5,
    value_range=(0.0, 255.0),
    face_pads=(0, 0, 0, 0),
    crop_margin=0.4,
)


def _filter(state: Any) -> dict:
    # syncnet_v2.model was saved by PyTorch 0.3 (2017): its batch norms have no num_batches_tracked.
    return fill_batchnorm_counters(standard_filter(state))


def detect(state: dict) -> str | None:
    """ "syncnet.expert" or "syncnet.v2" from the keys and shapes of an upstream file."""
    first = state.get("face_encoder.0.conv_block.0.weight")
    if first is not None and first.shape[1] == 15 and "audio_encoder.0.conv_block.0.weight" in state:
        return "syncnet.expert"
    if "netcnnaud.0.weight" in state and "netcnnlip.0.weight" in state:
        return "syncnet.v2"
    return None


register_network(
    "syncnet.expert",
    SyncNetColor,
    SyncNetConfig,
    EXPERT_SPEC,
    "Wav2Lip lip-sync expert (lipsync_expert.pth): lower halves of 5 frames vs a mel window",
    filter=_filter,
)
register_network(
    "syncnet.v2",
    SyncNetV2,
    SyncNetConfig,
    V2_SPEC,
    "syncnet_python evaluation model (syncnet_v2.model), for LSE-D / LSE-C",
    filter=_filter,
)
register_detector(detect)
