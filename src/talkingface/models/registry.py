"""Named model variants, safe checkpoint loading of the upstream formats, and our own checkpoints.

``create_model("wav2lip.gan", checkpoint="wav2lip_gan.pth")`` builds the variant's model, loads the
file strictly (a bare state dict, ``{"state_dict": ...}``, keys with ``module.`` or ``_orig_mod.``
prefixes) with ``torch.load(weights_only=True)``, so a file that would run code when unpickled is
refused, and puts the model in eval mode on ``device``. Each variant carries the preprocessing its
weights assume. :func:`save_model` writes our own format: safetensors with the variant and its
config in the metadata, so :func:`load_model` rebuilds the identical model from the file alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import InputError, MediaError
from ..files import atomic_output


@dataclass(frozen=True)
class Variant:
    """A named model: how to build it and what its inputs must look like."""

    name: str
    build: Callable[[dict], nn.Module]
    config: dict = field(default_factory=dict)
    preprocessing: dict = field(default_factory=dict)
    description: str = ""


def _wav2lip(config: dict) -> nn.Module:
    from .wav2lip import Wav2Lip, Wav2LipConfig

    return Wav2Lip(Wav2LipConfig(**config))


def _disc(config: dict) -> nn.Module:
    from .wav2lip import Wav2LipConfig, Wav2LipDiscQual

    return Wav2LipDiscQual(Wav2LipConfig(**config))


def _expert(config: dict) -> nn.Module:
    from .syncnet import SyncNetColor

    return SyncNetColor()


def _syncnet_v2(config: dict) -> nn.Module:
    from .syncnet import SyncNetV2

    return SyncNetV2()


def _lipgan(config: dict) -> nn.Module:
    from .lipgan import LipGAN, LipGANConfig

    return LipGAN(LipGANConfig(**config))


def _lipgan_disc(config: dict) -> nn.Module:
    from .lipgan import LipGANConfig, LipGANDiscriminator

    return LipGANDiscriminator(LipGANConfig(**config))


def _faceformer(config: dict) -> nn.Module:
    from .faceformer import FaceFormer, FaceFormerConfig

    return FaceFormer(FaceFormerConfig(**config))


VOCASET_SPEAKERS = [
    "FaceTalk_170728_03272_TA",
    "FaceTalk_170904_00128_TA",
    "FaceTalk_170725_00137_TA",
    "FaceTalk_170915_00223_TA",
    "FaceTalk_170811_03274_TA",
    "FaceTalk_170913_03279_TA",
    "FaceTalk_170904_03276_TA",
    "FaceTalk_170912_03278_TA",
]
BIWI_SPEAKERS = ["F2", "F3", "F4", "M3", "M4", "M5"]


def _wav2lip_preprocessing(size: int) -> dict:
    return {
        "sample_rate": 16000,
        "features": "wav2lip_mel",
        "mel_window": 16,
        "fps": 25,
        "image_size": size,
        "channel_order": "bgr",
        "value_range": [0, 1],
        "face_pads": [0, 10, 0, 0],
        "frames_per_window": 1,
    }


VARIANTS: dict[str, Variant] = {}


def register(variant: Variant) -> None:
    VARIANTS[variant.name] = variant


for _name, _desc in (
    ("wav2lip", "Wav2Lip generator (wav2lip.pth)"),
    ("wav2lip.gan", "Wav2Lip generator trained with the visual-quality GAN (wav2lip_gan.pth)"),
):
    register(Variant(_name, _wav2lip, {"image_size": 96}, _wav2lip_preprocessing(96), _desc))
for _size in (192, 256, 288):
    register(
        Variant(
            f"wav2lip.{_size}",
            _wav2lip,
            {"image_size": _size},
            _wav2lip_preprocessing(_size),
            f"Wav2Lip generator for {_size} px crops (train it with talkingface)",
        )
    )
register(
    Variant(
        "wav2lip.disc",
        _disc,
        {"image_size": 96},
        _wav2lip_preprocessing(96),
        "Wav2Lip visual-quality discriminator (visual_quality_disc.pth)",
    )
)
register(
    Variant(
        "syncnet.expert",
        _expert,
        {},
        dict(_wav2lip_preprocessing(96), frames_per_window=5, face_input="lower half, 5 frames on channels"),
        "Wav2Lip lip-sync expert (lipsync_expert.pth)",
    )
)
register(
    Variant(
        "syncnet.v2",
        _syncnet_v2,
        {},
        {
            "sample_rate": 16000,
            "features": "syncnet_mfcc",
            "mfcc_window": 20,
            "fps": 25,
            "image_size": 224,
            "channel_order": "bgr",
            "value_range": [0, 255],
            "frames_per_window": 5,
            "crop_margin": 0.4,
        },
        "syncnet_python evaluation model (syncnet_v2.model), for LSE-D / LSE-C",
    )
)
register(
    Variant(
        "lipgan",
        _lipgan,
        {"image_size": 96},
        {"sample_rate": 16000, "features": "mfcc 12x35", "image_size": 96, "face_order": "reference, masked target"},
        "LipGAN generator",
    )
)
register(
    Variant(
        "faceformer.vocaset",
        _faceformer,
        {},
        {"sample_rate": 16000, "fps": 30, "template": "FLAME, 5023 vertices", "speakers": VOCASET_SPEAKERS},
        "FaceFormer trained on VOCASET (vocaset.pth)",
    )
)
register(
    Variant(
        "faceformer.biwi",
        _faceformer,
        {"num_vertices": 23370, "feature_dim": 128, "period": 25, "num_speakers": 6, "fps": 25.0, "alignment": "pairs"},
        {"sample_rate": 16000, "fps": 25, "template": "BIWI, 23370 vertices", "speakers": BIWI_SPEAKERS},
        "FaceFormer trained on BIWI (biwi.pth)",
    )
)
register(
    Variant(
        "faceformer.mel",
        _faceformer,
        {"num_vertices": 478, "num_speakers": 4, "audio_encoder": "mel"},
        {"sample_rate": 16000, "fps": 30, "template": "the built-in face, 478 vertices"},
        "FaceFormer with the built-in mel audio encoder (train it with talkingface)",
    )
)
register(Variant("lipgan.disc", _lipgan_disc, {"image_size": 96}, {"image_size": 96}, "LipGAN discriminator"))


def _variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise InputError(f"unknown model {name!r}; known: {', '.join(sorted(VARIANTS))}") from None


def create_model(
    name: str, checkpoint: str | os.PathLike | None = None, device: str | torch.device | None = None, **config
) -> nn.Module:
    """Build variant ``name`` (config overrides allowed), load ``checkpoint`` if given, eval mode."""
    variant = _variant(name)
    model = variant.build({**variant.config, **config})
    model.variant = variant  # the preprocessing travels with the model
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    model.eval()
    if device is not None:
        model.to(device)
    return model


# -- loading -----------------------------------------------------------------------------------
def filter_state_dict(state: dict) -> dict[str, torch.Tensor]:
    """The one place where upstream key spellings are mapped to ours: unwrap ``state_dict`` /
    ``model`` containers, strip ``module.`` (DataParallel) and ``_orig_mod.`` (torch.compile), and
    rename weight norm's ``weight_g`` / ``weight_v`` (files saved by older torch, e.g. FaceFormer's
    wav2vec 2.0) to today's ``parametrizations.weight.original0`` / ``original1``."""
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError("the checkpoint holds no state dict of tensors")
    out = {}
    for key, value in state.items():
        for prefix in ("module.", "_orig_mod."):
            while key.startswith(prefix):
                key = key[len(prefix) :]
        key = key.replace("._orig_mod.", ".")
        for old, new in (
            (".weight_g", ".parametrizations.weight.original0"),
            (".weight_v", ".parametrizations.weight.original1"),
        ):
            if key.endswith(old):
                key = key[: -len(old)] + new
        out[key] = value
    return out


_CODE_OPCODES = {ord("c"), 0x95, ord("R"), ord("i"), ord("o"), 0x81, 0x92}


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Read a .pth/.pt/.model/.ckpt file without running code, or a .safetensors file."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(p, "file not found")
    if p.stat().st_size == 0:
        raise MediaError(p, "empty file (0 bytes)")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(p))
        except Exception as error:
            raise MediaError(p, f"unreadable safetensors file ({' '.join(str(error).split())})") from None
    try:
        return torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = " ".join(str(error).split())
        operand = re.search(r"Unsupported operand (\d+)", text)
        # A global, or an opcode that calls or builds objects (GLOBAL, STACK_GLOBAL, REDUCE, INST, OBJ,
        # NEWOBJ, NEWOBJ_EX): the file asks to run code. Anything else is just not a checkpoint.
        if "unsupported global" in text.lower() or (operand and int(operand.group(1)) in _CODE_OPCODES):
            raise MediaError(
                p,
                "refused: the file would run code when loaded (only weights are accepted); "
                f"{' '.join(text.split()[:12])}",
            ) from None
        raise MediaError(p, f"not a checkpoint (unreadable pickle: {' '.join(text.split()[:12])})") from None
    except Exception as error:  # junk makes the unpickler fail in many ways (KeyError, IndexError, ...)
        raise MediaError(
            p, f"unreadable or truncated checkpoint ({type(error).__name__}: {' '.join(str(error).split()[:16])})"
        ) from None


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load weights into ``model`` strictly: every key present, no extra key, every shape equal."""
    return load_state(model, filter_state_dict(read_checkpoint(path)), path)


def load_state(model: nn.Module, state: dict[str, torch.Tensor], path: str | os.PathLike) -> nn.Module:
    """:func:`load_checkpoint` for a state dict already read (and filtered) from ``path``."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:

        def show(items):
            return ", ".join(items[:4]) + (f" (+{len(items) - 4} more)" if len(items) > 4 else "")

        problems = [
            f"{len(missing)} missing: {show(missing)}" if missing else "",
            f"{len(unexpected)} unexpected: {show(unexpected)}" if unexpected else "",
            f"{len(wrong)} of another shape: {show(wrong)}" if wrong else "",
        ]
        raise MediaError(path, f"does not fit {type(model).__name__}; " + "; ".join(p for p in problems if p))
    model.load_state_dict(state, strict=True)
    return model


# -- our own format ----------------------------------------------------------------------------
def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model`` as safetensors with its variant name and config in the metadata."""
    from safetensors.torch import save_file

    variant = getattr(model, "variant", None)
    if variant is None:
        raise InputError("save_model needs a model made by create_model (it records the variant)")
    config = getattr(model, "config", None)
    config_dict = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {}
    metadata = {"format": "talkingface", "variant": variant.name, "config": json.dumps(config_dict)}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_output(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    return Path(path)


def load_as(
    path: str | os.PathLike | None, variant: str, expected: type, what: str, device: str | torch.device | None = None
) -> nn.Module:
    """A ``expected`` model from our own .safetensors (self-describing) or an upstream file built as
    ``variant`` (no file: untrained weights); another kind of model is refused, naming ``what``."""
    if path is not None and Path(path).suffix == ".safetensors":
        model = load_model(path, device=device)
    else:
        model = create_model(variant, checkpoint=path, device=device)
    if not isinstance(model, expected):
        raise InputError(f"{path}: holds a {type(model).__name__}, not {what}")
    return model


def load_model(path: str | os.PathLike, device: str | torch.device | None = None) -> nn.Module:
    """Rebuild and load a model saved by :func:`save_model`."""
    from safetensors import safe_open

    p = Path(path)
    if not p.is_file():
        raise MediaError(p, "file not found")
    try:
        with safe_open(str(p), framework="pt") as f:
            metadata = f.metadata() or {}
    except Exception as error:
        raise MediaError(p, f"not a safetensors file ({' '.join(str(error).split())})") from None
    if metadata.get("format") != "talkingface":
        raise MediaError(p, "not a talkingface checkpoint (no variant in its metadata); use create_model")
    return create_model(metadata["variant"], checkpoint=p, device=device, **json.loads(metadata["config"]))
