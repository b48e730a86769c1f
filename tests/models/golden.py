"""Seeded weights and inputs for the golden parity tests (``test_golden.py``).

The same functions made the fixtures in ``tests/models/golden/`` (run on the upstream models) and feed
our models in the tests, so both sides see bit-identical weights and inputs.

Weights: :func:`deterministic_state` fills a state dict from a single seeded generator, key by key in
sorted key order, so the values depend only on the key names, shapes and dtypes - not on the order
in which a model registers its modules. The scheme keeps activations in a realistic range through
deep residual networks with batch norm in eval mode (see its docstring).

Inputs: :func:`deterministic_inputs` returns the stored form of each case's inputs (8-bit images,
16-bit audio, ... so that the fixture files stay small); :func:`model_inputs` turns that stored form
into the tensors the models take. Every conversion there is exact float32 arithmetic (integer to
float, division by a power of two or by 255, repetition), so it gives the same bits everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# Gain of the conv / linear weights: N(0, 1) * gain / sqrt(fan_in). 1 suits the networks with batch
# norm and residual blocks; the visual-quality discriminator (14 conv + LeakyReLU layers, no
# normalisation) takes He's sqrt(2), else its signal shrinks ~0.7x per layer to a constant output.
GAIN = 1.0
CASE_GAIN = {"wav2lip_disc": math.sqrt(2.0)}
# Buffers that are fixed functions of the architecture, kept as the model made them (no draws):
# FaceFormer's periodic positional-encoding table.
FIXED_BUFFERS = ("PPE.pe",)

CASES = ("wav2lip", "wav2lip_disc", "syncnet_expert", "syncnet_v2", "faceformer_vocaset")

# FaceFormer (VOCASET layout) with a reduced wav2vec 2.0 encoder that keeps hidden_size 768.
FACEFORMER_WAV2VEC2 = dict(num_hidden_layers=2, num_attention_heads=12, intermediate_size=512, conv_dim=(256,) * 7)
FACEFORMER_VERTICES = 5023
FACEFORMER_SPEAKERS = 8
# Every 16th coordinate of the predicted vertices is stored (a generic subset of >= 64 coordinates
# pins down the 64-d decoder state); per-frame mean and mean square cover all 15069.
FACEFORMER_COLUMNS = slice(None, None, 16)


def _uniform(g: torch.Generator, shape, low: float, high: float) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=torch.float32) * (high - low) + low


def deterministic_state(
    template: dict[str, torch.Tensor], seed: int = 0, gain: float = GAIN, keep: tuple[str, ...] = FIXED_BUFFERS
) -> dict[str, torch.Tensor]:
    """A state dict with the keys, shapes and dtypes of ``template`` and seeded values.

    One ``torch.Generator().manual_seed(seed)`` draws every tensor, in sorted key order, always in
    float32 (then cast to the template's dtype). By the key's last name component and its shape:

    - integer / bool tensors (``num_batches_tracked``): zeros, no draws;
    - keys in ``keep`` (:data:`FIXED_BUFFERS`): copied from the template, no draws;
    - ``running_mean``: U(-0.1, 0.1); ``running_var``: U(0.5, 1.5) (batch norm in eval mode then
      roughly keeps the scale of its input, as a trained one does);
    - weight-norm magnitudes (``original0`` / ``weight_g``): U(0.5, 1.5);
    - tensors of 2 or more dimensions (conv, transposed conv, linear, attention projections,
      weight-norm directions): N(0, 1) * gain / sqrt(fan_in), with fan_in = numel / shape[0]
      (in_channels * kernel for a conv; for a transposed conv, whose weight is (in, out, k...),
      out_channels * kernel) - LeCun-style scaling with ``gain`` 1 (:data:`GAIN`), or He's sqrt(2)
      for a network without normalisation (:data:`CASE_GAIN`);
    - 1-d ``weight`` (batch-, layer- and group-norm scales): U(0.8, 1.2);
    - every other tensor (biases, ``in_proj_bias``, ``masked_spec_embed``, scalars): U(-0.1, 0.1).

    With gain 1 a conv + batch norm + ReLU roughly halves the variance and a residual block adds
    it back, so the 2D networks stay within a few units from input to output (no saturated sigmoids,
    no vanishing embeddings); the transformer parts are held in range by their layer norms.
    """
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key in sorted(template):
        ref = template[key]
        name = key.rsplit(".", 1)[-1]
        if key in keep:
            out[key] = ref.detach().clone()
            continue
        if not (ref.is_floating_point() or ref.is_complex()):
            out[key] = torch.zeros_like(ref)
            continue
        shape = tuple(ref.shape)
        if name == "running_mean":
            value = _uniform(g, shape, -0.1, 0.1)
        elif name == "running_var" or name in ("original0", "weight_g"):
            value = _uniform(g, shape, 0.5, 1.5)
        elif len(shape) >= 2:
            fan_in = max(1, ref.numel() // shape[0])
            value = torch.randn(shape, generator=g, dtype=torch.float32) * (gain / math.sqrt(fan_in))
        elif name == "weight":
            value = _uniform(g, shape, 0.8, 1.2)
        else:
            value = _uniform(g, shape, -0.1, 0.1)
        out[key] = value.to(ref.dtype)
    return out


# -- inputs ----------------------------------------------------------------------------------------
def _images(g: torch.Generator, shape) -> np.ndarray:
    """uint8 images: a smooth random field (8x8 cells, bilinear) plus pixel noise, 0-255."""
    *lead, h, w = shape
    coarse = torch.rand((int(np.prod(lead)), 1, h // 8 + 1, w // 8 + 1), generator=g) * 255
    smooth = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=True)
    noise = torch.randn((int(np.prod(lead)), 1, h, w), generator=g) * 24
    return (smooth + noise).round().clamp(0, 255).to(torch.uint8).reshape(shape).numpy()


def _mels(g: torch.Generator, batch: int) -> np.ndarray:
    """Mel windows in Wav2Lip's normalised range [-4, 4]."""
    return (torch.randn((batch, 1, 80, 16), generator=g) * 1.5).clamp(-4, 4).numpy()


def _speech_like(g: torch.Generator, seconds: float, rate: int = 16000) -> np.ndarray:
    """int16 audio: harmonics of a gliding pitch under a 4 Hz syllable envelope, plus noise and a DC
    offset (so that the per-clip normalisation matters)."""
    t = torch.arange(int(seconds * rate), dtype=torch.float64) / rate
    f0 = 140 + 30 * torch.sin(2 * math.pi * 0.7 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / rate
    voiced = sum(torch.sin(k * phase + k) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * torch.sin(2 * math.pi * 4 * t)
    noise = torch.randn(t.shape, generator=g, dtype=torch.float64)
    signal = 0.25 * envelope * voiced + 0.03 * noise + 0.02
    return (signal * 32767).round().clamp(-32768, 32767).to(torch.int16).numpy()


def deterministic_inputs(case: str, seed: int = 1) -> dict[str, np.ndarray]:
    """The stored form of the inputs of ``case`` (one of :data:`CASES`), from ``seed``.

    - ``wav2lip``: ``mel`` (2, 1, 80, 16) float32 in [-4, 4]; ``face_u8`` (2, 6, 96, 96) uint8, the
      target frame with its lower half zeroed (channels 0-2) and a reference frame (3-5).
    - ``wav2lip_disc``: ``faces_u8`` (2, 3, 2, 96, 96) uint8: 2 windows of 2 frames.
    - ``syncnet_expert``: ``mel`` (2, 1, 80, 16); ``faces_u8`` (2, 15, 48, 96) uint8 (the lower halves
      of 5 frames on channels).
    - ``syncnet_v2``: ``mfcc`` (2, 1, 13, 20) float32 (N(0, 8^2), the spread of real MFCCs);
      ``lips_u8`` (2, 3, 5, 112, 112) uint8, shown to the model at 224 px (each pixel repeated 2x2).
    - ``faceformer_vocaset``: ``audio_i16`` (16000,) int16 (1.0 s at 16 kHz); ``template`` (15069,)
      float32 in [-0.1, 0.1]; ``motion_i8`` (29, 15069) int8, the teacher-forcing motion in steps of
      1/32; ``predict_speaker`` 3 and ``train_speaker`` 5 (of 8).
    """
    g = torch.Generator().manual_seed(seed)
    if case == "wav2lip":
        mel = _mels(g, 2)
        face = _images(g, (2, 6, 96, 96))
        face[:, :3, 48:] = 0
        return {"mel": mel, "face_u8": face}
    if case == "wav2lip_disc":
        return {"faces_u8": _images(g, (2, 3, 2, 96, 96))}
    if case == "syncnet_expert":
        return {"mel": _mels(g, 2), "faces_u8": _images(g, (2, 15, 48, 96))}
    if case == "syncnet_v2":
        mfcc = (torch.randn((2, 1, 13, 20), generator=g) * 8).numpy()
        return {"mfcc": mfcc, "lips_u8": _images(g, (2, 3, 5, 112, 112))}
    if case == "faceformer_vocaset":
        audio = _speech_like(g, 1.0)
        v3 = FACEFORMER_VERTICES * 3
        template = (torch.rand(v3, generator=g) * 0.2 - 0.1).numpy()
        motion = (torch.randn((29, v3), generator=g) * 16).round().clamp(-127, 127).to(torch.int8).numpy()
        return {
            "audio_i16": audio,
            "template": template,
            "motion_i8": motion,
            "predict_speaker": np.array(3),
            "train_speaker": np.array(5),
        }
    raise ValueError(f"unknown case {case!r}; one of {CASES}")


def model_inputs(case: str, stored: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The tensors the models take, from the stored form (exact float32 arithmetic)."""

    def image(a):
        return torch.from_numpy(np.asarray(a).astype(np.float32) / np.float32(255))

    if case == "wav2lip":
        return {"mel": torch.from_numpy(stored["mel"]), "face": image(stored["face_u8"])}
    if case == "wav2lip_disc":
        return {"faces": image(stored["faces_u8"])}
    if case == "syncnet_expert":
        return {"mel": torch.from_numpy(stored["mel"]), "faces": image(stored["faces_u8"])}
    if case == "syncnet_v2":
        lips = np.repeat(np.repeat(np.asarray(stored["lips_u8"]), 2, axis=3), 2, axis=4)
        return {"mfcc": torch.from_numpy(stored["mfcc"]), "lips": torch.from_numpy(lips.astype(np.float32))}
    if case == "faceformer_vocaset":
        audio = torch.from_numpy(stored["audio_i16"].astype(np.float32) / np.float32(32768)).unsqueeze(0)
        template = torch.from_numpy(stored["template"]).unsqueeze(0)  # (1, V*3)
        motion = torch.from_numpy(stored["motion_i8"].astype(np.float32) / np.float32(32))
        vertices = (template + motion).unsqueeze(0)  # (1, T, V*3)
        out = {"audio": audio, "template": template, "vertices": vertices}
        for name in ("predict_speaker", "train_speaker"):
            k = int(stored[name])
            out[name] = k
            out[name.replace("speaker", "one_hot")] = torch.nn.functional.one_hot(
                torch.tensor([k]), FACEFORMER_SPEAKERS
            ).float()
        return out
    raise ValueError(f"unknown case {case!r}; one of {CASES}")


def vertex_summary(vertices: torch.Tensor) -> dict[str, np.ndarray]:
    """What a fixture keeps of FaceFormer vertices ``(1, T, V*3)``: every 16th coordinate and the
    per-frame mean and mean square over all coordinates (float64)."""
    v = vertices.detach().double()
    return {
        "columns": v[..., FACEFORMER_COLUMNS].float().numpy(),
        "mean": v.mean(-1).numpy(),
        "mean_square": v.pow(2).mean(-1).numpy(),
    }
