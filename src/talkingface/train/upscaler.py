"""Training the mouth upscaler (``upscaler.mouth``) on real mouths (:mod:`..data.mouths`).

A sample is a run of ``run_length`` consecutive mouth canvases of one source. Each canvas is shrunk to
half size and degraded the way a generator's mouth is (blur, JPEG, noise: the same along the run), and
the network restores the run in order, each step given its own previous output moved onto the next
canvas (through the transforms the canvases were cut with), as it runs at work. Loss per step: L1 to
the real canvas, plus ``temporal_weight`` times the L1 between the output's change from its moved
previous output and the real canvases' change (so that it changes where the mouth changed, and only
there). Held-out evaluation: PSNR and SSIM of the last canvas of each held-out run against the real
one, for the network and for bicubic enlargement, and the loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.mouths import mouth_runs, sources_of
from ..enhance.mouth import compose, relative_transform, warp_canvases
from ..errors import InputError
from ..optional import needs
from .configs import UpscalerTrainConfig
from .loop import (
    TrainResult,
    drawn,
    drawn_to,
    lead_only,
    model_device,
    run_folder,
    seed_everything,
    train_steps,
)


@dataclass(frozen=True)
class Degradation:
    """How a run's canvases are spoiled before the network sees them (one draw per run)."""

    blur: float  # Gaussian sigma at input size, pixels (0: none)
    quality: int  # JPEG quality (100: none)
    noise: float  # grey levels
    flip: bool

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Degradation:
        return cls(
            blur=float(rng.uniform(0.3, 1.2)) if rng.random() < 0.7 else 0.0,
            quality=int(rng.integers(40, 96)) if rng.random() < 0.5 else 100,
            noise=float(rng.uniform(0, 3)) if rng.random() < 0.5 else 0.0,
            flip=bool(rng.random() < 0.5),
        )

    def apply(self, canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The canvas at half size, spoiled (uint8)."""
        with needs("face"):
            import cv2

        h, w = canvas.shape[:2]
        small = cv2.resize(canvas, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        if self.blur:
            small = cv2.GaussianBlur(small, (0, 0), self.blur)
        if self.noise:
            small = np.clip(small + rng.normal(0, self.noise, small.shape), 0, 255).astype(np.uint8)
        if self.quality < 100:
            ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            small = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else small
        return small


def _flipped(transform: np.ndarray, width: int) -> np.ndarray:
    """A frame -> canvas transform followed by the canvas's mirror image."""
    mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])

    return compose(mirror, transform)


class MouthSampler:
    """Runs of degraded and real canvases drawn from cut sources (videos and photos apart)."""

    def __init__(self, sources, run_length: int, photo_share: float):
        self.run_length = run_length
        self.groups = []
        for from_photos in (False, True):
            members = [(s, s.starts(run_length)) for s in sources if s.photo == from_photos]
            members = [(s, starts) for s, starts in members if len(starts)]
            self.groups.append(members)
        videos, photos = (sum(len(st) for _, st in g) for g in self.groups)
        if not videos and not photos:
            raise InputError(f"no source gave runs of {run_length} canvases (too small, or no face)")
        self.photo_share = photo_share if videos and photos else (1.0 if photos else 0.0)
        self.counts = (videos, photos)

    def sample(self, rng: np.random.Generator, count: int) -> dict[str, torch.Tensor]:
        """``small`` (B, K, 3, h, w), ``real`` (B, K, 3, 2h, 2w) in [0, 1] RGB, ``moves`` (B, K-1, 2, 3):
        canvas k-1 -> canvas k."""

        smalls, reals, moves = [], [], []
        for _ in range(count):
            group = self.groups[1 if rng.random() < self.photo_share else 0] or self.groups[0] or self.groups[1]
            weights = np.array([len(st) for _, st in group], np.float64)
            source, starts = group[int(rng.choice(len(group), p=weights / weights.sum()))]
            start = int(starts[rng.integers(len(starts))])
            canvases = source.canvases[start : start + self.run_length]
            transforms = source.transforms[start : start + self.run_length].astype(np.float64)
            spoil = Degradation.draw(rng)
            width = canvases.shape[2]
            if spoil.flip:
                canvases = canvases[:, :, ::-1]
                transforms = np.stack([_flipped(t, width) for t in transforms])
            gain = rng.uniform(0.85, 1.15)
            canvases = np.clip(canvases.astype(np.float32) * gain, 0, 255).astype(np.uint8)
            smalls.append(np.stack([spoil.apply(np.ascontiguousarray(c), rng) for c in canvases]))
            reals.append(canvases)
            moves.append(
                np.stack([relative_transform(transforms[k], transforms[k - 1]) for k in range(1, len(transforms))])
            )
        small = torch.from_numpy(np.stack(smalls)).permute(0, 1, 4, 2, 3).float() / 255
        real = torch.from_numpy(np.stack(reals)).permute(0, 1, 4, 2, 3).float() / 255
        return {"small": small, "real": real, "moves": torch.from_numpy(np.stack(moves)).float()}


def run_loss(model, batch: dict[str, torch.Tensor], temporal_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The run's loss, and the network's last outputs ``(B, 3, H, W)``."""

    small, real, moves = batch["small"], batch["real"], batch["moves"]
    previous = None
    total = small.new_zeros(())
    output = real[:, 0]
    for k in range(small.shape[1]):
        carried = None if previous is None else warp_canvases(previous, moves[:, k - 1])
        output = model(small[:, k], carried)
        total = total + torch.nn.functional.l1_loss(output, real[:, k])
        if carried is not None and temporal_weight:
            real_before = warp_canvases(real[:, k - 1], moves[:, k - 1])
            total = total + temporal_weight * torch.nn.functional.l1_loss(output - carried, real[:, k] - real_before)
        previous = output
    return total / small.shape[1], output


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two uint8 (or 0-255) images, dB."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM (Wang et al. 2004: 11 px Gaussian window, sigma 1.5) of two 0-255 images, on their grey."""
    with needs("face"):
        import cv2

    def grey(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        return x @ np.array([0.299, 0.587, 0.114]) if x.ndim == 3 else x

    x, y = grey(a), grey(b)
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index[5:-5, 5:-5].mean())


@torch.no_grad()
def compare_with_bicubic(model, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """PSNR/SSIM of the network's and bicubic's last canvas of each run against the real one."""
    device = model_device(model)
    part = {k: v.to(device) for k, v in batch.items()}
    loss, output = run_loss(model, part, 0.0)
    bicubic = model.enlarge(part["small"][:, -1])
    real = part["real"][:, -1]

    def images(x: torch.Tensor) -> np.ndarray:
        return np.rint(x.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255)

    ours, theirs, truth = images(output), images(bicubic), images(real)
    return {
        "l1": float(loss),
        "psnr": float(np.mean([psnr(o, t) for o, t in zip(ours, truth)])),
        "ssim": float(np.mean([ssim(o, t) for o, t in zip(ours, truth)])),
        "psnr_bicubic": float(np.mean([psnr(o, t) for o, t in zip(theirs, truth)])),
        "ssim_bicubic": float(np.mean([ssim(o, t) for o, t in zip(theirs, truth)])),
    }


def cut_sources(paths: Sequence[str], config: UpscalerTrainConfig, log=None):
    from pathlib import Path

    return mouth_runs(
        sources_of(list(paths)),
        Path(config.out_dir) / "mouths",
        width=config.canvas,
        min_ratio=config.min_ratio,
        max_frames=config.max_frames,
        photo_runs=config.photo_runs,
        run_length=config.run_length,
        log=log,
    )


def train_upscaler(config: UpscalerTrainConfig, log=print) -> TrainResult:
    """Train the mouth upscaler on ``config.data``, evaluating on ``config.val``."""

    from ..models import create_model

    log = lead_only(log)
    run_folder(config.out_dir)  # the cut mouths are kept in it before the first epoch
    train_sampler = MouthSampler(cut_sources(config.data, config, log), config.run_length, config.photo_share)
    val_sampler = (
        MouthSampler(cut_sources(config.val, config, log), config.run_length, config.photo_share)
        if config.val
        else None
    )
    if log:
        log(
            f"mouth upscaler: {train_sampler.counts[0]} video and {train_sampler.counts[1]} photo runs to train on"
            + (f", {sum(val_sampler.counts)} held out" if val_sampler else "")
        )
    seed_everything(config.seed)
    model = create_model("upscaler.mouth", width=config.width, blocks=config.blocks)
    held = drawn(val_sampler, config.val_runs, config.seed)

    def step(model, item) -> torch.Tensor:
        loss, _ = run_loss(model, drawn_to(train_sampler, config.batch_size, model)[0], config.temporal_weight)
        return loss

    def evaluate(model, items) -> dict:
        assert held is not None
        return compare_with_bicubic(model, held)

    return train_steps(model, config, step, evaluate if held else None, log=log)
