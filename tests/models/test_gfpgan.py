"""GFPGAN (clean): the state dict has the public format's keys and shapes, the public file form loads
strictly and safely, and the network restores a face at 512 px."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import in_shared

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
    expected = {name: tuple(shape) for name, shape in json.loads(in_shared(KEYS).read_text())}
    ours = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    assert ours == expected
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == 86_444_252  # the reference's count; the 699,024 noise values are buffers
    assert sum(b.numel() for b in model.buffers()) == 699_024


@pytest.mark.slow
def test_the_public_file_form_loads_strictly_and_safely(model, tmp_path):
    path = tmp_path / "GFPGANv1.4.pth"
    torch.save({"params_ema": model.state_dict()}, path)
    loaded = load_gfpgan(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    missing = dict(model.state_dict())
    missing.pop("final_linear.bias")
    torch.save({"params": missing}, tmp_path / "cut.pth")
    with pytest.raises(CheckpointError, match=r"does not fit Gfpgan; 1 missing: final_linear.bias"):
        load_gfpgan(tmp_path / "cut.pth")

    class Runs:
        def __reduce__(self):
            return (print, ("this ran",))

    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"params_ema": Runs()}))
    with pytest.raises(CheckpointError, match="refused: the file would run code"):
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


@pytest.mark.slow
def test_the_same_numbers_as_the_reference_implementation():
    """Golden parity. The fixture was made outside this repository by TencentARC/GFPGAN's
    ``GFPGANv1Clean`` (commit 7552a7791caad982045a7bbe5634bbf1cd5c8679, ``gfpgan/archs/gfpganv1_clean_arch.py``
    and ``stylegan2_clean_arch.py``, with basicsr's registry and weight initialisation stubbed out; built
    as GFPGANer builds v1.3/v1.4: input_is_latent, different_w, sft_half, channel_multiplier 2) on the
    seeded weights of ``golden.deterministic_state(state_dict, seed=0, gain=1)``, in eval mode, with
    ``randomize_noise=False`` (the stored noise). Input: ``golden._images`` (seed 1) at 64 px, each pixel
    repeated 8x8 to 512 px, scaled to [-1, 1]. Stored: the output pooled over 8x8 blocks and every
    16th pixel. Measured here: bit-identical."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from golden import deterministic_state

    with np.load(Path(__file__).parent / "golden" / "gfpgan_clean.npz") as data:
        stored = {k: data[k] for k in data.files}
    model = Gfpgan().eval()
    model.load_state_dict(
        deterministic_state(model.state_dict(), int(stored["state_seed"]), float(stored["state_gain"]))
    )
    x = torch.from_numpy(stored["face"]).float().repeat_interleave(8, 2).repeat_interleave(8, 3) / 127.5 - 1
    with torch.no_grad():
        y = model(x)
    assert stored["sampled"].std() > 0.5  # not a degenerate output
    for name, got in (("pooled", torch.nn.functional.avg_pool2d(y, 8)), ("sampled", y[:, :, ::16, ::16])):
        expected = stored[name]
        assert np.abs(got.numpy() - expected).max() <= 1e-4 * np.abs(expected).max(), name
