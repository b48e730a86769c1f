"""Training the mouth-openness model (``openness``) on real speakers' lips (:mod:`..data.lip_clips`).

A step takes ``batch_size`` clips at random. A clip is used whole (its features and its target are
standardised over the whole clip, as they are at work), with probability ``augment`` its speech first
played at a random speed (its lips follow) and degraded (room, band limit, gain, noise, G.711:
:func:`..data.visemenet.degrade`). The target is the clip's measured inner-lip opening standardised
over the clip; each member of the ensemble is placed at the frames as at work (the mean of its steps
within half a frame) and the loss is the mean squared error over the frames with a face. Evaluation:
the correlation of the model's output with the held-out clips' measured opening (``lips_miss`` is 1
minus its median, the monitor that picks ``best.safetensors``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from .loop import LoopConfig, TrainResult, lead_only, loop_config, seed_everything, train

#: Speeds a clip may be played at when augmented.
SPEED_RANGE = (0.85, 1.15)


@dataclass(frozen=True)
class OpennessTrainConfig:
    """Every setting of a run, flat (saved as the run's ``config.json``).

    Attributes:
    data: videos (or folders of them) of people speaking with their own voice.
    val: videos held out for evaluation (other people).
    out_dir: the run's folder (the measured lips are kept in its ``lips/``).
    batch_size: clips per step.
    steps_per_epoch: optimizer steps between evaluations and checkpoints.
    augment: share of clips played at another speed and degraded.
    channels, dilations, kernel, dropout, members: the network (``OpennessConfig``).
    epochs, lr, seed, grad_clip, schedule, warmup_epochs, min_lr_ratio, step_epochs, resume,
    evaluate_every, device, mixed_precision: the training loop's settings.
    """

    data: tuple[str, ...]
    out_dir: str | os.PathLike
    val: tuple[str, ...] = ()
    batch_size: int = 8
    steps_per_epoch: int = 100
    augment: float = 0.5
    channels: int = 32
    dilations: tuple[int, ...] = (1, 2, 4, 2)
    kernel: int = 5
    dropout: float = 0.3
    members: int = 5
    epochs: int = 15
    lr: float = 1e-3
    seed: int = 0
    grad_clip: float | None = 1.0
    schedule: str = "cosine"
    warmup_epochs: int = 1
    min_lr_ratio: float = 0.01
    step_epochs: int = 30
    evaluate_every: int = 1
    resume: bool = True
    device: str = "auto"
    mixed_precision: bool = False

    def __post_init__(self) -> None:
        if not self.data:
            raise InputError("give videos to train on")
        if self.batch_size < 1 or self.steps_per_epoch < 1:
            raise InputError("batch_size and steps_per_epoch must be >= 1")
        if not 0 <= self.augment <= 1:
            raise InputError(f"augment must be in [0, 1], got {self.augment}")
        self.model_config()  # checks the network's settings
        self.loop()

    def model_config(self) -> dict:
        from ..models.openness import OpennessConfig

        fields = {f.name for f in dataclasses.fields(OpennessConfig)}
        config = {name: getattr(self, name) for name in fields}
        OpennessConfig(**config)
        return config

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="lips_miss" if self.val else "loss")


@dataclass
class _Prepared:
    clip: object  # LipClip
    features: np.ndarray  # (T, 24) of the clean speech
    target: np.ndarray  # (N,) standardised opening, NaN without a face


def _standardised(opening: np.ndarray) -> np.ndarray:
    known = np.isfinite(opening)
    mean, std = float(np.mean(opening[known])), float(np.std(opening[known]))
    result: np.ndarray = ((opening - mean) / max(std, 1e-6)).astype(np.float32)
    return result


def _prepare(clips: Sequence) -> list[_Prepared]:
    from ..features.openness import openness_features

    return [_Prepared(c, openness_features(c.audio), _standardised(c.opening)) for c in clips]


def _features(item: _Prepared, rng: np.random.Generator, augment: float) -> tuple[np.ndarray, float]:
    """The clip's features (augmented or not) and the frame rate its lips have at that speed."""
    from ..data.visemenet import degrade
    from ..features.openness import openness_features
    from ..media.audio import change_speed

    clip = item.clip
    if augment <= 0 or rng.random() >= augment:
        return item.features, clip.fps  # type: ignore[attr-defined]
    speed = float(rng.uniform(*SPEED_RANGE))
    audio = change_speed(clip.audio, speed)  # type: ignore[attr-defined]
    return openness_features(degrade(audio, rng, 1.0)), clip.fps * speed  # type: ignore[attr-defined]


def frame_means(steps: torch.Tensor, count: int, fps: float) -> torch.Tensor:
    """``(M, T)`` per-step outputs -> ``(M, count)`` frame values, as at work (each frame the mean of its
    span, :func:`..features.openness.frame_spans`)."""
    from ..features.openness import frame_spans

    start, stop = frame_spans(steps.shape[-1], count, fps)
    total = torch.nn.functional.pad(steps.cumsum(-1), (1, 0))
    begin, end = torch.from_numpy(start).to(steps.device), torch.from_numpy(stop).to(steps.device)
    return (total[:, end] - total[:, begin]) / (end - begin).to(steps.dtype)


def clip_loss(model, features: np.ndarray, target: np.ndarray, fps: float) -> torch.Tensor:
    """Mean squared error of every member against the standardised opening, over the frames with a face."""
    device = next(model.parameters()).device
    members = model.members_forward(torch.from_numpy(features)[None].to(device))[0]
    frames = frame_means(members, len(target), fps)
    y = torch.from_numpy(target).to(device)
    known = torch.isfinite(y)
    return ((frames[:, known] - y[known]) ** 2).mean()


def correlations(model, clips: Sequence) -> list[float]:
    """Per clip: the correlation of the model's output at the frames with the measured opening."""
    from ..animation.openness import openness_frames
    from ..metrics.openness import correlation

    out = []
    for clip in clips:
        r = correlation(openness_frames(model, clip.audio, 16000, len(clip.opening), clip.fps), clip.opening)
        if np.isfinite(r):
            out.append(r)
    return out


def train_openness(config: OpennessTrainConfig, log=print) -> TrainResult:
    """Measure the lips of ``data`` and ``val`` (or read them back from ``out_dir/lips``) and train."""
    from ..data.lip_clips import lip_clips, video_sources
    from ..models import create_model

    log = lead_only(log)
    out = Path(config.out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file, expected a folder for the run")
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    sources = video_sources(config.data)
    held = video_sources(config.val) if config.val else []
    both = {p.resolve() for p in sources} & {p.resolve() for p in held}
    if both:
        raise InputError(f"{sorted(both)[0]} is both a training and a held-out video")
    out.mkdir(exist_ok=True)
    train_clips, skipped = lip_clips(sources, out / "lips", log)
    val_clips, val_skipped = lip_clips(held, out / "lips", log) if held else ([], [])
    if log:
        for problem in (skipped + val_skipped)[:10]:
            log(f"  skipped {problem}")
        minutes = sum(c.seconds for c in train_clips) / 60
        log(f"openness: {len(train_clips)} clips ({minutes:.1f} min) to train on, {len(val_clips)} held out")
    if not train_clips:
        raise InputError(f"no usable training videos in {', '.join(map(str, config.data))}")
    prepared = _prepare(train_clips)
    seed_everything(config.seed)
    model = create_model("openness", **config.model_config())

    def step(model, item) -> torch.Tensor:
        rng = np.random.default_rng(np.random.randint(2**31))
        picks = rng.integers(0, len(prepared), config.batch_size)
        losses = []
        for k in picks:
            features, fps = _features(prepared[int(k)], rng, config.augment)
            losses.append(clip_loss(model, features, prepared[int(k)].target, fps))
        return torch.stack(losses).mean()

    def evaluate(model, items) -> dict:
        held_out = _prepare(val_clips)
        loss = float(torch.stack([clip_loss(model, p.features, p.target, p.clip.fps) for p in held_out]).mean())  # type: ignore[attr-defined]
        found = correlations(model, val_clips)
        return {"loss": loss, "lips_miss": 1.0 - float(np.median(found)) if found else loss}

    task = dataclasses.asdict(config)
    items = list(range(config.steps_per_epoch))
    return train(
        model,
        items,
        config.loop(),
        step,
        evaluate if val_clips else None,
        [0] if val_clips else [],
        log=log,
        task=task,
    )
