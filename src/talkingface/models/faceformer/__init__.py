"""FaceFormer: speech -> per-frame mesh vertex offsets with a transformer decoder.

Fan et al., "FaceFormer: Speech-Driven 3D Facial Animation with Transformers" (CVPR 2022),
compatible with the ``vocaset.pth`` / ``biwi.pth`` files of EvelynFan/FaceFormer: module names and
shapes are the upstream ones (the wav2vec 2.0 encoder under ``audio_encoder.`` as transformers'
``Wav2Vec2Model``), so those files load strictly, with either weight-norm naming.

The decoder is autoregressive: frame ``i`` is decoded from the speaker style plus the motions of
frames ``< i``, attending causally to itself with a temporal bias stepped by ``period`` frames
(``-slope_h * floor((i - j) / period)``) and to the audio frames aligned with ``i``. The upstream
model re-decodes the whole prefix at every frame (O(T^2), at most 600 frames).
:meth:`FaceFormer.predict` decodes one frame per step with a key/value cache
(:mod:`.decoding`) and computes the same vertices; positions past 600 continue the periodic encoding,
and attention looks back at most ``context`` frames (600, as far as the upstream model ever looked),
so time grows linearly with the audio. The audio encoder runs once, in overlapping windows with a
cross-fade for audio longer than ``encoder_window`` seconds. :class:`FaceFormerStream` decodes
speech that arrives in pieces, block by block, with the same cache.

``audio_encoder="mel"`` replaces wav2vec 2.0 by a small encoder on log-mel features (50 Hz) for
training without downloaded weights.

Modules: :mod:`.config` (the frozen config), :mod:`.functional` (temporal bias, alignment),
:mod:`.audio` (encoders), :mod:`.model` (the network), :mod:`.decoding` (cached decoding, streaming).
Variants: "faceformer.vocaset", "faceformer.biwi", "faceformer.mel".
"""

from __future__ import annotations

from typing import Any

from ... import choices
from ..checkpoint import rename_weight_norm, standard_filter
from ..registry import Variant, register, register_detector
from ..spec import ModelSpec
from .audio import MelAudioEncoder, build_wav2vec2, load_wav2vec2
from .config import BIWI, VOCASET, FaceFormerConfig
from .decoding import FaceFormerStream, IncrementalDecoder, decode_incremental
from .functional import (
    AUDIO_FEATURE_RATE,
    AUDIO_RATE,
    alibi_slopes,
    alignment_mask,
    frames_for_audio,
    interpolate_features,
    normalize_audio,
    temporal_bias,
)
from .model import FaceFormer, PeriodicPositionalEncoding, as_numpy_vertices, count_parameters

__all__ = [
    "AUDIO_FEATURE_RATE",
    "AUDIO_RATE",
    "BIWI",
    "VOCASET",
    "FaceFormer",
    "FaceFormerConfig",
    "FaceFormerStream",
    "IncrementalDecoder",
    "MelAudioEncoder",
    "PeriodicPositionalEncoding",
    "alibi_slopes",
    "alignment_mask",
    "as_numpy_vertices",
    "build_wav2vec2",
    "count_parameters",
    "decode_incremental",
    "frames_for_audio",
    "interpolate_features",
    "load_wav2vec2",
    "normalize_audio",
    "temporal_bias",
]

VOCASET_SPEAKERS = list(choices.VOCASET_SPEAKERS)
BIWI_SPEAKERS = list(choices.BIWI_SPEAKERS)


def _spec(fps: float, template: str, speakers: tuple[str, ...] = ()) -> ModelSpec:
    return ModelSpec(
        family="faceformer",
        role="mesh",
        fps=fps,
        audio_features="raw",
        audio_rate=AUDIO_RATE,
        audio_window=0,
        image_size=None,
        face_pads=(0, 0, 0, 0),
        speakers=speakers,
        template=template,
    )


def _filter(state: Any) -> dict:
    return rename_weight_norm(standard_filter(state))


def _count(state: dict, prefix: str) -> int:
    return len({k[len(prefix) :].split(".", 1)[0] for k in state if k.startswith(prefix)})


def _config_from_state(state: dict) -> dict:
    """Config fields that a state dict fixes: speakers, and for the mel encoder every size."""
    config: dict = {}
    if "obj_vector.weight" in state:
        config["num_speakers"] = int(state["obj_vector.weight"].shape[1])
    if "audio_encoder.convs.0.weight" in state and "vertice_map_r.weight" in state:
        out, width = state["vertice_map_r.weight"].shape
        config.update(
            num_vertices=int(out) // 3,
            feature_dim=int(width),
            mel_width=int(state["audio_encoder.convs.0.weight"].shape[0]),
            mel_layers=_count(state, "audio_encoder.layers.layers."),
            num_layers=_count(state, "transformer_decoder.layers."),
        )
    return config


def detect(state: dict) -> str | None:
    """ "faceformer.vocaset" / "faceformer.biwi" / "faceformer.mel" from the shapes of a file."""
    weight = state.get("vertice_map_r.weight")
    if weight is None or "obj_vector.weight" not in state:
        return None
    if "audio_encoder.convs.0.weight" in state:
        return "faceformer.mel"
    return {(15069, 64): "faceformer.vocaset", (70110, 128): "faceformer.biwi"}.get(tuple(weight.shape))


def _build(config: dict) -> FaceFormer:
    return FaceFormer(FaceFormerConfig(**config))


register(
    Variant(
        "faceformer.vocaset",
        _build,
        _spec(30.0, "FLAME, 5023 vertices", tuple(VOCASET_SPEAKERS)),
        {},
        "FaceFormer trained on VOCASET (vocaset.pth)",
        _filter,
        _config_from_state,
    )
)
register(
    Variant(
        "faceformer.biwi",
        _build,
        _spec(25.0, "BIWI, 23370 vertices", tuple(BIWI_SPEAKERS)),
        {
            "num_vertices": 23370,
            "feature_dim": 128,
            "period": 25,
            "num_speakers": 6,
            "fps": 25.0,
            "alignment": "pairs",
        },
        "FaceFormer trained on BIWI (biwi.pth)",
        _filter,
        _config_from_state,
    )
)
register(
    Variant(
        "faceformer.mel",
        _build,
        _spec(30.0, "the built-in face, 478 vertices"),
        {"num_vertices": 478, "num_speakers": 4, "audio_encoder": "mel"},
        "FaceFormer with the built-in mel audio encoder (train it with talkingface)",
        _filter,
        _config_from_state,
    )
)
register_detector(detect)
