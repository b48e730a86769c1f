"""Training the lip-sync expert on a small set in the preprocessed layout whose mouths open with the
sound: the loss leaves ln 2, runs resume, bad clips are skipped, a stuck loss is reported."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from talkingface.data.lrs2 import write_filelists
from talkingface.errors import InputError
from talkingface.train.syncnet import LN2, SyncNetTrainConfig, SyncPairs, stall_warning, train_syncnet


def config(sync_set, out, **changes):
    base = dict(
        data=sync_set,
        out_dir=out,
        batch_size=16,
        steps_per_epoch=12,
        val_pairs=64,
        channel_divisor=8,
        lr=1e-3,
        epochs=4,
    )
    return SyncNetTrainConfig(**{**base, **changes})


@pytest.mark.slow
def test_the_expert_learns_sync_and_resumes(sync_set, tmp_path):
    from talkingface.models import load_model

    result = train_syncnet(config(sync_set, tmp_path / "run"), log=None)
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"] and last["val_loss"] < LN2 - 0.02
    assert last["val_accuracy"] > 0.6
    model = load_model(tmp_path / "run" / "best.safetensors")
    assert model.variant == "syncnet.expert" and model.config.channel_divisor == 8
    # An interrupted run continues to the same weights.
    train_syncnet(config(sync_set, tmp_path / "parts", epochs=2), log=None)
    parts = train_syncnet(config(sync_set, tmp_path / "parts"), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in result.history])
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["batch_size"] == 16 and saved["channel_divisor"] == 8


def test_pairs_are_half_in_sync_and_shapes_are_the_experts(sync_set):
    from talkingface.data.lrs2 import read_filelist

    pairs = SyncPairs(read_filelist(sync_set, "train"))
    mel, face, labels = pairs.sample(np.random.default_rng(1), 10)
    assert mel.shape == (10, 1, 80, 16) and face.shape == (10, 15, 48, 96) and labels.tolist() == [1, 0] * 5
    assert face.min() >= 0 and face.max() <= 1


def test_a_broken_clip_is_skipped_not_a_crash(sync_set, tmp_path):
    import shutil

    from talkingface.data.lrs2 import read_filelist

    broken = tmp_path / "set"
    shutil.copytree(sync_set, broken)
    (broken / "s0" / "c" / "7.jpg").unlink()  # an unreadable frame
    (broken / "s1" / "c" / "clip.json").unlink()  # not a clip at all
    pairs = SyncPairs(read_filelist(broken, "train"))
    assert len(pairs.clips) == 3 and "not a preprocessed clip" in pairs.skipped[0]
    *_, labels = pairs.sample(np.random.default_rng(0), 32)  # the clip with a bad frame is passed over
    assert len(labels) == 32
    (tmp_path / "empty").mkdir()
    write_filelists(tmp_path / "empty", {})
    with pytest.raises(InputError, match="no usable clips"):
        SyncPairs(read_filelist(tmp_path / "empty", "train"))


def test_a_loss_stuck_at_ln2_is_reported():
    stuck = [{"train_loss": math.log(2) + d} for d in (0.004, -0.002, 0.001)]
    message = stall_warning(stuck, 3)
    assert message is not None and "0.693" in message and "sync" in message and "25 fps" in message
    assert stall_warning(stuck, 4) is None and stall_warning([*stuck[:2], {"train_loss": 0.5}], 3) is None


def test_train_syncnet_command(sync_set, tmp_path, capsys):
    from talkingface.cli import main

    argv = ["train", "syncnet", "--data", str(sync_set), "--out", str(tmp_path / "run"), "--epochs", "1"]
    assert main([*argv, "--steps-per-epoch", "2", "--batch-size", "8", "--channel-divisor", "16"]) == 0
    out = capsys.readouterr().out
    assert "best loss" in out and (tmp_path / "run" / "last.safetensors").is_file()
    assert main([*argv, "--batch-size", "1"]) == 2
    assert "batch_size must be >= 2" in capsys.readouterr().err
