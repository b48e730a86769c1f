"""Training Wav2Lip's lip-sync expert (``syncnet.expert``) on a preprocessed set (:mod:`..data.lrs2`).

As the reference: each sample is the lower halves of 5 consecutive face crops ``(15, S/2, S)`` and a
mel window of 16 columns (0.2 s); half the samples take the window at the same time (in sync, label
1), half a window of the same clip at least 5 frames away (label 0); the loss is BCE on the cosine of
the two embeddings; Adam 1e-4, batch 64. Held-out evaluation reports the loss and the accuracy of
"cosine > 0.5" on a fixed, seeded set of true and shifted pairs of the validation clips.

A known failure of this recipe is a loss stuck at ln 2 = 0.693 (the cosine at 0.5 for everything):
the expert sees no relation between lips and sound. :func:`stall_warning` watches for it and names
what to check.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import torch

from ..data.lrs2 import ClipPool
from ..errors import InputError
from .configs import SyncNetTrainConfig
from .loop import (
    TrainResult,
    drawn,
    lead_only,
    log_sets,
    model_device,
    preprocessed_parts,
    seed_everything,
    start_model,
    train_steps,
)

WINDOW = 5  # frames per sample
LN2 = math.log(2.0)


class SyncPairs:
    """True and shifted (lower-half faces, mel window) pairs drawn from preprocessed clips.

    Clips shorter than two windows apart (``2 * WINDOW + 1`` frames) cannot give a shifted pair and are
    left out. Decoded clips are kept in memory (:class:`~talkingface.data.lrs2.ClipPool`)."""

    def __init__(self, clips: Sequence[str | os.PathLike]):
        self.pool = ClipPool(clips, 2 * WINDOW + 1, "too short for a shifted pair")
        self.clips, self.skipped = self.pool.clips, self.pool.skipped

    def sample(self, rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` pairs: mel ``(B, 1, 80, 16)``, faces ``(B, 15, S/2, S)`` BGR in [0, 1], labels ``(B,)``."""
        mels: list[np.ndarray] = []
        faces: list[np.ndarray] = []
        labels: list[float] = []
        while len(labels) < count:
            k = int(rng.integers(len(self.clips)))
            frames, windows = self.pool.decoded(k)
            n = len(frames)
            if n < 2 * WINDOW + 1:
                continue  # an unreadable frame emptied this clip: skipped, the epoch goes on
            start = int(rng.integers(0, n - WINDOW + 1))
            in_sync = len(labels) % 2 == 0
            if in_sync:
                audio_at = start
            else:
                choices = [t for t in range(n - WINDOW + 1) if abs(t - start) >= WINDOW]
                if not choices:
                    continue
                audio_at = int(choices[int(rng.integers(len(choices)))])
            window = frames[start : start + WINDOW, frames.shape[1] // 2 :]  # lower halves (5, h, w, 3)
            faces.append(np.concatenate(list(window), axis=2))  # (h, w, 15): frame-major channels
            mels.append(windows[audio_at])
            labels.append(1.0 if in_sync else 0.0)
        face = torch.from_numpy(np.stack(faces)).permute(0, 3, 1, 2).float().div_(255.0)
        mel = torch.from_numpy(np.stack(mels)).unsqueeze(1)
        return mel, face, torch.tensor(labels)


def stall_warning(history: Sequence[dict], epochs: int) -> str | None:
    """A warning once the training loss has stayed within 0.01 of ln 2 for ``epochs`` epochs."""
    if epochs <= 0 or len(history) < epochs:
        return None
    recent = [r["train_loss"] for r in history[-epochs:]]
    if all(abs(loss - LN2) < 0.01 for loss in recent):
        return (
            f"the expert's loss has stayed at ln 2 = 0.693 for {epochs} epochs: it sees no relation between "
            "lips and sound. Check that audio and video are in sync (sync-score the clips; shift or drop "
            "those with an offset), that the crops hold the mouth in their lower half, that the clips are "
            "25 fps with 16 kHz audio (talkingface preprocess makes them so), and that the learning rate is "
            "not too high"
        )
    return None


def sync_accuracy(model: torch.nn.Module, pairs: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> dict:
    """Loss and accuracy of "cosine > 0.5" on fixed pairs (mel, faces, labels)."""
    from ..models.syncnet import SyncNetColor

    device = model_device(model)
    mel, face, labels = (x.to(device) for x in pairs)
    losses, correct = [], 0
    for s in range(0, len(labels), 64):
        audio_e, face_e = model(mel[s : s + 64], face[s : s + 64])
        p = SyncNetColor.sync_probability(audio_e, face_e)
        losses.append(SyncNetColor.sync_loss(audio_e, face_e, labels[s : s + 64]).item() * len(p))
        correct += int(((p > 0.5).float() == labels[s : s + 64]).sum())
    return {"loss": float(np.sum(losses) / len(labels)), "accuracy": correct / len(labels)}


def train_syncnet(config: SyncNetTrainConfig, log=print) -> TrainResult:
    """Train the lip-sync expert on ``config.data``'s train clips, evaluating on its val clips."""
    from ..models.syncnet import SyncNetColor

    log = lead_only(log)
    train_pairs, val_pairs = preprocessed_parts(config.data, SyncPairs)
    size = train_pairs.clips[0].info.size
    if size != 96:
        raise InputError(f"{config.data}: crops of {size} px; the expert takes 96 px crops (preprocess --size 96)")
    held_clips = len(val_pairs.clips) if val_pairs else 0
    log_sets(
        log, f"SyncNet expert: {len(train_pairs.clips)} training clips, {held_clips} held-out", train_pairs.skipped
    )
    seed_everything(config.seed)
    model = start_model(config.init, "syncnet.expert", channel_divisor=config.channel_divisor)
    held = drawn(val_pairs, config.val_pairs, config.seed)

    def step(model, item) -> torch.Tensor:
        mel, face, labels = drawn(train_pairs, config.batch_size)
        device = model_device(model)
        audio_e, face_e = model(mel.to(device), face.to(device))
        labels = labels.to(device)
        return SyncNetColor.sync_loss(audio_e, face_e, labels)

    def evaluate(model, items) -> dict:
        assert held is not None
        return sync_accuracy(model, held)

    def watch(history: list[dict]) -> str | None:
        return stall_warning(history, config.stall_epochs)

    loop = config.loop()
    return train_steps(model, config, step, evaluate if held else None, log=log, loop=loop, watch=watch)
