"""Training LipGAN: the generator against its contrastive audio-visual discriminator, on a preprocessed
set (:mod:`..data.lrs2`, 96 px crops).

As the paper: each sample is one face crop; the generator sees a reference frame of the same clip and
the target with its lower half zeroed (``[reference, masked target]``, LipGAN's order) and the target's
MFCC window (12 x 35, :func:`~talkingface.features.lipgan_windows`), and must rebuild the target. The
discriminator embeds a face and an MFCC window and is trained with the contrastive loss (margin 1):
real faces with their own speech are pulled together, real faces with speech from at least 5 frames
away and generated faces are pushed apart. The generator's loss is L1 plus ``disc_weight`` times the
discriminator's contrastive loss towards "in sync". Both use Adam. The discriminator is saved beside
the generator (``disc_last.safetensors``) and resumed with it. Held-out evaluation: L1, the mean
distance the discriminator gives real in-sync and generated pairs, and ``samples.png`` (masked input,
reference, generated, real).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from ..data.lrs2 import ClipPool
from ..errors import InputError
from .configs import LipGANTrainConfig
from .loop import (
    TrainResult,
    drawn,
    drawn_to,
    lead_only,
    model_device,
    preprocessed_parts,
    seed_everything,
    train_steps,
)

FAR = 5  # frames between a face and the speech of an off-sync pair


class LipGANFrames:
    """Training faces for LipGAN from preprocessed clips (decoded once, kept in memory)."""

    def __init__(self, clips: Sequence[str | os.PathLike]):
        self.pool = ClipPool(clips, 2 * FAR + 1, "too short for an off-sync pair")
        self.clips, self.skipped = self.pool.clips, self.pool.skipped
        self._mfcc: dict[int, np.ndarray] = {}

    def _mfcc_windows(self, k: int, frames: int) -> np.ndarray:
        from ..features import lipgan_windows

        if k not in self._mfcc:
            clip = self.clips[k]
            self._mfcc[k] = lipgan_windows(clip.audio, frames, clip.info.fps)
        return self._mfcc[k]

    def sample(self, rng: np.random.Generator, count: int) -> dict[str, torch.Tensor]:
        """``count`` faces: ``face`` (B, 6, S, S) [reference, masked target], ``target`` (B, 3, S, S),
        ``mfcc`` (B, 1, 12, 35) the target's speech, ``off`` (B, 1, 12, 35) speech 5+ frames away; BGR
        in [0, 1]."""
        faces: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        mfcc: list[np.ndarray] = []
        off: list[np.ndarray] = []
        while len(targets) < count:
            k = int(rng.integers(len(self.clips)))
            frames, _ = self.pool.decoded(k)
            n = len(frames)
            if n < 2 * FAR + 1:
                continue  # unreadable clip: passed over, the epoch goes on
            windows = self._mfcc_windows(k, n)
            t = int(rng.integers(n))
            reference = int(rng.choice([i for i in range(n) if i != t]))
            away = [i for i in range(n) if abs(i - t) >= FAR]
            target = frames[t].astype(np.float32) / 255.0
            masked = target.copy()
            masked[target.shape[0] // 2 :] = 0
            faces.append(
                np.concatenate([frames[reference].astype(np.float32) / 255.0, masked], axis=2).transpose(2, 0, 1)
            )
            targets.append(target.transpose(2, 0, 1))
            mfcc.append(windows[t][None])
            off.append(windows[int(away[int(rng.integers(len(away)))])][None])
        return {
            "face": torch.from_numpy(np.stack(faces)),
            "target": torch.from_numpy(np.stack(targets)),
            "mfcc": torch.from_numpy(np.stack(mfcc)),
            "off": torch.from_numpy(np.stack(off)),
        }


def write_lipgan_samples(path: Path, batch: dict[str, torch.Tensor], generated: torch.Tensor, rows: int = 4) -> Path:
    """A PNG of held-out faces, one row each: masked input, reference, generated, real."""
    from .wav2lip import write_image_grid

    return write_image_grid(
        path,
        [
            [batch["face"][i, 3:], batch["face"][i, :3], generated[i], batch["target"][i]]
            for i in range(min(rows, len(generated)))
        ],
    )


def train_lipgan(config: LipGANTrainConfig, log=print) -> TrainResult:
    """Train LipGAN's generator and discriminator on ``config.data``'s train clips."""
    from ..models import create_model
    from ..models.lipgan import LipGANDiscriminator

    log = lead_only(log)
    train_frames, val_frames = preprocessed_parts(config.data, LipGANFrames)
    size = train_frames.clips[0].info.size
    if size % 32:
        raise InputError(f"{config.data}: crops of {size} px; LipGAN needs a multiple of 32 (preprocess --size 96)")
    if log:
        log(
            f"LipGAN: {len(train_frames.clips)} training clips, {len(val_frames.clips) if val_frames else 0} "
            f"held-out; {len(train_frames.skipped)} skipped"
        )
    seed_everything(config.seed)
    sizes: dict[str, Any] = {"image_size": size, "width": config.width, "embedding": config.embedding}
    model = create_model("lipgan", **sizes)
    disc = cast(LipGANDiscriminator, create_model("lipgan.disc", **sizes).train())
    disc_optimizer = torch.optim.Adam(disc.parameters(), lr=config.disc_lr)
    contrastive = LipGANDiscriminator.contrastive_loss
    held = drawn(val_frames, config.val_samples, config.seed)

    def step(model, item) -> torch.Tensor:
        batch, device = drawn_to(train_frames, config.batch_size, model, disc)
        generated = model(batch["mfcc"], batch["face"])
        ones, zeros = torch.ones(len(generated), device=device), torch.zeros(len(generated), device=device)
        disc_loss = (
            contrastive(disc(batch["mfcc"], batch["target"]), ones, config.margin)
            + contrastive(disc(batch["off"], batch["target"]), zeros, config.margin)
            + contrastive(disc(batch["mfcc"], generated.detach()), zeros, config.margin)
        )
        disc_optimizer.zero_grad(set_to_none=True)
        disc_loss.backward()
        disc_optimizer.step()
        disc_optimizer.zero_grad(set_to_none=True)
        l1 = torch.nn.functional.l1_loss(generated, batch["target"])
        fooled = contrastive(disc(batch["mfcc"], generated), ones, config.margin)
        return (1 - config.disc_weight) * l1 + config.disc_weight * fooled

    def evaluate(model, items) -> dict:
        assert held is not None
        device = model_device(model)
        l1, real, fake = [], [], []
        with torch.no_grad():
            for s in range(0, config.val_samples, 16):
                part = {k: v[s : s + 16].to(device) for k, v in held.items()}
                generated = model(part["mfcc"], part["face"])
                if s == 0:
                    write_lipgan_samples(Path(config.out_dir) / "samples.png", part, generated)
                l1.append(torch.nn.functional.l1_loss(generated, part["target"]).item() * len(generated))
                real += disc(part["mfcc"], part["target"]).tolist()
                fake += disc(part["mfcc"], generated).tolist()
        return {
            "l1": float(np.sum(l1) / config.val_samples),
            "real_distance": float(np.mean(real)),
            "fake_distance": float(np.mean(fake)),
        }

    return train_steps(
        model, config, step, evaluate if held else None, log=log, companions={"disc": (disc, disc_optimizer)}
    )
