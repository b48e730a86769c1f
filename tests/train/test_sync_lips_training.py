"""Training the built-in sync model on a small set whose lips open with the sound: the matching loss
goes down, the held-out offsets come out right, runs resume exactly, bad clips are skipped."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from talkingface.data.lrs2 import read_filelist, write_filelists
from talkingface.errors import InputError
from talkingface.train.sync_lips import (
    SHIFTS,
    SyncLipsTrainConfig,
    clip_offset,
    load_clips,
    sample_runs,
    train_sync_lips,
)


def config(sync_set, out, **changes):
    base = dict(
        data=(str(sync_set),),
        out_dir=out,
        runs=4,
        run_frames=16,
        steps_per_epoch=15,
        speeds=(0.9,),
        embedding=32,
        width=8,
        lip_width=32,
        dropout=0.0,
        epochs=4,
        lr=3e-3,
    )
    return SyncLipsTrainConfig(**{**base, **changes})


@pytest.mark.slow
def test_the_model_learns_which_sound_goes_with_the_lips_and_resumes(sync_set, tmp_path):
    from talkingface.models import load_model

    result = train_sync_lips(config(sync_set, tmp_path / "run"), log=None)
    first, last = result.history[0], result.history[-1]
    assert first["train_loss"] < math.log(2 * SHIFTS + 1) + 0.5  # starts near chance among 31
    assert last["train_loss"] < first["train_loss"] - 0.3
    assert last["val_offset_within_one"] == 1.0  # both held-out clips: offset 0 found
    model = load_model(tmp_path / "run" / "last.safetensors")
    assert model.variant == "syncnet.lips" and model.config.embedding == 32
    # An interrupted run continues to the same weights.
    train_sync_lips(config(sync_set, tmp_path / "parts", epochs=2), log=None)
    parts = train_sync_lips(config(sync_set, tmp_path / "parts"), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in result.history])
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["run_frames"] == 16 and saved["speeds"] == [0.9]
    # Audio moved 3 frames later is found 3 frames late (syncnet_python's sign: -3).
    clip = load_clips(read_filelist(sync_set, "val"))[0][0]
    late = type(clip)(clip.name, clip.lips, np.concatenate([clip.mels[:3] * 0 + clip.mels[0], clip.mels[:-3]]))
    assert abs(clip_offset(model, late)[0] - -3) <= 1


def test_runs_pair_each_lip_window_with_the_31_audio_windows_around_it(sync_set):
    clips, skipped = load_clips(read_filelist(sync_set, "train"), speeds=(1.1,))
    assert len(clips) == 8 and not skipped  # 4 clips, each also sped up
    assert len(clips[1].lips) == round(40 / 1.1)
    runs = sample_runs(clips, np.random.default_rng(0), 3, 10)
    for lips, mels in runs:
        assert lips.shape == (10, 5, 80) and mels.shape == (10 + 2 * SHIFTS, 1, 80, 16)
        assert lips.dtype == mels.dtype == torch.float32


def test_bad_clips_are_skipped_and_settings_checked(sync_set, tmp_path):
    import shutil

    broken = tmp_path / "set"
    shutil.copytree(sync_set, broken)
    (broken / "s0" / "c" / "landmarks.npy").unlink()
    (broken / "s1" / "c" / "clip.json").unlink()
    clips, skipped = load_clips(read_filelist(broken, "train"))
    assert len(clips) == 2 and len(skipped) == 2
    (tmp_path / "empty").mkdir()
    write_filelists(tmp_path / "empty", {})
    with pytest.raises(InputError, match="no usable training clips"):
        train_sync_lips(config(tmp_path / "empty", tmp_path / "out"), log=None)
    with pytest.raises(InputError, match="speeds"):
        config(sync_set, tmp_path / "x", speeds=(3.0,))
