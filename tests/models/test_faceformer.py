"""FaceFormer: upstream keys and shapes, cached decoding equal to the upstream re-decode, any length."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from talkingface.errors import CheckpointError, InputError
from talkingface.models import create_model, load_model, save_model
from talkingface.models.faceformer import (
    BIWI,
    VOCASET,
    FaceFormer,
    FaceFormerConfig,
    alibi_slopes,
    count_parameters,
    temporal_bias,
)

KEYS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "checkpoint-keys"
TINY_W2V = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16,) * 7,
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
TINY = FaceFormerConfig(num_vertices=40, feature_dim=16, period=5, num_speakers=3, wav2vec2=TINY_W2V)


def reference_keys(name: str) -> list[tuple[str, list[int]]]:
    path = KEYS / f"keys_faceformer_{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not beside the checkout")
    return [(k, list(s)) for k, s in json.loads(path.read_text())]


def tiny(seed=0, **changes) -> FaceFormer:
    torch.manual_seed(seed)
    model = FaceFormer(dataclasses.replace(TINY, **changes)).eval()
    for p in model.vertice_map_r.parameters():  # zero-initialised upstream: give it something to say
        torch.nn.init.normal_(p, std=0.05)
    return model


@pytest.fixture(scope="module")
def audio(speech16k):
    return torch.from_numpy(speech16k[16000 : 16000 + 32000].copy())


@pytest.mark.parametrize("name, config, own", [("vocaset", VOCASET, 2_043_933), ("biwi", BIWI, 18_316_382)])
def test_state_dict_is_the_upstream_one(name, config, own):
    model = FaceFormer(config)
    expected = reference_keys(name)
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == expected
    assert count_parameters(model, without_audio_encoder=True) == own
    assert count_parameters(model) == {"vocaset": 96_415_645, "biwi": 112_688_094}[name]


@pytest.mark.slow
def test_upstream_file_with_legacy_weight_norm_loads_strictly(tmp_path):
    model = create_model("faceformer.vocaset")
    assert [k for k, _ in reference_keys("vocaset_legacy_weightnorm") if "weight_g" in k or "weight_v" in k]
    legacy = {
        k.replace("parametrizations.weight.original0", "weight_g").replace(
            "parametrizations.weight.original1", "weight_v"
        ): v
        for k, v in model.state_dict().items()
    }
    assert list(legacy) == [k for k, _ in reference_keys("vocaset_legacy_weightnorm")]
    biwi = [
        (
            k.replace("parametrizations.weight.original0", "weight_g").replace(
                "parametrizations.weight.original1", "weight_v"
            ),
            list(v.shape),
        )
        for k, v in FaceFormer(BIWI).state_dict().items()
    ]
    assert biwi == reference_keys("biwi_legacy_weightnorm")
    torch.save(legacy, tmp_path / "vocaset.pth")
    loaded = load_model(tmp_path / "vocaset.pth")
    assert loaded.variant == "faceformer.vocaset" and loaded.config.num_speakers == 8 and loaded.config.fps == 30
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_temporal_bias_is_stepped_by_period():
    assert alibi_slopes(4) == [1 / 4, 1 / 16, 1 / 64, 1 / 256]
    bias = temporal_bias(4, 600, 600, 30)
    for i, j in [(0, 0), (29, 0), (30, 0), (45, 10), (599, 0), (599, 599)]:
        assert torch.allclose(bias[:, i, j], -torch.tensor(alibi_slopes(4)) * ((i - j) // 30))
    assert torch.isinf(bias[:, 10, 11]).all() and torch.isinf(bias[:, 0, 599]).all()
    windowed = temporal_bias(4, 700, 700, 30, context=600)
    assert torch.isinf(windowed[:, 650, 50]).all() and torch.isfinite(windowed[:, 650, 51]).all()


@pytest.mark.parametrize("alignment, fps", [("interpolate", 30.0), ("pairs", 25.0)])
def test_cached_decoding_equals_the_upstream_redecode(audio, alignment, fps):
    model = tiny(alignment=alignment, fps=fps)
    template = torch.randn(120)
    fast = model.predict(audio, template, speaker=1)
    slow = model.predict_redecode(audio, template, speaker=1)
    assert fast.shape == slow.shape == (1, 59 if alignment == "interpolate" else 49, 120)  # 99 audio features
    assert (fast - slow).abs().max() <= 1e-4
    assert (fast - template).abs().max() > 1e-3  # it moves


def test_teacher_forcing_on_its_own_output_reproduces_it(audio):
    model = tiny()
    torch.nn.init.zeros_(model.vertice_map.bias)  # upstream starts inference from the style alone
    template = torch.randn(120)
    predicted = model.predict(audio, template, 2)
    assert (model(audio, template, predicted, 2) - predicted).abs().max() <= 1e-4
    assert (model(audio, template, predicted, 2, teacher_forcing=False) - predicted).abs().max() <= 1e-4


def test_batch_equals_single_runs(audio):
    model = tiny()
    template = torch.randn(120)
    pair = torch.stack([audio, audio.flip(0)])
    batch = model.predict(pair, template, speaker=torch.tensor([0, 2]))
    for b, speaker in enumerate([0, 2]):
        assert (batch[b] - model.predict(pair[b], template, speaker)[0]).abs().max() <= 1e-4


def test_longer_than_600_frames_has_no_seam(speech16k):
    model = tiny(encoder_window=8.0, encoder_overlap=1.0)
    audio = torch.from_numpy(speech16k[: 16000 * 25].copy())  # 749 frames, 4 encoder windows
    out = model.predict(audio, torch.zeros(120))[0]
    assert out.shape == (749, 120) and torch.isfinite(out).all()
    speed = (out[1:] - out[:-1]).norm(dim=1)
    # window joins (every 7 s = 210 frames) and the 600-frame context limit are not special
    for frame in (210, 420, 600, 630):
        assert speed[frame - 3 : frame + 3].max() <= torch.quantile(speed, 0.99)
    whole = tiny(encoder_window=30.0, encoder_overlap=1.0).predict(audio, torch.zeros(120))[0]
    assert (out[:600] - whole[:600]).abs().max() < (whole[:600] - whole[:600].mean(0)).abs().max()


def test_every_trainable_parameter_gets_a_gradient(audio):
    torch.manual_seed(0)
    model = FaceFormer(dataclasses.replace(TINY, audio_encoder="mel", mel_width=16, mel_layers=1)).train()
    vertices = torch.randn(1, 60, 120) * 0.01
    for teacher_forcing in (True, False):
        model.zero_grad()
        loss = torch.nn.functional.mse_loss(model(audio, torch.zeros(120), vertices, 0, teacher_forcing), vertices)
        loss.backward()
        # vertice_map_r starts at zero, so vertice_map first gets a gradient on the second step
        missing = [
            n
            for n, p in model.named_parameters()
            if p.requires_grad and p.grad is None and not n.startswith("vertice_map.")
        ]
        assert not missing


def test_save_and_load_round_trip(tmp_path, audio):
    model = create_model("faceformer.mel", num_vertices=40, feature_dim=16, num_speakers=2, mel_width=16)
    torch.nn.init.normal_(model.vertice_map_r.weight, std=0.05)
    path = save_model(model, tmp_path / "ff.safetensors")
    again = load_model(path)
    assert again.config == model.config
    assert torch.equal(again.predict(audio, torch.zeros(120)), model.predict(audio, torch.zeros(120)))
    assert load_model(path, family="faceformer").config == model.config
    torch.save(model.state_dict(), tmp_path / "ff.pth")  # the same weights as a bare state dict
    assert load_model(tmp_path / "ff.pth").config == model.config


def test_wav2vec2_weights_from_a_local_folder(tmp_path):
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    torch.manual_seed(1)
    ctc = Wav2Vec2ForCTC(Wav2Vec2Config(vocab_size=12, **TINY_W2V))
    ctc.save_pretrained(tmp_path / "w2v")
    model = tiny().load_wav2vec2(tmp_path / "w2v")
    for key, value in ctc.wav2vec2.state_dict().items():
        assert torch.equal(model.audio_encoder.state_dict()[key], value), key
    with pytest.raises(CheckpointError, match="wav2vec 2.0 folder"):
        tiny().load_wav2vec2(tmp_path)


def test_bad_inputs_are_refused(tmp_path, audio):
    model = tiny()
    with pytest.raises(InputError, match="template of 40 vertices"):
        model.predict(audio, torch.zeros(99))
    with pytest.raises(InputError, match="speaker must be in 0..2"):
        model.predict(audio, torch.zeros(120), speaker=3)
    with pytest.raises(InputError, match="N >= 400"):
        model.predict(torch.zeros(100), torch.zeros(120))
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not a model this toolkit knows"):
        load_model(tmp_path / "other.pth", family="faceformer")
    torch.save(create_model("syncnet.expert", channel_divisor=16).state_dict(), tmp_path / "expert.pth")
    with pytest.raises(CheckpointError, match="holds a syncnet.expert model .sync., not a faceformer model"):
        load_model(tmp_path / "expert.pth", family="faceformer")
    with pytest.raises(InputError, match="alignment"):
        FaceFormerConfig(alignment="diagonal")
    with pytest.raises(InputError, match="too short"):
        model.predict(audio[:400], torch.zeros(120))
    assert np.isfinite(model.predict(audio[:2000], torch.zeros(120)).numpy()).all()  # 6 features: 3 frames


@pytest.mark.parametrize("alignment, fps", [("interpolate", 30.0), ("pairs", 25.0)])
def test_streaming_in_pieces(speech16k, alignment, fps):
    from talkingface.models.faceformer import FaceFormerStream

    model = tiny(alignment=alignment, fps=fps)
    audio = speech16k[16000 : 16000 * 7]
    template = torch.randn(120)
    whole = FaceFormerStream(model, template, 1)
    at_once = np.concatenate([whole.push(audio), whole.flush()])
    pieces = FaceFormerStream(model, template, 1)
    out, ready_after_3s = [], 0
    for start in range(0, len(audio), 800):  # 50 ms at a time
        out.append(pieces.push(audio[start : start + 800]))
        if start + 800 == 3 * 16000:
            ready_after_3s = sum(len(o) for o in out)
    out.append(pieces.flush())
    streamed = np.concatenate(out)
    offline = model.predict(torch.from_numpy(audio.copy()), template, 1)[0].numpy().reshape(-1, 40, 3)
    assert streamed.shape == offline.shape  # as many frames as the whole clip gives
    assert np.array_equal(streamed, at_once)  # how the audio was cut does not matter
    # Latency: a block (0.5 s of frames) is out once 0.5 s of audio past its end has arrived.
    block = pieces.hop_frames
    assert ready_after_3s == int(2.5 * fps) // block * block
    # With a window longer than the clip, only the features' placement in time differs from the
    # whole-clip path (none for "pairs", where frames take whole 50 Hz features).
    long = FaceFormerStream(model, template, 1, hop=10.0, window=30.0)
    single = np.concatenate([long.push(audio), long.flush()])
    motion = np.abs(offline - template.numpy().reshape(40, 3)).mean()
    if alignment == "pairs":
        assert np.abs(single - offline).max() < 1e-5
    else:
        assert np.abs(single - offline).mean() < 0.2 * motion
    with pytest.raises(InputError, match="hop"):
        FaceFormerStream(model, template, hop=0)
