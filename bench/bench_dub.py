"""Dubbing a real video with the speaker's own mouths (``lipsync`` without a checkpoint), on held-out speakers.

Protocol, per real clip of ``lips_set.py`` at least 4 s long (``tune`` and ``test`` speakers; nothing is
chosen on ``test``): its first 60 % is the footage the mouths come from, its last 40 % is dubbed with
its own speech, no transcript, and the output is compared with the real last 40 %:

- ``r``: the correlation of the output's inner-lip opening with the real one, per frame (our tracker,
  no smoothing), at zero lag; ``speech_only``: the openness model's curve (the best speech-only curve,
  issue of the speech-driven mouths) against the same real frames, in the same run;
- ``lmd``: the mean distance of the 40 lip landmarks, output against real, in the face's own frame
  (eye-line, hundredths of the outer eye-corner distance);
- ``sharpness``: the variance of the Laplacian over the mouth, output over real (median of frames);
- ``flicker``: the mean absolute change of the mouth between frames, the head's motion taken out
  (each frame's mouth moved onto the previous frame's by the rigid points), output over real;
- ``offset`` / ``lse_c``: the built-in sync model on the output, and ``lse_c_real`` on the real part;
- ``other``: the same last 40 % dubbed to another clip's speech: ``leak`` is the output's lip opening
  against the original lips (goal <= 0.2), ``other_offset`` the sync model's offset;
- ``animate_r`` / ``animate_leak`` (with ``--animate``): today's ``animate`` video path, side by side.

``python bench/bench_dub.py [--footage DIR] [--only tune|test] [--animate] [--limit N] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lips_set import Clip, all_clips

FOOTAGE_SHARE = 0.6
MIN_SECONDS = 4.0


def split_clip(clip: Clip, folder: Path) -> dict:
    """The clip's first 60 % (with its sound) as footage, its last 40 % as the face video (no sound) and
    its speech as a WAV."""
    from talkingface.media import VideoReader, load_audio, probe_video, write_video, write_wav

    info = probe_video(clip.path)
    frames = list(VideoReader(clip.path))
    fps = float(info.fps)
    cut = int(len(frames) * FOOTAGE_SHARE)
    speech = load_audio(clip.path, 16000)
    at = int(round(cut / fps * 16000))
    library, face, wav = folder / "footage.mp4", folder / "face.mp4", folder / "speech.wav"
    write_video(library, frames[:cut], info.fps, audio=speech[:at], sample_rate=16000, crf=10)
    write_video(face, frames[cut:], info.fps, crf=10)
    write_wav(wav, speech[at:], 16000)
    return {"footage": library, "face": face, "speech": wav, "real": frames[cut:], "fps": fps, "cut": cut}


def tracked(frames_or_path):
    from talkingface.face import FaceTracker, TrackerConfig

    tracker = FaceTracker(TrackerConfig(smoothing=None))
    if isinstance(frames_or_path, (str, Path)):
        return tracker.track_video(frames_or_path).target().landmarks
    return tracker.track_frames(iter(frames_or_path), fps=25).target().landmarks


def mouth_measures(frames: list, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the Laplacian variance over the mouth, and the mean absolute change of the mouth from
    the previous frame with the head's motion taken out (NaN where no face)."""
    import cv2

    from talkingface.render.mouths import head_motion

    sharp = np.full(len(frames), np.nan)
    change = np.full(len(frames), np.nan)
    for k, (frame, points) in enumerate(zip(frames, landmarks)):
        if not np.isfinite(points).all():
            continue
        lips = points[list(range(478)), :2][[61, 291, 0, 17]]
        x0, y0 = np.floor(lips.min(0) - 4).astype(int)
        x1, y1 = np.ceil(lips.max(0) + 4).astype(int)
        x0, y0 = max(0, x0), max(0, y0)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        region = grey[y0:y1, x0:x1]
        if region.size < 16:
            continue
        sharp[k] = cv2.Laplacian(region, cv2.CV_32F).var()
        if k and np.isfinite(landmarks[k - 1]).all():
            motion = head_motion(landmarks[k - 1], points)
            previous = cv2.warpAffine(
                cv2.cvtColor(frames[k - 1], cv2.COLOR_RGB2GRAY).astype(np.float32), motion, grey.shape[::-1]
            )
            change[k] = float(np.abs(previous[y0:y1, x0:x1] - region).mean())
    return sharp, change


def lip_distance(ours: np.ndarray, real: np.ndarray) -> float:
    from talkingface.features.lips import lip_shapes

    both = np.isfinite(ours).all((1, 2)) & np.isfinite(real).all((1, 2))
    if both.sum() < 5:
        return float("nan")
    a, b = lip_shapes(ours[both]), lip_shapes(real[both])
    a, b = a.reshape(len(a), 2, 40), b.reshape(len(b), 2, 40)
    return float(np.linalg.norm(a - b, axis=1).mean() * 10)  # shapes are tenths of the eye distance


def sync(path: Path) -> tuple[float, float]:
    from talkingface.pipelines import SyncScorePipeline

    try:
        result = SyncScorePipeline()(path)
    except Exception:
        return float("nan"), float("nan")
    best = max(result.tracks, key=lambda t: t.num_frames).scores
    return float(best.offset), float(best.lse_c)


def dub(parts: dict, speech: Path, out: Path, mouths: bool = True) -> float:
    from talkingface.pipelines import LipSyncConfig
    from talkingface.pipelines.mouth_dub import MouthDubPipeline

    start = time.perf_counter()
    config = LipSyncConfig(keep_video_length=True, mouths=(str(parts["footage"]),) if mouths else ())
    MouthDubPipeline.from_config(config)(parts["face"], speech, out)
    return time.perf_counter() - start


def animate(parts: dict, speech: Path, out: Path) -> None:
    from talkingface.pipelines.talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline

    TalkingPhotoPipeline.from_config(TalkingPhotoConfig())(parts["face"], speech, out)


def run_clip(clip: Clip, other: Clip, with_animate: bool) -> dict:
    from talkingface.animation.mouth_targets import speech_frames
    from talkingface.media import VideoReader, load_audio, write_wav
    from talkingface.metrics.openness import correlation, lip_opening
    from talkingface.models.registry import load_builtin

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = split_clip(clip, folder)
        real = tracked(parts["real"])
        real_open = lip_opening(real)
        row: dict = {"clip": clip.name, "speaker": clip.speaker, "role": clip.role, "setting": clip.setting}
        out = folder / "ours.mp4"
        seconds = dub(parts, parts["speech"], out)
        row["speed"] = len(parts["real"]) / parts["fps"] / seconds
        frames = list(VideoReader(out))[: len(real)]
        ours = tracked(frames)
        row["r"] = correlation(lip_opening(ours)[: len(real_open)], real_open[: len(ours)])
        model = load_builtin("openness")
        speech = load_audio(parts["speech"], 16000)
        curve = speech_frames(model, speech, 16000, len(real), parts["fps"]).model
        row["speech_only"] = correlation(curve, real_open)
        row["lmd"] = lip_distance(ours[: len(real)], real[: len(ours)])
        s_ours, c_ours = mouth_measures(frames, ours)
        s_real, c_real = mouth_measures(parts["real"], real)
        row["sharpness"] = float(np.nanmedian(s_ours) / np.nanmedian(s_real))
        row["flicker"] = float(np.nanmean(c_ours) / np.nanmean(c_real))
        row["offset"], row["lse_c"] = sync(out)
        real_video = folder / "real.mp4"
        from talkingface.media import write_video

        write_video(real_video, parts["real"], parts["fps"], audio=parts["speech"])
        row["offset_real"], row["lse_c_real"] = sync(real_video)
        # other speech: another speaker's, as long as the face part
        other_speech = load_audio(other.path, 16000)[: int(len(real) / parts["fps"] * 16000)]
        other_wav = folder / "other.wav"
        write_wav(other_wav, other_speech, 16000)
        other_out = folder / "other.mp4"
        dub(parts, other_wav, other_out)
        other_lips = lip_opening(tracked(other_out))
        n = min(len(other_lips), len(real_open))
        row["leak"] = correlation(other_lips[:n], real_open[:n])
        row["other_offset"], row["other_lse_c"] = sync(other_out)
        if with_animate:
            animated = folder / "animate.mp4"
            animate(parts, parts["speech"], animated)
            lips = lip_opening(tracked(animated))
            n = min(len(lips), len(real_open))
            row["animate_r"] = correlation(lips[:n], real_open[:n])
            animate(parts, other_wav, animated)
            lips = lip_opening(tracked(animated))
            n = min(len(lips), len(real_open))
            row["animate_leak"] = correlation(lips[:n], real_open[:n])
    return row


def clips(only: str | None, footage: str | None) -> list[Clip]:
    from talkingface.media import probe_video

    chosen = []
    for clip in all_clips(footage):
        if clip.role == "train" or (only and clip.role != only):
            continue
        info = probe_video(clip.path)
        if info.fps and info.num_frames and info.num_frames / float(info.fps) >= MIN_SECONDS:
            chosen.append(clip)
    return chosen


KEYS = ("r", "speech_only", "lmd", "sharpness", "flicker", "leak", "speed", "animate_r", "animate_leak")


def summarise(rows: list[dict]) -> dict:
    summary: dict = {}
    for role in ("tune", "test"):
        group = [r for r in rows if r["role"] == role]
        if not group:
            continue
        entry = {k: float(np.nanmedian([r[k] for r in group])) for k in KEYS if k in group[0]}
        synced = [abs(r["offset"]) <= 1 for r in group if np.isfinite(r["offset"])]
        entry["in_sync"] = float(np.mean(synced)) if synced else float("nan")
        other = [abs(r["other_offset"]) <= 1 for r in group if np.isfinite(r["other_offset"])]
        entry["other_in_sync"] = float(np.mean(other)) if other else float("nan")
        entry["clips"] = len(group)
        summary[role] = entry
    return summary


def main(argv=None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", help="a folder of more footage with its INDEX.tsv")
    parser.add_argument("--only", choices=("tune", "test"))
    parser.add_argument("--animate", action="store_true", help="also today's animate video path")
    parser.add_argument("--limit", type=int, help="at most this many clips")
    parser.add_argument("--json", help="write the rows and summary here")
    args = parser.parse_args(argv)
    chosen = clips(args.only, args.footage)[: args.limit]
    if not chosen:
        print("no clips found (../shared/data/clips, or --footage)")
        return False
    rows = []
    for k, clip in enumerate(chosen):
        other = chosen[(k + 1) % len(chosen)] if len(chosen) > 1 else clip
        row = run_clip(clip, other, args.animate)
        rows.append(row)
        print(
            " ".join(
                f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}" for key, value in row.items()
            ),
            flush=True,
        )
    summary = summarise(rows)
    for role, entry in summary.items():
        print(role, " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    return True


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
