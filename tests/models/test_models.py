"""The 2D models: upstream layouts, behaviour, checkpoints and the inference form."""

import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from talkingface.errors import CheckpointError, InputError
from talkingface.models import ModelSpec, create_model, get_variant, load_model, save_model, variants
from talkingface.models.checkpoint import fill_batchnorm_counters, standard_filter
from talkingface.models.inference import fold_batchnorm, optimize_for_inference

# The upstream state-dict layouts (name, shape), as listed in the shared reference material.
KEYS = Path(__file__).resolve().parent / "upstream_keys"
UPSTREAM = [
    ("wav2lip", "keys_wav2lip.json", 36_298_035),
    ("syncnet.expert", "keys_syncnet_color.json", 16_435_072),
    ("wav2lip.disc", "keys_disc_qual.json", 14_113_793),
    ("syncnet.v2", "keys_syncnet_python_S.json", 13_631_616),
]


def randomise_batchnorm(model, seed=0):
    """Non-trivial running statistics, as a trained model has."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.bias.shape, generator=g) * 0.4 - 0.2)
    return model


# Tiny configs: every test that runs a network for its behaviour (not its upstream layout) uses these.
TINY = {
    "wav2lip": {"channel_divisor": 8},
    "wav2lip.192": {"channel_divisor": 16},
    "wav2lip.256": {"channel_divisor": 16},
    "wav2lip.disc": {"channel_divisor": 8},
    "syncnet.expert": {"channel_divisor": 8},
    "syncnet.v2": {"channel_divisor": 8},
    "lipgan": {"width": 4, "embedding": 16},
    "lipgan.disc": {"width": 4, "embedding": 16},
}


def tiny(name):
    return randomise_batchnorm(create_model(name, **TINY[name]))


def inputs(name, batch=2):
    g = torch.Generator().manual_seed(1)
    if name.startswith("wav2lip") and name != "wav2lip.disc":
        size = get_variant(name).config["image_size"]
        return torch.rand(batch, 1, 80, 16, generator=g), torch.rand(batch, 6, size, size, generator=g)
    return {
        "wav2lip.disc": (torch.rand(batch, 3, 96, 96, generator=g),),
        "syncnet.expert": (torch.rand(batch, 1, 80, 16, generator=g), torch.rand(batch, 15, 48, 96, generator=g)),
        "syncnet.v2": (torch.rand(batch, 1, 13, 20, generator=g), torch.rand(batch, 3, 5, 224, 224, generator=g) * 255),
        "lipgan": (torch.rand(batch, 1, 12, 35, generator=g), torch.rand(batch, 6, 96, 96, generator=g)),
        "lipgan.disc": (torch.rand(batch, 1, 12, 35, generator=g), torch.rand(batch, 3, 96, 96, generator=g)),
    }[name]


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name, keys_file, parameters", UPSTREAM)
def test_upstream_layout_and_parameter_count(name, keys_file, parameters):
    model = create_model(name)
    assert sum(p.numel() for p in model.parameters()) == parameters
    expected = json.loads((KEYS / keys_file).read_text())
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == expected


@pytest.mark.parametrize(
    "name", ["wav2lip", "wav2lip.192", "wav2lip.disc", "syncnet.expert", "syncnet.v2", "lipgan", "lipgan.disc"]
)
def test_shapes_batches_and_gradients(name):
    model = tiny(name)
    args = inputs(name, batch=3)
    with torch.no_grad():
        batched = as_tuple(model(*args))
        singles = [as_tuple(model(*[a[i : i + 1] for a in args])) for i in range(3)]
    for k, out in enumerate(batched):
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out, torch.cat([s[k] for s in singles]), atol=2e-5, rtol=1e-4)
    if name in ("wav2lip", "wav2lip.192"):
        assert batched[0].shape == (3, 3, *args[1].shape[2:]) and batched[0].min() >= 0 and batched[0].max() <= 1
    if name == "syncnet.expert":
        assert batched[0].shape == batched[1].shape == (3, 512 // 8)
        torch.testing.assert_close(batched[0].norm(dim=1), torch.ones(3))
    if name == "syncnet.v2":
        assert batched[0].shape == batched[1].shape == (3, 1024 // 8)
    # Every parameter takes part (gets a gradient) in training mode.
    model.train()
    loss = sum(o.float().mean() for o in as_tuple(model(*inputs(name, batch=2))))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


def test_windows_equal_frame_by_frame():
    model = tiny("wav2lip")
    mel, face = torch.rand(2, 5, 1, 80, 16), torch.rand(2, 6, 5, 96, 96)
    with torch.no_grad():
        windows = model(mel, face)
        frames = torch.stack([model(mel[:, t], face[:, :, t]) for t in range(5)], dim=2)
    assert windows.shape == (2, 3, 5, 96, 96)
    torch.testing.assert_close(windows, frames, atol=2e-5, rtol=1e-4)
    with pytest.raises(InputError, match="expected face"):
        model(torch.rand(1, 1, 80, 16), torch.rand(1, 6, 64, 64))


@pytest.mark.parametrize("name", ["wav2lip", "wav2lip.256", "syncnet.expert"])
def test_inference_form_gives_the_same_outputs(name):
    model = tiny(name)
    fast = optimize_for_inference(model)
    args = inputs(name, batch=2)
    with torch.inference_mode():
        for a, b in zip(as_tuple(model(*args)), as_tuple(fast(*args))):
            assert (a - b).abs().max().item() <= 1e-4
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fold_batchnorm(model).modules())


def test_upstream_checkpoint_formats_load(tmp_path):
    source = tiny("syncnet.expert")
    state = source.state_dict()
    upstream = {
        "state_dict": {"module." + k: v for k, v in state.items()},
        "optimizer": {"lr": 1e-4},
        "global_step": 10,
        "global_epoch": 2,
    }
    torch.save(upstream, tmp_path / "lipsync_expert.pth")
    loaded = create_model("syncnet.expert", checkpoint=tmp_path / "lipsync_expert.pth", **TINY["syncnet.expert"])
    args = inputs("syncnet.expert")
    with torch.no_grad():
        torch.testing.assert_close(loaded(*args), source.eval()(*args))
    torch.save({"_orig_mod." + k: v for k, v in state.items()}, tmp_path / "compiled.pt")
    create_model("syncnet.expert", checkpoint=tmp_path / "compiled.pt", **TINY["syncnet.expert"])
    assert set(standard_filter({"model": {"module._orig_mod.a": torch.zeros(1)}})) == {"a"}


def test_strict_loading_names_what_is_wrong(tmp_path):
    state = create_model("wav2lip.disc", **TINY["wav2lip.disc"]).state_dict()
    broken = dict(state)
    del broken["binary_pred.0.weight"]
    broken["extra.weight"] = torch.zeros(1)
    broken["face_encoder_blocks.0.0.conv_block.0.bias"] = torch.zeros(7)
    torch.save(broken, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as info:
        load_model(tmp_path / "bad.pth", "wav2lip.disc", **TINY["wav2lip.disc"])
    message = str(info.value)
    assert "1 missing: binary_pred.0.weight" in message and "1 unexpected: extra.weight" in message
    assert "of another shape: face_encoder_blocks.0.0.conv_block.0.bias (7,) != (4,)" in message and "\n" not in message


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = "/tmp/talkingface-pickle-ran"


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"state_dict": _Exploit()}))
    with pytest.raises(CheckpointError, match="refused: the file would run code"):
        create_model("wav2lip.disc", checkpoint=path)
    assert not os.path.exists(MARKER)
    path.write_bytes(pickle.dumps({"state_dict": _Exploit()}, protocol=2))
    with pytest.raises(CheckpointError, match="refused: the file would run code"):
        create_model("wav2lip.disc", checkpoint=path)
    assert not os.path.exists(MARKER)
    (tmp_path / "cut.pth").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        create_model("wav2lip.disc", checkpoint=tmp_path / "cut.pth")
    for junk in (b"junk\n", bytes(range(256)) * 3, b"not a model at all " * 50):
        (tmp_path / "junk.pth").write_bytes(junk)
        with pytest.raises(CheckpointError, match="junk.pth: (unreadable or truncated|not a checkpoint)"):
            create_model("wav2lip.disc", checkpoint=tmp_path / "junk.pth")


def test_own_checkpoints_round_trip(tmp_path):
    model = tiny("wav2lip.192")
    path = save_model(model, tmp_path / "w192.safetensors")
    back = load_model(path)
    assert back.config == model.config and back.variant == "wav2lip.192" and back.spec.image_size == 192
    args = inputs("wav2lip.192", batch=1)
    with torch.no_grad():
        assert torch.equal(back(*args), model.eval()(*args))
    with pytest.raises(InputError, match="unknown model"):
        create_model("wav3lip")
    assert {"wav2lip", "wav2lip.gan", "wav2lip.288", "syncnet.expert", "syncnet.v2", "lipgan"} <= set(variants())


def test_bfloat16_inference_form_runs_in_bfloat16_and_answers_in_float32():
    """Shapes, dtype and closeness on seeded random weights only: how far it lands with trained weights
    on real faces is measured by bench/bench_bf16.py (a few 8-bit levels)."""
    from talkingface.models.inference import optimize_for_inference

    torch.manual_seed(0)
    model = create_model("wav2lip", channel_divisor=4)
    mel, face = torch.rand(4, 1, 80, 16), torch.rand(4, 6, 96, 96)
    with torch.inference_mode():
        exact = model(mel, face)
        bf16 = optimize_for_inference(model, precision="bf16")(mel, face)
    assert bf16.dtype == torch.float32 and bf16.shape == exact.shape
    assert (bf16 - exact).abs().max() < 5e-4  # random weights: small, evenly spread activations
    with pytest.raises(InputError, match="precision must be one of"):
        optimize_for_inference(model, precision="fp16")


def test_every_variant_carries_the_spec_its_pipelines_read():
    for name, variant in variants().items():
        assert isinstance(variant.spec, ModelSpec) and variant.spec.family == name.split(".")[0], name
    v2, expert, generator = (get_variant(n).spec for n in ("syncnet.v2", "syncnet.expert", "wav2lip.288"))
    assert (v2.image_size, v2.crop_margin, v2.audio_window, v2.audio_rate, v2.value_range) == (
        224,
        0.4,
        20,
        100,
        (0, 255),
    )
    assert (expert.frames_per_window, expert.audio_window, expert.window_seconds()) == (5, 16, 0.2)
    assert (generator.image_size, generator.face_pads, generator.channel_order) == (288, (0, 10, 0, 0), "bgr")
    assert create_model("syncnet.v2", channel_divisor=16).spec is v2


def test_a_2017_syncnet_file_without_batch_norm_counters_loads_strictly(tmp_path):
    """syncnet_v2.model was saved by PyTorch 0.3: no num_batches_tracked. Every real weight is still
    required."""
    source = tiny("syncnet.v2")
    old = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(old) < len(source.state_dict())
    torch.save(old, tmp_path / "syncnet_v2.model")
    loaded = load_model(tmp_path / "syncnet_v2.model", **TINY["syncnet.v2"])
    assert loaded.variant == "syncnet.v2"
    args = inputs("syncnet.v2")
    with torch.no_grad():
        for a, b in zip(loaded(*args), source.eval()(*args)):
            torch.testing.assert_close(a, b)
    del old["netcnnaud.1.running_var"]  # a real statistic missing is still an error
    torch.save(old, tmp_path / "broken.model")
    with pytest.raises(CheckpointError, match="1 missing: netcnnaud.1.running_var"):
        load_model(tmp_path / "broken.model", **TINY["syncnet.v2"])
    assert "a.num_batches_tracked" in fill_batchnorm_counters({"a.running_mean": torch.zeros(1)})


@pytest.mark.parametrize(
    "name", ["wav2lip", "wav2lip.192", "wav2lip.disc", "syncnet.expert", "syncnet.v2", "lipgan", "lipgan.disc"]
)
def test_the_variant_of_an_upstream_file_is_told_by_its_shapes(tmp_path, name):
    torch.save({"state_dict": tiny(name).state_dict()}, tmp_path / "model.pth")
    assert load_model(tmp_path / "model.pth", **TINY[name]).variant == name


def test_another_kind_of_model_is_refused_before_loading(tmp_path):
    torch.save(tiny("syncnet.expert").state_dict(), tmp_path / "expert.pth")
    with pytest.raises(
        CheckpointError, match="expert.pth: holds a syncnet.expert model .sync., not a wav2lip generator"
    ):
        load_model(tmp_path / "expert.pth", family="wav2lip", role="generator", **TINY["syncnet.expert"])
    with pytest.raises(CheckpointError, match="holds a syncnet.expert model, not syncnet.v2"):
        load_model(tmp_path / "expert.pth", "syncnet.v2")
    (tmp_path / "odd.pth").write_bytes(b"")
    torch.save({"x.weight": torch.zeros(2)}, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match="not a model this toolkit knows"):
        load_model(tmp_path / "odd.pth")
    torch.save({"step": 3}, tmp_path / "nothing.pth")
    with pytest.raises(CheckpointError, match="holds no state dict of tensors"):
        load_model(tmp_path / "nothing.pth")
    with pytest.raises(InputError, match="channel_divisor must be"):
        create_model("wav2lip", channel_divisor=3)
    with pytest.raises(InputError, match="wav2lip: .*unexpected keyword argument 'widht'"):
        create_model("wav2lip", widht=3)
