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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.lip_clips import lip_clips, video_sources
from ..data.visemenet import degrade
from ..errors import InputError
from .configs import OpennessTrainConfig
from .loop import (
    TrainResult,
    lead_only,
    run_folder,
    seed_everything,
    train_steps,
)

#: Speeds a clip may be played at when augmented.
SPEED_RANGE = (0.85, 1.15)


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
    from ..models import create_model

    log = lead_only(log)
    out = run_folder(config.out_dir, make=False)
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

    return train_steps(model, config, step, evaluate if val_clips else None, log=log)
