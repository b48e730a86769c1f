"""FaceFormer: speech -> per-frame mesh vertex offsets with a transformer decoder.

Fan et al., "FaceFormer: Speech-Driven 3D Facial Animation with Transformers" (CVPR 2022),
compatible with the ``vocaset.pth`` / ``biwi.pth`` files of EvelynFan/FaceFormer: module names and
shapes are the upstream ones (the wav2vec 2.0 encoder under ``audio_encoder.`` as transformers'
``Wav2Vec2Model``), so those files load strictly, with either weight-norm naming.

The decoder is autoregressive: frame ``i`` is decoded from the speaker style plus the motions of
frames ``< i``, attending causally to itself with a temporal bias stepped by ``period`` frames
(``-slope_h * floor((i - j) / period)``) and to the audio frames aligned with ``i``. The upstream
model re-decodes the whole prefix at every frame (O(T^2), at most 600 frames). :meth:`FaceFormer.predict`
decodes one frame per step with a key/value cache and computes the same vertices; positions past 600
continue the periodic encoding, and attention looks back at most ``context`` frames (600, as far as
the upstream model ever looked), so time grows linearly with the audio. The audio encoder runs
once, in overlapping windows with a cross-fade for audio longer than ``encoder_window`` seconds.
:class:`FaceFormerStream` decodes speech that arrives in pieces, block by block, with the same cache.

``audio_encoder="mel"`` replaces wav2vec 2.0 by a small encoder on log-mel features (50 Hz) for
training without downloaded weights.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError, MediaError, MissingDependencyError

AUDIO_RATE = 16000
AUDIO_FEATURE_RATE = 50  # wav2vec 2.0 and the mel encoder: one feature per 320 samples


@dataclass(frozen=True)
class FaceFormerConfig:
    """One FaceFormer. ``alignment``: "interpolate" (VOCASET: audio features resampled to the frame
    rate, frame i attends audio frame i) or "pairs" (BIWI: features stay at 50 Hz, frame i attends
    audio frames 2i and 2i+1; needs fps 25)."""

    num_vertices: int = 5023
    feature_dim: int = 64
    period: int = 30
    num_speakers: int = 8
    fps: float = 30.0
    alignment: str = "interpolate"
    num_heads: int = 4
    num_layers: int = 1
    dropout: float = 0.1
    max_seq_len: int = 600  # the positional-encoding buffer of the upstream files
    context: int | None = 600  # frames a decoded frame looks back at (None: all)
    audio_encoder: str = "wav2vec2"  # or "mel"
    wav2vec2: dict = field(default_factory=dict)  # transformers Wav2Vec2Config overrides
    mel_width: int = 128
    mel_layers: int = 2
    encoder_window: float = 20.0  # seconds of audio the encoder sees at once
    encoder_overlap: float = 2.0  # seconds cross-faded between windows

    def __post_init__(self):
        if self.alignment not in ("interpolate", "pairs"):
            raise InputError(f"alignment must be 'interpolate' or 'pairs', not {self.alignment!r}")
        if self.audio_encoder not in ("wav2vec2", "mel"):
            raise InputError(f"audio_encoder must be 'wav2vec2' or 'mel', not {self.audio_encoder!r}")
        if self.feature_dim % self.num_heads:
            raise InputError(f"feature_dim {self.feature_dim} is not divisible by {self.num_heads} heads")
        if self.context is not None and self.context < 1:
            raise InputError(f"context must be >= 1 frame or None, not {self.context}")
        if self.encoder_overlap * 2 >= self.encoder_window:
            raise InputError("encoder_overlap must be less than half of encoder_window")


VOCASET = FaceFormerConfig()
BIWI = FaceFormerConfig(num_vertices=23370, feature_dim=128, period=25, num_speakers=6, fps=25.0, alignment="pairs")


# -- the functional pieces -------------------------------------------------------------------------
def alibi_slopes(num_heads: int) -> list[float]:
    """Per-head slopes of the temporal bias (1/4, 1/16, 1/64, 1/256 for 4 heads), as in ALiBi."""

    def power_of_2(n):
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


class PeriodicPositionalEncoding(nn.Module):
    """Sinusoids over ``period`` positions, repeated: position t is encoded as t % period.

    The buffer ``pe`` has the upstream shape ``(1, period * (max_seq_len // period + 1), d)``; any
    position, also past the buffer, takes the row of ``t % period`` (the same values)."""

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
        return self.dropout(x + self.pe[:, positions])


class MelAudioEncoder(nn.Module):
    """A small audio encoder on 80-band log-mel features at 50 Hz (25 ms windows, 20 ms hop) - the
    same rate and frame count as wav2vec 2.0's features - for training without its weights."""

    def __init__(self, width: int = 128, layers: int = 2, heads: int = 4, dropout: float = 0.1):
        super().__init__()
        from ..features.mel import hann_window, mel_filterbank

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
        return self.convs(mel.transpose(1, 2)).transpose(1, 2)

    def contextualize(self, x: torch.Tensor) -> torch.Tensor:
        x = x + F.gelu(self.position(x.transpose(1, 2))).transpose(1, 2)
        return self.layers(self.norm(x))


def _wav2vec2(overrides: dict) -> nn.Module:
    try:
        from transformers import Wav2Vec2Config, Wav2Vec2Model
    except ImportError:
        raise MissingDependencyError(
            "FaceFormer's wav2vec 2.0 encoder needs transformers: pip install 'talkingface[faceformer]'"
        ) from None
    return Wav2Vec2Model(Wav2Vec2Config(**overrides))


# -- the model -------------------------------------------------------------------------------------
class FaceFormer(nn.Module):
    """FaceFormer (VOCASET: 2,043,933 parameters besides wav2vec 2.0; BIWI: 18,316,382)."""

    def __init__(self, config: FaceFormerConfig = VOCASET):
        super().__init__()
        self.config = config
        d = config.feature_dim
        if config.audio_encoder == "wav2vec2":
            self.audio_encoder = _wav2vec2(dict(config.wav2vec2))
            self.audio_encoder.feature_extractor._freeze_parameters()
            audio_width = self.audio_encoder.config.hidden_size
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
    def _audio(self, audio) -> torch.Tensor:
        audio = torch.as_tensor(audio, dtype=torch.float32, device=self.obj_vector.weight.device)
        if audio.dim() == 1:
            audio = audio.unsqueeze(0)
        if audio.dim() != 2 or audio.shape[1] < 400:
            raise InputError(f"expected 16 kHz audio (N,) or (B, N) with N >= 400 samples; got {tuple(audio.shape)}")
        return audio

    def _template(self, template, batch: int) -> torch.Tensor:
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

    def _style(self, speaker, batch: int) -> torch.Tensor:
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
        return self.obj_vector(one_hot).unsqueeze(1)

    # -- audio -----------------------------------------------------------------------------------
    def encode_audio(self, audio, num_frames: int | None = None) -> tuple[torch.Tensor, int]:
        """Raw 16 kHz audio ``(B, N)`` -> aligned audio features ``(B, S, d)`` and the frame count
        (S = frames for "interpolate", 2 * frames for "pairs"). ``num_frames`` fixes the count (training:
        the number of motion frames), else it follows from the audio's duration as upstream."""
        features = self._local_features(self._audio(audio))
        frames = frames_for_audio(features.shape[1], self.config) if num_frames is None else int(num_frames)
        if self.config.alignment == "pairs":
            frames = min(frames, features.shape[1] // 2)
        if frames < 1:
            raise InputError("the audio is too short for one frame of animation")
        if self.config.alignment == "interpolate":
            features = interpolate_features(features, frames)
        else:
            features = features[:, : 2 * frames]
        hidden = self._contextualize(features)
        return self.audio_feature_map(hidden), frames

    def _local_features(self, audio: torch.Tensor) -> torch.Tensor:
        """Raw 16 kHz ``(B, N)`` -> the encoder's convolutional features ``(B, S, C)`` at 50 Hz (each
        clip normalised first), before the transformer part sees the whole sequence."""
        audio = normalize_audio(audio)
        encoder = self.audio_encoder
        if isinstance(encoder, MelAudioEncoder):
            return encoder.convolve(encoder.features(audio))
        return encoder.feature_extractor(audio).transpose(1, 2)

    def _contextualize_once(self, features: torch.Tensor) -> torch.Tensor:
        encoder = self.audio_encoder
        if isinstance(encoder, MelAudioEncoder):
            return encoder.contextualize(features)
        projected = encoder.feature_projection(features)
        if isinstance(projected, tuple):  # newer transformers also return the normed features
            projected = projected[0]
        # SpecAugment with masked_spec_embed in training, as the upstream training does
        if self.training and projected.shape[1] > 2 * encoder.config.mask_time_length:
            projected = encoder._mask_hidden_states(projected)
        return encoder.encoder(projected)[0]

    def _contextualize(self, features: torch.Tensor) -> torch.Tensor:
        """The transformer part of the audio encoder, in cross-faded windows for long audio."""
        rate = self.config.fps if self.config.alignment == "interpolate" else 2 * self.config.fps
        window = max(2, int(round(self.config.encoder_window * rate)))
        overlap = int(round(self.config.encoder_overlap * rate))
        length = features.shape[1]
        if length <= window:
            return self._contextualize_once(features)
        step = window - overlap
        starts = [*list(range(0, length - window, step)), length - window]
        out = None
        weight = torch.zeros(length, device=features.device)
        for k, start in enumerate(starts):
            piece = self._contextualize_once(features[:, start : start + window])
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
        return out / weight.view(1, -1, 1)

    # -- decoding --------------------------------------------------------------------------------
    def forward(self, audio, template, vertices: torch.Tensor, speaker, teacher_forcing: bool = True) -> torch.Tensor:
        """Training pass: predicted vertices ``(B, T, V*3)`` for ground truth ``vertices`` ``(B, T, V*3)``.

        Teacher forcing feeds the true previous motions; otherwise the model's own (autoregressive).
        With "pairs" alignment and too little audio, T shrinks to what the audio covers (as upstream)."""
        vertices = torch.as_tensor(vertices, dtype=torch.float32, device=self.obj_vector.weight.device)
        if vertices.dim() != 3 or vertices.shape[2] != self.config.num_vertices * 3:
            raise InputError(f"expected vertices (B, T, {self.config.num_vertices * 3}); got {tuple(vertices.shape)}")
        batch = vertices.shape[0]
        template = self._template(template, batch).unsqueeze(1)
        style = self._style(speaker, batch)
        memory, frames = self.encode_audio(audio, vertices.shape[1])
        vertices = vertices[:, :frames]
        if not teacher_forcing:
            return self._decode_incremental(memory, frames, style, template)
        motion = torch.cat([template, vertices[:, :-1]], 1) - template
        tokens = self.PPE(self.vertice_map(motion) + style)
        out = self._decode_full(tokens, memory)
        return self.vertice_map_r(out) + template

    def _decode_full(self, tokens: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """All positions at once (teacher forcing / the upstream re-decode)."""
        cfg = self.config
        t = tokens.shape[1]
        bias = temporal_bias(cfg.num_heads, t, t, cfg.period, cfg.context).to(tokens.device)
        bias = bias.repeat(tokens.shape[0], 1, 1)  # (B * H, T, T), batch-major as nn.MultiheadAttention wants
        mask = alignment_mask(cfg.alignment, t, memory.shape[1]).to(tokens.device)
        return self.transformer_decoder(tokens, memory, tgt_mask=bias, memory_mask=mask)

    @torch.no_grad()
    def predict(self, audio, template, speaker=0, num_frames: int | None = None) -> torch.Tensor:
        """Vertices ``(B, T, V*3)`` for raw 16 kHz ``audio`` ``(B, N)``, one frame per step with a
        key/value cache (same result as the upstream full re-decode; any length)."""
        return self._decode_incremental(*self._inference_inputs(audio, template, speaker, num_frames))

    @torch.no_grad()
    def predict_redecode(self, audio, template, speaker=0) -> torch.Tensor:
        """The upstream inference: the whole prefix decoded again for every frame (O(T^2)); for
        parity checks and benchmarks."""
        return self._decode_redecode(*self._inference_inputs(audio, template, speaker))

    def _inference_inputs(self, audio, template, speaker, num_frames: int | None = None):
        """(audio features, frame count, style ``(B, 1, d)``, template ``(B, 1, V*3)``) for decoding."""
        audio = self._audio(audio)
        memory, frames = self.encode_audio(audio, num_frames)
        batch = audio.shape[0]
        return memory, frames, self._style(speaker, batch), self._template(template, batch).unsqueeze(1)

    def _decode_redecode(
        self, memory: torch.Tensor, frames: int, style: torch.Tensor, template: torch.Tensor
    ) -> torch.Tensor:
        embedded = style
        for _i in range(frames):
            out = self.vertice_map_r(self._decode_full(self.PPE(embedded), memory))
            embedded = torch.cat([embedded, self.vertice_map(out[:, -1:]) + style], 1)
        return out + template

    def _cross_keys_values(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
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

    def _decode_incremental(
        self, memory: torch.Tensor, frames: int, style: torch.Tensor, template: torch.Tensor
    ) -> torch.Tensor:
        per_frame = 1 if self.config.alignment == "interpolate" else 2
        cross = self._cross_keys_values(memory)
        decoder = _Decoder(self, style, frames)
        outputs = [
            decoder.step(
                [
                    (k[:, :, per_frame * i : per_frame * (i + 1)], v[:, :, per_frame * i : per_frame * (i + 1)])
                    for k, v in cross
                ]
            )
            for i in range(frames)
        ]
        return self.vertice_map_r(torch.cat(outputs, 1)) + template

    # -- weights ---------------------------------------------------------------------------------
    def load_wav2vec2(self, folder: str | os.PathLike) -> FaceFormer:
        """Load wav2vec 2.0 weights from a local transformers folder (config.json plus
        model.safetensors or pytorch_model.bin, e.g. facebook/wav2vec2-base-960h); never downloads.
        The CTC head of a Wav2Vec2ForCTC folder is ignored."""
        from .registry import filter_state_dict, load_state, read_checkpoint

        if self.config.audio_encoder != "wav2vec2":
            raise InputError("this FaceFormer uses the built-in mel encoder, not wav2vec 2.0")
        root = Path(folder)
        files = [root / name for name in ("model.safetensors", "pytorch_model.bin")]
        weights = next((f for f in files if f.is_file()), None)
        if not root.is_dir() or weights is None:
            raise MediaError(root, "not a wav2vec 2.0 folder (needs model.safetensors or pytorch_model.bin)")
        state = read_checkpoint(weights)
        state = {
            k[len("wav2vec2.") :] if k.startswith("wav2vec2.") else k: v
            for k, v in state.items()
            if not k.startswith(("lm_head.", "quantizer.", "project_"))
        }
        state = filter_state_dict(state)
        expected = self.audio_encoder.state_dict()
        if "masked_spec_embed" in expected and "masked_spec_embed" not in state:  # absent from some exports
            state["masked_spec_embed"] = expected["masked_spec_embed"]
        load_state(self.audio_encoder, state, weights)
        return self


class _Decoder:
    """FaceFormer's decoder one frame at a time: a key/value cache of the frames decoded so far (a ring
    of ``context`` frames at inference; lists under autograd) and the motion fed back to the next step."""

    def __init__(self, model: FaceFormer, style: torch.Tensor, frames: int | None = None):
        cfg = model.config
        self.model, self.style, self.token, self.i = model, style, style, 0
        self.heads, self.d = cfg.num_heads, cfg.feature_dim
        self.layers = list(model.transformer_decoder.layers)
        limit = cfg.context if frames is None else (frames if cfg.context is None else min(frames, cfg.context))
        self.ring = limit is not None and not torch.is_grad_enabled()
        self.capacity = limit
        batch, hd = style.shape[0], self.d // self.heads
        if self.ring:
            self.keys = [style.new_zeros(batch, self.heads, limit, hd) for _ in self.layers]
            self.values = [style.new_zeros(batch, self.heads, limit, hd) for _ in self.layers]
        else:
            self.keys, self.values = [[] for _ in self.layers], [[] for _ in self.layers]
        self.slopes = torch.tensor(alibi_slopes(self.heads), device=style.device).view(1, self.heads, 1, 1)
        # The motion fed back is vertice_map(vertice_map_r(x)): one d x d map.
        self.w_back = model.vertice_map.weight @ model.vertice_map_r.weight
        self.b_back = model.vertice_map.weight @ model.vertice_map_r.bias + model.vertice_map.bias

    def step(self, cross: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """Decode the next frame from its audio keys/values per layer; returns its state ``(B, 1, d)``."""
        model, i, heads, d = self.model, self.i, self.heads, self.d
        batch, hd = self.style.shape[0], d // heads
        x = model.PPE(self.token, start=i)
        filled = i + 1 if self.capacity is None else min(i + 1, self.capacity)
        slot = i % self.capacity if self.ring else None
        # Distance from position i of each attended key: the ring's slot s holds the position
        # i - ((slot - s) mod capacity); the lists hold i - filled + 1 .. i in order.
        order = torch.arange(filled, device=x.device)
        distance = (slot - order) % self.capacity if self.ring else filled - 1 - order
        bias = -self.slopes * torch.div(distance, model.config.period, rounding_mode="floor").float().view(1, 1, 1, -1)
        for layer, k_cache, v_cache, (mk, mv) in zip(self.layers, self.keys, self.values, cross):
            sa = layer.self_attn
            q, k, v = F.linear(x, sa.in_proj_weight, sa.in_proj_bias).view(batch, 1, 3, heads, hd).unbind(2)
            if self.ring:
                k_cache[:, :, slot] = k[:, 0]
                v_cache[:, :, slot] = v[:, 0]
                k_all, v_all = k_cache[:, :, :filled], v_cache[:, :, :filled]
            else:
                k_cache.append(k.transpose(1, 2))
                v_cache.append(v.transpose(1, 2))
                if self.capacity is not None and len(k_cache) > self.capacity:
                    del k_cache[0], v_cache[0]
                k_all, v_all = torch.cat(k_cache[-filled:], 2), torch.cat(v_cache[-filled:], 2)
            h = F.scaled_dot_product_attention(q.transpose(1, 2), k_all, v_all, attn_mask=bias)
            x = layer.norm1(x + layer.dropout1(sa.out_proj(h.transpose(1, 2).reshape(batch, 1, d))))
            ca = layer.multihead_attn
            wq, _, _ = ca.in_proj_weight.chunk(3)
            bq, _, _ = ca.in_proj_bias.chunk(3)
            q = F.linear(x, wq, bq).view(batch, 1, heads, hd).transpose(1, 2)
            h = F.scaled_dot_product_attention(q, mk, mv)
            x = layer.norm2(x + layer.dropout2(ca.out_proj(h.transpose(1, 2).reshape(batch, 1, d))))
            x = layer.norm3(x + layer.dropout3(layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))))
        self.token = F.linear(x, self.w_back, self.b_back) + self.style
        self.i += 1
        return x


class FaceFormerStream:
    """Vertices for speech that arrives in pieces (a microphone, a network stream).

    Frames are made in blocks of ``hop`` seconds. A block is decoded once the audio reaches
    ``lookahead`` seconds past its end; its audio features come from a window of ``window`` seconds
    ending there, normalised on its own, so the result does not depend on how the audio was cut into
    pieces. The decoder keeps its key/value cache from block to block. Latency: ``hop + lookahead``
    (plus the compute). Frame ``i`` takes the audio features at ``i / fps`` seconds (the whole-clip
    path stretches them over the clip's frame count instead, a difference of under a feature).

    Example::

        stream = FaceFormerStream(model, template)
        for piece in pieces:              # float32 16 kHz samples
            send(stream.push(piece))      # (k, V, 3) new frames, maybe none
        send(stream.flush())
    """

    def __init__(
        self, model: FaceFormer, template, speaker=0, hop: float = 0.5, lookahead: float = 0.5, window: float = 4.0
    ):
        if hop <= 0 or lookahead < 0 or window < hop + lookahead + 0.1:
            raise InputError("need hop > 0, lookahead >= 0 and window >= hop + lookahead + 0.1 seconds")
        self.model = model.eval()
        cfg = model.config
        self.fps = cfg.fps
        self.hop_frames = max(1, int(round(hop * cfg.fps)))
        self.lookahead, self.window = lookahead, window
        with torch.no_grad():
            self.template = model._template(template, 1).unsqueeze(1)
            self.style = model._style(speaker, 1)
        self.decoder = _Decoder(model, self.style)
        self.buffer = np.zeros(0, np.float32)
        self.start = 0  # sample index of buffer[0]
        self.done = 0  # frames emitted

    def push(self, samples) -> np.ndarray:
        """Add 16 kHz samples ``(N,)``; returns the frames ``(k, V, 3)`` now ready (k may be 0)."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        self.buffer = np.concatenate([self.buffer, samples])
        end = self.start + len(self.buffer)
        blocks = []
        while True:
            block_end = self.done + self.hop_frames
            needed = int(np.ceil((block_end / self.fps + self.lookahead) * AUDIO_RATE))
            if needed > end:
                break
            blocks.append(self._block(block_end, needed))
        return self._frames(blocks)

    def flush(self) -> np.ndarray:
        """The frames left once the audio has ended (as many as the whole clip gives in all)."""
        end = self.start + len(self.buffer)
        features = (end - 400) // 320 + 1 if end >= 400 else 0
        total = frames_for_audio(features, self.model.config)
        blocks = []
        while self.done < total:
            blocks.append(self._block(min(total, self.done + self.hop_frames), end, total))
        return self._frames(blocks)

    def _frames(self, blocks: list[torch.Tensor]) -> np.ndarray:
        v = self.model.config.num_vertices
        if not blocks:
            return np.zeros((0, v, 3), np.float32)
        return torch.cat(blocks, 1)[0].reshape(-1, v, 3).numpy()

    @torch.no_grad()
    def _block(self, block_end: int, audio_end: int, total: int | None = None) -> torch.Tensor:
        """Decode frames ``done .. block_end - 1`` from the audio window ending at sample ``audio_end``
        (``total``: the clip has ended with this many frames)."""
        model, cfg = self.model, self.model.config
        first = max(0, audio_end - int(self.window * AUDIO_RATE))
        first -= first % 320  # features on the whole clip's 20 ms grid
        first = max(first, self.start)
        segment = torch.from_numpy(self.buffer[first - self.start : audio_end - self.start].copy())
        frames = range(self.done, block_end)
        features = model._local_features(segment.unsqueeze(0))
        offset = first / 320  # global index of the segment's first feature
        if total is not None and cfg.alignment == "pairs":  # the whole-clip path drops an odd last feature
            features = features[:, : max(1, 2 * total - int(offset))]
        hidden = model.audio_feature_map(model._contextualize_once(features))[0]  # (S, d)
        if cfg.alignment == "interpolate":
            position = torch.tensor([i * AUDIO_FEATURE_RATE / cfg.fps for i in frames]) - offset
            position = position.clamp(0, hidden.shape[0] - 1)
            lo = position.floor().long()
            hi = (lo + 1).clamp(max=hidden.shape[0] - 1)
            t = (position - lo).unsqueeze(1)
            rows = ((1 - t) * hidden[lo] + t * hidden[hi]).unsqueeze(1)  # (F, 1, d)
        else:
            index = torch.tensor([[2 * i, 2 * i + 1] for i in frames]) - int(offset)
            rows = hidden[index.clamp(0, hidden.shape[0] - 1)]  # (F, 2, d)
        cross = model._cross_keys_values(rows)  # per layer (F, H, A, hd): frame f's audio keys/values
        outputs = [self.decoder.step([(k[f : f + 1], v[f : f + 1]) for k, v in cross]) for f in range(len(rows))]
        self.done = block_end
        # Keep the audio the next block's window can still reach.
        keep_from = int((self.done / self.fps + self.lookahead - self.window) * AUDIO_RATE) - 320
        if keep_from > self.start:
            self.buffer = self.buffer[keep_from - self.start :]
            self.start = keep_from
        return model.vertice_map_r(torch.cat(outputs, 1)) + self.template


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


def load_faceformer(
    path: str | os.PathLike, wav2vec2: str | os.PathLike | None = None, device: str | torch.device | None = None
) -> FaceFormer:
    """A FaceFormer from our .safetensors file or an upstream ``vocaset.pth`` / ``biwi.pth`` (the variant
    is told by the shapes inside); ``wav2vec2`` optionally replaces the audio encoder's weights."""
    from .registry import create_model, filter_state_dict, load_model, load_state, read_checkpoint

    p = Path(path)
    if p.suffix == ".safetensors":
        model = load_model(p, device=device)
    else:
        state = filter_state_dict(read_checkpoint(p))
        shape = tuple(state["vertice_map_r.weight"].shape) if "vertice_map_r.weight" in state else None
        variant = {(15069, 64): "faceformer.vocaset", (70110, 128): "faceformer.biwi"}.get(shape)
        if variant is None:
            raise MediaError(p, "not a FaceFormer checkpoint (no vertice_map_r of the VOCASET or BIWI shape)")
        speakers = int(state["obj_vector.weight"].shape[1]) if "obj_vector.weight" in state else 0
        model = load_state(create_model(variant, num_speakers=max(speakers, 1)), state, p)
        if device is not None:
            model.to(device)
    if not isinstance(model, FaceFormer):
        raise InputError(f"{path}: holds a {type(model).__name__}, not a FaceFormer")
    if wav2vec2 is not None:
        model.load_wav2vec2(wav2vec2)
    return model.eval()
