"""GFPGAN (clean): the state dict has the public format's keys and shapes, the public file form loads
strictly and safely, and the network restores a face at 512 px."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from talkingface.errors import CheckpointError
from talkingface.models.gfpgan import Gfpgan, load_gfpgan

KEYS = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "checkpoint-keys" / "keys_gfpgan_v1_clean_512.json"
)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Gfpgan().eval()


def test_state_dict_keys_and_shapes_are_the_public_formats(model):
    expected = {name: tuple(shape) for name, shape in json.loads(KEYS.read_text())}
    ours = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    assert ours == expected
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == 86_444_252  # the reference's count; the 699,024 noise values are buffers
    assert sum(b.numel() for b in model.buffers()) == 699_024


def test_the_public_file_form_loads_strictly_and_safely(model, tmp_path):
    path = tmp_path / "GFPGANv1.4.pth"
    torch.save({"params_ema": model.state_dict()}, path)
    loaded = load_gfpgan(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    missing = dict(model.state_dict())
    missing.pop("final_linear.bias")
    torch.save({"params": missing}, tmp_path / "cut.pth")
    with pytest.raises(CheckpointError, match="not GFPGAN v1.3/v1.4"):
        load_gfpgan(tmp_path / "cut.pth")

    class Runs:
        def __reduce__(self):
            return (print, ("this ran",))

    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"params_ema": Runs()}))
    with pytest.raises(CheckpointError, match="loads safely"):
        load_gfpgan(tmp_path / "evil.pth")


@pytest.mark.slow
def test_a_512_face_goes_through_deterministically(model, photo):
    import cv2

    face = cv2.resize(photo, (512, 512), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(face).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        first, again = model(x), model(x)
    assert first.shape == (1, 3, 512, 512) and torch.isfinite(first).all()
    assert torch.equal(first, again)  # the stored noise: the same face gives the same output
    from talkingface.models.gfpgan import StyleConv

    strengths = [m.weight for m in model.modules() if isinstance(m, StyleConv)]
    with torch.no_grad():
        for s in strengths:
            s.fill_(0.1)  # trained weights add noise; a fresh draw then changes the output
        fresh, stored = model(x, fresh_noise=True), model(x)
        for s in strengths:
            s.zero_()
    assert not torch.equal(fresh, stored)
