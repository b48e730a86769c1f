"""Training VisemeNet on synthetic speech and real clips' lips: the losses go down, the run saves a
model that loads and resumes from its own synthetic set, bad settings are refused up front."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.models import create_model, load_model
from talkingface.train.visemenet import (
    VisemeNetTrainConfig,
    batch_losses,
    feature_statistics,
    held_out_variants,
    make_batch,
    real_set,
    sample_batch,
    synthetic_set,
    train_visemenet,
)


def config(out, sync_set=None, **changes):
    base = dict(
        out_dir=out,
        data=(str(sync_set),) if sync_set else (),
        synthetic=8,
        val_synthetic=2,
        languages=("en-us", "de"),
        batch=6,
        window=80,
        real_copies=1,
        steps_per_epoch=8,
        hidden=24,
        stage1_layers=1,
        stage2_layers=1,
        lookahead=3,
        epochs=2,
        lr=5e-3,
    )
    return VisemeNetTrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def utterances(sync_set):
    synthetic = synthetic_set(8, ["en-us", "de"], 0, False, 1.0)
    real, skipped = real_set([sync_set], "train", 1, 1.0, 0)
    assert not skipped and len(real) == 8  # 4 clips, each clean and degraded
    return synthetic, real


def test_steps_lower_every_loss(utterances, tmp_path, sync_set):
    synthetic, real = utterances
    settings = config(tmp_path / "run", sync_set)
    torch.manual_seed(0)
    model = create_model("visemenet", **settings.model_config())
    mean, std = feature_statistics(synthetic + real)
    model.feature_mean.copy_(torch.from_numpy(mean))
    model.feature_std.copy_(torch.from_numpy(std))
    rng = np.random.default_rng(0)
    picks = sample_batch(synthetic, rng, 6, 80, 3) + sample_batch(real, rng, 4, 80, 3)
    batch = make_batch(picks, 80, 3, mean)
    assert batch.features.shape == (10, 83, 65) and batch.lips.shape == (10, 80, 80)
    assert batch.curves_known[:6].any() and not batch.curves_known[6:].any() and batch.real[6:].all()
    optimizer = torch.optim.Adam(model.parameters(), 5e-3)
    with torch.no_grad():
        before = {k: float(v) for k, v in batch_losses(model, batch, settings).items()}
    for _ in range(40):
        loss = batch_losses(model, batch, settings)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        after = {k: float(v) for k, v in batch_losses(model, batch, settings).items()}
    for name in ("lips", "groups", "visemes", "jali", "total"):
        assert after[name] < 0.8 * before[name], (name, before[name], after[name])


def test_held_out_voices_are_a_fixed_fifth():
    names = [f"v{k:02d}" for k in range(20)]
    held = held_out_variants(names)
    assert len(held) == 4 and held == held_out_variants(list(reversed(names)))


def test_a_run_saves_a_model_and_reuses_its_synthetic_speech(tmp_path, sync_set):
    out = tmp_path / "run"
    result = train_visemenet(config(out, sync_set), log=None)
    assert (out / "synthetic.npz").is_file() and (out / "best.safetensors").is_file()
    history = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(history) == 2 and "val_group_accuracy" in history[-1] and "val_lips_miss" in history[-1]
    assert result.best is not None and result.best["metric"] == "lips_miss"
    model = load_model(out / "best.safetensors", "visemenet")
    assert model.config.hidden == 24 and model.config.lookahead == 3
    assert float(model.feature_std.min()) > 0 and float(model.feature_mean.abs().sum()) > 0
    stamp = (out / "synthetic.npz").stat().st_mtime_ns
    train_visemenet(config(out, sync_set, epochs=3), log=None)  # resumes; the synthetic set is read back
    assert (out / "synthetic.npz").stat().st_mtime_ns == stamp
    assert len((out / "log.jsonl").read_text().splitlines()) == 3
    with pytest.raises(InputError, match="holds 10 utterances"):
        train_visemenet(config(out, sync_set, synthetic=9, epochs=4), log=None)


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(InputError, match="nothing to train on"):
        config(tmp_path / "a", synthetic=0)
    with pytest.raises(InputError, match="unknown espeak-ng languages: xx"):
        train_visemenet(config(tmp_path / "b", languages=("en-us", "xx")), log=None)
    with pytest.raises(InputError):
        config(tmp_path / "c", window=5)
    with pytest.raises(InputError):
        config(tmp_path / "d", lookahead=99)
