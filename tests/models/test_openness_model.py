"""The mouth-openness network: shapes, ensemble, gradients, saving and the built-in model's card."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from talkingface.errors import CheckpointError, InputError
from talkingface.models import create_model, save_model
from talkingface.models.openness import OpennessConfig, load_openness
from talkingface.models.registry import builtin_path


def tiny():
    torch.manual_seed(0)
    return create_model("openness", channels=8, members=2, dilations=(1, 2))


def test_outputs_one_value_per_step_the_mean_of_its_members():
    model = tiny()
    features = torch.randn(3, 50, 24)
    members = model.members_forward(features)
    assert members.shape == (3, 2, 50)
    assert torch.allclose(model(features), members.mean(1))
    # A batch equals its clips one by one.
    assert torch.allclose(model(features[1:2]), model(features)[1:2], atol=1e-6)
    with pytest.raises(InputError, match="24"):
        model(torch.randn(1, 50, 20))


def test_every_parameter_learns_and_the_output_hears_both_sides():
    model = tiny().train()
    features = torch.randn(2, 60, 24, requires_grad=True)
    model(features)[:, 30].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    heard = features.grad.abs().sum((0, 2))  # type: ignore[union-attr]
    reach = model.config.reach
    assert heard[30 - reach] > 0 and heard[30 + reach] > 0  # before and after the step
    assert heard[: 30 - reach].sum() == 0 and heard[30 + reach + 1 :].sum() == 0


def test_settings_are_checked():
    for settings in ({"channels": 2}, {"kernel": 4}, {"dilations": ()}, {"dropout": 1.0}, {"members": 0}):
        with pytest.raises(InputError):
            OpennessConfig(**settings)
    assert OpennessConfig().reach == 2 * (1 + 2 + 4 + 2)


def test_saved_models_load_and_other_models_are_refused(tmp_path):
    model = tiny()
    path = save_model(model, tmp_path / "open.safetensors")
    again = load_openness(path)
    features = torch.randn(1, 40, 24)
    assert torch.equal(again(features), model(features))
    with pytest.raises(CheckpointError):
        load_openness(save_model(create_model("syncnet.lips"), tmp_path / "sync.safetensors"))


def test_the_built_in_model_loads_and_has_its_card():
    model = load_openness()
    assert model.config == OpennessConfig()
    assert sum(p.numel() for p in model.parameters()) < 100_000
    card = Path(builtin_path("openness")).with_suffix(".md").read_text()
    for needed in ("Training data", "licence", "held-out"):
        assert needed.lower() in card.lower()
