"""The built-in sync model: lip landmarks against speech (``syncnet.lips``).

A small two-tower network in the SyncNet mould, trained here (:mod:`talkingface.train.sync_lips`) and
shipped inside the package (``weights/syncnet_lips.safetensors``, with its model card), so that sync
scores, AV offsets and the choice of the speaking face work with no downloaded checkpoint.

- Lips: 5 consecutive frames of lip motion (:func:`talkingface.features.lips.lip_motion`: the 40 lip
  landmarks in the face's own frame, less the track's median) ``(B, 5, 80)`` -> a 1D convolution over
  time -> an embedding.
- Audio: the Wav2Lip mel window of the same 0.2 s ``(B, 1, 80, 16)`` -> a 2D convolution -> an
  embedding.

Both embeddings are L2-normalised; in-sync pairs are close. Landmarks rather than pixels: the tracker
has already removed the person's looks, the light and the head pose, which is what a model trained on a
few dozen speakers cannot learn to ignore from pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputError
from ..features.lips import LIP_FEATURES
from .registry import load_builtin, register_network
from .spec import ModelSpec

FRAMES = 5


@dataclass(frozen=True)
class SyncNetLipsConfig:
    """Attributes:
    embedding: size of the two embeddings.
    width: channels of the first audio convolution (the others are 2x and 4x).
    lip_width: channels of the lip convolutions.
    dropout: training dropout of the lip features and of the audio embedding's last layer.
    frame: the lip frame its inputs are computed in (:data:`talkingface.features.lips.FRAMES`).
    """

    embedding: int = 128
    width: int = 16
    lip_width: int = 64
    dropout: float = 0.3
    frame: str = "eye_line"

    def __post_init__(self) -> None:
        from ..features.lips import FRAMES

        if self.frame not in FRAMES:
            raise InputError(f"frame must be one of {', '.join(FRAMES)}, got {self.frame!r}")
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        if not (8 <= self.embedding <= 1024 and 4 <= self.width <= 256 and 8 <= self.lip_width <= 1024):
            raise InputError(
                f"SyncNetLipsConfig sizes out of range: embedding {self.embedding}, width {self.width}, "
                f"lip_width {self.lip_width}"
            )


def _conv2d(cin: int, cout: int, stride: tuple[int, int]) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _conv1d(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv1d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]


class SyncNetLips(nn.Module):
    """Lip landmarks and mel windows -> L2-normalised embeddings (see the module)."""

    def __init__(self, config: SyncNetLipsConfig = SyncNetLipsConfig()):
        super().__init__()
        self.config = config
        w, e = config.width, config.embedding
        self.audio_encoder = nn.Sequential(
            *_conv2d(1, w, (2, 1)),  # (w, 40, 16)
            *_conv2d(w, 2 * w, (2, 2)),  # (2w, 20, 8)
            *_conv2d(2 * w, 4 * w, (2, 2)),  # (4w, 10, 4)
            *_conv2d(4 * w, 4 * w, (2, 2)),  # (4w, 5, 2)
            nn.Flatten(),
            nn.Linear(4 * w * 10, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(256, e),
        )
        lw = config.lip_width
        self.lip_encoder = nn.Sequential(
            nn.Dropout(config.dropout),
            *_conv1d(LIP_FEATURES, lw),
            *_conv1d(lw, lw),
            nn.Flatten(),
            nn.Linear(lw * FRAMES, 256),
            nn.ReLU(inplace=True),
            nn.Linear(256, e),
        )
        # Training only: the softmax temperature of the matching loss (kept with the model so that a
        # resumed run continues with it).
        self.logit_scale = nn.Parameter(torch.tensor(2.3))

    def forward_audio(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel windows ``(B, 1, 80, 16)`` -> ``(B, E)``."""
        if mel.dim() != 4 or mel.shape[1:] != (1, 80, 16):
            raise InputError(f"expected mel windows (B, 1, 80, 16), got {tuple(mel.shape)}")
        return nn.functional.normalize(self.audio_encoder(mel), dim=1)

    def forward_lips(self, lips: torch.Tensor) -> torch.Tensor:
        """Lip motion windows ``(B, 5, 80)`` -> ``(B, E)``."""
        if lips.dim() != 3 or lips.shape[1:] != (FRAMES, LIP_FEATURES):
            raise InputError(f"expected lip windows (B, {FRAMES}, {LIP_FEATURES}), got {tuple(lips.shape)}")
        return nn.functional.normalize(self.lip_encoder(lips.transpose(1, 2)), dim=1)

    def forward(self, mel: torch.Tensor, lips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_audio(mel), self.forward_lips(lips)


# Wav2Lip's mel windows (the spec's defaults) against lip landmarks.
SPEC = ModelSpec(family="syncnet", role="sync", image_size=None, frames_per_window=FRAMES, visual="lip_landmarks")


register_network(
    "syncnet.lips",
    SyncNetLips,
    SyncNetLipsConfig,
    SPEC,
    "the built-in sync model: lip landmarks of 5 frames vs a mel window (trained here, shipped)",
    weights="syncnet_lips.safetensors",
)


def builtin_sync_model(device: str | torch.device | None = None) -> nn.Module:
    """The built-in sync model, loaded from the package (eval mode)."""
    return load_builtin("syncnet.lips", device=device)
