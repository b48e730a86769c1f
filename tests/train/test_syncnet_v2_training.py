"""Training syncnet_python's model with the contrastive loss on a small set whose mouths open with the
sound: in-sync pairs come closer than shifted ones, runs resume exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkingface.data.lrs2 import read_filelist
from talkingface.errors import InputError
from talkingface.train.syncnet_v2 import SyncNetV2TrainConfig, SyncV2Pairs, contrastive_loss, train_syncnet_v2


def config(sync_set, out, **changes):
    base = dict(data=sync_set, out_dir=out, batch_size=8, steps_per_epoch=6, val_pairs=16, margin=2.0,
                channel_divisor=16, lr=1e-3, epochs=3)  # fmt: skip
    return SyncNetV2TrainConfig(**{**base, **changes})


def test_pairs_are_syncnet_python_shaped_rgb_frames_and_mfcc_windows(sync_set):
    pairs = SyncV2Pairs(read_filelist(sync_set, "train"))
    mfcc, video, labels = pairs.sample(np.random.default_rng(0), 4)
    assert mfcc.shape == (4, 1, 13, 20) and video.shape == (4, 3, 5, 224, 224) and labels.tolist() == [1, 0, 1, 0]
    assert video.max() > 100 and video.min() >= 0  # raw 0-255, as syncnet_python feeds it


def test_contrastive_loss_pulls_in_sync_pairs_and_pushes_others_past_the_margin():
    d = torch.tensor([0.0, 3.0, 1.0, 0.5])
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    # in sync: d^2 (0 and 1); off: (margin - d)^2 clipped at 0 (0 and 2.25) -> mean 0.8125
    assert contrastive_loss(d, y, margin=2.0).item() == pytest.approx((0 + 0 + 1 + 2.25) / 4)
    with pytest.raises(InputError, match="margin"):
        SyncNetV2TrainConfig(data=".", out_dir=".", margin=0)


@pytest.mark.slow
def test_syncnet_v2_trains_and_resumes(sync_set, tmp_path):
    from talkingface.models import load_model

    result = train_syncnet_v2(config(sync_set, tmp_path / "run"), log=None)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert "val_accuracy" in result.history[-1]
    model = load_model(tmp_path / "run" / "last.safetensors")
    assert model.variant == "syncnet.v2" and model.config.channel_divisor == 16
    train_syncnet_v2(config(sync_set, tmp_path / "parts", epochs=1), log=None)
    parts = train_syncnet_v2(config(sync_set, tmp_path / "parts"), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in result.history])
