"""Sharper mouths without flicker, on real held-out clips.

Each clip's frames are brought to a lip-sync generator's resolution the way Wav2Lip's output is: the
face box (Wav2Lip's, the default pads) shrunk to 96 px and enlarged back, its lower half pasted into
the frame ("generator-resolution", the un-enhanced video). Then:

- ``upscaler``: ``--enhance upscaler`` (the built-in mouth upscaler, or ``--checkpoint``) on it;
- ``bicubic``: the same path with the network left out (the mouth canvas at half size, enlarged by
  bicubic interpolation): the baseline the trained upscaler must beat;
- ``real``: the real frames, the ceiling.

Per clip and over all: PSNR and SSIM of the mouth region against the real frames, sharpness (variance
of the Laplacian in the mouth region) and flicker after motion compensation
(:func:`~talkingface.metrics.lipsync.compensated_flicker`), and the upscaler's time per frame (goal:
<= 0.5 s on 2 cores). The GFPGAN path's time per frame is measured with the public v1.3/v1.4
architecture (weights drawn at random: the time does not depend on them), every frame and with
keyframes every 3rd.

The clips are people the upscaler never saw: MimicTalk's German news clip and video-retalking's
example 5 (held out of the shipped model's training) and MEAD studio clips (research-only, never
trained on). ``python bench/bench_enhance.py [--frames N] [--checkpoint FILE] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
HELD_OUT = (
    "yerfor__MimicTalk__German_20s.mp4",
    "OpenTalker__video-retalking__5.mp4",
    "filby89__spectre__W036_level_3_happy_007.mp4",
    "filby89__spectre__M030_level_3_angry_016.mp4",
)


def generator_resolution(frames: np.ndarray, landmarks: np.ndarray, size: int = 96) -> np.ndarray:
    """Frames whose lower face is replaced by itself at ``size`` px, enlarged back (bicubic)."""
    import cv2

    from talkingface.face.crops import wav2lip_box

    out = frames.copy()
    for frame, face in zip(out, landmarks):
        x1, y1, x2, y2 = np.round(wav2lip_box(face, (frame.shape[1], frame.shape[0]))).astype(int)
        crop = frame[y1:y2, x1:x2]
        small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        back = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_CUBIC)
        half = (y2 - y1) // 2
        frame[y1 + half : y2, x1:x2] = back[half:]
    return out


def region_scores(frames: np.ndarray, real: np.ndarray, boxes: np.ndarray) -> tuple[float, float]:
    from talkingface.train.upscaler import psnr, ssim

    values = []
    for a, b, (x1, y1, x2, y2) in zip(frames, real, np.round(boxes).astype(int)):
        values.append((psnr(a[y1:y2, x1:x2], b[y1:y2, x1:x2]), ssim(a[y1:y2, x1:x2], b[y1:y2, x1:x2])))
    return float(np.mean([v[0] for v in values])), float(np.mean([v[1] for v in values]))


def enhanced(enhancer, frames: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = np.stack(list(enhancer.run(zip(frames, landmarks))))
    return out, (time.perf_counter() - start) / len(frames)


def main(argv=None) -> bool:
    import torch

    from talkingface.enhance.video import FaceRestorer, MouthEnhancer, generated_detail, gfpgan_restore
    from talkingface.face import FaceTracker
    from talkingface.media import read_frames
    from talkingface.metrics.lipsync import compensated_flicker, mouth_boxes, mouth_sharpness
    from talkingface.models import create_model
    from talkingface.models.upscaler import load_upscaler

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=75, help="frames per clip (default 75)")
    parser.add_argument("--checkpoint", help="an upscaler of ours (default: the built-in one)")
    parser.add_argument("--gfpgan-frames", type=int, default=6, help="frames timed on the GFPGAN path (default 6)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if not CLIPS.is_dir():
        print(f"{CLIPS}: missing (../shared/data beside the checkout)")
        return False
    torch.set_num_threads(2)
    model = load_upscaler(args.checkpoint)
    bicubic = create_model("upscaler.mouth", width=model.config.width, blocks=model.config.blocks)  # zero tail
    rows = []
    names = ("generator-resolution", "bicubic", "upscaler", "real")
    for name in HELD_OUT:
        path = CLIPS / name
        frames = []
        for frame in read_frames(path):
            frames.append(frame)
            if len(frames) == args.frames:
                break
        real = np.stack(frames)
        landmarks = FaceTracker().track_video(path).target("largest").landmarks[: len(real)]
        present = np.isfinite(landmarks[:, :, :2]).all(axis=(1, 2))
        real, landmarks = real[present], landmarks[present]
        boxes = mouth_boxes(landmarks)
        low = generator_resolution(real, landmarks)
        detail = generated_detail(landmarks, 96)  # as lipsync with a 96 px generator
        ours, seconds = enhanced(MouthEnhancer(model, detail=detail), low, landmarks)
        plain, _ = enhanced(MouthEnhancer(bicubic, detail=detail), low, landmarks)
        row: dict = {"clip": name, "frames": len(real), "size": f"{real.shape[2]}x{real.shape[1]}", "detail": detail}
        for label, video in zip(names, (low, plain, ours, real)):
            scores = region_scores(video, real, boxes) if label != "real" else (float("inf"), 1.0)
            row[label] = {
                "psnr": scores[0],
                "ssim": scores[1],
                "sharpness": mouth_sharpness(video, boxes),
                "flicker": compensated_flicker(video, boxes),
            }
        row["upscaler_seconds_per_frame"] = seconds
        rows.append(row)
        print(f"{name} ({row['size']}, {len(real)} frames, detail {detail:.2f}): upscaler {seconds * 1e3:.0f} ms/frame")
        for label in names:
            r = row[label]
            print(
                f"  {label:<21} PSNR {r['psnr']:6.2f} dB  SSIM {r['ssim']:.4f}  sharpness {r['sharpness']:8.1f}  "
                f"flicker {r['flicker']:.3f}"
            )
    mean = {label: {k: float(np.mean([r[label][k] for r in rows])) for k in rows[0][label]} for label in names}
    slowest = max(r["upscaler_seconds_per_frame"] for r in rows)
    up, low, plain = mean["upscaler"], mean["generator-resolution"], mean["bicubic"]
    print("\nover the held-out clips:")
    checks = {
        "flicker <= un-enhanced": up["flicker"] <= low["flicker"],
        "sharpness rises": up["sharpness"] > low["sharpness"],
        "PSNR > bicubic": up["psnr"] > plain["psnr"],
        "SSIM > bicubic": up["ssim"] > plain["ssim"],
        "<= 0.5 s per frame": slowest <= 0.5,
    }
    print(
        f"  upscaler vs un-enhanced: flicker {up['flicker']:.3f} vs {low['flicker']:.3f} "
        f"({up['flicker'] / low['flicker']:.2f}x), sharpness {up['sharpness']:.1f} vs {low['sharpness']:.1f} "
        f"({up['sharpness'] / low['sharpness']:.2f}x)"
    )
    print(
        f"  upscaler vs bicubic: PSNR {up['psnr']:.2f} vs {plain['psnr']:.2f} dB ({up['psnr'] - plain['psnr']:+.2f}), "
        f"SSIM {up['ssim']:.4f} vs {plain['ssim']:.4f} ({up['ssim'] - plain['ssim']:+.4f})"
    )
    print(f"  upscaler time: slowest clip {slowest * 1e3:.0f} ms per frame (goal <= 500)")
    # The GFPGAN path: the public architecture, timed on the first clip.
    from talkingface.enhance.temporal import TemporalConfig
    from talkingface.models.gfpgan import Gfpgan

    torch.manual_seed(0)
    gfpgan = Gfpgan().eval()
    path = CLIPS / HELD_OUT[0]
    frames = []
    for frame in read_frames(path):
        frames.append(frame)
        if len(frames) == args.gfpgan_frames:
            break
    landmarks = FaceTracker().track_video(path).target("largest").landmarks[: len(frames)]
    gfpgan_times = {}
    for every in (1, 3):
        restorer = FaceRestorer(gfpgan_restore(gfpgan), TemporalConfig(every=every))
        _, seconds = enhanced(restorer, np.stack(frames), landmarks)
        gfpgan_times[every] = seconds
        print(f"  GFPGAN path (512 px, 2 threads), restoring every {every}: {seconds:.2f} s per frame")
    for name, met in checks.items():
        print(f"  {name}: {'ok' if met else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"clips": rows, "mean": mean, "gfpgan_seconds_per_frame": gfpgan_times}, indent=1) + "\n"
        )
    return all(checks.values())


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
