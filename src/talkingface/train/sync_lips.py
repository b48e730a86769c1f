"""Training the built-in sync model (``syncnet.lips``) on preprocessed sets (:mod:`..data.lrs2`).

Each clip gives its lip motion (:func:`~talkingface.features.lips.lip_motion` of its landmarks, at the
layout's 25 fps) and its speech. A training sample is a run of consecutive frames of one clip: the lip
window of each frame is matched against the audio windows of the same frame and of the 15 frames before
and after it, and the loss is the cross-entropy of picking the right one among those 31 (the multi-way
matching of Chung et al., "Perfect match", 2019). The negatives are the same person's own speech a
little earlier or later, which is what an AV offset search has to tell apart.

Augmentation: each clip is also used sped up and slowed down (speech resampled, so its pitch moves
too, with the lip motion resampled to match), its speech at other gains and with noise, its lip motion
scaled and jittered. Held-out evaluation: the share of validation clips whose AV offset comes out
within one frame of zero, and the mean of the loss.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.lrs2 import ClipData, read_filelist
from ..errors import InputError, TalkingFaceError
from ..models.syncnet_lips import SyncNetLips
from .configs import SyncLipsTrainConfig
from .loop import (
    TrainResult,
    lead_only,
    log_sets,
    model_device,
    seed_everything,
    train_steps,
)

WINDOW = 5  # frames per lip window
SHIFTS = 15  # audio windows each side of the true one
FPS = 25


@dataclass
class LipClip:
    """One clip ready for training: lip motion ``(N, 80)`` at 25 fps and the mel windows ``(N + 30, 80,
    16)`` of its frames ``-15 .. N + 14`` (silence outside the speech)."""

    name: str
    lips: np.ndarray
    mels: np.ndarray


def lip_clip(
    name: str, landmarks: np.ndarray, audio: np.ndarray, speed: float = 1.0, frame: str = "eye_line"
) -> LipClip:
    """A :class:`LipClip` from a clip's landmarks (25 fps) and speech (16 kHz), played ``speed`` times
    faster (the speech resampled, its pitch moving with it)."""
    from ..features import mel_windows, wav2lip_mel
    from ..features.lips import lip_motion
    from ..pipelines.sync_score import _resample

    lips = lip_motion(landmarks, frame)
    if speed != 1.0:
        from ..media.audio import change_speed

        audio = change_speed(audio, speed)
        lips = _resample(lips, FPS * speed, FPS)
    margin = np.zeros(SHIFTS * 16000 // FPS, np.float32)
    mel = wav2lip_mel(np.concatenate([margin, audio, margin]))
    mels = mel_windows(mel, len(lips) + 2 * SHIFTS, FPS).astype(np.float32)
    return LipClip(name, lips.astype(np.float32), mels)


def load_clips(
    folders: Sequence[str | os.PathLike], speeds: Sequence[float] = (), frame: str = "eye_line"
) -> tuple[list[LipClip], list[str]]:
    """Clips of ``folders`` (each also at ``speeds``, lips in ``frame``) and the problems of those left out."""

    clips, skipped = [], []
    for folder in folders:
        try:
            clip = ClipData(folder)
            landmarks, audio = clip.landmarks, clip.audio
        except TalkingFaceError as error:
            skipped.append(str(error))
            continue
        if len(landmarks) < WINDOW:
            skipped.append(f"{folder}: {len(landmarks)} frames, shorter than a window")
            continue
        for speed in (1.0, *speeds):
            made = lip_clip(str(folder), landmarks, audio, speed, frame)
            if len(made.lips) >= WINDOW:
                clips.append(made)
    return clips, skipped


def sample_runs(
    clips: Sequence[LipClip],
    rng: np.random.Generator,
    runs: int,
    frames: int,
    augment: bool = True,
    weights: np.ndarray | None = None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``runs`` random runs: lip windows ``(T, 5, 80)`` and the audio windows ``(T + 30, 1, 80, 16)`` of
    frames ``-15 .. T + 14`` of the run. Clips are drawn with probabilities ``weights`` (None: each
    alike)."""
    out = []
    for _ in range(runs):
        clip = clips[int(rng.choice(len(clips), p=weights)) if weights is not None else int(rng.integers(len(clips)))]
        count = min(frames, len(clip.lips) - WINDOW + 1)
        t0 = int(rng.integers(0, len(clip.lips) - WINDOW - count + 2))
        lips = np.lib.stride_tricks.sliding_window_view(clip.lips[t0 : t0 + count + WINDOW - 1], WINDOW, axis=0)
        lips = lips.transpose(0, 2, 1)
        mels = clip.mels[t0 : t0 + count + 2 * SHIFTS]
        if augment:
            lips = lips * rng.uniform(0.7, 1.3) + rng.normal(0, 0.05, lips.shape)
            mels = np.clip(mels + rng.normal(0, 0.5) + rng.normal(0, 0.1, mels.shape), -4, 4)
        out.append(
            (
                torch.from_numpy(np.ascontiguousarray(lips, np.float32)),
                torch.from_numpy(mels[:, None].astype(np.float32)),
            )
        )
    return out


def matching_loss(model: SyncNetLips, runs: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, float]:
    """Mean cross-entropy of picking each lip window's own audio window among the 31 around it, and the
    share picked right."""
    device = model_device(model)
    lips = torch.cat([lip for lip, _ in runs]).to(device)
    mels = torch.cat([mel for _, mel in runs]).to(device)
    lip_e, audio_e = model.forward_lips(lips), model.forward_audio(mels)
    scale = model.logit_scale.exp().clamp(max=100.0)
    total, right, count, li, ai = lip_e.new_zeros(()), 0, 0, 0, 0
    for lip, _ in runs:
        n = len(lip)
        own, around = lip_e[li : li + n], audio_e[ai : ai + n + 2 * SHIFTS]
        li, ai = li + n, ai + n + 2 * SHIFTS
        index = torch.arange(n, device=device)[:, None] + torch.arange(2 * SHIFTS + 1, device=device)[None]
        logits = scale * (around[index] * own[:, None]).sum(-1)  # (n, 31), the true one at SHIFTS
        target = torch.full((n,), SHIFTS, device=device)
        total = total + torch.nn.functional.cross_entropy(logits, target, reduction="sum")
        right += int((logits.argmax(1) == SHIFTS).sum())
        count += n
    return total / count, right / count


@torch.no_grad()
def clip_offset(model: SyncNetLips, clip: LipClip) -> tuple[int, float]:
    """AV offset of a whole clip (syncnet_python's sign) and its confidence (median minus minimum of the
    mean distances over the offsets)."""
    from ..metrics.sync import sync_scores

    device = model_device(model)
    count = len(clip.lips) - WINDOW + 1
    lips = np.lib.stride_tricks.sliding_window_view(clip.lips, WINDOW, axis=0)[:count].transpose(0, 2, 1)
    lip_e = model.forward_lips(torch.from_numpy(np.ascontiguousarray(lips)).to(device)).cpu()
    audio_e = model.forward_audio(torch.from_numpy(clip.mels[: count + 2 * SHIFTS, None].copy()).to(device)).cpu()
    scores = sync_scores(lip_e, audio_e, SHIFTS, padding="context")
    return scores.offset, scores.lse_c


def offset_accuracy(model: SyncNetLips, clips: Sequence[LipClip]) -> dict:
    """Share of ``clips`` whose offset comes out within one frame of 0, and the mean absolute offset."""
    offsets = [clip_offset(model, clip)[0] for clip in clips]
    return {
        "offset_within_one": float(np.mean([abs(o) <= 1 for o in offsets])),
        "offset_error": float(np.mean(np.abs(offsets))),
    }


def train_sync_lips(config: SyncLipsTrainConfig, log=print) -> TrainResult:
    """Train the built-in sync model on the train clips of ``config.data``, evaluating on their val clips."""
    from ..models import create_model

    log = lead_only(log)
    train_clips: list[LipClip] = []
    val_clips: list[LipClip] = []
    skipped: list[str] = []
    shares: list[np.ndarray] = []
    train_folders = 0
    for root, share in zip(config.data, config.shares or [1.0] * len(config.data), strict=True):
        folders = read_filelist(root, "train")
        clips, problems = load_clips(folders, config.speeds, config.frame)
        held, held_problems = load_clips(read_filelist(root, "val"), frame=config.frame)
        train_clips += clips
        val_clips += held
        skipped += problems + held_problems
        train_folders += len(folders) - len(problems)
        if clips:  # within a set, clips are drawn in proportion to their frames
            frames = np.array([len(c.lips) for c in clips], np.float64)
            shares.append(share * frames / frames.sum())
    weights = np.concatenate(shares) / np.sum(np.concatenate(shares)) if shares else None
    if not train_clips:
        raise InputError(f"no usable training clips in {', '.join(map(str, config.data))}")
    total = sum(len(c.lips) for c in train_clips)
    what = f"sync model: {train_folders} training clips ({total} frames with the speed variants)"
    log_sets(log, f"{what}, {len(val_clips)} held-out", skipped)
    seed_everything(config.seed)
    model = create_model("syncnet.lips", **config.model_config())

    def step(model, item) -> torch.Tensor:
        rng = np.random.default_rng(np.random.randint(2**31))
        loss, _ = matching_loss(model, sample_runs(train_clips, rng, config.runs, config.run_frames, weights=weights))
        return loss

    def evaluate(model, items) -> dict:
        rng = np.random.default_rng([config.seed, 7])
        loss, right = matching_loss(model, sample_runs(val_clips, rng, 4 * config.runs, config.run_frames, False))
        return {"loss": float(loss), "picked": right, **offset_accuracy(model, val_clips)}

    return train_steps(model, config, step, evaluate if val_clips else None, log=log)
