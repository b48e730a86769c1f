"""GFPGAN v1.3/v1.4, the "clean" architecture (no custom CUDA ops): the face restorer people pair with
Wav2Lip. Our own implementation of its published structure, loading the public weights
(``GFPGANv1.3.pth`` / ``GFPGANv1.4.pth``) strictly and safely.

A U-Net encodes the aligned 512x512 face to 16 style codes and, on the way up, to spatial conditions
(scale and shift per level); a StyleGAN2 decoder draws the face from the codes, each level's features
modulated by the conditions on half their channels (``sft_half``). Inputs and outputs are RGB in
[-1, 1]. The decoder's per-layer noise is read from the stored buffers by default, so that the same
face gives the same output (the reference draws fresh noise unless told not to: see ``fresh_noise``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .registry import load_model, register_network
from .spec import ModelSpec


@dataclass(frozen=True)
class GfpganConfig:
    """The v1.3/v1.4 settings: ``out_size`` 512, 512-wide styles, ``channel_multiplier`` 2, an 8-layer
    style MLP (stored, unused with latent input), one style code per decoder layer, half-channel SFT."""

    out_size: int = 512
    num_style_feat: int = 512
    channel_multiplier: int = 2
    num_mlp: int = 8
    narrow: float = 1.0


def _resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


class NormStyleCode(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


class ModulatedConv2d(nn.Module):
    """A convolution whose weights are scaled per input channel by a style (and demodulated)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, style: int, demodulate: bool = True,
                 upsample: bool = False):  # fmt: skip
        super().__init__()
        self.in_channels, self.out_channels, self.kernel = in_channels, out_channels, kernel
        self.demodulate, self.upsample = demodulate, upsample
        self.modulation = nn.Linear(style, in_channels, bias=True)
        self.weight = nn.Parameter(
            torch.randn(1, out_channels, in_channels, kernel, kernel) / math.sqrt(in_channels * kernel**2)
        )

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        weight = self.weight * self.modulation(style).view(b, 1, self.in_channels, 1, 1)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, self.out_channels, 1, 1, 1)
        weight = weight.view(b * self.out_channels, self.in_channels, self.kernel, self.kernel)
        if self.upsample:
            x = _resize(x, 2.0)
        h, w = x.shape[2:]
        out = F.conv2d(x.reshape(1, b * self.in_channels, h, w), weight, padding=self.kernel // 2, groups=b)
        result: torch.Tensor = out.view(b, self.out_channels, *out.shape[2:])
        return result


class StyleConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, style: int, upsample: bool = False):
        super().__init__()
        self.modulated_conv = ModulatedConv2d(in_channels, out_channels, 3, style, True, upsample)
        self.weight = nn.Parameter(torch.zeros(1))  # noise strength
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        out = self.modulated_conv(x, style) * 2**0.5
        if noise is None:
            noise = out.new_empty(out.shape[0], 1, *out.shape[2:]).normal_()
        return F.leaky_relu(out + self.weight * noise + self.bias, 0.2)


class ToRGB(nn.Module):
    def __init__(self, in_channels: int, style: int, upsample: bool = True):
        super().__init__()
        self.upsample = upsample
        self.modulated_conv = ModulatedConv2d(in_channels, 3, 1, style, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.modulated_conv(x, style) + self.bias
        if skip is not None:
            out = out + (_resize(skip, 2.0) if self.upsample else skip)
        result: torch.Tensor = out
        return result


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.weight.repeat(batch, 1, 1, 1)


class StyleGan2Decoder(nn.Module):
    """StyleGAN2's synthesis network with spatial feature transforms on half of each level's channels."""

    def __init__(self, config: GfpganConfig):
        super().__init__()
        style, m, narrow = config.num_style_feat, config.channel_multiplier, config.narrow
        channels = {4: int(512 * narrow), 8: int(512 * narrow), 16: int(512 * narrow), 32: int(512 * narrow),
                    64: int(256 * m * narrow), 128: int(128 * m * narrow), 256: int(64 * m * narrow),
                    512: int(32 * m * narrow), 1024: int(16 * m * narrow)}  # fmt: skip
        layers: list[nn.Module] = [NormStyleCode()]
        for _ in range(config.num_mlp):
            layers += [nn.Linear(style, style, bias=True), nn.LeakyReLU(0.2)]
        self.style_mlp = nn.Sequential(*layers)
        self.constant_input = ConstantInput(channels[4], 4)
        self.style_conv1 = StyleConv(channels[4], channels[4], style)
        self.to_rgb1 = ToRGB(channels[4], style, upsample=False)
        self.log_size = int(math.log2(config.out_size))
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.style_convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        self.noises = nn.Module()
        for k in range(self.num_layers):
            size = 2 ** ((k + 5) // 2)
            self.noises.register_buffer(f"noise{k}", torch.randn(1, 1, size, size))
        in_channels = channels[4]
        for level in range(3, self.log_size + 1):
            out_channels = channels[2**level]
            self.style_convs.append(StyleConv(in_channels, out_channels, style, upsample=True))
            self.style_convs.append(StyleConv(out_channels, out_channels, style))
            self.to_rgbs.append(ToRGB(out_channels, style))
            in_channels = out_channels

    def forward(self, latent: torch.Tensor, conditions: list[torch.Tensor], fresh_noise: bool = False) -> torch.Tensor:
        """``latent`` ``(B, layers + 1, style)`` codes; ``conditions``: scale, shift per level."""
        noise: list[torch.Tensor | None] = (
            [None] * self.num_layers
            if fresh_noise
            else [getattr(self.noises, f"noise{k}") for k in range(self.num_layers)]
        )
        out = self.style_conv1(self.constant_input(latent.shape[0]), latent[:, 0], noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for conv1, conv2, noise1, noise2, to_rgb in zip(
            self.style_convs[::2], self.style_convs[1::2], noise[1::2], noise[2::2], self.to_rgbs
        ):
            out = conv1(out, latent[:, i], noise1)
            if i < len(conditions):
                same, transformed = torch.split(out, out.shape[1] // 2, dim=1)
                out = torch.cat([same, transformed * conditions[i - 1] + conditions[i]], dim=1)
            out = conv2(out, latent[:, i + 1], noise2)
            skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        image: torch.Tensor = skip
        return image


class ResBlock(nn.Module):
    """conv, LeakyReLU, resize (x0.5 or x2), conv, LeakyReLU; plus a resized 1x1 skip."""

    def __init__(self, in_channels: int, out_channels: int, factor: float):
        super().__init__()
        self.factor = factor
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(self.conv1(x), 0.2)
        out = F.leaky_relu(self.conv2(_resize(out, self.factor)), 0.2)
        result: torch.Tensor = out + self.skip(_resize(x, self.factor))
        return result


class Gfpgan(nn.Module):
    """GFPGANv1Clean with the v1.3/v1.4 settings. ``forward(faces)``: ``(B, 3, 512, 512)`` RGB in
    [-1, 1] -> the restored faces, same shape and range (unclamped)."""

    def __init__(self, config: GfpganConfig = GfpganConfig()):
        super().__init__()
        self.config = config
        unet = config.narrow * 0.5
        m = config.channel_multiplier
        channels = {4: int(512 * unet), 8: int(512 * unet), 16: int(512 * unet), 32: int(512 * unet),
                    64: int(256 * m * unet), 128: int(128 * m * unet), 256: int(64 * m * unet),
                    512: int(32 * m * unet), 1024: int(16 * m * unet)}  # fmt: skip
        self.log_size = int(math.log2(config.out_size))
        self.conv_body_first = nn.Conv2d(3, channels[config.out_size], 1)
        self.conv_body_down = nn.ModuleList()
        in_channels = channels[config.out_size]
        for level in range(self.log_size, 2, -1):
            self.conv_body_down.append(ResBlock(in_channels, channels[2 ** (level - 1)], 0.5))
            in_channels = channels[2 ** (level - 1)]
        self.final_conv = nn.Conv2d(in_channels, channels[4], 3, 1, 1)
        self.conv_body_up, self.toRGB = nn.ModuleList(), nn.ModuleList()
        self.condition_scale, self.condition_shift = nn.ModuleList(), nn.ModuleList()
        in_channels = channels[4]
        for level in range(3, self.log_size + 1):
            out_channels = channels[2**level]
            self.conv_body_up.append(ResBlock(in_channels, out_channels, 2.0))
            self.toRGB.append(nn.Conv2d(out_channels, 3, 1))  # stored; used only in training
            for conditions in (self.condition_scale, self.condition_shift):
                conditions.append(
                    nn.Sequential(
                        nn.Conv2d(out_channels, out_channels, 3, 1, 1),
                        nn.LeakyReLU(0.2),
                        nn.Conv2d(out_channels, out_channels, 3, 1, 1),
                    )
                )
            in_channels = out_channels
        self.final_linear = nn.Linear(channels[4] * 16, (self.log_size * 2 - 2) * config.num_style_feat)
        self.stylegan_decoder = StyleGan2Decoder(config)

    def forward(self, faces: torch.Tensor, fresh_noise: bool = False) -> torch.Tensor:
        size = self.config.out_size
        if faces.ndim != 4 or faces.shape[1:] != (3, size, size):
            raise ValueError(f"faces must be (B, 3, {size}, {size}), got {tuple(faces.shape)}")
        feat = F.leaky_relu(self.conv_body_first(faces), 0.2)
        skips: list[torch.Tensor] = []
        for block in self.conv_body_down:
            feat = block(feat)
            skips.insert(0, feat)
        feat = F.leaky_relu(self.final_conv(feat), 0.2)
        latent = self.final_linear(feat.flatten(1)).view(faces.shape[0], -1, self.config.num_style_feat)
        conditions = []
        for k, block in enumerate(self.conv_body_up):
            feat = block(feat + skips[k])
            conditions += [self.condition_scale[k](feat), self.condition_shift[k](feat)]
        image: torch.Tensor = self.stylegan_decoder(latent, conditions, fresh_noise)
        return image


SPEC = ModelSpec.enhancer("gfpgan", 512, (-1.0, 1.0))

register_network(
    "gfpgan",
    Gfpgan,
    GfpganConfig,
    SPEC,
    "GFPGAN v1.3/v1.4 (clean): face restoration at 512 px (the user's GFPGANv1.3.pth / GFPGANv1.4.pth)",
)


def load_gfpgan(path: str | os.PathLike) -> Gfpgan:
    """The public ``GFPGANv1.3.pth`` / ``GFPGANv1.4.pth`` (``params_ema``, else ``params``), loaded
    strictly, with ``weights_only`` (a file that would run code is refused); eval mode."""
    return cast(Gfpgan, load_model(path, "gfpgan"))
