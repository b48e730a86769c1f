import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.models import create_model, load_model, save_model


def test_embeddings_are_unit_vectors_of_lips_and_speech(tmp_path):
    model = create_model("syncnet.lips", embedding=32, width=8, lip_width=16)
    assert model.spec.visual == "lip_landmarks" and model.spec.image_size is None
    assert model.spec.family == "syncnet" and model.spec.role == "sync"
    audio, lips = model(torch.randn(3, 1, 80, 16), torch.randn(3, 5, 80))
    assert audio.shape == lips.shape == (3, 32)
    np.testing.assert_allclose(audio.norm(dim=1).detach().numpy(), 1, atol=1e-5)
    with pytest.raises(InputError, match="lip windows"):
        model.forward_lips(torch.randn(2, 4, 80))
    with pytest.raises(InputError, match="mel windows"):
        model.forward_audio(torch.randn(2, 1, 80, 20))
    path = save_model(model, tmp_path / "m.safetensors")
    again = load_model(path)
    assert again.variant == "syncnet.lips" and again.config == model.config
    mel = torch.randn(2, 1, 80, 16)
    torch.testing.assert_close(again.forward_audio(mel), model.eval().forward_audio(mel))


def test_the_built_in_model_ships_small_with_its_card():
    from talkingface.models.registry import builtin_path
    from talkingface.models.syncnet_lips import builtin_sync_model

    path = builtin_path("syncnet.lips")
    assert path.stat().st_size < 5_000_000
    model = builtin_sync_model()
    assert model.variant == "syncnet.lips" and not model.training
    card = (path.parent / "syncnet_lips.md").read_text()
    training = card.split("## Training data")[1].split("\n## ")[0]
    assert "GRID" in training and "licen" in training.lower()
    assert not any(name in training for name in ("LRS2", "MEAD", "VisualVoice"))  # research-only sources
    assert "## Evaluation" in card and "held-out" in card
