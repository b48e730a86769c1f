"""LipGAN: a talking-face generator and a contrastive audio-visual discriminator, in PyTorch.

After Prajwal et al., "Towards Automatic Face-to-Face Translation" (ACM MM 2019), whose reference
implementation is Keras (no PyTorch checkpoints exist, so there is no upstream format to match).
Facts kept from it: face input 6x96x96 ordered [reference, masked target] (the reverse of
Wav2Lip), audio MFCC 12x35; the generator is a Conv+BN+ReLU U-Net whose bottleneck joins an audio
encoder; the discriminator has face and audio towers (InstanceNorm + LeakyReLU 0.2) producing
L2-normalised embeddings compared by Euclidean distance, trained with a contrastive loss (margin 1).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import InputError
from .checkpoint import fill_batchnorm_counters, standard_filter
from .layers import ConvBlock, ConvTransposeBlock, residual_stack
from .registry import register_detector, register_network
from .spec import ModelSpec


@dataclass(frozen=True)
class LipGANConfig:
    """Attributes:
    image_size: face crop side (96 in the paper).
    width: channels of the first stage (doubles down the encoder; the paper's is 32).
    embedding: size of the discriminator's embeddings.
    """

    image_size: int = 96
    width: int = 32
    embedding: int = 256

    def __post_init__(self) -> None:
        if self.image_size % 32 or self.width < 4:
            raise InputError(f"LipGAN needs image_size divisible by 32 and width >= 4, got {self}")


def _mfcc_encoder(width: int, out: int) -> nn.Sequential:
    """MFCC ``(B, 1, 12, 35)`` -> ``(B, out, 1, 1)``."""
    return nn.Sequential(
        ConvBlock(1, width, 3, 1, 1),
        *residual_stack(width, 1),
        ConvBlock(width, 2 * width, 3, (1, 2), 1),
        *residual_stack(2 * width, 1),  # 12 x 18
        ConvBlock(2 * width, 4 * width, 3, 2, 1),
        *residual_stack(4 * width, 1),  # 6 x 9
        ConvBlock(4 * width, 8 * width, 3, 2, 1),  # 3 x 5
        ConvBlock(8 * width, out, (3, 5), 1, 0),  # 1 x 1
    )


class LipGAN(nn.Module):
    """Generator: ``face (B, 6, 96, 96)`` [reference, masked target] + MFCC ``(B, 1, 12, 35)`` -> ``(B, 3, 96, 96)``."""

    def __init__(self, config: LipGANConfig = LipGANConfig()):
        super().__init__()
        self.config = config
        w = config.width
        channels = [w, 2 * w, 4 * w, 8 * w, 16 * w, 16 * w]
        self.encoder = nn.ModuleList([nn.Sequential(ConvBlock(6, channels[0], 5, 1, 2))])
        for cin, cout in itertools.pairwise(channels):
            self.encoder.append(nn.Sequential(ConvBlock(cin, cout, 3, 2, 1), *residual_stack(cout, 1)))
        self.audio_encoder = _mfcc_encoder(w, channels[-1])
        bottom = config.image_size // 32
        self.join = ConvTransposeBlock(channels[-1], channels[-1], bottom, 1, 0)  # audio code -> bottleneck map
        self.decoder = nn.ModuleList()
        cin = 2 * channels[-1]
        for skip, cout in zip(channels[-2::-1], channels[-2::-1]):
            self.decoder.append(nn.Sequential(ConvTransposeBlock(cin, cout, 3, 2, 1, 1), *residual_stack(cout, 1)))
            cin = cout + skip
        self.output = nn.Sequential(ConvBlock(cin, w, 3, 1, 1), nn.Conv2d(w, 3, 1), nn.Sigmoid())

    def forward(self, mfcc: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        size = self.config.image_size
        if face.dim() != 4 or face.shape[1:] != (6, size, size) or mfcc.dim() != 4 or mfcc.shape[1:] != (1, 12, 35):
            raise InputError(
                f"expected face (B, 6, {size}, {size}) and MFCC (B, 1, 12, 35); got "
                f"{tuple(face.shape)} and {tuple(mfcc.shape)}"
            )
        skips = []
        h = face
        for block in self.encoder:
            h = block(h)
            skips.append(h)
        x = torch.cat([skips.pop(), self.join(self.audio_encoder(mfcc))], dim=1)
        for block in self.decoder:
            x = torch.cat([block(x), skips.pop()], dim=1)
        out: torch.Tensor = self.output(x)
        return out


class _Tower(nn.Sequential):
    def __init__(self, cin: int, width: int, out: int, strides: Sequence[int | tuple[int, int]]):
        layers: list[nn.Module] = []
        c = cin
        for k, stride in enumerate(strides):
            cout = min(width * 2**k, 8 * width)
            layers += [nn.Conv2d(c, cout, 3, stride, 1), nn.InstanceNorm2d(cout, affine=True), nn.LeakyReLU(0.2)]
            c = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, out)]
        super().__init__(*layers)


class LipGANDiscriminator(nn.Module):
    """Contrastive discriminator: face ``(B, 3, 96, 96)`` + MFCC ``(B, 1, 12, 35)`` -> distance ``(B,)``."""

    def __init__(self, config: LipGANConfig = LipGANConfig()):
        super().__init__()
        self.config = config
        self.face_tower = _Tower(3, config.width, config.embedding, [1, 2, 2, 2, 2, 2])
        self.audio_tower = _Tower(1, config.width, config.embedding, [1, (1, 2), 2, 2])

    def forward(self, mfcc: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        a = nn.functional.normalize(self.audio_tower(mfcc), dim=1)
        f = nn.functional.normalize(self.face_tower(face), dim=1)
        distance: torch.Tensor = torch.linalg.vector_norm(a - f, dim=1)
        return distance

    @staticmethod
    def contrastive_loss(distance: torch.Tensor, in_sync: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
        """Pull synced pairs together, push off-sync pairs at least ``margin`` apart."""
        y = in_sync.float().view(-1)
        return (y * distance**2 + (1 - y) * torch.clamp(margin - distance, min=0) ** 2).mean()


# -- registry ---------------------------------------------------------------------------------------
def _spec(role: str) -> ModelSpec:
    return ModelSpec(family="lipgan", role=role, audio_features="lipgan_mfcc", audio_rate=100.0, audio_window=35)


def _generator_config(state: dict) -> dict:
    first, join = state.get("encoder.0.0.conv_block.0.weight"), state.get("join.conv_block.0.weight")
    if first is None or join is None:
        return {}
    return {"width": int(first.shape[0]), "image_size": 32 * int(join.shape[-1])}


def _discriminator_config(state: dict) -> dict:
    first, last = state.get("face_tower.0.weight"), state.get("face_tower.22.weight")
    if first is None or last is None:
        return {}
    return {"width": int(first.shape[0]), "embedding": int(last.shape[0])}


def detect(state: dict) -> str | None:
    """ "lipgan" or "lipgan.disc" from the keys of a file saved by talkingface's LipGAN."""
    if "join.conv_block.0.weight" in state and "encoder.0.0.conv_block.0.weight" in state:
        return "lipgan"
    if "face_tower.0.weight" in state and "audio_tower.0.weight" in state:
        return "lipgan.disc"
    return None


def _filter(state: Any) -> dict:
    return fill_batchnorm_counters(standard_filter(state))


for _name, _network, _role, _description, _from_state in (
    ("lipgan", LipGAN, "generator", "LipGAN generator", _generator_config),
    ("lipgan.disc", LipGANDiscriminator, "discriminator", "LipGAN contrastive discriminator", _discriminator_config),
):
    register_network(
        _name,
        _network,
        LipGANConfig,
        _spec(_role),
        _description,
        config={"image_size": 96},
        filter=_filter,
        config_from_state=_from_state,
    )
register_detector(detect)
