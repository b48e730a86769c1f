"""Training FaceFormer on a tiny synthetic set: the loss goes down, checkpoints resume exactly, the
command line trains and its model animates."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.train.faceformer import FaceFormerTrainConfig, train_faceformer

SMALL = {"feature_dim": 16, "mel_width": 16, "mel_layers": 1}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from talkingface.builders.synthetic import make_synthetic_set

    root = tmp_path_factory.mktemp("synth")
    make_synthetic_set(root, sentences=3, speakers=2, seed=0)
    return root


def config(synthetic, out, **changes) -> FaceFormerTrainConfig:
    base = dict(
        data=synthetic,
        out_dir=out,
        train_subjects=("SynthA", "SynthB"),
        val_subjects=("SynthA",),
        train_sentences=(1, 2),
        val_sentences=(3,),
        teacher_forcing=True,
        epochs=6,
        lr=1e-4,
        overrides=SMALL,
    )
    return FaceFormerTrainConfig(**{**base, **changes})


def test_training_reduces_the_loss_and_saves_the_best_model(synthetic, tmp_path):
    from talkingface.models import load_model

    result = train_faceformer(config(synthetic, tmp_path / "run"), log=None)
    losses = [r["train_loss"] for r in result.history]
    assert len(losses) == 6 and losses[-1] < 0.85 * losses[0]
    assert {"val_loss", "val_lve"} <= set(result.history[-1])
    assert result.best["metric"] == "lve"
    lines = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 5, 6]
    model = load_model(tmp_path / "run" / "best.safetensors")
    assert model.config.num_speakers == 2 and model.config.num_vertices == 478


def test_autoregressive_steps_reduce_the_loss_too(synthetic, tmp_path):
    result = train_faceformer(config(synthetic, tmp_path / "ar", teacher_forcing=False, epochs=3), log=None)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < losses[0]


def test_an_interrupted_run_resumes_to_the_same_weights(synthetic, tmp_path):
    from talkingface.models import load_model

    whole = train_faceformer(config(synthetic, tmp_path / "whole", epochs=3), log=None)
    train_faceformer(config(synthetic, tmp_path / "parts", epochs=2), log=None)
    parts = train_faceformer(config(synthetic, tmp_path / "parts", epochs=3), log=None)
    assert [r["train_loss"] for r in parts.history] == pytest.approx([r["train_loss"] for r in whole.history])
    a = load_model(tmp_path / "whole" / "last.safetensors").state_dict()
    b = load_model(tmp_path / "parts" / "last.safetensors").state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_bad_training_setups_are_refused(synthetic, tmp_path):
    with pytest.raises(InputError, match="both trained on and held out"):
        train_faceformer(config(synthetic, tmp_path / "x", val_sentences=(2, 3)), log=None)
    with pytest.raises(InputError, match="no sequences"):
        train_faceformer(config(synthetic, tmp_path / "x", train_subjects=("Nobody",)), log=None)
    with pytest.raises(InputError, match="no wav/ folder"):
        train_faceformer(config(synthetic, tmp_path / "x", data=tmp_path), log=None)


def test_train_command_then_mesh(synthetic, tmp_path, capsys):
    from talkingface.cli import main

    out = tmp_path / "cli"
    argv = [
        "train",
        "faceformer",
        "--data",
        str(synthetic),
        "--out",
        str(out),
        "--train-subjects",
        "SynthA",
        "SynthB",
        "--val-subjects",
        "SynthB",
        "--train-sentences",
        "1-2",
        "--val-sentences",
        "3",
        "--epochs",
        "1",
        "--teacher-forcing",
        "--feature-dim",
        "16",
    ]
    assert main(argv) == 0
    assert "best lve" in capsys.readouterr().out
    wav = sorted((synthetic / "wav").glob("*.wav"))[0]
    assert (
        main(
            [
                "mesh",
                "--audio",
                str(wav),
                "--method",
                "faceformer",
                "--checkpoint",
                str(out / "best.safetensors"),
                "-o",
                str(tmp_path / "v.npy"),
            ]
        )
        == 0
    )
    frames = np.load(tmp_path / "v.npy")
    assert frames.shape[1] == 478 * 3 and np.isfinite(frames).all()
    assert main([*argv[:-2], "--epochs", "0"]) == 2
    assert "epochs must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_data_parallel_training_under_torchrun(synthetic, tmp_path):
    """Two processes share each epoch; process 0 alone evaluates, saves and reports."""
    import subprocess
    import sys

    out = tmp_path / "ddp"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "talkingface",
        "train",
        "faceformer",
        "--data",
        str(synthetic),
        "--out",
        str(out),
        "--train-subjects",
        "SynthA",
        "SynthB",
        "--val-subjects",
        "SynthA",
        "--train-sentences",
        "1-2",
        "--val-sentences",
        "3",
        "--epochs",
        "2",
        "--teacher-forcing",
        "--feature-dim",
        "16",
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[:3000] + "\n...\n" + done.stderr[-3000:]
    assert done.stdout.count("best lve") == 1 and done.stdout.count("FaceFormer: 4 training") == 1
    assert [json.loads(line)["epoch"] for line in (out / "log.jsonl").read_text().splitlines()] == [1, 2]
    assert (out / "best.safetensors").exists() and (out / "last.safetensors").exists()


def test_make_dataset_then_train_needs_no_split_flags(tmp_path, capsys):
    """The README's two commands as they stand: the set's split.json names its speakers and held-out
    sentences."""
    from talkingface.cli import main

    assert main(["make-dataset", str(tmp_path / "set"), "--speakers", "2", "--sentences", "3", "--quiet"]) == 0
    split = json.loads((tmp_path / "set" / "split.json").read_text())
    assert split["train_subjects"] == ["SynthA", "SynthB"] and split["val_sentences"] == [3]
    argv = ["train", "faceformer", "--data", str(tmp_path / "set"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--epochs", "1", "--teacher-forcing", "--feature-dim", "16"]) == 0
    out = capsys.readouterr().out
    assert "best lve" in out and "split from" in out
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"] == str(tmp_path / "set") and saved["feature_dim"] == 16
    assert {"accumulate", "grad_clip", "schedule", "evaluate_every", "warmup_epochs"} <= set(saved)


def test_a_resumed_run_with_another_config_is_refused(synthetic, tmp_path, capsys):
    from talkingface.cli import main

    train_faceformer(config(synthetic, tmp_path / "run", epochs=1), log=None)
    with pytest.raises(InputError, match=r"another config \(lr: 0.0001 -> 0.001; teacher_forcing: True -> False\)"):
        train_faceformer(config(synthetic, tmp_path / "run", epochs=2, lr=1e-3, teacher_forcing=False), log=None)
    more = train_faceformer(config(synthetic, tmp_path / "run", epochs=2), log=None)  # only epochs changed
    assert [r["epoch"] for r in more.history] == [1, 2]
    fresh = train_faceformer(config(synthetic, tmp_path / "run", epochs=1, lr=1e-3, resume=False), log=None)
    assert len(fresh.history) == 1
    argv = ["train", "faceformer", "--data", str(synthetic), "--out", str(tmp_path / "run"), "--epochs", "3"]
    assert main([*argv, "--schedule", "cosine"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schedule: 'constant' -> 'cosine'" in err


def test_learning_rate_schedules_and_accumulation(synthetic, tmp_path):
    from talkingface.train.loop import LoopConfig

    cosine = LoopConfig(out_dir=tmp_path, epochs=5, lr=1.0, schedule="cosine", warmup_epochs=1, min_lr_ratio=0.0)
    assert [round(cosine.learning_rate(e), 4) for e in range(5)] == [0.5, 1.0, 0.75, 0.25, 0.0]
    assert cosine.learning_rate(1) == 1.0 and cosine.learning_rate(4) == pytest.approx(0.0)
    step = LoopConfig(out_dir=tmp_path, epochs=9, lr=1.0, schedule="step", step_epochs=3)
    assert [step.learning_rate(e) for e in (0, 2, 3, 6, 8)] == [1.0, 1.0, 0.5, 0.25, 0.25]
    with pytest.raises(InputError, match="schedule must be one of"):
        LoopConfig(out_dir=tmp_path, schedule="linear")
    with pytest.raises(InputError, match="grad_clip must be > 0"):
        LoopConfig(out_dir=tmp_path, grad_clip=0.0)
    result = train_faceformer(
        config(synthetic, tmp_path / "acc", epochs=2, accumulate=2, grad_clip=1.0, schedule="cosine"), log=None
    )
    assert [r["lr"] for r in result.history] == pytest.approx([1e-4, 1e-6])


def test_the_training_device_is_checked_before_any_work(synthetic, tmp_path, capsys):
    import torch

    from talkingface.cli import main
    from talkingface.train.loop import training_device

    assert training_device("cpu") == torch.device("cpu")
    assert training_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            training_device("cuda")
    argv = ["train", "faceformer", "--data", str(synthetic), "--out", str(tmp_path / "run"), "--epochs", "1"]
    assert main([*argv, "--device", "tpu"]) == 2
    assert "device must be auto, cpu, cuda" in capsys.readouterr().err and not (tmp_path / "run").exists()


def _damage(state, damage: str) -> None:
    import pickle

    if damage == "cut":
        state.write_bytes(state.read_bytes()[:200])
    elif damage == "junk":
        state.write_bytes(b"not a saved state" * 20)
    elif damage == "runs code":

        class RunsCode:
            def __reduce__(self):
                return (print, ("the saved state ran code",))

        state.write_bytes(pickle.dumps({"optimizer": RunsCode()}))
    else:
        torch.save({"epoch": 1}, state)


@pytest.mark.parametrize("damage", ["cut", "junk", "runs code", "no optimizer"])
def test_a_damaged_saved_state_is_refused(synthetic, tmp_path, damage, capsys):
    """Resuming from a state.pt that is cut short, junk, would run code or lacks what a resume needs
    stops with an error naming it, and nothing runs."""
    from talkingface.errors import CheckpointError

    run = tmp_path / "run"
    train_faceformer(config(synthetic, run, epochs=1), log=None)
    _damage(run / "state.pt", damage)
    with pytest.raises(CheckpointError, match="state.pt: the run's saved state cannot be resumed"):
        train_faceformer(config(synthetic, run, epochs=2), log=None)
    assert "ran code" not in capsys.readouterr().out


def test_the_command_line_refuses_a_damaged_state_in_one_line(synthetic, tmp_path, capsys):
    from talkingface.cli import main

    argv = [
        "train", "faceformer", "--data", str(synthetic), "--out", str(tmp_path / "run"), "--train-subjects",
        "SynthA", "--val-subjects", "SynthB", "--teacher-forcing", "--feature-dim", "16", "--epochs", "1",
    ]  # fmt: skip
    assert main(argv) == 0
    _damage(tmp_path / "run" / "state.pt", "runs code")
    capsys.readouterr()
    assert main([*argv[:-1], "2"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("talkingface")]
    assert len(lines) == 1 and "state.pt" in lines[0] and "--restart" in lines[0], captured.err
    assert "Traceback" not in captured.err and "ran code" not in captured.out
