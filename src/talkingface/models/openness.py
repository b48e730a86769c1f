"""How open the mouth is, from speech: a small convolutional network trained on real speakers' lips.

Input: :func:`~talkingface.features.openness.openness_features`, 24 log-mel bands every 10 ms,
standardised over the clip, ``(B, T, 24)``. Output ``(B, T)``: the speaker's inner-lip opening at each
step in units of its own spread over the clip (0 is the clip's mean opening, 1 one standard deviation
more). Each member of the ensemble is a stack of 1D convolutions (kernel 5, dilations 1, 2, 4, 2: it
hears about 180 ms either side of each step, so it opens the mouth before the sound as speakers do);
the output is the members' mean. Beyond the clip's ends its first and last steps are repeated. Trained by ``talkingface train openness`` on real videos, their
lips measured by the face tracker (:mod:`talkingface.train.openness`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from ..features.openness import BANDS
from .registry import load_builtin, register_network
from .spec import ModelSpec


@dataclass(frozen=True)
class OpennessConfig:
    """``channels``: width of each member; ``dilations``: one convolution per entry (the last one gives the
    output); ``kernel``: their size; ``dropout``: between them while training; ``members``: networks
    averaged."""

    channels: int = 32
    dilations: tuple[int, ...] = (1, 2, 4, 2)
    kernel: int = 5
    dropout: float = 0.3
    members: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if not 4 <= self.channels <= 512 or not 1 <= self.members <= 16:
            raise InputError(f"channels must be 4-512 and members 1-16, got {self.channels}, {self.members}")
        if not 1 <= len(self.dilations) <= 12 or min(self.dilations) < 1 or self.kernel < 1 or self.kernel % 2 == 0:
            raise InputError(f"need 1-12 dilations >= 1 and an odd kernel, got {self.dilations}, {self.kernel}")
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def reach(self) -> int:
        """Steps the output hears on either side."""
        return sum(d * (self.kernel // 2) for d in self.dilations)


def _member(config: OpennessConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = BANDS
    for k, dilation in enumerate(config.dilations):
        last = k == len(config.dilations) - 1
        out = 1 if last else config.channels
        layers.append(nn.Conv1d(width, out, config.kernel, padding=dilation * (config.kernel // 2), dilation=dilation))
        if not last:
            layers += [nn.GELU(), nn.Dropout(config.dropout)]
        width = out
    return nn.Sequential(*layers)


class OpennessNet(nn.Module):
    """``forward(features (B, T, 24)) -> (B, T)``; :meth:`members_forward` gives each member's ``(B, M, T)``."""

    def __init__(self, config: OpennessConfig = OpennessConfig()):
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(_member(config) for _ in range(config.members))

    def members_forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 3 or features.shape[-1] != BANDS:
            raise InputError(f"expected features (B, T, {BANDS}), got {tuple(features.shape)}")
        # Past the clip's ends the first and last steps go on (a clip that starts in silence is silent
        # before it too), so every output hears real or repeated steps only.
        reach = self.config.reach
        x = nn.functional.pad(features.transpose(1, 2), (reach, reach), mode="replicate")
        return torch.cat([member(x)[..., reach : x.shape[-1] - reach] for member in self.members], 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.members_forward(features).mean(1)


SPEC = ModelSpec.from_speech("openness")


register_network(
    "openness",
    OpennessNet,
    OpennessConfig,
    SPEC,
    "mouth openness from speech: dilated convolutions over log-mel bands, trained on real lips (trained here)",
    weights="openness.safetensors",
)


def load_openness(path: str | Path | None = None, device: str | torch.device | None = None) -> OpennessNet:
    """An openness model from ``path`` (made by ``talkingface train openness``), or the built-in one; eval
    mode."""
    model = load_builtin("openness", path, device)
    assert isinstance(model, OpennessNet)  # load_model checks the variant
    return model
