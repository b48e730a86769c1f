"""A trained Wav2Lip generator on held-out speakers: each real video re-dubbed with its own speech,
against the real video (the ground truth) and against the same generator untrained.

For every video: ``talkingface lipsync`` with the generator, then the built-in sync model's LSE-D,
LSE-C and AV offset of the result (and of the real video, the ceiling), and LMD, mouth sharpness and
mouth flicker against the real video (``evaluate lipsync``). The baseline row is the same network at
its seeded initialisation, so the table shows what training bought.

``python bench/demo_lipsync_heldout.py --generator RUN/last.safetensors VIDEO... [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def scores(video: Path, pipeline) -> dict:
    result = pipeline(video)
    best = max(result.tracks, key=lambda t: t.num_frames).scores
    return {"lse_d": best.lse_d, "lse_c": best.lse_c, "offset": best.offset}


def main(argv=None) -> int:
    import torch

    from talkingface.metrics.lipsync import compare_videos
    from talkingface.models import create_model, load_model
    from talkingface.pipelines import LipSyncPipeline, SyncScorePipeline

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", required=True)
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    trained = load_model(args.generator, "wav2lip")
    torch.manual_seed(0)
    untrained = create_model("wav2lip", channel_divisor=trained.config.channel_divisor)
    scorer = SyncScorePipeline()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for video in args.videos:
            real = scores(video, scorer)
            row = {"video": video.name, "real": real}
            for name, model in (("trained", trained), ("untrained", untrained)):
                out = Path(tmp) / f"{name}_{video.stem}.mp4"
                LipSyncPipeline(model)(video, video, out)
                row[name] = {**scores(out, scorer), **compare_videos(str(out), str(video))}
            rows.append(row)
            print(
                f"{video.name[-34:]:<34} real LSE-C {real['lse_c']:.3f} off {real['offset']:+d} | trained LSE-C "
                f"{row['trained']['lse_c']:.3f} off {row['trained']['offset']:+d} LMD {row['trained']['lmd']:.2f} | "
                f"untrained LSE-C {row['untrained']['lse_c']:.3f} off {row['untrained']['offset']:+d} "
                f"LMD {row['untrained']['lmd']:.2f}"
            )
    for name in ("trained", "untrained"):
        print(
            f"mean over {len(rows)} videos, {name}: LSE-D {np.mean([r[name]['lse_d'] for r in rows]):.3f} "
            f"LSE-C {np.mean([r[name]['lse_c'] for r in rows]):.3f} "
            f"|offset| {np.mean([abs(r[name]['offset']) for r in rows]):.2f} LMD {np.mean([r[name]['lmd'] for r in rows]):.2f} "
            f"sharpness {np.mean([r[name]['sharpness_output'] for r in rows]):.1f} "
            f"flicker {np.mean([r[name]['flicker_output'] for r in rows]):.2f}"
        )
    print(
        f"mean over {len(rows)} videos, real: LSE-D {np.mean([r['real']['lse_d'] for r in rows]):.3f} "
        f"LSE-C {np.mean([r['real']['lse_c'] for r in rows]):.3f} "
        f"sharpness {np.mean([r['trained']['sharpness_reference'] for r in rows]):.1f} "
        f"flicker {np.mean([r['trained']['flicker_reference'] for r in rows]):.2f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
