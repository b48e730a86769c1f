"""The training loop every model family shares: epochs over items, evaluation on held-out items,
checkpoints that resume exactly, a JSON-lines log, and data-parallel training under ``torchrun``
(each process takes its share of every epoch's items; gradients are averaged; process 0 evaluates,
saves and logs).

A family supplies two functions: ``step(model, item) -> loss tensor`` (the loop does backward and the
optimizer step, with ``accumulate`` items per update) and ``evaluate(model, items) -> dict`` of
metrics (lower ``monitor`` is better). Files in ``out_dir``:

- ``last.safetensors`` / ``best.safetensors``: the model (our format: rebuilds from the file alone);
- ``state.pt``: optimizer, epoch, RNG states and history, read back with ``weights_only=True``;
- ``log.jsonl``: one line per epoch.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..files import atomic_output


@dataclass(frozen=True)
class LoopConfig:
    """Attributes:
    out_dir: where checkpoints and the log go.
    epochs: passes over the training items.
    lr: Adam learning rate.
    accumulate: items per optimizer update (gradient accumulation; 1 = upstream's batch of one).
    seed: shuffling and initialisation seed.
    evaluate_every: epochs between evaluations (0: never).
    monitor: metric of ``evaluate`` that picks ``best.safetensors`` (lower is better).
    resume: continue from ``out_dir/state.pt`` if it exists.
    grad_clip: max gradient norm (None: no clipping).
    find_unused: under torchrun, let parameters go unused in a step (costs a graph traversal).
    """

    out_dir: str | os.PathLike
    epochs: int = 100
    lr: float = 1e-4
    accumulate: int = 1
    seed: int = 0
    evaluate_every: int = 1
    monitor: str = "loss"
    resume: bool = True
    grad_clip: float | None = None
    find_unused: bool = False

    def __post_init__(self):
        if self.epochs < 1:
            raise InputError(f"epochs must be >= 1, got {self.epochs}")
        if not self.lr > 0:
            raise InputError(f"lr must be > 0, got {self.lr}")
        if self.accumulate < 1:
            raise InputError(f"accumulate must be >= 1, got {self.accumulate}")


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)
    best: dict | None = None
    out_dir: Path | None = None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def distributed() -> tuple[int, int]:
    """``(rank, world size)``; under ``torchrun`` this starts the process group (gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _mean_over_processes(value: float, world: int) -> float:
    if world == 1:
        return value
    import torch.distributed as dist

    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total.item()) / world


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _save_state(path: Path, optimizer, epoch: int, history: list[dict], best: dict | None) -> None:
    _, keys, position, has_gauss, gauss = np.random.get_state()
    state = {
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": [torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)],
        "history": json.dumps(history),
        "best": json.dumps(best),
    }
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def train(
    model: nn.Module,
    train_items: Sequence,
    config: LoopConfig,
    step: Callable[[nn.Module, object], torch.Tensor],
    evaluate: Callable[[nn.Module, Sequence], dict] | None = None,
    val_items: Sequence = (),
    log: Callable[[str], None] | None = print,
) -> TrainResult:
    """Train ``model`` (made by ``create_model``, so it saves itself) on ``train_items``.

    Seed (:func:`seed_everything`) before building the model for runs that repeat exactly."""
    from ..models import save_model

    if not train_items:
        raise InputError("no training items")
    rank, world = distributed()
    if len(train_items) < world:
        raise InputError(f"{len(train_items)} training items cannot be shared by {world} processes")
    lead = rank == 0
    log = log if lead else None
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    history: list[dict] = []
    best: dict | None = None
    start_epoch = 0
    state_path = out / "state.pt"
    if config.resume and state_path.exists() and (out / "last.safetensors").exists():
        from ..models.checkpoint import load_state, read_checkpoint

        load_state(model, dict(read_checkpoint(out / "last.safetensors")), out / "last.safetensors")
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        keys, position, has_gauss, gauss = state["numpy_rng"]
        np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), position, has_gauss, gauss))
        start_epoch = int(state["epoch"])
        history, best = json.loads(state["history"]), json.loads(state["best"])
        if log:
            log(f"resumed from {out} at epoch {start_epoch}")
    trained = model
    if world > 1:
        trained = nn.parallel.DistributedDataParallel(model, find_unused_parameters=config.find_unused)
    order = np.random.default_rng(config.seed)
    for _ in range(start_epoch):  # the same shuffles as an uninterrupted run
        order.permutation(len(train_items))
    for epoch in range(start_epoch, config.epochs):
        model.train()
        began = time.perf_counter()
        losses = []
        optimizer.zero_grad(set_to_none=True)
        permutation = order.permutation(len(train_items))
        # Every process takes the same number of items (the remainder waits for the next epoch's shuffle).
        permutation = permutation[: len(permutation) // world * world][rank::world]
        for n, index in enumerate(permutation, 1):
            loss = step(trained, train_items[int(index)])
            if not torch.isfinite(loss):
                raise InputError(f"the loss became {loss.item()} at epoch {epoch + 1}; lower the learning rate")
            (loss / config.accumulate).backward()
            losses.append(loss.item())
            if n % config.accumulate == 0 or n == len(permutation):
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
        record = {
            "epoch": epoch + 1,
            "train_loss": _mean_over_processes(float(np.mean(losses)), world),
            "seconds": time.perf_counter() - began,
        }
        if not lead:  # process 0 evaluates, saves and logs; the others wait for its files
            _barrier(world)
            continue
        if evaluate and val_items and config.evaluate_every and (epoch + 1) % config.evaluate_every == 0:
            model.eval()
            with torch.no_grad():
                metrics = evaluate(model, val_items)
            record.update({f"val_{k}": float(v) for k, v in metrics.items()})
            value = metrics.get(config.monitor)
            if value is not None and math.isfinite(value) and (best is None or value < best["value"]):
                best = {"epoch": epoch + 1, "metric": config.monitor, "value": float(value)}
                save_model(model, out / "best.safetensors")
        history.append(record)
        save_model(model, out / "last.safetensors")
        _save_state(state_path, optimizer, epoch + 1, history, best)
        with open(out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        if log:
            log("  ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
        _barrier(world)
    model.eval()
    return TrainResult(history, best, out)


def finish_distributed() -> None:
    """End the process group that :func:`distributed` started (at the end of a torchrun program)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
