"""The mouth-openness recipe on real clips: measured lips, a loss that falls, checkpoints, bad settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.train.openness import OpennessTrainConfig, frame_means, train_openness

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips"
GRID = ("rizkiarm__LipNet__pwij3p.mpg", "rizkiarm__LipNet__id2_vcd_swwp2s.mpg", "rizkiarm__LipNet__bbaf2n.mpg")


def test_frame_means_place_the_steps_as_at_work():
    from talkingface.animation.openness import at_frames

    steps = torch.randn(2, 101, dtype=torch.float64)
    frames = frame_means(steps, 26, 25.0)
    for k in range(2):
        assert np.allclose(frames[k].numpy(), at_frames(steps[k].numpy(), 26, 25.0))


@pytest.mark.slow
def test_the_recipe_learns_from_real_lips(tmp_path):
    if not CLIPS.is_dir():
        pytest.skip("../shared/data is not beside the checkout")
    from talkingface.models.openness import load_openness

    config = OpennessTrainConfig(
        data=tuple(str(CLIPS / n) for n in GRID[:2]),
        val=(str(CLIPS / GRID[2]),),
        out_dir=tmp_path / "run",
        batch_size=2,
        steps_per_epoch=15,
        epochs=2,
        members=1,
        augment=0.5,
        lr=3e-3,
        warmup_epochs=0,
        device="cpu",
    )
    result = train_openness(config, log=None)
    assert len(result.history) == 2 and result.history[-1]["train_loss"] < 1.0  # below a constant's error
    assert result.best is not None and result.best["metric"] == "lips_miss"
    assert result.history[-1]["val_lips_miss"] < 0.8  # the held-out speaker's lips are followed
    model = load_openness(tmp_path / "run" / "best.safetensors")
    assert model.config.members == 1
    assert len(list((tmp_path / "run" / "lips").glob("*.lips.npz"))) == 3  # the measured lips are kept
    # Asked again, the run resumes where it stopped.
    again = train_openness(OpennessTrainConfig(**{**config.__dict__, "epochs": 3}), log=None)
    assert [h["epoch"] for h in again.history] == [1, 2, 3]


def test_the_recipe_refuses_bad_settings_and_run_folders_before_any_work(tmp_path):
    clip = str(CLIPS / GRID[0])
    for settings, message in (
        ({"data": ()}, "give videos"),
        ({"augment": 2.0}, "augment"),
        ({"batch_size": 0}, "batch_size"),
        ({"channels": 1}, "channels"),
    ):
        with pytest.raises(InputError, match=message):
            OpennessTrainConfig(**{"data": (clip,), "out_dir": tmp_path / "run", **settings})
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out, message in ((a_file, "is a file"), (tmp_path / "missing" / "run", "does not exist")):
        with pytest.raises(InputError, match=message):
            train_openness(OpennessTrainConfig(data=(clip,), out_dir=out), log=None)
    assert a_file.read_text() == "x" and not (tmp_path / "missing").exists()
    with pytest.raises(InputError, match="no such file"):
        train_openness(OpennessTrainConfig(data=(str(tmp_path / "none.mp4"),), out_dir=tmp_path / "run"), log=None)
    if CLIPS.is_dir():
        with pytest.raises(InputError, match="both a training and a held-out"):
            train_openness(OpennessTrainConfig(data=(clip,), val=(clip,), out_dir=tmp_path / "run"), log=None)
        assert not (tmp_path / "run").exists()
