"""What every pipeline shares: built from components and one frozen config, moved with ``.to(device)``,
called once per job, returning a result dataclass. Inputs and outputs are checked before any work."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import torch


def check_device(device: Any) -> torch.device:
    """``device`` as a ``torch.device`` that exists here, or a one-line error."""
    import torch

    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"not a torch device: {device!r} (e.g. cpu, cuda, cuda:1, mps)") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device}: CUDA is not available on this machine")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise InputError(f"device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {device}: MPS is not available on this machine")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device {device}: only cpu, cuda and mps are supported")
    return chosen


class Pipeline:
    """Base of the pipelines. Each is made one of two ways:

    - ``XPipeline.from_config(config, checkpoint=None)`` loads what ``config`` and ``checkpoint`` name,
      the built-in models where they name none: what the commands do;
    - ``XPipeline(...)`` takes components already loaded (a model of your own, one shared by several
      pipelines).

    ``check(...)`` makes every check of a call before any work; ``to(device)`` moves every network the
    pipeline holds and returns it."""

    @classmethod
    def from_config(cls, config: Any = None, checkpoint: str | os.PathLike | None = None) -> Any:
        """The pipeline with ``config`` (None: the defaults) and the models it names: ``checkpoint``, where
        the pipeline takes one, else the built-in ones."""
        raise NotImplementedError

    def to(self, device: Any) -> Pipeline:
        check_device(device)
        return self
