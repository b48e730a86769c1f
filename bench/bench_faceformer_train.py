"""FaceFormer trained on our synthetic set vs the JALI procedural path, on held-out speech.

The set: 6 synthetic speakers x 40 sentences (espeak-ng voices, their own styles and faces, JALI rig
motion); sentences 1-34 train, 35-40 are held out. Scored on the held-out sequences, lip vertex
error (LVE, m^2, lower is better) of:
- FaceFormer (built-in mel encoder) trained here, decoding autoregressively from the audio alone;
- the JALI procedural path as `talkingface mesh` runs it on that audio and its transcript (forced
  alignment, default style) on the speaker's face;
- the still template (no motion), for scale.

``python bench/bench_faceformer_train.py [--model FILE] [--epochs N]`` (default: train 30 epochs with
teacher forcing, about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

FALLBACKS: list[str] = []
SPEAKERS = ("SynthA", "SynthB", "SynthC", "SynthD", "SynthE", "SynthF")


def jali_vertices(item, text: str) -> np.ndarray:
    from talkingface.animation import JaliAnimator, JaliConfig
    from talkingface.animation.blendshapes import face_basis
    from talkingface.animation.mesh import Mesh, face_template
    from talkingface.errors import InputError
    from talkingface.speech import timed_phonemes

    try:
        phonemes = timed_phonemes(item.audio, 16000, text)
    except InputError:  # pocketsphinx's fit check refuses some synthetic voices: recognise instead
        FALLBACKS.append(item.name)
        phonemes = timed_phonemes(item.audio, 16000, None)
    curves = JaliAnimator(JaliConfig()).animate(phonemes, Fraction(item.fps).limit_denominator(1001), item.audio, 16000)
    basis = face_basis(Mesh(item.template.reshape(-1, 3), face_template().faces))
    frames = basis.evaluate(basis.weights_from(curves)).reshape(curves.num_frames, -1)
    out = np.repeat(item.template[None], item.num_frames, 0)  # pad with the rest pose / cut to length
    n = min(len(frames), item.num_frames)
    out[:n] = frames[:n]
    return out


def main(argv=None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a trained FaceFormer .safetensors (default: train one here)")
    parser.add_argument("--data", help="the synthetic set (default: made here)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)

    from talkingface.builders.synthetic import make_synthetic_set
    from talkingface.data.mesh_sets import VOCASET, load_mesh_set
    from talkingface.metrics.mesh import lip_vertex_error, vertex_groups
    from talkingface.models import load_model
    from talkingface.speech.sentences import SENTENCES
    from talkingface.train.faceformer import FaceFormerTrainConfig, train_faceformer

    work = Path(tempfile.mkdtemp(prefix="faceformer-bench-"))
    data = Path(args.data) if args.data else work / "synth"
    if not args.data:
        make_synthetic_set(data, sentences=40, speakers=len(SPEAKERS), seed=0)
    model_path = args.model
    if model_path is None:
        start = time.perf_counter()
        train_faceformer(
            FaceFormerTrainConfig(
                data=data,
                out_dir=work / "model",
                train_subjects=SPEAKERS,
                val_subjects=SPEAKERS,
                train_sentences=tuple(range(1, 35)),
                val_sentences=tuple(range(35, 41)),
                teacher_forcing=True,
                epochs=args.epochs,
            ),
            log=None,
        )
        model_path = work / "model" / "best.safetensors"
        print(f"trained {args.epochs} epochs in {time.perf_counter() - start:.0f} s")
    model = load_model(model_path)
    held_out = load_mesh_set(data, VOCASET, "val", subjects=SPEAKERS, sentences=range(35, 41))
    lips = vertex_groups("template")[0]
    scores = {"FaceFormer": [], "JALI procedural": [], "still template": []}
    for item in held_out:
        truth = item.vertices
        predicted = model.predict(item.audio, item.template, SPEAKERS.index(item.subject), num_frames=item.num_frames)[
            0
        ].numpy()
        scores["FaceFormer"].append(lip_vertex_error(predicted, truth, lips))
        scores["JALI procedural"].append(
            lip_vertex_error(jali_vertices(item, SENTENCES[item.sentence - 1]), truth, lips)
        )
        scores["still template"].append(lip_vertex_error(np.repeat(item.template[None], len(truth), 0), truth, lips))
    print(f"FaceFormer on the synthetic set, {len(held_out)} held-out sequences, LVE (1e-5 m^2, lower is better):")
    for name, values in scores.items():
        print(
            f"  {name:<16} {np.mean(values) * 1e5:6.2f}   (max lip error ~ {np.sqrt(np.mean(values)) * 1000:4.1f} mm)"
        )
    if FALLBACKS:
        print(
            f"  (JALI: {len(FALLBACKS)} of {len(held_out)} transcripts refused by the aligner's fit check on these "
            "synthetic voices; phone recognition used for them)"
        )
    return True


if __name__ == "__main__":
    main()
