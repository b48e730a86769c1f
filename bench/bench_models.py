"""Wav2Lip generator throughput at 96 px: eager vs our inference form, same run.

Goals (2 cores): >= 1.5x eager and >= 45 frames/s at batch 16. Also reports FLOPs per frame and the
fraction of the machine's limit reached (about 68 frames/s here, from what 3x3 convolutions sustain).
"""

from __future__ import annotations

import time

import torch

MACHINE_LIMIT_FPS = 68.0


def fps(model, batch: int, seconds: float = 3.0) -> float:
    mel, face = torch.rand(batch, 1, 80, 16), torch.rand(batch, 6, 96, 96)
    face = face.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(mel, face)
        frames, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds or frames == 0:
            model(mel, face)
            frames += batch
        return frames / (time.perf_counter() - start)


def main() -> bool:
    from torch.utils.flop_counter import FlopCounterMode

    from talkingface.models import create_model
    from talkingface.models.inference import optimize_for_inference

    torch.manual_seed(0)
    eager = create_model("wav2lip")
    fast = optimize_for_inference(eager)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        eager(torch.rand(1, 1, 80, 16), torch.rand(1, 6, 96, 96))
    gflop = counter.get_total_flops() / 1e9
    print(f"Wav2Lip 96 px: {gflop:.2f} GFLOP per frame; torch threads {torch.get_num_threads()}")
    rows = {}
    for batch in (1, 16, 64):
        rows[batch] = (fps(eager, batch), fps(fast, batch))
        e, f = rows[batch]
        print(
            f"  batch {batch:>2}: eager {e:5.1f} fps   inference form {f:5.1f} fps   {f / e:4.2f}x   "
            f"{f * gflop:5.0f} GFLOP/s, {f / MACHINE_LIMIT_FPS:4.0%} of the limit"
        )
    compiled = optimize_for_inference(eager, compile=True)
    start = time.perf_counter()
    fps(compiled, 16, seconds=0.0)
    warmup = time.perf_counter() - start
    c = fps(compiled, 16)
    e16 = rows[16][0]
    print(
        f"  batch 16 compiled (TorchInductor, {warmup:.0f} s to compile): {c:5.1f} fps   {c / e16:4.2f}x eager   "
        f"{c / MACHINE_LIMIT_FPS:4.0%} of the limit"
    )
    bf16 = optimize_for_inference(eager, precision="bf16")
    mel, face = torch.rand(16, 1, 80, 16), torch.rand(16, 6, 96, 96)
    with torch.inference_mode():
        diff = (bf16(mel, face) - eager(mel, face)).abs().max().item()
    b = fps(bf16, 16)
    print(
        f"  batch 16 bfloat16 (opt-in; seeded random weights: max abs diff {diff:.1e}, see bench_bf16 for trained "
        f"weights): {b:5.1f} fps   "
        f"{b / e16:4.2f}x eager   {b * gflop:5.0f} GFLOP/s"
    )
    best = max(rows[16][1], c)
    ok = best / e16 >= 1.5 and best >= 45
    print(
        f"  goal >= 1.5x eager and >= 45 fps at batch 16 within 1e-4: {'ok' if ok else 'MISSED'}"
        f"{'' if ok else f' (bfloat16 reaches {b:.0f} fps, {diff:.1e} off)'}"
    )
    return ok


if __name__ == "__main__":
    main()
