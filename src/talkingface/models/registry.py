"""Named model variants and the one way to load a model file.

Each family registers its variants in its own module (``wav2lip.py``, ``syncnet.py``, ``lipgan.py``,
``faceformer/``) with :func:`register`: how to build the model, its default config, its
:class:`~talkingface.models.spec.ModelSpec` and the checkpoint filter of its upstream files. This
module imports no family at import time; the families are imported the first time a variant is looked
up.

- ``create_model("wav2lip.gan", checkpoint="wav2lip_gan.pth")`` builds a named variant, optionally
  loading a file into it strictly.
- ``load_model(path, variant=None)`` loads any supported file: our own safetensors (the variant and
  config are in the file), an upstream file of the given variant, or - with no variant - an upstream
  file whose variant is told by the shapes inside.
- ``save_model(model, path)`` writes our format, from which ``load_model`` rebuilds the same model.

Every model made here carries ``model.spec`` (what its inputs must look like) and ``model.variant``
(its registered name), and is returned in eval mode.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, InputError
from .checkpoint import (
    FORMAT,
    StateDict,
    load_state,
    read_checkpoint,
    read_metadata,
    standard_filter,
    write_safetensors,
)
from .spec import ModelSpec

# Modules that register variants (imported on first lookup).
#: Where the weights that ship in the package are (``Variant.weights``).
BUILTIN_WEIGHTS = Path(__file__).parent / "weights"
FAMILIES = (
    "wav2lip", "syncnet", "syncnet_lips", "lipgan", "faceformer", "visemenet", "upscaler", "openness", "gfpgan",
)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """A named model: how to build it, its default config, its spec and its checkpoint filter.

    Attributes:
        name: registry name, e.g. "wav2lip.gan".
        build: config dict -> module.
        spec: inputs and outputs of the model.
        config: default config of ``build``.
        description: one line for listings.
        filter: checkpoint object -> our state dict (prefix strips, renames, fills).
        config_from_state: config overrides read from a filtered state dict (e.g. the number of speakers).
    weights: the file of its weights shipped in the package (``models/weights/``, beside its model card
        of the same name ending in .md); "" where none ship.
    """

    name: str
    build: Callable[[dict[str, Any]], nn.Module]
    spec: ModelSpec
    config: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    filter: Callable[[Any], StateDict] = standard_filter
    config_from_state: Callable[[StateDict], dict[str, Any]] | None = None
    weights: str = ""

    @property
    def family(self) -> str:
        return self.spec.family


_VARIANTS: dict[str, Variant] = {}
_DETECTORS: list[Callable[[StateDict], str | None]] = []
_loaded = False


def register(variant: Variant) -> Variant:
    """Add ``variant`` to the registry (a family module calls this for each of its variants)."""
    _VARIANTS[variant.name] = variant
    return variant


def register_network(
    name: str,
    network: Callable[[Any], nn.Module],
    settings: Callable[..., Any],
    spec: ModelSpec,
    description: str,
    **fields: Any,
) -> Variant:
    """Register variant ``name`` of a network made from its settings dataclass, ``network(settings(**config))``;
    ``fields``: the other :class:`Variant` fields (its default config, filter, weights, ...)."""
    return register(Variant(name, lambda config: network(settings(**config)), spec, description=description, **fields))


def register_detector(detect: Callable[[StateDict], str | None]) -> None:
    """Add a function that names the variant of an upstream state dict (or returns None)."""
    _DETECTORS.append(detect)


def _load_families() -> None:
    global _loaded
    if not _loaded:
        for family in FAMILIES:
            importlib.import_module(f"{__package__}.{family}")
        _loaded = True


def variants() -> dict[str, Variant]:
    """Every registered variant by name."""
    _load_families()
    return dict(_VARIANTS)


def get_variant(name: str) -> Variant:
    _load_families()
    try:
        return _VARIANTS[name]
    except KeyError:
        raise InputError(f"unknown model {name!r}; known: {', '.join(sorted(_VARIANTS))}") from None


def builtin_path(name: str) -> Path:
    """Where the weights of variant ``name`` ship in the package (its card: the same name, .md)."""
    variant = get_variant(name)
    if not variant.weights:
        raise InputError(f"{name} has no built-in weights")
    return BUILTIN_WEIGHTS / variant.weights


def builtins() -> list[Variant]:
    """The variants whose weights ship in the package."""
    return [v for v in variants().values() if v.weights]


def load_builtin(
    name: str, path: str | os.PathLike | None = None, device: str | torch.device | None = None
) -> nn.Module:
    """Variant ``name`` with the weights of ``path`` (a file of ours or upstream's), or with its built-in
    weights where ``path`` is None; eval mode, on ``device``."""
    chosen = Path(path) if path is not None else builtin_path(name)
    if path is None and not chosen.is_file():
        raise CheckpointError(chosen, f"the built-in {name} model is missing from this installation")
    return load_model(chosen, name, device=device)


def create_model(
    name: str,
    checkpoint: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    **config: Any,
) -> nn.Module:
    """Build variant ``name`` (``config`` overrides its defaults), load ``checkpoint`` into it strictly
    if given (through the variant's filter), eval mode, on ``device``."""
    variant = get_variant(name)
    if checkpoint is not None:
        return load_model(checkpoint, name, device=device, **config)
    return _build(variant, config, device)


def _build(variant: Variant, config: Mapping[str, Any], device: str | torch.device | None) -> nn.Module:
    try:
        model = variant.build({**variant.config, **config})
    except (TypeError, ValueError) as error:  # an unknown config field, a value out of range
        raise InputError(f"{variant.name}: {' '.join(str(error).split())}") from None
    # Plain attributes; setattr because torch types Module.__setattr__ for tensors and modules only.
    setattr(model, "spec", variant.spec)  # noqa: B010
    setattr(model, "variant", variant.name)  # noqa: B010
    model.eval()
    if device is not None:
        model.to(device)
    return model


def detect_variant(state: StateDict) -> str | None:
    """The variant whose upstream files have this (standard-filtered) state dict's keys and shapes."""
    _load_families()
    for detect in _DETECTORS:
        name = detect(state)
        if name is not None:
            return name
    return None


def load_model(
    path: str | os.PathLike,
    variant: str | None = None,
    *,
    device: str | torch.device | None = None,
    family: str | None = None,
    role: str | None = None,
    **config: Any,
) -> nn.Module:
    """A model with the weights of ``path``, strictly loaded, in eval mode on ``device``.

    - Our .safetensors files name their variant and config: ``variant``, if given, must agree.
    - Upstream files (.pth, .pt, .model, .ckpt, or safetensors without our metadata) are read as
      ``variant``; with no variant it is told by the keys and shapes inside (``wav2lip.pth`` and
      ``wav2lip_gan.pth`` share one architecture: both load as "wav2lip").
    ``family`` / ``role``, if given, are required of the model (e.g. "wav2lip" / "generator"): another
    kind of model in the file is refused before its weights are loaded. ``config`` overrides config
    fields (e.g. a FaceFormer's ``context``).
    """
    p = Path(path)

    def expect(name: str) -> Variant:
        chosen = get_variant(name)
        if (family is not None and chosen.family != family) or (role is not None and chosen.spec.role != role):
            wanted = " ".join(w for w in (family, role) if w)
            raise CheckpointError(p, f"holds a {name} model ({chosen.spec.role}), not a {wanted} model")
        return chosen

    metadata = read_metadata(p)
    if metadata.get("format") == FORMAT:
        stored = metadata.get("variant", "")
        if stored not in variants():
            problem = (
                f"names a model variant this version does not know ({stored[:60]!r})"
                if stored
                else "names no model variant"
            )
            raise CheckpointError(p, f"its metadata {problem}")
        if variant is not None and _kind(variant) != _kind(stored):
            raise CheckpointError(p, f"holds a {stored} model, not {variant}")
        try:
            saved_config = json.loads(metadata.get("config", "{}"))
        except json.JSONDecodeError:
            raise CheckpointError(p, "its config metadata is not JSON") from None
        if not isinstance(saved_config, dict):
            raise CheckpointError(p, "its config metadata is not a JSON object")
        chosen = expect(stored)
        try:
            model = _build(chosen, {**saved_config, **config}, None)
        except InputError as error:
            raise CheckpointError(p, f"its config does not fit this version's model ({error})") from None
        load_state(model, dict(read_checkpoint(p)), p)
        return model.to(device) if device is not None else model
    raw = read_checkpoint(p)
    try:
        standard = standard_filter(raw)
    except InputError as error:
        raise CheckpointError(p, str(error)) from None
    found = detect_variant(standard)
    if variant is None:
        if found is None:
            raise CheckpointError(p, "not a model this toolkit knows (no known variant has these weights)")
        variant = found
    if found is not None:
        expect(found)
        if not _same_architecture(found, variant):
            raise CheckpointError(p, f"holds a {found} model, not {variant}")
    chosen = expect(variant)
    try:
        state = chosen.filter(raw)
    except InputError as error:
        raise CheckpointError(p, str(error)) from None
    inferred = chosen.config_from_state(state) if chosen.config_from_state else {}
    model = _build(chosen, {**inferred, **config}, None)
    load_state(model, state, p)
    return model.to(device) if device is not None else model


def _kind(name: str) -> tuple[str, str]:
    variant = get_variant(name)
    return variant.family, variant.spec.role


def _same_architecture(a: str, b: str) -> bool:
    """Whether variants ``a`` and ``b`` build the same network (e.g. "wav2lip" and "wav2lip.gan")."""
    first, second = get_variant(a), get_variant(b)
    return first.build is second.build and dict(first.config) == dict(second.config)


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model`` (made by :func:`create_model` / :func:`load_model`) as safetensors with its
    variant and config, so that :func:`load_model` rebuilds it from the file alone."""
    variant = getattr(model, "variant", None)
    if not isinstance(variant, str) or variant not in variants():
        raise InputError("save_model needs a model made by create_model or load_model (it records the variant)")
    return write_safetensors(model, variant, path)


def check_model(model: nn.Module, *, family: str, role: str, what: str) -> ModelSpec:
    """``model.spec`` if ``model`` is of ``family`` and ``role``; an error naming ``what`` otherwise."""
    spec = getattr(model, "spec", None)
    if not isinstance(spec, ModelSpec):
        raise InputError(
            f"expected {what} made by create_model or load_model (it carries a spec); got {type(model).__name__}"
        )
    if spec.family != family or spec.role != role:
        raise InputError(f"expected {what}; got a {getattr(model, 'variant', spec.family)} model ({spec.role})")
    return spec
