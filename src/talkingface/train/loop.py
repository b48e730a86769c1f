"""The training loop every model family shares: epochs over items, evaluation on held-out items,
checkpoints that resume exactly, a JSON-lines log, and data-parallel training under ``torchrun``
(each process takes its share of every epoch's items; gradients are averaged; process 0 evaluates,
saves and logs).

A family supplies two functions: ``step(model, item) -> loss tensor`` (the loop does backward and the
optimizer step, with ``accumulate`` items per update) and ``evaluate(model, items) -> dict`` of
metrics (lower ``monitor`` is better), and the run's full config as a flat dict. Files in ``out_dir``:

- ``config.json``: the run's full config (the task's settings and the loop's), written when the run
  starts; resuming with another config is refused, naming the differences (only ``epochs`` may change,
  to extend or shorten a run);
- ``last.safetensors`` / ``best.safetensors``: the model (our format: rebuilds from the file alone);
- ``state.pt``: optimizer, epoch, RNG states and history, read back with ``weights_only=True``;
- ``log.jsonl``: one line per epoch.

Ranks are handled here only: :func:`process` tells this process's rank and world size (starting the
process group under ``torchrun``), :func:`lead_only` silences a log on every process but 0.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.lrs2 import read_filelist
from ..errors import CheckpointError, InputError, TalkingFaceError
from ..files import atomic_output
from .configs import LoopConfig, training_device

# Settings that may differ when a run is resumed; every other one must match the saved config.
RESUMABLE_CHANGES = ("epochs", "resume")


@dataclass
class TrainResult:
    out_dir: Path
    history: list[dict] = field(default_factory=list)
    best: dict | None = None

    def __repr__(self) -> str:
        best = (
            f", best {self.best['metric']} {self.best['value']:.6g} at epoch {self.best['epoch']}" if self.best else ""
        )
        return f"TrainResult({len(self.history)} epochs in {self.out_dir}{best})"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# -- processes ---------------------------------------------------------------------------------------
def process() -> tuple[int, int]:
    """``(rank, world size)`` of this process; under ``torchrun`` this starts the process group (NCCL
    on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def model_device(model: nn.Module) -> torch.device:
    """Where ``model``'s parameters are: recipes move their batches there."""
    return next(model.parameters()).device


def lead_only(log: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """``log`` on process 0, None on the others: under torchrun process 0 speaks for the run."""
    return log if process()[0] == 0 else None


def finish_processes(wait: bool = True) -> None:
    """End the process group that :func:`process` started (at the end of a torchrun program). With
    ``wait`` (a run that ended well) every process first waits for the others, so that none closes its
    connections while another still uses them; after an error nobody waits for a process that may
    never come."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def _mean_over_processes(value: float, world: int) -> float:
    if world == 1:
        return value
    import torch.distributed as dist

    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total.item()) / world


def _from_lead(record: dict[str, Any], world: int) -> dict[str, Any]:
    """Process 0's ``record`` on every process (after process 0 has written its files)."""
    if world == 1:
        return record
    import torch.distributed as dist

    shared = [record]
    dist.broadcast_object_list(shared, src=0)
    return dict(shared[0])


# -- the run's config ----------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """``value`` as JSON data (paths and tuples as strings and lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def run_config(task: Mapping[str, Any], loop: LoopConfig) -> dict[str, Any]:
    """The run's full config: the task's settings and the loop's, as JSON data."""
    merged = {**_plain(task), **_plain(dataclasses.asdict(loop))}
    merged.pop("out_dir", None)  # where the run is, not what it is
    return merged


def check_resume(saved: Mapping[str, Any], current: Mapping[str, Any], out: Path) -> None:
    """Refuse to resume the run in ``out`` with a config other than the one it started with."""
    keys = sorted((set(saved) | set(current)) - set(RESUMABLE_CHANGES))
    changed = [k for k in keys if saved.get(k) != current.get(k)]
    if changed:
        shown = "; ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed[:6])
        more = f" (+{len(changed) - 6} more)" if len(changed) > 6 else ""
        raise InputError(
            f"{out}: the run there was started with another config ({shown}{more}); "
            "resume it with the same settings, or start a new run in another folder"
        )


def saved_history(out_dir: str | os.PathLike) -> list[dict]:
    """The epoch records of the run saved in ``out_dir`` ([] when there is none): what a resumed run
    starts from, for recipes whose behaviour depends on earlier epochs."""
    path = Path(out_dir) / "state.pt"
    if not path.is_file():
        return []
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        history = json.loads(state["history"])
    except Exception:  # an unreadable state is reported by the loop itself when it resumes
        return []
    return list(history) if isinstance(history, list) else []


def _save_state(
    path: Path, optimizer, epoch: int, history: list[dict], best: dict | None, companions: Mapping[str, Any]
) -> None:
    _, keys, position, has_gauss, gauss = np.random.get_state(legacy=True)
    keys = np.asarray(keys)
    state = {
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": [torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)],
        "history": json.dumps(history),
        "best": json.dumps(best),
        "companions": {name: opt.state_dict() for name, (_, opt) in companions.items()},
    }
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def train(
    model: nn.Module,
    train_items: Sequence,
    config: LoopConfig,
    step: Callable[[nn.Module, Any], torch.Tensor],
    evaluate: Callable[[nn.Module, Sequence], dict] | None = None,
    val_items: Sequence = (),
    log: Callable[[str], None] | None = print,
    task: Mapping[str, Any] | None = None,
    watch: Callable[[list[dict]], str | None] | None = None,
    companions: Mapping[str, tuple[nn.Module, torch.optim.Optimizer]] | None = None,
    on_epoch: Callable[[list[dict]], None] | None = None,
) -> TrainResult:
    """Train ``model`` (made by ``create_model``, so it saves itself) on ``train_items``.

    ``task`` is the family's own settings (data, model, ...): with the loop's, they make the run's
    config, saved as ``config.json`` and compared on resume. ``watch`` looks at the history after each
    epoch and may return a warning, which is logged and kept in the epoch's record. ``companions`` are
    other networks a recipe trains in its ``step`` with optimizers of its own (a GAN's discriminator):
    each is saved as ``<name>_last.safetensors`` with its optimizer in ``state.pt``, and resumed.
    ``on_epoch`` sees the history (process 0's records, evaluation included) on every process after
    each epoch: where a recipe changes course on a held-out result, all processes change together.
    Seed (:func:`seed_everything`) before building the model for runs that repeat exactly."""
    if not train_items:
        raise InputError("no training items")
    rank, world = process()
    if len(train_items) < world:
        raise InputError(f"{len(train_items)} training items cannot be shared by {world} processes")
    lead = rank == 0
    log = log if lead else None
    out, resuming = _open_run(config, run_config(task or {}, config), lead)
    seed_everything(config.seed)
    companions = dict(companions or {})
    device, autocast = _placed(model, companions, config)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr, betas=config.betas)
    history: list[dict] = []
    best: dict | None = None
    start_epoch = 0
    if resuming:
        start_epoch, history, best = _resume(out, model, optimizer, companions)
        if log:
            log(f"resumed from {out} at epoch {start_epoch}")
    trained = _shared(model, device, config) if world > 1 else model
    order = np.random.default_rng(config.seed)
    for _ in range(start_epoch):  # the same shuffles as an uninterrupted run
        order.permutation(len(train_items))
    for epoch in range(start_epoch, config.epochs):
        model.train()
        for companion, _ in companions.values():
            companion.train()
        began = time.perf_counter()
        rate = config.learning_rate(epoch)
        for group in optimizer.param_groups:
            group["lr"] = rate
        permutation = order.permutation(len(train_items))
        # Every process takes the same number of items (the remainder waits for the next epoch's shuffle).
        items = [train_items[int(k)] for k in permutation[: len(permutation) // world * world][rank::world]]
        losses = _epoch(trained, model, optimizer, items, step, config, autocast, epoch)
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": rate,
            "train_loss": _mean_over_processes(float(np.mean(losses)), world),
            "seconds": time.perf_counter() - began,
        }
        if lead:  # process 0 evaluates, saves and logs; the others wait for its record
            if evaluate and val_items and config.evaluate_every and (epoch + 1) % config.evaluate_every == 0:
                best = _evaluated(model, evaluate, val_items, config, record, best, out)
            history.append(record)
            warning = watch(history) if watch else None
            if warning:
                record["warning"] = warning
            _save_epoch(out, model, optimizer, companions, epoch + 1, history, best, record, log)
        record = _from_lead(record, world)  # every process has the same history
        if not lead:
            history.append(record)
        if on_epoch:
            on_epoch(history)
    model.eval()
    return TrainResult(out, history, best)


def _placed(
    model: nn.Module, companions: Mapping[str, tuple[nn.Module, Any]], config: LoopConfig
) -> tuple[torch.device, bool]:
    """Move the model and its companions to the run's device; whether steps run in bfloat16 autocast
    (the range of float32, no loss scaling), where asked and the GPU has it."""
    device = training_device(config.device)
    model.to(device)
    for companion, _ in companions.values():
        companion.to(device)
    return device, config.mixed_precision and device.type == "cuda" and torch.cuda.is_bf16_supported()


def _shared(model: nn.Module, device: torch.device, config: LoopConfig) -> nn.Module:
    """``model`` wrapped for training across processes (its gradients averaged in each step)."""
    return nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=config.find_unused
    )


def _open_run(config: LoopConfig, current: dict[str, Any], lead: bool) -> tuple[Path, bool]:
    """The run's folder, checked, and whether the run there resumes (its saved config must be
    ``current``); process 0 writes ``config.json``."""
    out = run_folder(config.out_dir, make=False)
    config_path = out / "config.json"
    resuming = config.resume and (out / "state.pt").exists() and (out / "last.safetensors").exists()
    if resuming and config_path.exists():
        try:
            saved = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError):
            raise InputError(f"{config_path}: unreadable run config; start a new run in another folder") from None
        check_resume(saved, current, out)
    out.mkdir(exist_ok=True)
    if lead:
        with atomic_output(config_path) as tmp:
            tmp.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    return out, resuming


def _resume(out: Path, model: nn.Module, optimizer, companions: Mapping[str, Any]) -> tuple[int, list[dict], Any]:
    """Load the run saved in ``out`` into the model, its optimizer, the companions and the random
    generators: ``(epochs done, history, best)``."""
    from ..models.checkpoint import load_state, read_checkpoint

    state_path = out / "state.pt"
    load_state(model, dict(read_checkpoint(out / "last.safetensors")), out / "last.safetensors")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        for name, (companion, companion_optimizer) in companions.items():
            weights = out / f"{name}_last.safetensors"
            load_state(companion, dict(read_checkpoint(weights)), weights)
            companion_optimizer.load_state_dict(state["companions"][name])
        torch.set_rng_state(state["torch_rng"])
        keys, position, has_gauss, gauss = state["numpy_rng"]
        np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), position, has_gauss, gauss))
        start_epoch = int(state["epoch"])
        history, best = json.loads(state["history"]), json.loads(state["best"])
        if not isinstance(history, list) or start_epoch < 0:
            raise ValueError("its history is not a list of epochs")
    except TalkingFaceError:
        raise
    except Exception as error:  # a cut, damaged or foreign state.pt (one that would run code included)
        reason = " ".join(str(error).split())[:120] or type(error).__name__
        raise CheckpointError(
            state_path,
            f"the run's saved state cannot be resumed ({type(error).__name__}: {reason}); "
            "start again in another folder, or over it with --restart",
        ) from None
    return start_epoch, history, best


def _epoch(
    trained, model, optimizer, items: Sequence, step, config: LoopConfig, autocast: bool, epoch: int
) -> list[float]:
    """One epoch's steps over ``items`` (an update every ``accumulate``); the losses."""
    losses = []
    optimizer.zero_grad(set_to_none=True)
    for n, item in enumerate(items, 1):
        with torch.autocast("cuda", dtype=torch.bfloat16) if autocast else contextlib.nullcontext():
            loss = step(trained, item)
        loss = loss.float()
        if not torch.isfinite(loss):
            raise InputError(f"the loss became {loss.item()} at epoch {epoch + 1}; lower the learning rate")
        (loss / config.accumulate).backward()
        losses.append(loss.item())
        if n % config.accumulate == 0 or n == len(items):
            if config.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    return losses


def _evaluated(model, evaluate, val_items: Sequence, config: LoopConfig, record: dict, best, out: Path):
    """Evaluate into ``record``; the best so far, ``best.safetensors`` saved when it is this epoch."""
    from ..models import save_model

    model.eval()
    with torch.no_grad():
        metrics = evaluate(model, val_items)
    record.update({f"val_{k}": float(v) for k, v in metrics.items()})
    value = metrics.get(config.monitor)
    if value is not None and math.isfinite(value) and (best is None or value < best["value"]):
        best = {"epoch": record["epoch"], "metric": config.monitor, "value": float(value)}
        save_model(model, out / "best.safetensors")
    return best


def _save_epoch(out: Path, model, optimizer, companions, epochs: int, history, best, record: dict, log) -> None:
    """The epoch's checkpoints, state and log line."""
    from ..models import save_model

    save_model(model, out / "last.safetensors")
    for name, (companion, _) in companions.items():
        save_model(companion, out / f"{name}_last.safetensors")
    _save_state(out / "state.pt", optimizer, epochs, history, best, companions)
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    if log:
        shown = {k: v for k, v in record.items() if k != "warning"}
        log("  ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
        if "warning" in record:
            log(f"warning: {record['warning']}")


# -- what recipes share --------------------------------------------------------------------------------
def train_steps(model: nn.Module, config: Any, step, evaluate=None, log=print, loop=None, **options) -> TrainResult:
    """:func:`train` for a recipe whose epoch is ``config.steps_per_epoch`` steps that draw their own
    batches: the run's config is ``config`` (a recipe's, saved flat), the loop's is ``loop`` (default
    ``config.loop()``); ``evaluate`` (None: no held-out data) is called once an evaluation."""
    return train(
        model,
        list(range(config.steps_per_epoch)),
        loop or config.loop(),
        step,
        evaluate,
        [0] if evaluate else [],
        log=log,
        task=dataclasses.asdict(config),
        **options,
    )


def start_model(init: str | os.PathLike | None, variant: str, **settings: Any) -> nn.Module:
    """The network a run starts from: the checkpoint ``init`` where given (as ``variant``), else a new one."""
    from ..models import create_model, load_model

    return load_model(init, variant, **settings) if init is not None else create_model(variant, **settings)


def preprocessed_parts(data: str | os.PathLike, make: Callable[[list], Any]) -> tuple[Any, Any]:
    """``make`` of the train clips of a preprocessed set, and of its val clips (None when it has none)."""

    val_clips = read_filelist(data, "val")
    return make(read_filelist(data, "train")), make(val_clips) if val_clips else None


def run_folder(out_dir: str | os.PathLike, make: bool = True) -> Path:
    """The run's folder, checked (a folder or nothing yet, in a folder that exists) and made where
    ``make`` (for recipes that keep files in it before training)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file, expected a folder for the run")
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    if make:
        out.mkdir(exist_ok=True)
    return out


def log_sets(log, what: str, skipped: Sequence) -> None:
    """Say what a run trains on (``what``) and the first few of the inputs it passed over."""
    if log:
        log(f"{what}; {len(skipped)} skipped")
        for problem in skipped[:5]:
            log(f"  skipped {problem}")


def drawn_to(sampler: Any, count: int, model: nn.Module, *others: nn.Module) -> tuple[dict, torch.device]:
    """A new batch of ``count`` samples (:func:`drawn`) on ``model``'s device, with the ``others``
    (an expert, a discriminator) moved there too; the batch and the device."""
    device = model_device(model)
    for other in others:
        if model_device(other) != device:
            other.to(device)
    return {k: v.to(device) for k, v in drawn(sampler, count).items()}, device


def drawn(sampler: Any, count: int, seed: int | None = None) -> Any:
    """``count`` samples of ``sampler``: fixed ones for evaluation where ``seed`` is given (None where there
    is no sampler), else new ones from the global generator that :func:`seed_everything` seeds."""
    if seed is not None:
        return sampler.sample(np.random.default_rng([seed, 7]), count) if sampler else None
    return sampler.sample(np.random.default_rng(np.random.randint(2**31)), count)
