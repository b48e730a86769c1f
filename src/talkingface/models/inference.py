"""Inference forms of the models: batch norms folded into the convolutions, channels-last memory.

A folded model computes the same function as the eval-mode original (to float rounding) with fewer
passes over memory; channels-last lets oneDNN pick its fastest convolution kernels on CPU.
"""

from __future__ import annotations

import copy
from typing import Any, cast

import torch
from torch import nn

from .. import choices
from ..errors import InputError


def _fold(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> nn.Module:
    """A conv whose output equals ``bn(conv(x))`` in eval mode."""
    assert bn.running_var is not None and bn.running_mean is not None  # eval-mode statistics
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias.detach() - bn.running_mean * scale
    folded = copy.deepcopy(conv)
    weight = folded.weight.detach()
    if isinstance(conv, nn.ConvTranspose2d):
        weight = weight * scale.view(1, -1, 1, 1)  # weight is (in, out, kh, kw)
    else:
        weight = weight * scale.view(-1, 1, 1, 1)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(shift)
    folded.weight = nn.Parameter(weight)
    folded.bias = nn.Parameter(bias * scale + shift)
    return folded


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``Sequential(conv, BatchNorm2d)`` pair folded into one conv."""
    model = copy.deepcopy(model).eval()
    for module in list(model.modules()):
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.children())
        for i in range(len(children) - 1):
            conv, bn = children[i], children[i + 1]
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d):
                module[i] = _fold(conv, bn)
                module[i + 1] = nn.Identity()
    return model


class _Lips2d(nn.Module):
    """SyncNetV2's lip branch as 2D layers: after the first convolution (5 frames -> 1) every 3D
    kernel spans one frame, so the five frames become 15 input channels of a 2D network."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self.layers = layers

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, 3, 5, H, W)``, or ``(B, 15, H, W)`` with channel ``c * 5 + t``."""
        if frames.dim() == 5:
            b, c, t, h, w = frames.shape
            frames = frames.reshape(b, c * t, h, w)
        return cast(torch.Tensor, self.layers(frames.contiguous(memory_format=torch.channels_last)))


def _as_2d(layer: nn.Module) -> nn.Module:
    """One layer of SyncNetV2's lip branch, 3D -> 2D (the same arithmetic)."""
    if isinstance(layer, nn.Conv3d):
        out_c, in_c, kt, kh, kw = layer.weight.shape
        stride, padding = tuple(layer.stride), layer.padding
        if stride[0] != 1 or isinstance(padding, str) or padding[0] != 0:
            raise InputError("only convolutions that consume the whole time axis or one frame map to 2D")
        conv = nn.Conv2d(
            in_c * kt,
            out_c,
            (kh, kw),
            (stride[1], stride[2]),
            (padding[1], padding[2]),
            bias=layer.bias is not None,
        )
        conv.weight = nn.Parameter(layer.weight.detach().reshape(out_c, in_c * kt, kh, kw).clone())
        if layer.bias is not None:
            conv.bias = nn.Parameter(layer.bias.detach().clone())
        return conv
    if isinstance(layer, nn.BatchNorm3d):
        bn = nn.BatchNorm2d(layer.num_features, layer.eps)
        bn.load_state_dict(layer.state_dict())
        return bn.eval()
    if isinstance(layer, nn.MaxPool3d):

        def two(v: Any) -> Any:
            return tuple(v[1:]) if isinstance(v, tuple) else v

        return nn.MaxPool2d(two(layer.kernel_size), two(layer.stride), two(layer.padding))
    return copy.deepcopy(layer)


class MicroBatched(nn.Module):
    """Runs ``module`` on at most ``size`` items at a time and concatenates the outputs: the
    full-resolution activations of a few items stay in cache, which on CPU is faster than one big batch
    (``bench/bench_models.py`` times the generator's forms)."""

    def __init__(self, module: nn.Module, size: int):
        super().__init__()
        self.module = module
        self.size = size

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        n = inputs[0].shape[0]
        if n <= self.size:
            return cast(torch.Tensor, self.module(*inputs))
        return torch.cat([self.module(*(x[i : i + self.size] for x in inputs)) for i in range(0, n, self.size)])


# Parts of the Wav2Lip generator that a bfloat16 form keeps in float32, by name; the first is the default.
BF16_FORMS: dict[str, tuple[str, ...]] = {
    "head": ("output_block.1",),
    "output": ("output_block",),
    "decoder": ("face_decoder_blocks.6", "output_block"),
}


class Bfloat16(nn.Module):
    """Runs ``module`` with bfloat16 weights and activations, except the submodules named in ``keep``
    (float32 weights and arithmetic); takes and returns float32. Much faster on CPUs with AMX or
    AVX512-BF16 (elsewhere bfloat16 is emulated, slower), not the same numbers: ``bench/bench_bf16.py``
    measures how far from float32 each form lands with trained-like weights on real faces."""

    def __init__(self, module: nn.Module, keep: tuple[str, ...] = BF16_FORMS["head"]):
        super().__init__()
        self.module = module.to(torch.bfloat16)
        for name in keep:
            parent_name, _, child = name.rpartition(".")
            parent = self.module.get_submodule(parent_name) if parent_name else self.module
            layer = parent.get_submodule(child)
            # The generator's last layers end in a sigmoid: their output stays float32.
            last = name == keep[-1] or name.startswith("output_block")
            setattr(parent, child, _InFloat32(layer.float(), None if last else torch.bfloat16))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.module(*(x.to(torch.bfloat16) for x in inputs))).float()


class _InFloat32(nn.Module):
    """``layer`` in float32 arithmetic; its output cast to ``out`` (None: left float32)."""

    def __init__(self, layer: nn.Module, out: torch.dtype | None = None):
        super().__init__()
        self.layer = layer
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = cast(torch.Tensor, self.layer(x.float()))
        return y if self.out is None else y.to(self.out)


PRECISIONS = choices.PRECISIONS


def usable_precision(precision: str, device: torch.device | str = "cpu") -> tuple[str, str | None]:
    """The precision to run ``precision`` as on ``device``, and why it differs (None: it does not).

    bfloat16 on a CPU without bfloat16 units (AMX, AVX512-BF16) is emulated, several times slower than
    float32: float32 is used there instead."""
    from ..cpu import bfloat16_units, vector_features

    if precision != "bf16" or torch.device(device).type != "cpu" or bfloat16_units() != ():
        return precision, None
    return "fp32", (
        f"this CPU ({vector_features()}) has no bfloat16 units, where bf16 is emulated and several times "
        "slower: fp32 is used"
    )


def optimize_for_inference(
    model: nn.Module, compile: bool = False, precision: str = "fp32", bf16_form: str | None = None
) -> nn.Module:
    """Folded, channels-last, eval-mode copy of ``model`` (inputs may stay contiguous); SyncNetV2's lip
    branch also runs as the 2D network it is, and the 96 px Wav2Lip generator in micro-batches of 8.

    ``precision="bf16"`` runs in bfloat16 instead (see :class:`Bfloat16`; ``bf16_form`` names the parts
    kept in float32, from :data:`BF16_FORMS`, default its first): much faster where the CPU has
    bfloat16 units, not the same numbers.

    ``compile=True`` also compiles it with TorchInductor (frozen weights; the first call takes
    tens of seconds, later ones are faster still: worth it for long videos).
    """
    from .syncnet import SyncNetV2

    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if compile and precision != "fp32":
        raise InputError("compile works with precision fp32 only")
    form = next(iter(BF16_FORMS)) if bf16_form is None else bf16_form
    if form not in BF16_FORMS:
        raise InputError(f"bf16_form must be one of {', '.join(BF16_FORMS)}, got {bf16_form!r}")
    if isinstance(model, SyncNetV2):
        model = copy.deepcopy(model).eval()
        lips = _Lips2d(nn.Sequential(*[_as_2d(layer) for layer in model.netcnnlip]))
        model.netcnnlip = lips  # type: ignore[assignment]
    fast = fold_batchnorm(model)
    fast = fast.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    for p in fast.parameters():
        p.requires_grad_(False)
    spec, variant = getattr(model, "spec", None), getattr(model, "variant", None)
    if compile:
        import torch._inductor.config as inductor

        inductor.freezing = True
        return cast(nn.Module, torch.compile(fast))
    from .wav2lip import Wav2Lip

    config = getattr(fast, "config", None)
    if precision == "bf16":
        keep = BF16_FORMS[form] if isinstance(model, Wav2Lip) else ()
        fast = Bfloat16(fast, keep)
    elif isinstance(model, Wav2Lip) and model.config.image_size == 96:
        fast = MicroBatched(fast, 8)
    fast.config, fast.spec, fast.variant = config, spec, variant
    return fast
