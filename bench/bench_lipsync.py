"""Lip-sync of a 10 s 1280x720 25 fps clip with the 96 px Wav2Lip generator (seeded random weights -
the same arithmetic as the public checkpoint), and sync scoring of the same clip.

Goals (2 cores): lip-sync >= 1.0x real time end to end; sync-score <= 0.5x real time (its time over
the clip's duration). Reports the time split: track (decode included), generate, paste, and the rest
(decode, mel, encode).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import INPUTS

SECONDS = 10


def main() -> bool:
    import soundfile

    from talkingface.media import fit_image, load_audio, read_image, write_video
    from talkingface.models import create_model
    from talkingface.pipelines import LipSyncConfig, LipSyncPipeline, SyncScorePipeline

    base = fit_image(read_image(INPUTS / "astronaut.png"), 1280, 720)
    speech = load_audio(INPUTS / "two_cities.wav", 16000)[16000 : 16000 * (SECONDS + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "clip.mp4"
        frames = (np.roll(base, int(15 * np.sin(i / 9)), axis=1) for i in range(SECONDS * 25))
        write_video(video, frames, 25, audio=speech, sample_rate=16000)
        audio = Path(tmp) / "speech.wav"
        soundfile.write(audio, speech, 16000)
        torch.manual_seed(0)
        pipeline = LipSyncPipeline(create_model("wav2lip"))
        start = time.perf_counter()
        pipeline(video, audio, Path(tmp) / "out.mp4")
        lipsync = time.perf_counter() - start
        t = pipeline.timings
        rest = t["total"] - t.get("track", 0) - t.get("generate", 0) - t.get("paste", 0)
        start = time.perf_counter()
        fast = LipSyncPipeline(create_model("wav2lip"), LipSyncConfig(precision="bf16"))
        fast(video, audio, Path(tmp) / "out_bf16.mp4")
        lipsync_bf16 = time.perf_counter() - start
        tb = fast.timings
        torch.manual_seed(1)
        start = time.perf_counter()
        SyncScorePipeline(create_model("syncnet.v2"))(video)
        score = time.perf_counter() - start
    ok_sync, ok_score = SECONDS / lipsync >= 1.0, score / SECONDS <= 0.5
    ok = ok_sync and ok_score
    print(
        f"{'lipsync 720p25, 10 s, 96 px':<34} {lipsync:5.1f} s = {SECONDS / lipsync:4.2f}x real time (goal >= 1x) "
        f"{'ok' if ok_sync else 'MISSED'}   "
        f"track {t.get('track', 0):.1f} s, generate {t.get('generate', 0):.1f} s, paste {t.get('paste', 0):.1f} s, "
        f"decode/mel/encode {rest:.1f} s"
    )
    print(
        f"{'  the same with --precision bf16':<34} {lipsync_bf16:5.1f} s = {SECONDS / lipsync_bf16:4.2f}x real time "
        f"(opt-in)   track {tb.get('track', 0):.1f} s, generate {tb.get('generate', 0):.1f} s, "
        f"paste {tb.get('paste', 0):.1f} s"
    )
    print(
        f"{'sync-score 720p25, 10 s':<34} {score:5.1f} s = {score / SECONDS:4.2f}x the clip's duration (goal <= 0.5x) "
        f"{'ok' if ok_score else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    main()
