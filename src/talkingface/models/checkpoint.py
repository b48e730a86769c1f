"""Checkpoint files: reading without running code, the key filters of upstream formats, strict loading,
and our own safetensors format.

A ``.pth`` / ``.pt`` / ``.model`` / ``.ckpt`` file is read with ``torch.load(weights_only=True)``: a file
that would run code when unpickled is refused. The filters here are pure functions of a state dict;
each model family composes the ones its upstream files need (see ``Variant.filter``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, InputError
from ..files import atomic_output

StateDict = dict[str, torch.Tensor]

# GLOBAL, STACK_GLOBAL, REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX: opcodes that call or build objects.
_CODE_OPCODES = {ord("c"), 0x95, ord("R"), ord("i"), ord("o"), 0x81, 0x92}
FORMAT = "talkingface"


def _problem(error: BaseException, words: int = 16) -> str:
    return " ".join(" ".join(str(error).split()).split()[:words])


def read_checkpoint(path: str | os.PathLike) -> Any:
    """The object stored in a .pth/.pt/.model/.ckpt file (read without running code) or the tensors of a
    .safetensors file."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(p, "file not found" if not p.exists() else "not a file")
    if p.stat().st_size == 0:
        raise CheckpointError(p, "empty file (0 bytes)")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(p))
        except Exception as error:
            raise CheckpointError(p, f"unreadable safetensors file ({_problem(error)})") from None
    try:
        return torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = " ".join(str(error).split())
        operand = re.search(r"Unsupported operand (\d+)", text)
        if "unsupported global" in text.lower() or (operand and int(operand.group(1)) in _CODE_OPCODES):
            raise CheckpointError(
                p, f"refused: the file would run code when loaded (only weights are accepted); {_problem(error, 12)}"
            ) from None
        raise CheckpointError(p, f"not a checkpoint (unreadable pickle: {_problem(error, 12)})") from None
    except Exception as error:  # junk makes the unpickler fail in many ways (KeyError, IndexError, ...)
        raise CheckpointError(
            p, f"unreadable or truncated checkpoint ({type(error).__name__}: {_problem(error)})"
        ) from None


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata of a .safetensors file ({} for other files or none)."""
    p = Path(path)
    if p.suffix != ".safetensors":
        return {}
    if not p.is_file():
        raise CheckpointError(p, "file not found" if not p.exists() else "not a file")
    from safetensors import safe_open

    try:
        with safe_open(str(p), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as error:
        raise CheckpointError(p, f"not a safetensors file ({_problem(error)})") from None


# -- filters -----------------------------------------------------------------------------------------
def unwrap(state: Any) -> StateDict:
    """The state dict inside a checkpoint: ``{"state_dict": ...}``, ``{"model": ...}``,
    ``{"model_state_dict": ...}`` and BasicSR's ``{"params_ema": ...}`` (else ``{"params": ...}``)
    containers opened; anything but tensors refused."""
    for key in ("params_ema", "params", "state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError("the checkpoint holds no state dict of tensors")
    return {str(k): v for k, v in state.items()}


def strip_prefixes(state: StateDict) -> StateDict:
    """Keys without ``module.`` (DataParallel / DDP) and ``_orig_mod.`` (torch.compile) prefixes."""
    out = {}
    for key, value in state.items():
        for prefix in ("module.", "_orig_mod."):
            while key.startswith(prefix):
                key = key[len(prefix) :]
        out[key.replace("._orig_mod.", ".")] = value
    return out


def rename_weight_norm(state: StateDict) -> StateDict:
    """Weight norm's ``weight_g`` / ``weight_v`` (files saved by torch before 2.1, e.g. FaceFormer's
    wav2vec 2.0) renamed to today's ``parametrizations.weight.original0`` / ``original1``."""
    out = {}
    for key, value in state.items():
        for old, new in ((".weight_g", ".parametrizations.weight.original0"),
                         (".weight_v", ".parametrizations.weight.original1")):  # fmt: skip
            if key.endswith(old):
                key = key[: -len(old)] + new
        out[key] = value
    return out


def fill_batchnorm_counters(state: StateDict) -> StateDict:
    """``num_batches_tracked`` (a counter, not a weight) added as 0 beside every batch norm's
    ``running_mean`` that has none: files saved by PyTorch before 0.4.1 (``syncnet_v2.model``, 2017)
    lack it. Every real weight is still required by the strict load."""
    out = dict(state)
    for key in state:
        if key.endswith(".running_mean"):
            counter = key[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


def standard_filter(state: Any) -> StateDict:
    """:func:`unwrap` then :func:`strip_prefixes`: what every family's filter starts with."""
    return strip_prefixes(unwrap(state))


# -- strict loading -----------------------------------------------------------------------------------
def _show(items: list[str]) -> str:
    return ", ".join(items[:4]) + (f" (+{len(items) - 4} more)" if len(items) > 4 else "")


def load_state(model: nn.Module, state: StateDict, path: str | os.PathLike) -> nn.Module:
    """Load ``state`` into ``model`` strictly: every key present, no extra key, every shape equal; the
    error names the keys that are missing, unexpected or of another shape."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        problems = [
            f"{len(missing)} missing: {_show(missing)}" if missing else "",
            f"{len(unexpected)} unexpected: {_show(unexpected)}" if unexpected else "",
            f"{len(wrong)} of another shape: {_show(wrong)}" if wrong else "",
        ]
        raise CheckpointError(path, f"does not fit {type(model).__name__}; " + "; ".join(p for p in problems if p))
    broken = [
        k for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()
    ]
    if broken:
        raise CheckpointError(
            path, f"{len(broken)} weights hold NaN or infinity ({_show(broken)}): a damaged file or a diverged training"
        )
    model.load_state_dict(state, strict=True)
    return model


# -- our own format --------------------------------------------------------------------------------------
def write_safetensors(model: nn.Module, variant: str, path: str | os.PathLike) -> Path:
    """``model``'s weights as safetensors with ``variant`` and its config in the metadata."""
    from safetensors.torch import save_file

    config = getattr(model, "config", None)
    config_dict = (
        dataclasses.asdict(config) if dataclasses.is_dataclass(config) and not isinstance(config, type) else {}
    )
    metadata = {"format": FORMAT, "variant": variant, "config": json.dumps(config_dict)}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_output(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    return Path(path)
