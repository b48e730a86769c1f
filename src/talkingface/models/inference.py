"""Inference forms of the models: batch norms folded into the convolutions, channels-last memory.

A folded model computes the same function as the eval-mode original (to float rounding) with fewer
passes over memory; channels-last lets oneDNN pick its fastest convolution kernels on CPU.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def _fold(conv: nn.Module, bn: nn.BatchNorm2d) -> nn.Module:
    """A conv whose output equals ``bn(conv(x))`` in eval mode."""
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


def optimize_for_inference(model: nn.Module, compile: bool = False) -> nn.Module:
    """Folded, channels-last, eval-mode copy of ``model`` (inputs may stay contiguous).

    ``compile=True`` also compiles it with TorchInductor (frozen weights; the first call takes
    tens of seconds, later ones are faster still: worth it for long videos).
    """
    fast = fold_batchnorm(model)
    fast = fast.to(memory_format=torch.channels_last)
    for p in fast.parameters():
        p.requires_grad_(False)
    fast.variant = getattr(model, "variant", None)
    if compile:
        import torch._inductor.config as inductor

        inductor.freezing = True
        fast = torch.compile(fast)
    return fast
