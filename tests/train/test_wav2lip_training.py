"""Training the Wav2Lip generator against a frozen expert on the small synced set (tests/train/conftest.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkingface.errors import CheckpointError, InputError
from talkingface.models import create_model, save_model
from talkingface.train.wav2lip import GeneratorWindows, Wav2LipTrainConfig, expert_sync_loss, train_wav2lip


@pytest.fixture(scope="module")
def expert_file(tmp_path_factory):
    torch.manual_seed(3)
    return save_model(
        create_model("syncnet.expert", channel_divisor=16), tmp_path_factory.mktemp("e") / "expert.safetensors"
    )


def config(sync_set, expert_file, out, **changes):
    base = dict(
        data=sync_set,
        out_dir=out,
        expert=expert_file,
        batch_size=4,
        steps_per_epoch=6,
        val_samples=8,
        channel_divisor=16,
        lr=1e-3,
        epochs=3,
    )
    return Wav2LipTrainConfig(**{**base, **changes})


@pytest.mark.slow
def test_the_generator_learns_and_resumes(sync_set, expert_file, tmp_path):
    result = train_wav2lip(config(sync_set, expert_file, tmp_path / "run", sync_threshold=0.0), log=None)
    losses = [r["val_l1"] for r in result.history]
    assert losses[-1] < losses[0] and {"val_sync", "val_loss"} <= set(result.history[-1])
    import cv2

    grid = cv2.imread(str(tmp_path / "run" / "samples.png"))
    assert grid.shape == (4 * 96, 4 * 96, 3)  # rows of masked input, reference, generated, real
    assert (grid[:48, :96] > 0).any() and (grid[48:96, :96] == 0).all()  # the input's lower half is hidden
    train_wav2lip(config(sync_set, expert_file, tmp_path / "parts", epochs=2, sync_threshold=0.0), log=None)
    parts = train_wav2lip(config(sync_set, expert_file, tmp_path / "parts", sync_threshold=0.0), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in result.history])


def test_windows_are_the_generators_inputs(sync_set):
    from talkingface.data.lrs2 import read_filelist

    windows = GeneratorWindows(read_filelist(sync_set, "train"))
    batch = windows.sample(np.random.default_rng(0), 3)
    assert batch["face"].shape == (3, 6, 5, 96, 96) and batch["target"].shape == (3, 3, 5, 96, 96)
    assert batch["mels"].shape == (3, 5, 1, 80, 16) and batch["mel"].shape == (3, 1, 80, 16)
    assert (batch["face"][:, :3, :, 48:] == 0).all()  # the lower half of the target is hidden
    assert torch.equal(batch["face"][:, :3, :, :48], batch["target"][:, :, :, :48])  # the upper half is shown
    assert torch.equal(batch["mels"][:, 0], batch["mel"])  # the expert hears the window's first frame


def test_the_frozen_expert_stays_in_eval_mode(expert_file):
    from talkingface.models import load_model

    expert = load_model(expert_file).eval()
    before = {k: v.clone() for k, v in expert.state_dict().items()}
    generated = torch.rand(2, 3, 5, 96, 96, requires_grad=True)
    loss = expert_sync_loss(expert, torch.rand(2, 1, 80, 16), generated)
    loss.backward()
    assert generated.grad is not None and generated.grad.abs().sum() > 0
    assert all(torch.equal(before[k], v) for k, v in expert.state_dict().items())  # statistics unchanged


def test_bad_settings_are_refused(sync_set, expert_file, tmp_path):
    with pytest.raises(InputError, match="sync_weight"):
        config(sync_set, expert_file, tmp_path / "x", sync_weight=1.5)
    generator = save_model(create_model("wav2lip", channel_divisor=16), tmp_path / "g.safetensors")
    with pytest.raises(CheckpointError, match="g.safetensors: holds a wav2lip model, not syncnet.expert"):
        train_wav2lip(config(sync_set, generator, tmp_path / "y"), log=None)


@pytest.mark.slow
def test_the_gan_recipe_trains_and_resumes_its_discriminator_too(sync_set, expert_file, tmp_path, capsys):
    from talkingface.cli import main
    from talkingface.models import load_model

    gan = dict(gan=True, sync_threshold=0.0, epochs=2)
    whole = train_wav2lip(config(sync_set, expert_file, tmp_path / "whole", **gan), log=None)
    train_wav2lip(config(sync_set, expert_file, tmp_path / "parts", **{**gan, "epochs": 1}), log=None)
    parts = train_wav2lip(config(sync_set, expert_file, tmp_path / "parts", **gan), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in whole.history])
    a = load_model(tmp_path / "whole" / "disc_last.safetensors").state_dict()
    b = load_model(tmp_path / "parts" / "disc_last.safetensors").state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    fresh = create_model("wav2lip.disc", channel_divisor=16).state_dict()
    assert any(not torch.equal(a[k], fresh[k]) for k in a)  # the discriminator learned
    argv = [
        "train",
        "wav2lip-gan",
        "--data",
        str(sync_set),
        "--out",
        str(tmp_path / "cli"),
        "--expert",
        str(expert_file),
    ]
    small = [
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "2",
        "--val-samples",
        "4",
        "--channel-divisor",
        "16",
    ]
    assert main([*argv, *small, "--sync-threshold", "0"]) == 0
    assert (tmp_path / "cli" / "disc_last.safetensors").is_file() and "last:" in capsys.readouterr().out
    assert json.loads((tmp_path / "cli" / "config.json").read_text())["betas"] == [0.5, 0.999]
