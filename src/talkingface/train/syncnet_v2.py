"""Training syncnet_python's model (``syncnet.v2``) with the contrastive loss of the SyncNet paper.

Chung & Zisserman, "Out of time" (2016): the lip tower sees 5 consecutive colour frames at 224 px (raw
0-255) and the audio tower 13 MFCC x 20 columns (0.2 s) of the same time; pairs are in sync (label 1)
or the audio of another window of the same clip at least 5 frames away (label 0); the loss is
``y d^2 + (1 - y) max(margin - d, 0)^2`` on the Euclidean distance ``d`` of the two 1024-d embeddings.
Held-out evaluation: the loss and the accuracy of "in sync when ``d < margin / 2``" on fixed pairs.

Crops come from a preprocessed set (``talkingface preprocess --size 224``; other sizes are resized to
224): they are our tracker's Wav2Lip box, not syncnet_python's box with its 40% margin, so a model trained
here scores best on crops cut the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from ..data.lrs2 import ClipPool
from .configs import SyncNetV2TrainConfig
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

WINDOW = 5
SIZE = 224


class SyncV2Pairs:
    """True and shifted (5 RGB frames at 224 px, MFCC window) pairs from preprocessed clips, decoded
    once and kept in memory."""

    def __init__(self, clips: Sequence[str | os.PathLike]):
        self.pool = ClipPool(clips, 2 * WINDOW + 1, "too short for a shifted pair", size=SIZE)
        self.clips, self.skipped = self.pool.clips, self.pool.skipped
        self._mfcc: dict[int, np.ndarray] = {}

    def _windows(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Clip ``k``'s frames ``(N, 224, 224, 3)`` BGR and MFCC windows ``(N, 13, 20)``."""
        from ..features import mfcc_windows, syncnet_mfcc

        frames, _ = self.pool.decoded(k)
        if k not in self._mfcc:
            clip = self.clips[k]
            mfcc = syncnet_mfcc((np.clip(clip.audio, -1, 1) * 32767).astype(np.int16)) if len(frames) else None
            self._mfcc[k] = (
                mfcc_windows(mfcc, len(frames), clip.info.fps).astype(np.float32)
                if mfcc is not None
                else np.zeros((0, 13, 20), np.float32)
            )
        return frames, self._mfcc[k]

    def sample(self, rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` pairs: MFCC ``(B, 1, 13, 20)``, frames ``(B, 3, 5, 224, 224)`` (0-255), labels ``(B,)``."""
        mfccs: list[np.ndarray] = []
        clips: list[np.ndarray] = []
        labels: list[float] = []
        while len(labels) < count:
            k = int(rng.integers(len(self.clips)))
            frames, windows = self._windows(k)
            n = len(frames)
            if n < 2 * WINDOW + 1:
                continue  # an unreadable frame emptied this clip: passed over
            start = int(rng.integers(0, n - WINDOW + 1))
            in_sync = len(labels) % 2 == 0
            if in_sync:
                audio_at = start
            else:
                choices = [t for t in range(n - WINDOW + 1) if abs(t - start) >= WINDOW]
                audio_at = int(choices[int(rng.integers(len(choices)))])
            clips.append(frames[start : start + WINDOW, :, :, ::-1])  # (5, H, W, 3) RGB
            mfccs.append(windows[audio_at])
            labels.append(1.0 if in_sync else 0.0)
        video = torch.from_numpy(np.ascontiguousarray(np.stack(clips))).permute(0, 4, 1, 2, 3).float()
        return torch.from_numpy(np.stack(mfccs)).unsqueeze(1), video, torch.tensor(labels)


def contrastive_loss(distance: torch.Tensor, label: torch.Tensor, margin: float) -> torch.Tensor:
    """``y d^2 + (1 - y) max(margin - d, 0)^2``, averaged."""
    y = label.float().view(-1)
    return (y * distance**2 + (1 - y) * torch.clamp(margin - distance, min=0) ** 2).mean()


def pair_accuracy(model, pairs, margin: float) -> dict:
    """Loss and accuracy of "in sync when d < margin / 2" on fixed pairs."""
    device = model_device(model)
    mfcc, video, labels = (x.to(device) for x in pairs)
    losses, correct = [], 0
    for s in range(0, len(labels), 16):
        audio_e, lip_e = model(mfcc[s : s + 16], video[s : s + 16])
        d = torch.linalg.vector_norm(audio_e - lip_e, dim=1)
        losses.append(contrastive_loss(d, labels[s : s + 16], margin).item() * len(d))
        correct += int(((d < margin / 2).float() == labels[s : s + 16]).sum())
    return {"loss": float(np.sum(losses) / len(labels)), "accuracy": correct / len(labels)}


def train_syncnet_v2(config: SyncNetV2TrainConfig, log=print) -> TrainResult:
    """Train syncnet_python's model on ``config.data``'s train clips, evaluating on its val clips."""

    log = lead_only(log)
    train_pairs, val_pairs = preprocessed_parts(config.data, SyncV2Pairs)
    held_clips = len(val_pairs.clips) if val_pairs else 0
    log_sets(log, f"SyncNet v2: {len(train_pairs.clips)} training clips, {held_clips} held-out", train_pairs.skipped)
    seed_everything(config.seed)
    model = start_model(config.init, "syncnet.v2", channel_divisor=config.channel_divisor)
    held = drawn(val_pairs, config.val_pairs, config.seed)

    def step(model, item) -> torch.Tensor:
        mfcc, video, labels = drawn(train_pairs, config.batch_size)
        device = model_device(model)
        audio_e, lip_e = model(mfcc.to(device), video.to(device))
        return contrastive_loss(torch.linalg.vector_norm(audio_e - lip_e, dim=1), labels.to(device), config.margin)

    def evaluate(model, items) -> dict:
        assert held is not None
        return pair_accuracy(model, held, config.margin)

    return train_steps(model, config, step, evaluate if held else None, log=log)
