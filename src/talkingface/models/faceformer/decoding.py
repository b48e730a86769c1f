"""Decoding FaceFormer one frame at a time: the key/value-cached decoder shared by whole-clip
prediction and :class:`FaceFormerStream` (speech arriving in pieces). Both use the model's public
methods only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.nn import functional as F

from ...errors import InputError
from .functional import AUDIO_FEATURE_RATE, AUDIO_RATE, alibi_slopes, frames_for_audio

if TYPE_CHECKING:
    from .model import FaceFormer, Speaker


class IncrementalDecoder:
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
        # Per layer: the ring's (B, H, capacity, hd) buffer, or the list of each frame's (B, H, 1, hd).
        self.keys: list[torch.Tensor | list[torch.Tensor]]
        self.values: list[torch.Tensor | list[torch.Tensor]]
        if self.ring and limit is not None:
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
        x: torch.Tensor = model.PPE(self.token, start=i)
        capacity = self.capacity
        filled = i + 1 if capacity is None else min(i + 1, capacity)
        # Distance from position i of each attended key: the ring's slot s holds the position
        # i - ((slot - s) mod capacity); the lists hold i - filled + 1 .. i in order.
        order = torch.arange(filled, device=x.device)
        if self.ring:
            assert capacity is not None  # a ring has a capacity
            slot = i % capacity
            distance = (slot - order) % capacity
        else:
            slot = 0  # the lists have no slots
            distance = filled - 1 - order
        bias = -self.slopes * torch.div(distance, model.config.period, rounding_mode="floor").float().view(1, 1, 1, -1)
        for layer, k_cache, v_cache, (mk, mv) in zip(self.layers, self.keys, self.values, cross):
            sa = layer.self_attn
            q, k, v = F.linear(x, sa.in_proj_weight, sa.in_proj_bias).view(batch, 1, 3, heads, hd).unbind(2)
            if self.ring:
                assert isinstance(k_cache, torch.Tensor) and isinstance(v_cache, torch.Tensor)
                k_cache[:, :, slot] = k[:, 0]
                v_cache[:, :, slot] = v[:, 0]
                k_all, v_all = k_cache[:, :, :filled], v_cache[:, :, :filled]
            else:
                assert isinstance(k_cache, list) and isinstance(v_cache, list)
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


def decode_incremental(
    model: FaceFormer, memory: torch.Tensor, frames: int, style: torch.Tensor, template: torch.Tensor
) -> torch.Tensor:
    """Vertices ``(B, frames, V*3)`` decoded one frame per step from aligned audio features ``memory``
    (``model.encode_audio``), the speaker style ``(B, 1, d)`` and the template ``(B, 1, V*3)``."""
    per_frame = 1 if model.config.alignment == "interpolate" else 2
    cross = model.cross_keys_values(memory)
    decoder = IncrementalDecoder(model, style, frames)
    outputs = [
        decoder.step(
            [
                (k[:, :, per_frame * i : per_frame * (i + 1)], v[:, :, per_frame * i : per_frame * (i + 1)])
                for k, v in cross
            ]
        )
        for i in range(frames)
    ]
    vertices: torch.Tensor = model.vertice_map_r(torch.cat(outputs, 1)) + template
    return vertices


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
        self,
        model: FaceFormer,
        template: ArrayLike,
        speaker: Speaker = 0,
        hop: float = 0.5,
        lookahead: float = 0.5,
        window: float = 4.0,
    ):
        if hop <= 0 or lookahead < 0 or window < hop + lookahead + 0.1:
            raise InputError("need hop > 0, lookahead >= 0 and window >= hop + lookahead + 0.1 seconds")
        self.model = model.eval()
        cfg = model.config
        self.fps = cfg.fps
        self.hop_frames = max(1, int(round(hop * cfg.fps)))
        self.lookahead, self.window = lookahead, window
        with torch.no_grad():
            self.template = model.template_tensor(template, 1).unsqueeze(1)
            self.style = model.style(speaker, 1)
        self.decoder = IncrementalDecoder(model, self.style)
        self.buffer = np.zeros(0, np.float32)
        self.start = 0  # sample index of buffer[0]
        self.done = 0  # frames emitted

    def push(self, samples: ArrayLike) -> np.ndarray:
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
        features = model.local_features(segment.unsqueeze(0))
        offset = first / 320  # global index of the segment's first feature
        if total is not None and cfg.alignment == "pairs":  # the whole-clip path drops an odd last feature
            features = features[:, : max(1, 2 * total - int(offset))]
        hidden = model.audio_feature_map(model.contextualize_window(features))[0]  # (S, d)
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
        cross = model.cross_keys_values(rows)  # per layer (F, H, A, hd): frame f's audio keys/values
        outputs = [self.decoder.step([(k[f : f + 1], v[f : f + 1]) for k, v in cross]) for f in range(len(rows))]
        self.done = block_end
        # Keep the audio the next block's window can still reach.
        keep_from = int((self.done / self.fps + self.lookahead - self.window) * AUDIO_RATE) - 320
        if keep_from > self.start:
            self.buffer = self.buffer[keep_from - self.start :]
            self.start = keep_from
        vertices: torch.Tensor = model.vertice_map_r(torch.cat(outputs, 1)) + self.template
        return vertices
