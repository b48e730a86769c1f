"""Training LipGAN on a small set whose mouths open with the sound: the generator's L1 falls, both
networks are saved and resumed exactly."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.data.lrs2 import read_filelist
from talkingface.errors import InputError
from talkingface.train.lipgan import LipGANFrames, LipGANTrainConfig, train_lipgan


def config(sync_set, out, **changes):
    base = dict(data=sync_set, out_dir=out, batch_size=8, steps_per_epoch=8, val_samples=8, width=4,
                embedding=16, disc_weight=0.05, lr=2e-3, disc_lr=2e-3, epochs=3)  # fmt: skip
    return LipGANTrainConfig(**{**base, **changes})


def test_samples_are_reference_then_masked_target_with_its_speech(sync_set):
    frames = LipGANFrames(read_filelist(sync_set, "train"))
    batch = frames.sample(np.random.default_rng(0), 3)
    assert batch["face"].shape == (3, 6, 96, 96) and batch["target"].shape == (3, 3, 96, 96)
    assert batch["mfcc"].shape == batch["off"].shape == (3, 1, 12, 35)
    assert float(batch["face"][:, 3:, 48:].abs().max()) == 0.0  # the target's lower half is masked
    assert float(batch["face"][:, :3, 48:].abs().max()) > 0  # the reference is whole


@pytest.mark.slow
def test_lipgan_trains_and_resumes(sync_set, tmp_path):
    from talkingface.models import load_model

    result = train_lipgan(config(sync_set, tmp_path / "run"), log=None)
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"] and last["val_l1"] < first["val_l1"]
    assert (tmp_path / "run" / "samples.png").is_file() and (tmp_path / "run" / "disc_last.safetensors").is_file()
    assert load_model(tmp_path / "run" / "last.safetensors").variant == "lipgan"
    assert load_model(tmp_path / "run" / "disc_last.safetensors").variant == "lipgan.disc"
    train_lipgan(config(sync_set, tmp_path / "parts", epochs=1), log=None)
    parts = train_lipgan(config(sync_set, tmp_path / "parts"), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in result.history])


def test_bad_settings():
    with pytest.raises(InputError, match="disc_weight"):
        LipGANTrainConfig(data=".", out_dir=".", disc_weight=1.5)
