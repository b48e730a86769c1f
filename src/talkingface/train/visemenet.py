"""Training VisemeNet (:mod:`talkingface.models.visemenet`) on data made here (:mod:`..data.visemenet`).

- Synthetic speech in every espeak-ng language (or those chosen), made once per run and kept in
  ``out_dir/synthetic.npz``: every target known. The voice variants are split: a fixed fifth of them
  (:func:`held_out_variants`) speaks only the validation utterances, so validation measures voices the
  model never heard. espeak-ng's rate varies the speed.
- Real clips from preprocessed sets (``talkingface preprocess``): their measured lips are the lip
  targets (the rest is masked); each training clip is also used with degraded audio, slower and faster.

A step draws ``batch`` windows of ``window`` steps (10 ms each), a share ``real_share`` of them from
real clips. The model hears ``lookahead`` steps past each window's last target, as it does at run time.
Loss: L1 on the lips and on their change from step to step (timing), cross-entropy on the phoneme
groups, binary cross-entropy on the viseme activations, L1 on the viseme values where a viseme is on
and on JA/LI. Evaluation: the same losses on held-out data, the phoneme-group accuracy on the held-out
voices, and on the held-out real clips the correlation between the ``jawOpen`` of the model's visemes
and JA/LI and the measured inner-lip opening (``lips_miss`` = 1 - its median; the monitor when there
are real clips).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..animation.jali import pose_curves
from ..animation.visemenet import frames_of
from ..data.lrs2 import ClipData, read_filelist
from ..data.visemenet import UNKNOWN, Utterance, load_utterances, real_utterance, save_utterances, synthetic_utterance
from ..data.visemenet import languages as all_languages
from ..errors import InputError, MediaError, TalkingFaceError
from ..speech.align import align
from ..speech.espeak import _engine
from ..speech.visemes import ARKIT_52
from .configs import VisemeNetTrainConfig
from .loop import (
    TrainResult,
    lead_only,
    log_sets,
    model_device,
    seed_everything,
    train_steps,
)

#: Speeds at which the degraded copies of real clips play, in turn.
SPEEDS = (1.0, 0.9, 1.1)


def held_out_variants(variants: Sequence[str]) -> set[str]:
    """Every fifth voice variant (sorted by name): they speak only validation utterances."""
    return set(sorted(variants)[2::5])


def synthetic_set(
    count: int, languages: Sequence[str], seed: int, held_out: bool, augment: float, log=None
) -> list[Utterance]:
    """``count`` synthetic utterances, languages taken in turn, voices from the training variants (or,
    with ``held_out``, from the held-out ones)."""

    variants = sorted(v for v in _engine().variants() if v != "klatt")
    held = held_out_variants(variants)
    allowed = sorted(held) if held_out else [v for v in variants if v not in held]
    rng = np.random.default_rng([seed, 1 if held_out else 0])
    out = []
    for k in range(count):
        language = languages[k % len(languages)]
        out.append(synthetic_utterance(rng, language, augment, variants=allowed))
        if log and (k + 1) % 500 == 0:
            log(f"  {k + 1}/{count} synthetic utterances")
    return out


def read_transcripts(path: str | os.PathLike) -> dict[str, str]:
    """``name<TAB>text`` lines -> {name: text}."""

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MediaError(path, f"unreadable transcripts ({error.__class__.__name__})") from None
    out = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        name, tab, text = line.partition("\t")
        if not tab or not name.strip() or not text.strip():
            raise MediaError(path, f"line {number}: expected <name><TAB><what is said>")
        out[name.strip()] = text.strip()
    return out


def real_set(
    roots: Sequence[str | os.PathLike],
    split: str,
    copies: int,
    augment: float,
    seed: int,
    transcripts: dict[str, str] | None = None,
) -> tuple[list[Utterance], list[str]]:
    """The clips of ``split`` of preprocessed sets (each clean, plus ``copies`` degraded ones, played at
    the speeds of :data:`SPEEDS` in turn); a clip whose source video's name is in ``transcripts`` gets its
    phonemes by forced alignment."""

    rng = np.random.default_rng([seed, 2])
    out, skipped = [], []
    for root in roots:
        for folder in read_filelist(root, split):
            try:
                phonemes = None
                text = (transcripts or {}).get(Path(ClipData(folder).info.source).stem)
                if text is not None:
                    phonemes = align(ClipData(folder).audio, text)
                out.append(real_utterance(folder, phonemes))
                out += [
                    real_utterance(folder, phonemes, rng=rng, augment=augment, speed=SPEEDS[k % len(SPEEDS)])
                    for k in range(copies)
                ]
            except TalkingFaceError as error:
                skipped.append(str(error))
    return out, skipped


@dataclass
class Batch:
    features: torch.Tensor  # (B, W + L, 65)
    lips: torch.Tensor  # (B, W, 80), 0 where unknown
    lips_known: torch.Tensor  # (B, W) bool
    real: torch.Tensor  # (B,) bool
    groups: torch.Tensor  # (B, W) int64, UNKNOWN where unknown
    visemes: torch.Tensor  # (B, W, 20)
    jali: torch.Tensor  # (B, W, 2)
    curves_known: torch.Tensor  # (B, W) bool


def sample_batch(
    utterances: Sequence[Utterance], rng: np.random.Generator, count: int, window: int, lookahead: int
) -> list[tuple[Utterance, int]]:
    """``count`` random (utterance, first step) windows."""
    picks = []
    for _ in range(count):
        u = utterances[int(rng.integers(len(utterances)))]
        picks.append((u, int(rng.integers(0, max(1, len(u) - window - lookahead + 1)))))
    return picks


def make_batch(picks: Sequence[tuple[Utterance, int]], window: int, lookahead: int, pad: np.ndarray) -> Batch:
    """Stack windows; steps past an utterance's end get the ``pad`` features and unknown targets."""
    span = window + lookahead
    b = len(picks)
    features = np.tile(pad.astype(np.float32), (b, span, 1))
    lips = np.full((b, window, 80), np.nan, np.float32)
    groups = np.full((b, window), UNKNOWN, np.int64)
    visemes = np.full((b, window, 20), np.nan, np.float32)
    jali = np.full((b, window, 2), np.nan, np.float32)
    real = np.zeros(b, bool)
    for i, (u, t0) in enumerate(picks):
        f = u.features[t0 : t0 + span]
        features[i, : len(f)] = f
        n = min(window, len(u) - t0)
        lips[i, :n] = u.lips[t0 : t0 + n]
        groups[i, :n] = u.groups[t0 : t0 + n]
        if u.visemes is not None and u.jali is not None:
            visemes[i, :n] = u.visemes[t0 : t0 + n]
            jali[i, :n] = u.jali[t0 : t0 + n]
        real[i] = u.real
    lips_known = np.isfinite(lips).all(-1)
    curves_known = np.isfinite(visemes).all(-1)
    return Batch(
        torch.from_numpy(features),
        torch.from_numpy(np.nan_to_num(lips)),
        torch.from_numpy(lips_known),
        torch.from_numpy(real),
        torch.from_numpy(groups),
        torch.from_numpy(np.nan_to_num(visemes)),
        torch.from_numpy(np.nan_to_num(jali)),
        torch.from_numpy(curves_known),
    )


def batch_losses(model, batch: Batch, config: VisemeNetTrainConfig) -> dict[str, torch.Tensor]:
    """Each loss term of a batch (means over the known targets) and their weighted ``total``."""
    device = model_device(model)
    lookahead = model.config.lookahead
    output, _ = model.step(batch.features.to(device))
    window = batch.lips.shape[1]

    def ahead(x: torch.Tensor) -> torch.Tensor:  # the outputs for the window's steps
        return x[:, lookahead : lookahead + window]

    lips, known = batch.lips.to(device), batch.lips_known.to(device)
    predicted = ahead(output.landmarks)
    weight = torch.where(batch.real.to(device), config.real_lips_weight, 1.0)[:, None] * known
    error = (predicted - lips).abs().mean(-1)
    losses = {"lips": (error * weight).sum() / weight.sum().clamp(min=1)}
    both = known[:, 1:] & known[:, :-1]
    motion_error = (predicted.diff(dim=1) - lips.diff(dim=1)).abs().mean(-1)
    losses["motion"] = (motion_error * both).sum() / both.sum().clamp(min=1)
    groups = batch.groups.to(device)
    logits = ahead(output.phonemes)
    losses["groups"] = (
        F.cross_entropy(logits.reshape(-1, logits.shape[-1]), groups.reshape(-1), ignore_index=UNKNOWN)
        if (groups != UNKNOWN).any()
        else logits.sum() * 0
    )
    curves = batch.curves_known.to(device)
    visemes, jali = batch.visemes.to(device), batch.jali.to(device)
    active = (visemes > 0.05).float()
    count = curves.sum().clamp(min=1)
    bce = F.binary_cross_entropy(ahead(output.activations), active, reduction="none").mean(-1)
    on = active * curves[..., None]
    value_error = (ahead(output.values) - visemes).abs() * on
    losses["visemes"] = (bce * curves).sum() / count + value_error.sum() / on.sum().clamp(min=1)
    losses["jali"] = ((ahead(output.jali) - jali).abs().mean(-1) * curves).sum() / count
    losses["total"] = (
        config.lips_weight * losses["lips"]
        + config.motion_weight * losses["motion"]
        + config.group_weight * losses["groups"]
        + config.viseme_weight * losses["visemes"]
        + config.jali_weight * losses["jali"]
    )
    return losses


@torch.no_grad()
def group_accuracy(model, utterances: Sequence[Utterance]) -> float:
    """Share of steps with a known phoneme group whose group the model picks (whole utterances)."""
    right = total = 0
    device = model_device(model)
    for u in utterances:
        known = u.groups != UNKNOWN
        if not known.any():
            continue
        output = model(torch.from_numpy(u.features)[None].to(device))
        picked = output.phonemes[0].argmax(-1).cpu().numpy()
        right += int((picked[known] == u.groups[known]).sum())
        total += int(known.sum())
    return right / total if total else float("nan")


@torch.no_grad()
def opening_correlation(model, utterances: Sequence[Utterance]) -> list[float]:
    """Per utterance with measured lips: correlation of the ``jawOpen`` the model's visemes and JA/LI
    give (:func:`~talkingface.animation.jali.pose_curves`, per 10 ms step) with the measured inner-lip
    opening."""
    from ..features.lips import inner_opening

    device = model_device(model)
    jaw = ARKIT_52.index("jawOpen")
    out = []
    for u in utterances:
        known = np.isfinite(u.lips).all(1)
        if known.sum() < 20:
            continue
        frames = frames_of(model(torch.from_numpy(u.features)[None].to(device)))
        predicted = pose_curves(frames.viseme_weights(), frames.jali)[known, jaw]
        measured = inner_opening(u.lips[known])
        if predicted.std() > 1e-6 and measured.std() > 1e-6:
            out.append(float(np.corrcoef(predicted, measured)[0, 1]))
    return out


def feature_statistics(utterances: Sequence[Utterance]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every feature over all steps of ``utterances``."""
    stacked = np.concatenate([u.features for u in utterances]).astype(np.float64)
    return stacked.mean(0).astype(np.float32), np.maximum(stacked.std(0), 1e-3).astype(np.float32)


def _synthetic_utterances(config: VisemeNetTrainConfig, languages: list[str], cache: Path, log) -> list:
    """The run's synthetic utterances, training then held-out: read back from ``cache`` where an earlier
    start made them, else made in ``languages`` and saved there."""

    if cache.is_file():
        synthetic = load_utterances(cache)
        if len(synthetic) != config.synthetic + config.val_synthetic:
            raise InputError(
                f"{cache} holds {len(synthetic)} utterances, not this run's; remove it or use another out_dir"
            )
        return synthetic
    if log:
        log(
            f"visemenet: making {config.synthetic} + {config.val_synthetic} synthetic utterances in "
            f"{len(languages)} languages"
        )
    synthetic = synthetic_set(config.synthetic, languages, config.seed, False, config.augment, log)
    synthetic += synthetic_set(config.val_synthetic, languages, config.seed, True, config.augment)
    if synthetic:
        save_utterances(cache, synthetic)
    return synthetic


def train_visemenet(config: VisemeNetTrainConfig, log=print) -> TrainResult:
    """Make the synthetic data (or read it back from ``out_dir``), read the real clips, and train."""
    from ..models import create_model

    log = lead_only(log)
    out = Path(config.out_dir)
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    known = all_languages()
    chosen = list(config.languages or known)
    unknown = [lang for lang in chosen if lang not in known]
    if unknown:
        raise InputError(f"unknown espeak-ng languages: {', '.join(unknown)} (e.g. en-us, de, fr, cmn)")
    out.mkdir(exist_ok=True)
    synthetic = _synthetic_utterances(config, chosen, out / "synthetic.npz", log)
    train_synthetic, val_synthetic = synthetic[: config.synthetic], synthetic[config.synthetic :]
    texts = read_transcripts(config.transcripts) if config.transcripts else None
    train_real, skipped = real_set(config.data, "train", config.real_copies, config.augment, config.seed, texts)
    val_real, val_skipped = real_set(config.data, "val", 0, 0.0, config.seed, texts)
    skipped += val_skipped
    if not train_synthetic and not train_real:
        raise InputError(f"no usable training clips in {', '.join(map(str, config.data))}")
    minutes = sum(len(u) for u in train_synthetic) / 6000
    real_minutes = sum(len(u) for u in train_real) / 6000 / (1 + config.real_copies)
    log_sets(
        log,
        f"visemenet: {len(train_synthetic)} synthetic utterances ({minutes:.1f} min), "
        f"{len(train_real) // (1 + config.real_copies)} real clips ({real_minutes:.1f} min); held out "
        f"{len(val_synthetic)} synthetic, {len(val_real)} real",
        skipped,
    )
    seed_everything(config.seed)
    model = create_model("visemenet", **config.model_config())
    mean, std = feature_statistics(train_synthetic + train_real)
    with torch.no_grad():
        model.get_buffer("feature_mean").copy_(torch.from_numpy(mean))
        model.get_buffer("feature_std").copy_(torch.from_numpy(std))
    real_share = config.real_share if train_real and train_synthetic else (1.0 if train_real else 0.0)

    def step(model, item) -> torch.Tensor:
        rng = np.random.default_rng(np.random.randint(2**31))
        real_count = int(rng.binomial(config.batch, real_share))
        picks = sample_batch(train_real, rng, real_count, config.window, config.lookahead) if real_count else []
        picks += sample_batch(train_synthetic, rng, config.batch - real_count, config.window, config.lookahead)
        batch = make_batch(picks, config.window, config.lookahead, mean)
        return batch_losses(model, batch, config)["total"]

    def evaluate(model, items) -> dict:
        rng = np.random.default_rng([config.seed, 7])
        held = [*val_synthetic, *val_real]
        picks = sample_batch(held, rng, 4 * config.batch, config.window, config.lookahead)
        losses = batch_losses(model, make_batch(picks, config.window, config.lookahead, mean), config)
        metrics = {name: float(value) for name, value in losses.items()}
        metrics["loss"] = metrics.pop("total")
        if val_synthetic:
            metrics["group_accuracy"] = group_accuracy(model, val_synthetic)
        correlations = opening_correlation(model, val_real)
        if correlations:
            metrics["lips_miss"] = 1.0 - float(np.median(correlations))
        elif config.data:
            metrics["lips_miss"] = metrics["loss"]
        return metrics

    return train_steps(model, config, step, evaluate if val_synthetic or val_real else None, log=log)
