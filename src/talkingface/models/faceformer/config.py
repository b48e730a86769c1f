"""FaceFormer's configuration: one frozen dataclass; the VOCASET and BIWI settings of the upstream files."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import InputError


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

    def __post_init__(self) -> None:
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
