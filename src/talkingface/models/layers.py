"""Building blocks shared by the 2D models, named as in the upstream code so checkpoints load as is.

Each block keeps its layers in ``conv_block`` (``conv_block.0`` the convolution, ``conv_block.1`` the
batch norm), as Wav2Lip's ``Conv2d``, ``Conv2dTranspose`` and ``nonorm_Conv2d`` do.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """Conv2d + BatchNorm2d + ReLU; with ``residual`` the input is added before the ReLU."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        residual: bool = False,
    ):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.BatchNorm2d(cout))
        self.residual = residual
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if not torch.is_grad_enabled():  # inference: the sum and the ReLU reuse the convolution's output
            if self.residual:
                out += x
            return torch.relu_(out)
        if self.residual:
            out = out + x
        activated: torch.Tensor = self.act(out)
        return activated


class ConvTransposeBlock(nn.Module):
    """ConvTranspose2d + BatchNorm2d + ReLU."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
    ):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding), nn.BatchNorm2d(cout)
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        return torch.relu_(out) if not torch.is_grad_enabled() else self.act(out)


class PlainConvBlock(nn.Module):
    """Conv2d + LeakyReLU(0.01), no normalisation (the visual-quality discriminator's block)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
    ):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding))
        self.act = nn.LeakyReLU(0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(self.conv_block(x))
        return out


def residual_stack(channels: int, count: int) -> list[nn.Module]:
    """``count`` 3x3 residual ConvBlocks of ``channels``."""
    return [ConvBlock(channels, channels, 3, 1, 1, residual=True) for _ in range(count)]


def frames_to_batch(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(T*B, C, H, W)``, time-major (frame t of every item, then t+1)."""
    return torch.cat([x[:, :, t] for t in range(x.size(2))], dim=0)


def batch_to_frames(x: torch.Tensor, batch: int) -> torch.Tensor:
    """Inverse of :func:`frames_to_batch`: ``(T*B, C, H, W)`` -> ``(B, C, T, H, W)``."""
    return torch.stack(torch.split(x, batch, dim=0), dim=2)
