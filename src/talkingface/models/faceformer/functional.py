"""FaceFormer's functional pieces: the temporal bias of its self-attention, the alignment of audio
features with frames, and the audio normalisation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

if TYPE_CHECKING:
    from .config import FaceFormerConfig

AUDIO_RATE = 16000
AUDIO_FEATURE_RATE = 50  # wav2vec 2.0 and the mel encoder: one feature per 320 samples


# -- the functional pieces -------------------------------------------------------------------------
def alibi_slopes(num_heads: int) -> list[float]:
    """Per-head slopes of the temporal bias (1/4, 1/16, 1/64, 1/256 for 4 heads), as in ALiBi."""

    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return power_of_2(num_heads)
    closest = 2 ** math.floor(math.log2(num_heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: num_heads - closest]


def temporal_bias(num_heads: int, rows: int, cols: int, period: int, context: int | None = None) -> torch.Tensor:
    """Additive self-attention bias ``(H, R, C)`` of queries ``0..R-1`` on keys ``0..C-1``:
    ``-slope_h * floor((i - j) / period)`` for ``i - context < j <= i``, ``-inf`` elsewhere."""
    distance = torch.arange(rows).view(-1, 1) - torch.arange(cols).view(1, -1)
    slopes = torch.tensor(alibi_slopes(num_heads)).view(-1, 1, 1)
    bias = -slopes * torch.div(distance.clamp(min=0), period, rounding_mode="floor").float()
    allowed = distance >= 0
    if context is not None:
        allowed &= distance < context
    return bias.masked_fill(~allowed, float("-inf"))


def alignment_mask(alignment: str, num_frames: int, num_audio: int) -> torch.Tensor:
    """Boolean ``(T, S)``, True where frame ``t`` may NOT attend audio frame ``s``."""
    t = torch.arange(num_frames).view(-1, 1)
    s = torch.arange(num_audio).view(1, -1)
    allowed = (s == t) if alignment == "interpolate" else (s // 2 == t)
    return ~allowed


def interpolate_features(features: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``(B, S, C)`` -> ``(B, num_frames, C)``, linear with the end points kept (align_corners)."""
    return F.interpolate(features.transpose(1, 2), size=num_frames, mode="linear", align_corners=True).transpose(1, 2)


def frames_for_audio(num_audio_features: int, config: FaceFormerConfig) -> int:
    """How many frames a clip gives, from its number of 50 Hz audio features (as upstream)."""
    if config.alignment == "pairs":
        return num_audio_features // 2
    return int(num_audio_features / float(AUDIO_FEATURE_RATE) * config.fps)


def normalize_audio(audio: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per clip ``(B, N)``, as wav2vec 2.0's feature extractor does."""
    mean = audio.mean(dim=-1, keepdim=True)
    var = audio.var(dim=-1, keepdim=True, unbiased=False)
    return (audio - mean) / torch.sqrt(var + 1e-7)
