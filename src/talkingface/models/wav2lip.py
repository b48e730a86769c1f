"""Wav2Lip: the lip-sync generator and its visual-quality discriminator.

After Prajwal et al., "A Lip Sync Expert Is All You Need for Speech to Lip Generation In the Wild"
(ACM MM 2020). Compatible with the public checkpoints of Rudrabha/Wav2Lip (``wav2lip.pth``,
``wav2lip_gan.pth``, ``visual_quality_disc.pth``): at 96 px the module tree, parameter names and shapes
are the upstream ones, so their state dicts load strictly. Larger crops (192, 256, 288) add encoder and
decoder stages at the top of the U-Net, the rest of the network unchanged.

Inputs: face ``(B, 6, H, W)`` or windows ``(B, 6, T, H, W)`` - the target frame with its lower half
zeroed and a reference frame, BGR, values in [0, 1]; mel ``(B, 1, 80, 16)`` or ``(B, T, 1, 80, 16)``.
Output: ``(B, 3, H, W)`` or ``(B, 3, T, H, W)`` in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import InputError
from .checkpoint import fill_batchnorm_counters, standard_filter
from .layers import ConvBlock, ConvTransposeBlock, PlainConvBlock, batch_to_frames, frames_to_batch, residual_stack
from .registry import Variant, register, register_detector
from .spec import ModelSpec

_SIZES = (96, 192, 256, 288)


@dataclass(frozen=True)
class Wav2LipConfig:
    """Attributes:
    image_size: face crop side in pixels: 96 (the public checkpoints), 192, 256 or 288.
    channel_divisor: every layer's channels divided by this (1, 2, 4, 8 or 16): 1 is the published
        network; larger values make the tiny networks that tests and quick experiments use.
    """

    image_size: int = 96
    channel_divisor: int = 1

    def __post_init__(self) -> None:
        if self.image_size not in _SIZES:
            raise InputError(f"Wav2Lip image_size must be one of {_SIZES}, got {self.image_size}")
        check_divisor(self.channel_divisor)


def check_divisor(divisor: int) -> int:
    """``divisor`` if it is a channel divisor the networks support, else a one-line error."""
    if divisor not in (1, 2, 4, 8, 16):
        raise InputError(f"channel_divisor must be 1, 2, 4, 8 or 16, got {divisor!r}")
    return divisor


def channels(divisor: int) -> Callable[[int], int]:
    """The width a layer of ``n`` channels has in a network narrowed by ``divisor``."""
    return lambda n: n // divisor


def audio_encoder(extra_res256: int = 1, divisor: int = 1) -> nn.Sequential:
    """Mel window ``(B, 1, 80, 16)`` -> ``(B, 512 / divisor, 1, 1)`` (shared by Wav2Lip and its lip-sync
    expert)."""
    c32, c64, c128, c256, c512 = (n // divisor for n in (32, 64, 128, 256, 512))
    return nn.Sequential(
        ConvBlock(1, c32, 3, 1, 1),
        *residual_stack(c32, 2),
        ConvBlock(c32, c64, 3, (3, 1), 1),
        *residual_stack(c64, 2),
        ConvBlock(c64, c128, 3, 3, 1),
        *residual_stack(c128, 2),
        ConvBlock(c128, c256, 3, (3, 2), 1),
        *residual_stack(c256, extra_res256),
        ConvBlock(c256, c512, 3, 1, 0),
        ConvBlock(c512, c512, 1, 1, 0),
    )


def _half(n: int) -> int:
    return (n + 1) // 2


class Wav2Lip(nn.Module):
    """The Wav2Lip generator (36,298,035 parameters at 96 px).

    A U-Net: the face encoder halves the crop five times (plus once more at the top for the larger
    crops) down to a 1x1 code; the decoder starts from the audio code and climbs back, each stage
    concatenated with the encoder's features of the same size.
    """

    def __init__(self, config: Wav2LipConfig = Wav2LipConfig()):
        super().__init__()
        self.config = config
        size = config.image_size
        large = size != 96
        sizes = [size] + ([_half(size)] if large else [])
        for _ in range(5):
            sizes.append(_half(sizes[-1]))
        c = channels(config.channel_divisor)

        final = sizes[-1]  # 3 at 96 px: the bottleneck kernel covers what is left
        blocks = [nn.Sequential(ConvBlock(6, c(16), 7, 1, 3))]
        if large:
            blocks.append(nn.Sequential(ConvBlock(c(16), c(16), 3, 2, 1), *residual_stack(c(16), 1)))
        blocks += [
            nn.Sequential(ConvBlock(c(16), c(32), 3, 2, 1), *residual_stack(c(32), 2)),
            nn.Sequential(ConvBlock(c(32), c(64), 3, 2, 1), *residual_stack(c(64), 3)),
            nn.Sequential(ConvBlock(c(64), c(128), 3, 2, 1), *residual_stack(c(128), 2)),
            nn.Sequential(ConvBlock(c(128), c(256), 3, 2, 1), *residual_stack(c(256), 2)),
            nn.Sequential(ConvBlock(c(256), c(512), 3, 2, 1), *residual_stack(c(512), 1)),
            nn.Sequential(ConvBlock(c(512), c(512), final, 1, 0), ConvBlock(c(512), c(512), 1, 1, 0)),
        ]
        self.face_encoder_blocks = nn.ModuleList(blocks)
        self.audio_encoder = audio_encoder(extra_res256=1, divisor=config.channel_divisor)

        def up(cin: int, cout: int, n_out: int, n_in: int, res: int) -> nn.Sequential:
            # A stride-2 transposed conv gives 2n - 1 + output_padding pixels: pad to the skip's size.
            return nn.Sequential(
                ConvTransposeBlock(cin, cout, 3, 2, 1, n_out - 2 * n_in + 1), *residual_stack(cout, res)
            )

        rev = sizes[::-1]  # final, ..., size
        decoder = [
            nn.Sequential(ConvBlock(c(512), c(512), 1, 1, 0)),
            nn.Sequential(ConvTransposeBlock(c(1024), c(512), final, 1, 0), *residual_stack(c(512), 1)),
            up(c(1024), c(512), rev[1], rev[0], 2),
            up(c(768), c(384), rev[2], rev[1], 2),
            up(c(512), c(256), rev[3], rev[2], 2),
            up(c(320), c(128), rev[4], rev[3], 2),
            up(c(160), c(64), rev[5], rev[4], 2),
        ]
        out_channels = c(80)
        if large:
            decoder.append(up(c(80), c(32), rev[6], rev[5], 1))
            out_channels = c(48)
        self.face_decoder_blocks = nn.ModuleList(decoder)
        self.output_block = nn.Sequential(
            ConvBlock(out_channels, c(32), 3, 1, 1), nn.Conv2d(c(32), 3, 1, 1, 0), nn.Sigmoid()
        )

    def forward(self, audio: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        size = self.config.image_size
        windows = face.dim() == 5
        if windows:
            batch = audio.size(0)
            if audio.dim() != 5 or face.size(2) != audio.size(1):
                raise InputError(
                    f"windows need mel (B, T, 1, 80, 16) and face (B, 6, T, H, W); got "
                    f"{tuple(audio.shape)} and {tuple(face.shape)}"
                )
            audio = torch.cat([audio[:, t] for t in range(audio.size(1))], dim=0)
            face = frames_to_batch(face)
        if face.dim() != 4 or face.shape[1:] != (6, size, size) or audio.shape[1:] != (1, 80, 16):
            raise InputError(
                f"expected face (B, 6, {size}, {size}) and mel (B, 1, 80, 16); got "
                f"{tuple(face.shape)} and {tuple(audio.shape)}"
            )
        x = self.audio_encoder(audio)
        skips = []
        h = face
        for block in self.face_encoder_blocks:
            h = block(h)
            skips.append(h)
        for block in self.face_decoder_blocks:
            x = block(x)
            x = torch.cat((x, skips.pop()), dim=1)
        out = self.output_block(x)
        return batch_to_frames(out, batch) if windows else out


class Wav2LipDiscQual(nn.Module):
    """The visual-quality discriminator (14,113,793 parameters): lower half of each frame -> P(real)."""

    def __init__(self, config: Wav2LipConfig = Wav2LipConfig()):
        super().__init__()
        self.config = config
        c = channels(config.channel_divisor)

        self.face_encoder_blocks = nn.ModuleList(
            [
                nn.Sequential(PlainConvBlock(3, c(32), 7, 1, 3)),
                nn.Sequential(PlainConvBlock(c(32), c(64), 5, (1, 2), 2), PlainConvBlock(c(64), c(64), 5, 1, 2)),
                nn.Sequential(PlainConvBlock(c(64), c(128), 5, 2, 2), PlainConvBlock(c(128), c(128), 5, 1, 2)),
                nn.Sequential(PlainConvBlock(c(128), c(256), 5, 2, 2), PlainConvBlock(c(256), c(256), 5, 1, 2)),
                nn.Sequential(PlainConvBlock(c(256), c(512), 3, 2, 1), PlainConvBlock(c(512), c(512), 3, 1, 1)),
                nn.Sequential(PlainConvBlock(c(512), c(512), 3, 2, 1), PlainConvBlock(c(512), c(512), 3, 1, 1)),
                nn.Sequential(PlainConvBlock(c(512), c(512), 3, 1, 0), PlainConvBlock(c(512), c(512), 1, 1, 0)),
            ]
        )
        self.binary_pred = nn.Sequential(nn.Conv2d(c(512), 1, 1, 1, 0), nn.Sigmoid())

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, 3, T, H, W)`` or ``(B, 3, H, W)`` -> ``(B*T, 1)`` probabilities of being real."""
        if face.dim() == 5:
            face = frames_to_batch(face)
        x = face[:, :, face.size(2) // 2 :]  # the lower half: where the mouth is
        for block in self.face_encoder_blocks:
            x = block(x)
        if self.config.image_size != 96:
            x = nn.functional.adaptive_avg_pool2d(x, 1)
        p: torch.Tensor = self.binary_pred(x)
        return p.view(x.size(0), -1)

    def perceptual_loss(self, fake: torch.Tensor) -> torch.Tensor:
        """BCE pushing generated frames towards "real" (the generator's adversarial term)."""
        p = self.forward(fake)
        return nn.functional.binary_cross_entropy(p, torch.ones_like(p))


# -- registry ---------------------------------------------------------------------------------------
def _spec(size: int, role: str = "generator") -> ModelSpec:
    return ModelSpec(family="wav2lip", role=role, image_size=size)


def _generator(config: dict) -> nn.Module:
    return Wav2Lip(Wav2LipConfig(**config))


def _discriminator(config: dict) -> nn.Module:
    return Wav2LipDiscQual(Wav2LipConfig(**config))


def _filter(state: Any) -> dict:
    return fill_batchnorm_counters(standard_filter(state))


def detect(state: dict) -> str | None:
    """ "wav2lip" / "wav2lip.<size>" / "wav2lip.disc" from the keys and shapes of an upstream file."""
    first = state.get("face_encoder_blocks.0.0.conv_block.0.weight")
    if first is not None and tuple(first.shape[1:]) == (6, 7, 7) and "output_block.1.weight" in state:
        if "face_encoder_blocks.7.0.conv_block.0.weight" not in state:
            return "wav2lip"
        last = state.get("face_encoder_blocks.7.0.conv_block.0.weight")
        kernel = int(last.shape[-1]) if last is not None else 0
        return {3: "wav2lip.192", 4: "wav2lip.256", 5: "wav2lip.288"}.get(kernel)
    if "binary_pred.0.weight" in state and "face_encoder_blocks.0.0.conv_block.0.weight" in state:
        return "wav2lip.disc"
    return None


for _name, _description in (
    ("wav2lip", "Wav2Lip generator (wav2lip.pth)"),
    ("wav2lip.gan", "Wav2Lip generator trained with the visual-quality GAN (wav2lip_gan.pth)"),
):
    register(Variant(_name, _generator, _spec(96), {"image_size": 96}, _description, _filter))
for _size in (192, 256, 288):
    register(
        Variant(
            f"wav2lip.{_size}",
            _generator,
            _spec(_size),
            {"image_size": _size},
            f"Wav2Lip generator for {_size} px crops (train it with talkingface)",
            _filter,
        )
    )
register(
    Variant(
        "wav2lip.disc",
        _discriminator,
        _spec(96, "discriminator"),
        {"image_size": 96},
        "Wav2Lip visual-quality discriminator (visual_quality_disc.pth)",
        _filter,
    )
)
register_detector(detect)
