"""Training the Wav2Lip generator against a frozen lip-sync expert, on a preprocessed set (:mod:`..data.lrs2`).

As the reference: each sample is a window of 5 consecutive face crops of one clip; the generator sees
them with their lower halves zeroed beside 5 other frames of the same clip (the identity reference),
and the mel window of each frame; it must rebuild the window. The loss is L1 plus ``sync_weight``
times the expert's BCE pushing the generated lower halves and the window's speech towards "in sync".
The sync term is switched on once the held-out sync loss falls below ``sync_threshold`` (0.75), as the
reference does; the expert is frozen and kept in eval mode (the reference leaves it in train mode, so
its batch-norm statistics drift). Held-out evaluation reports L1, the expert's sync loss and their sum
as the run's monitored loss, and draws ``samples.png`` in the run's folder: for a few held-out windows,
the masked input, the reference, the generated and the real frame.

With ``gan`` (``talkingface train wav2lip-gan``) the visual-quality discriminator is trained beside
the generator: at each step it learns real lower halves from generated ones (BCE), then the generator
adds ``perceptual_weight`` (0.07) times its BCE towards "real", the L1 weight shrinking to
``1 - sync_weight - perceptual_weight``; both use Adam with betas (0.5, 0.999), as the reference.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import torch

from ..data.lrs2 import ClipPool
from ..errors import InputError
from ..files import atomic_output
from ..optional import needs
from .configs import Wav2LipTrainConfig
from .loop import (
    TrainResult,
    drawn,
    drawn_to,
    lead_only,
    model_device,
    preprocessed_parts,
    saved_history,
    seed_everything,
    start_model,
    train_steps,
)
from .syncnet import WINDOW


class GeneratorWindows:
    """Training windows for the generator, drawn from preprocessed clips (decoded once, kept in memory)."""

    def __init__(self, clips: Sequence[str | os.PathLike]):
        self.pool = ClipPool(clips, 2 * WINDOW)
        self.clips, self.skipped = self.pool.clips, self.pool.skipped

    def sample(self, rng: np.random.Generator, count: int) -> dict[str, torch.Tensor]:
        """``count`` windows: ``face`` (B, 6, 5, S, S) masked + reference, ``mels`` (B, 5, 1, 80, 16),
        ``mel`` (B, 1, 80, 16) the expert's window, ``target`` (B, 3, 5, S, S); BGR in [0, 1]."""
        faces: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        mels: list[np.ndarray] = []
        mel: list[np.ndarray] = []
        while len(targets) < count:
            frames, windows = self.pool.decoded(int(rng.integers(len(self.clips))))
            n = len(frames)
            if n < 2 * WINDOW:
                continue  # unreadable clip: passed over, the epoch goes on
            start = int(rng.integers(0, n - WINDOW + 1))
            others = [t for t in range(n - WINDOW + 1) if t != start]
            wrong = int(others[int(rng.integers(len(others)))])
            window = frames[start : start + WINDOW].astype(np.float32) / 255.0  # (5, S, S, 3)
            masked = window.copy()
            masked[:, window.shape[1] // 2 :] = 0
            reference = frames[wrong : wrong + WINDOW].astype(np.float32) / 255.0
            faces.append(np.concatenate([masked, reference], axis=3).transpose(3, 0, 1, 2))  # (6, 5, S, S)
            targets.append(window.transpose(3, 0, 1, 2))
            mels.append(windows[start : start + WINDOW][:, None])
            mel.append(windows[start][None])
        return {
            "face": torch.from_numpy(np.stack(faces)),
            "target": torch.from_numpy(np.stack(targets)),
            "mels": torch.from_numpy(np.stack(mels)),
            "mel": torch.from_numpy(np.stack(mel)),
        }


def expert_sync_loss(expert: torch.nn.Module, mel: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """The expert's BCE towards "in sync" for generated windows ``(B, 3, 5, S, S)`` and mel ``(B, 1, 80, 16)``."""
    from ..models.syncnet import SyncNetColor

    half = generated.shape[3] // 2
    lower = generated[:, :, :, half:]
    stacked = torch.cat([lower[:, :, t] for t in range(lower.shape[2])], dim=1)  # frame-major channels
    audio_e, face_e = expert(mel, stacked)
    return SyncNetColor.sync_loss(audio_e, face_e, torch.ones(len(mel), device=mel.device))


def write_image_grid(path: Path, rows: Sequence[Sequence[torch.Tensor]]) -> Path:
    """A PNG of ``(3, S, S)`` BGR images in [0, 1], laid out in ``rows`` (written atomically, replaced at
    each evaluation)."""
    with needs("face"):
        import cv2

    def image(t: torch.Tensor) -> np.ndarray:  # (3, S, S) BGR in [0, 1] -> uint8 (S, S, 3)
        return (t.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)

    grid = np.concatenate([np.concatenate([image(t) for t in row], axis=1) for row in rows], axis=0)
    with atomic_output(path) as tmp:
        if not cv2.imwrite(str(tmp), grid):
            raise InputError(f"{path}: could not write the sample grid")
    return path


def write_sample_grid(path: Path, batch: dict[str, torch.Tensor], generated: torch.Tensor, rows: int = 4) -> Path:
    """A PNG of held-out windows' middle frames, one row each: the masked input, the identity
    reference, the generated frame and the real one."""
    middle = WINDOW // 2
    return write_image_grid(
        path,
        [
            [
                batch["face"][i, :3, middle],
                batch["face"][i, 3:, middle],
                generated[i, :, middle],
                batch["target"][i, :, middle],
            ]
            for i in range(min(rows, len(generated)))
        ],
    )


def _frozen(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in eval mode with its weights out of training (an expert that judges, never learns)."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _discriminator_step(disc, optimizer: torch.optim.Optimizer, real: torch.Tensor, generated: torch.Tensor) -> None:
    """One step of the visual-quality discriminator: real mouths as real, the generated ones as fake
    (detached: the generator's step is its own)."""
    bce = torch.nn.functional.binary_cross_entropy
    on_real, on_fake = disc(real), disc(generated.detach())
    loss = bce(on_real, torch.ones_like(on_real)) + bce(on_fake, torch.zeros_like(on_fake))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def train_wav2lip(config: Wav2LipTrainConfig, log=print) -> TrainResult:
    """Train the generator on ``config.data``'s train clips against the frozen expert."""
    from ..models import create_model, load_model

    log = lead_only(log)
    train_windows, val_windows = preprocessed_parts(config.data, GeneratorWindows)
    size = train_windows.clips[0].info.size
    if size != 96:
        raise InputError(
            f"{config.data}: crops of {size} px; this recipe trains the 96 px generator (preprocess --size 96)"
        )
    expert = _frozen(load_model(config.expert, "syncnet.expert"))
    if log:
        log(
            f"Wav2Lip: {len(train_windows.clips)} training clips, {len(val_windows.clips) if val_windows else 0} "
            f"held-out; expert {config.expert}; {len(train_windows.skipped)} skipped"
        )
    seed_everything(config.seed)
    model = start_model(config.init, "wav2lip", channel_divisor=config.channel_divisor)

    # The expert's loss is on once the held-out sync loss has fallen below the threshold (kept across a
    # resume: the saved history says whether it had).
    def sync_reached(history: list[dict]) -> bool:
        return config.sync_threshold <= 0 or any(r.get("val_sync", 1e9) < config.sync_threshold for r in history)

    state = {"sync_on": sync_reached(saved_history(config.out_dir) if config.resume else [])}

    def on_epoch(history: list[dict]) -> None:  # on every process alike, from process 0's evaluation
        state["sync_on"] = sync_reached(history)

    held = drawn(val_windows, config.val_samples, config.seed)

    from ..models.wav2lip import Wav2LipDiscQual

    disc: Wav2LipDiscQual | None = None
    disc_optimizer: torch.optim.Optimizer | None = None
    if config.gan:
        disc = cast(Wav2LipDiscQual, create_model("wav2lip.disc", channel_divisor=config.channel_divisor).train())
        disc_optimizer = torch.optim.Adam(disc.parameters(), lr=config.disc_lr, betas=(0.5, 0.999))

    def step(model, item) -> torch.Tensor:
        batch, _ = drawn_to(train_windows, config.batch_size, model, expert)
        generated = model(batch["mels"], batch["face"])
        l1 = torch.nn.functional.l1_loss(generated, batch["target"])
        sync_weight = config.sync_weight if state["sync_on"] else 0.0
        loss = (1 - sync_weight) * l1
        if disc is not None and disc_optimizer is not None:
            _discriminator_step(disc, disc_optimizer, batch["target"], generated)
            loss = (1 - sync_weight - config.perceptual_weight) * l1
            loss = loss + config.perceptual_weight * disc.perceptual_loss(generated)
        if sync_weight > 0:
            loss = loss + sync_weight * expert_sync_loss(expert, batch["mel"], generated)
        return loss

    def evaluate(model, items) -> dict:
        assert held is not None
        device = model_device(model)
        expert.to(device)
        l1, sync = [], []
        for s in range(0, config.val_samples, 16):
            part = {k: v[s : s + 16].to(device) for k, v in held.items()}
            generated = model(part["mels"], part["face"])
            if s == 0:
                write_sample_grid(Path(config.out_dir) / "samples.png", part, generated)
            l1.append(torch.nn.functional.l1_loss(generated, part["target"]).item() * len(generated))
            sync.append(expert_sync_loss(expert, part["mel"], generated).item() * len(generated))
        metrics = {"l1": float(np.sum(l1) / config.val_samples), "sync": float(np.sum(sync) / config.val_samples)}
        metrics["loss"] = metrics["l1"] + config.sync_weight * metrics["sync"]
        return metrics

    loop = config.loop()
    companions = {"disc": (disc, disc_optimizer)} if disc is not None and disc_optimizer is not None else None
    return train_steps(
        model, config, step, evaluate if held else None, log=log, loop=loop, companions=companions, on_epoch=on_epoch
    )
