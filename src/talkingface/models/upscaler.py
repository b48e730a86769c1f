"""The mouth upscaler: a small recurrent network that restores the mouth canvas at twice the size.

Input: the mouth canvas (:mod:`talkingface.enhance.mouth`) at half size, ``(B, 3, h, w)`` RGB in
[0, 1], and the network's own previous output moved onto this frame's canvas, ``(B, 3, 2h, 2w)`` (or
None at the start of a shot). The previous output is folded into the input grid (space-to-depth), so
the network sees at every input pixel what it drew there a frame ago: where the mouth did not move it
can draw the same again, and a still mouth stays still by construction. A stack of residual blocks
predicts, for each input pixel, the 2x2 output pixels' difference from a bicubic enlargement.
Convolutions only: any canvas size whose sides are even.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from .registry import load_builtin, register_network
from .spec import ModelSpec

SCALE = 2


@dataclass(frozen=True)
class MouthUpscalerConfig:
    """``width``: channels of the residual blocks; ``blocks``: how many."""

    width: int = 32
    blocks: int = 5

    def __post_init__(self) -> None:
        if not 4 <= self.width <= 256 or not 1 <= self.blocks <= 32:
            raise InputError(f"width must be 4-256 and blocks 1-32, got {self.width} and {self.blocks}")


class _Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.conv2(torch.relu(self.conv1(x)))
        return out


class MouthUpscaler(nn.Module):
    """``forward(small, previous=None) -> (B, 3, 2h, 2w)`` in [0, 1] (see the module)."""

    def __init__(self, config: MouthUpscalerConfig = MouthUpscalerConfig()):
        super().__init__()
        self.config = config
        folded = 3 + 3 * SCALE * SCALE
        self.head = nn.Conv2d(folded, config.width, 3, padding=1)
        self.body = nn.Sequential(*[_Block(config.width) for _ in range(config.blocks)])
        self.tail = nn.Conv2d(config.width, 3 * SCALE * SCALE, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # starts as bicubic enlargement
        nn.init.zeros_(self.tail.bias)  # type: ignore[arg-type]

    @staticmethod
    def enlarge(small: torch.Tensor) -> torch.Tensor:
        """The bicubic enlargement the network corrects (clamped to [0, 1])."""
        big = nn.functional.interpolate(small, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return big.clamp(0, 1)

    def forward(self, small: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        if small.dim() != 4 or small.shape[1] != 3:
            raise InputError(f"expected canvases (B, 3, h, w), got {tuple(small.shape)}")
        base = self.enlarge(small)
        if previous is None:
            previous = base
        if previous.shape != base.shape:
            raise InputError(f"the previous output must be {tuple(base.shape)}, got {tuple(previous.shape)}")
        x = torch.cat([small, nn.functional.pixel_unshuffle(previous, SCALE)], 1)
        x = self.head(x)
        x = self.tail(torch.relu(self.body(x)))
        return (base + nn.functional.pixel_shuffle(x, SCALE)).clamp(0, 1)


SPEC = ModelSpec.enhancer("upscaler", None, (0.0, 1.0))


register_network(
    "upscaler.mouth",
    MouthUpscaler,
    MouthUpscalerConfig,
    SPEC,
    "the mouth upscaler: the mouth canvas at 2x, conditioned on its previous output (trained here)",
    weights="upscaler_mouth.safetensors",
)


def load_upscaler(path: str | Path | None = None, device: str | torch.device | None = None) -> MouthUpscaler:
    """A mouth upscaler from ``path`` (ours, made by ``talkingface train upscaler``), or the built-in
    one; eval mode."""
    model = load_builtin("upscaler.mouth", path, device)
    assert isinstance(model, MouthUpscaler)  # load_model checks the variant
    return model
