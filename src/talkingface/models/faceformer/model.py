"""The FaceFormer model: audio encoder, periodic positional encoding, transformer decoder with the
temporal bias, and the vertex maps, under the upstream module names."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn import functional as F

from ...errors import InputError
from .audio import MelAudioEncoder, build_wav2vec2, load_wav2vec2
from .config import VOCASET, FaceFormerConfig
from .decoding import decode_incremental
from .functional import alignment_mask, frames_for_audio, interpolate_features, normalize_audio, temporal_bias

if TYPE_CHECKING:
    from collections.abc import Sequence

    from transformers import Wav2Vec2Model

    # A speaker: an index, indices (B,) or one-hot rows (B, num_speakers).
    Speaker = int | Sequence[int] | np.ndarray | torch.Tensor


class PeriodicPositionalEncoding(nn.Module):
    """Sinusoids over ``period`` positions, repeated: position t is encoded as t % period.

    The buffer ``pe`` has the upstream shape ``(1, period * (max_seq_len // period + 1), d)``; any
    position, also past the buffer, takes the row of ``t % period`` (the same values)."""

    pe: torch.Tensor

    def __init__(self, d_model: int, period: int, max_seq_len: int = 600, dropout: float = 0.1):
        super().__init__()
        self.period = period
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(period, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(period, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe.unsqueeze(0).repeat(1, max_seq_len // period + 1, 1))

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """``x`` ``(B, T, d)`` holding positions ``start .. start + T - 1``."""
        positions = torch.arange(start, start + x.shape[1], device=x.device) % self.period
        out: torch.Tensor = self.dropout(x + self.pe[:, positions])
        return out


# -- the model -------------------------------------------------------------------------------------
class FaceFormer(nn.Module):
    """FaceFormer (VOCASET: 2,043,933 parameters besides wav2vec 2.0; BIWI: 18,316,382)."""

    def __init__(self, config: FaceFormerConfig = VOCASET):
        super().__init__()
        self.config = config
        d = config.feature_dim
        self.audio_encoder: Wav2Vec2Model | MelAudioEncoder
        if config.audio_encoder == "wav2vec2":
            wav2vec2 = build_wav2vec2(dict(config.wav2vec2))
            self.audio_encoder = wav2vec2
            wav2vec2.feature_extractor._freeze_parameters()
            audio_width = wav2vec2.config.hidden_size
        else:
            self.audio_encoder = MelAudioEncoder(config.mel_width, config.mel_layers, dropout=config.dropout)
            audio_width = config.mel_width
        self.audio_feature_map = nn.Linear(audio_width, d)
        self.vertice_map = nn.Linear(config.num_vertices * 3, d)
        self.PPE = PeriodicPositionalEncoding(d, config.period, config.max_seq_len, config.dropout)
        layer = nn.TransformerDecoderLayer(d, config.num_heads, 2 * d, config.dropout, batch_first=True)
        self.transformer_decoder = nn.TransformerDecoder(layer, config.num_layers)
        self.vertice_map_r = nn.Linear(d, config.num_vertices * 3)
        self.obj_vector = nn.Linear(config.num_speakers, d, bias=False)
        nn.init.zeros_(self.vertice_map_r.weight)
        nn.init.zeros_(self.vertice_map_r.bias)

    # -- inputs ----------------------------------------------------------------------------------
    def audio_tensor(self, audio: ArrayLike) -> torch.Tensor:
        audio = torch.as_tensor(audio, dtype=torch.float32, device=self.obj_vector.weight.device)
        if audio.dim() == 1:
            audio = audio.unsqueeze(0)
        if audio.dim() != 2 or audio.shape[1] < 400:
            raise InputError(f"expected 16 kHz audio (N,) or (B, N) with N >= 400 samples; got {tuple(audio.shape)}")
        return audio

    def template_tensor(self, template: ArrayLike, batch: int) -> torch.Tensor:
        v3 = self.config.num_vertices * 3
        template = torch.as_tensor(template, dtype=torch.float32, device=self.obj_vector.weight.device)
        if template.numel() == v3:
            template = template.reshape(1, v3).expand(batch, v3)
        elif template.dim() != 2 or template.shape != (batch, v3):
            raise InputError(
                f"expected a template of {self.config.num_vertices} vertices ((V, 3), (V*3,) or "
                f"(B, V*3)); got {tuple(template.shape)}"
            )
        return template

    def style(self, speaker: Speaker, batch: int) -> torch.Tensor:
        """Speaker index (int or (B,) ints) or one-hot ``(B, num_speakers)`` -> style ``(B, 1, d)``."""
        n = self.config.num_speakers
        device = self.obj_vector.weight.device
        if isinstance(speaker, torch.Tensor) and speaker.dim() == 2:
            one_hot = speaker.to(device=device, dtype=torch.float32)
        else:
            index = torch.as_tensor(speaker, device=device).long().reshape(-1).expand(batch)
            if ((index < 0) | (index >= n)).any():
                raise InputError(f"speaker must be in 0..{n - 1} (the training speakers); got {speaker}")
            one_hot = F.one_hot(index, n).float()
        if one_hot.shape != (batch, n):
            raise InputError(f"expected a speaker one-hot of shape ({batch}, {n}); got {tuple(one_hot.shape)}")
        style: torch.Tensor = self.obj_vector(one_hot)
        return style.unsqueeze(1)

    # -- audio -----------------------------------------------------------------------------------
    def encode_audio(self, audio: ArrayLike, num_frames: int | None = None) -> tuple[torch.Tensor, int]:
        """Raw 16 kHz audio ``(B, N)`` -> aligned audio features ``(B, S, d)`` and the frame count
        (S = frames for "interpolate", 2 * frames for "pairs"). ``num_frames`` fixes the count (training:
        the number of motion frames), else it follows from the audio's duration as upstream."""
        features = self.local_features(self.audio_tensor(audio))
        frames = frames_for_audio(features.shape[1], self.config) if num_frames is None else int(num_frames)
        if self.config.alignment == "pairs":
            frames = min(frames, features.shape[1] // 2)
        if frames < 1:
            raise InputError("the audio is too short for one frame of animation")
        if self.config.alignment == "interpolate":
            features = interpolate_features(features, frames)
        else:
            features = features[:, : 2 * frames]
        hidden = self.contextualize(features)
        mapped: torch.Tensor = self.audio_feature_map(hidden)
        return mapped, frames

    def local_features(self, audio: torch.Tensor) -> torch.Tensor:
        """Raw 16 kHz ``(B, N)`` -> the encoder's convolutional features ``(B, S, C)`` at 50 Hz (each
        clip normalised first), before the transformer part sees the whole sequence."""
        audio = normalize_audio(audio)
        encoder = self.audio_encoder
        if isinstance(encoder, MelAudioEncoder):
            return encoder.convolve(encoder.features(audio))
        features: torch.Tensor = encoder.feature_extractor(audio)
        return features.transpose(1, 2)

    def contextualize_window(self, features: torch.Tensor) -> torch.Tensor:
        encoder = self.audio_encoder
        if isinstance(encoder, MelAudioEncoder):
            return encoder.contextualize(features)
        projected = encoder.feature_projection(features)
        if isinstance(projected, tuple):  # newer transformers also return the normed features
            projected = projected[0]
        # SpecAugment with masked_spec_embed in training, as the upstream training does
        if self.training and projected.shape[1] > 2 * encoder.config.mask_time_length:
            projected = encoder._mask_hidden_states(projected)
        hidden: torch.Tensor = encoder.encoder(projected)[0]
        return hidden

    def contextualize(self, features: torch.Tensor) -> torch.Tensor:
        """The transformer part of the audio encoder, in cross-faded windows for long audio."""
        rate = self.config.fps if self.config.alignment == "interpolate" else 2 * self.config.fps
        window = max(2, int(round(self.config.encoder_window * rate)))
        overlap = int(round(self.config.encoder_overlap * rate))
        length = features.shape[1]
        if length <= window:
            return self.contextualize_window(features)
        step = window - overlap
        starts = [*list(range(0, length - window, step)), length - window]
        out = None
        weight = torch.zeros(length, device=features.device)
        for k, start in enumerate(starts):
            piece = self.contextualize_window(features[:, start : start + window])
            ramp = torch.ones(window, device=features.device)
            fade = torch.linspace(0, 1, overlap + 2, device=features.device)[1:-1]
            if k > 0:
                ramp[:overlap] = fade
            if k < len(starts) - 1:
                ramp[-overlap:] = torch.minimum(ramp[-overlap:], fade.flip(0))
            if out is None:
                out = torch.zeros(features.shape[0], length, piece.shape[2], device=features.device, dtype=piece.dtype)
            out[:, start : start + window] += piece * ramp.view(1, -1, 1)
            weight[start : start + window] += ramp
        assert out is not None  # there are at least two windows
        return out / weight.view(1, -1, 1)

    # -- decoding --------------------------------------------------------------------------------
    def forward(
        self,
        audio: ArrayLike,
        template: ArrayLike,
        vertices: torch.Tensor,
        speaker: Speaker,
        teacher_forcing: bool = True,
    ) -> torch.Tensor:
        """Training pass: predicted vertices ``(B, T, V*3)`` for ground truth ``vertices`` ``(B, T, V*3)``.

        Teacher forcing feeds the true previous motions; otherwise the model's own (autoregressive).
        With "pairs" alignment and too little audio, T shrinks to what the audio covers (as upstream)."""
        vertices = torch.as_tensor(vertices, dtype=torch.float32, device=self.obj_vector.weight.device)
        if vertices.dim() != 3 or vertices.shape[2] != self.config.num_vertices * 3:
            raise InputError(f"expected vertices (B, T, {self.config.num_vertices * 3}); got {tuple(vertices.shape)}")
        batch = vertices.shape[0]
        template = self.template_tensor(template, batch).unsqueeze(1)
        style = self.style(speaker, batch)
        memory, frames = self.encode_audio(audio, vertices.shape[1])
        vertices = vertices[:, :frames]
        if not teacher_forcing:
            return decode_incremental(self, memory, frames, style, template)
        motion = torch.cat([template, vertices[:, :-1]], 1) - template
        tokens = self.PPE(self.vertice_map(motion) + style)
        out = self.decode_full(tokens, memory)
        predicted: torch.Tensor = self.vertice_map_r(out) + template
        return predicted

    def decode_full(self, tokens: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """All positions at once (teacher forcing / the upstream re-decode)."""
        cfg = self.config
        t = tokens.shape[1]
        bias = temporal_bias(cfg.num_heads, t, t, cfg.period, cfg.context).to(tokens.device)
        bias = bias.repeat(tokens.shape[0], 1, 1)  # (B * H, T, T), batch-major as nn.MultiheadAttention wants
        mask = alignment_mask(cfg.alignment, t, memory.shape[1]).to(tokens.device)
        decoded: torch.Tensor = self.transformer_decoder(tokens, memory, tgt_mask=bias, memory_mask=mask)
        return decoded

    @torch.no_grad()
    def predict(
        self, audio: ArrayLike, template: ArrayLike, speaker: Speaker = 0, num_frames: int | None = None
    ) -> torch.Tensor:
        """Vertices ``(B, T, V*3)`` for raw 16 kHz ``audio`` ``(B, N)``, one frame per step with a
        key/value cache (same result as the upstream full re-decode; any length)."""
        return decode_incremental(self, *self.inference_inputs(audio, template, speaker, num_frames))

    @torch.no_grad()
    def predict_redecode(self, audio: ArrayLike, template: ArrayLike, speaker: Speaker = 0) -> torch.Tensor:
        """The upstream inference: the whole prefix decoded again for every frame (O(T^2)); for
        parity checks and benchmarks."""
        return self._decode_redecode(*self.inference_inputs(audio, template, speaker))

    def inference_inputs(
        self, audio: ArrayLike, template: ArrayLike, speaker: Speaker, num_frames: int | None = None
    ) -> tuple[torch.Tensor, int, torch.Tensor, torch.Tensor]:
        """(audio features, frame count, style ``(B, 1, d)``, template ``(B, 1, V*3)``) for decoding."""
        audio_batch = self.audio_tensor(audio)
        memory, frames = self.encode_audio(audio_batch, num_frames)
        batch = audio_batch.shape[0]
        return memory, frames, self.style(speaker, batch), self.template_tensor(template, batch).unsqueeze(1)

    def _decode_redecode(
        self, memory: torch.Tensor, frames: int, style: torch.Tensor, template: torch.Tensor
    ) -> torch.Tensor:
        embedded = style
        for _i in range(frames):
            out = self.vertice_map_r(self.decode_full(self.PPE(embedded), memory))
            embedded = torch.cat([embedded, self.vertice_map(out[:, -1:]) + style], 1)
        predicted: torch.Tensor = out + template
        return predicted

    def cross_keys_values(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per decoder layer, the cross-attention keys and values ``(B, H, S, hd)`` of audio features."""
        heads = self.config.num_heads
        hd = self.config.feature_dim // heads
        out = []
        for layer in self.transformer_decoder.layers:
            _, wk, wv = layer.multihead_attn.in_proj_weight.chunk(3)
            _, bk, bv = layer.multihead_attn.in_proj_bias.chunk(3)
            out.append(
                (
                    F.linear(memory, wk, bk).view(memory.shape[0], -1, heads, hd).transpose(1, 2),
                    F.linear(memory, wv, bv).view(memory.shape[0], -1, heads, hd).transpose(1, 2),
                )
            )
        return out

    # -- weights ---------------------------------------------------------------------------------
    def load_wav2vec2(self, folder: str | os.PathLike) -> FaceFormer:
        """Load wav2vec 2.0 weights from a local transformers folder (see :func:`audio.load_wav2vec2`)."""
        if self.config.audio_encoder != "wav2vec2":
            raise InputError("this FaceFormer uses the built-in mel encoder, not wav2vec 2.0")
        load_wav2vec2(self.audio_encoder, folder)
        return self


def count_parameters(model: nn.Module, without_audio_encoder: bool = False) -> int:
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if not (without_audio_encoder and name.startswith("audio_encoder."))
    )


def as_numpy_vertices(vertices: torch.Tensor) -> np.ndarray:
    """``(1, T, V*3)`` tensor -> ``(T, V, 3)`` float32 array."""
    v = vertices.detach().cpu().float().numpy()
    return v.reshape(v.shape[-2], -1, 3)
