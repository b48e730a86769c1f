"""FaceFormer's audio encoders: wav2vec 2.0 (transformers' ``Wav2Vec2Model``, built from a config and
never downloaded; weights from a local folder) and a small log-mel encoder for training without them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import CheckpointError
from ...optional import needs
from ..checkpoint import load_state, read_checkpoint, rename_weight_norm, strip_prefixes
from .functional import AUDIO_RATE

if TYPE_CHECKING:
    from transformers import Wav2Vec2Model


class MelAudioEncoder(nn.Module):
    """A small audio encoder on 80-band log-mel features at 50 Hz (25 ms windows, 20 ms hop) - the
    same rate and frame count as wav2vec 2.0's features - for training without its weights."""

    mel_basis: torch.Tensor
    window: torch.Tensor

    def __init__(self, width: int = 128, layers: int = 2, heads: int = 4, dropout: float = 0.1):
        super().__init__()
        from ...features.mel import hann_window, mel_filterbank

        self.register_buffer(
            "mel_basis",
            torch.tensor(mel_filterbank(AUDIO_RATE, 512, 80, 20.0, 7600.0), dtype=torch.float32),
            persistent=False,
        )
        self.register_buffer("window", torch.tensor(hann_window(400), dtype=torch.float32), persistent=False)
        self.convs = nn.Sequential(
            nn.Conv1d(80, width, 3, padding=1), nn.GELU(), nn.Conv1d(width, width, 3, padding=1), nn.GELU()
        )
        self.position = nn.Conv1d(width, width, 15, padding=7, groups=4)
        self.norm = nn.LayerNorm(width)
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.width = width

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """Raw 16 kHz ``(B, N)`` (N >= 400) -> log-mel ``(B, S, 80)``, S = (N - 400) // 320 + 1."""
        spec = (
            torch.stft(
                audio, 512, hop_length=320, win_length=400, window=self.window, center=False, return_complex=True
            )
            .abs()
            .pow(2)
        )
        return torch.log(self.mel_basis @ spec + 1e-6).transpose(1, 2)

    def convolve(self, mel: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.convs(mel.transpose(1, 2))
        return features.transpose(1, 2)

    def contextualize(self, x: torch.Tensor) -> torch.Tensor:
        x = x + F.gelu(self.position(x.transpose(1, 2))).transpose(1, 2)
        out: torch.Tensor = self.layers(self.norm(x))
        return out


def build_wav2vec2(overrides: dict) -> Wav2Vec2Model:
    """transformers' ``Wav2Vec2Model`` from a config (``Wav2Vec2Config`` defaults with ``overrides``)."""
    with needs("faceformer", "FaceFormer's wav2vec 2.0 encoder"):
        from transformers import Wav2Vec2Config, Wav2Vec2Model
    return Wav2Vec2Model(Wav2Vec2Config(**overrides))


def load_wav2vec2(encoder: nn.Module, folder: str | os.PathLike) -> nn.Module:
    """Load wav2vec 2.0 weights into ``encoder`` from a local transformers folder (config.json plus
    model.safetensors or pytorch_model.bin, e.g. facebook/wav2vec2-base-960h); never downloads. The CTC
    head of a Wav2Vec2ForCTC folder is ignored; either weight-norm naming loads."""
    root = Path(folder)
    files = [root / name for name in ("model.safetensors", "pytorch_model.bin")]
    weights = next((f for f in files if f.is_file()), None)
    if not root.is_dir() or weights is None:
        raise CheckpointError(root, "not a wav2vec 2.0 folder (needs model.safetensors or pytorch_model.bin)")
    state = read_checkpoint(weights)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(weights, "holds no state dict of tensors")
    state = {
        k.removeprefix("wav2vec2."): v
        for k, v in state.items()
        if not k.startswith(("lm_head.", "quantizer.", "project_"))
    }
    state = rename_weight_norm(strip_prefixes(state))
    expected = encoder.state_dict()
    if "masked_spec_embed" in expected and "masked_spec_embed" not in state:  # absent from some exports
        state["masked_spec_embed"] = expected["masked_spec_embed"]
    load_state(encoder, state, weights)
    return encoder
