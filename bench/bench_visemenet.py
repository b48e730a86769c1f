"""VisemeNet's speed, streaming latency and phoneme-group accuracy.

(How its jaw and every other speech-driven signal follow real lips, beside Rhubarb Lip Sync, is
``bench_speech_lips.py``.)

1. Speed: whole-clip inference on 60 s of real speech (goal >= 100x real time on 2 cores), and the
   streaming latency: the look-ahead plus the time to process one 10 ms chunk (goal <= 120 ms).
2. Phoneme-group accuracy per 10 ms step: on synthetic speech in the voice variants held out from
   training (all languages), and on real speech aligned to its transcript: the bundled English reading
   (``.cache/inputs/two_cities.wav``, held out) and the GRID clip held out for validation.

``python bench/bench_visemenet.py [--checkpoint FILE] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO.parent / "shared" / "data" / "clips"


def speed(model) -> dict:
    import torch

    from talkingface.animation.visemenet import frames_to_curves, predict
    from talkingface.features.visemenet import visemenet_features
    from talkingface.media import load_audio
    from talkingface.models.visemenet import VisemeNetStream

    audio = load_audio(CLIPS / "tanshuai0219__EDTalk__pose_source2.mp4", 16000)[: 60 * 16000]
    seconds = len(audio) / 16000
    predict(model, audio[:16000])
    start = time.perf_counter()
    frames = predict(model, audio)
    frames_to_curves(frames, seconds, 30)
    whole = time.perf_counter() - start
    features = torch.from_numpy(visemenet_features(audio[: 10 * 16000]))[None]
    stream = VisemeNetStream(model)
    times = []
    for t in range(features.shape[1]):
        begin = time.perf_counter()
        stream.push(features[:, t : t + 1])
        times.append(time.perf_counter() - begin)
    chunk_ms = float(np.median(times) * 1e3)
    latency = model.config.lookahead * 10 + 10 + chunk_ms  # look-ahead + the chunk itself + its compute
    print(
        f"\nwhole clip: {seconds:.0f} s of speech in {whole * 1e3:.0f} ms = {seconds / whole:.0f}x real time "
        f"(goal >= 100x); streaming: {chunk_ms:.2f} ms per 10 ms chunk, latency {latency:.0f} ms "
        f"(look-ahead {model.config.lookahead * 10} ms + 10 ms chunk + compute; goal <= 120 ms)"
    )
    return {
        "seconds": seconds,
        "whole_ms": whole * 1e3,
        "real_time": seconds / whole,
        "chunk_ms": chunk_ms,
        "latency_ms": latency,
    }


def group_accuracy(model) -> dict:
    from talkingface.data.visemenet import Utterance, languages, step_groups
    from talkingface.features.visemenet import visemenet_features
    from talkingface.media import load_audio
    from talkingface.speech.align import align
    from talkingface.train.visemenet import group_accuracy as accuracy
    from talkingface.train.visemenet import synthetic_set

    synthetic = synthetic_set(150, languages(), 1234, True, 1.0)
    real = []
    reading = REPO / ".cache" / "inputs" / "two_cities.wav"
    text = REPO / ".cache" / "inputs" / "two_cities.txt"
    if reading.is_file() and text.is_file():
        audio = load_audio(reading, 16000)
        phonemes = align(audio, text.read_text())
        f = visemenet_features(audio)
        real.append(
            Utterance("two_cities", f, np.full((len(f), 80), np.nan, np.float32), step_groups(phonemes, len(f)))
        )
    held_grid = CLIPS / "rizkiarm__LipNet__lwbsza.mpg"
    if held_grid.is_file():
        from talkingface.data.grid import grid_sentence

        audio = load_audio(held_grid, 16000)
        f = visemenet_features(audio)
        phonemes = align(audio, grid_sentence("lwbsza"))
        real.append(
            Utterance("grid lwbsza", f, np.full((len(f), 80), np.nan, np.float32), step_groups(phonemes, len(f)))
        )
    result = {
        "synthetic_held_out_voices": accuracy(model, synthetic),
        "real_aligned": accuracy(model, real) if real else None,
    }
    chance = 1 / 21
    print(
        f"\nphoneme-group accuracy per 10 ms step (21 groups, chance {chance:.1%}): held-out synthetic voices "
        f"{result['synthetic_held_out_voices']:.1%} ({len(synthetic)} utterances, all languages); real aligned "
        f"English speech {result['real_aligned']:.1%} ({', '.join(u.name for u in real)})"
    )
    return result


def main(argv=None) -> bool:
    """True when the speed and latency goals are met (the lip-correlation goal is reported)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="a VisemeNet .safetensors (default: the built-in one)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    if not CLIPS.is_dir():
        print(f"skipped: {CLIPS} not found")
        return True
    import torch

    torch.set_num_threads(2)
    from talkingface.models import load_model
    from talkingface.models.visemenet import builtin_visemenet

    model = load_model(args.checkpoint, "visemenet") if args.checkpoint else builtin_visemenet()
    results = {}
    results["speed"] = speed(model)
    results["phoneme_groups"] = group_accuracy(model)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results["speed"]["real_time"] >= 100 and results["speed"]["latency_ms"] <= 120


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
