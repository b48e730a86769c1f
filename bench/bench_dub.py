"""Dubbing a real video with the speaker's own mouths (``lipsync`` without a checkpoint), on held-out speakers.

Protocol, per real clip of ``lips_set.py`` at least 4 s long (``tune`` and ``test`` speakers; nothing is
chosen on ``test``): its first 60 % is the footage the mouths come from, its last 40 % is dubbed with
its own speech, no transcript, and the output is compared with the real last 40 %:

- ``r``: the correlation of the output's inner-lip opening with the real one, per frame (our tracker,
  no smoothing), at zero lag; ``speech_only``: the openness model's curve (the best speech-only curve,
  issue of the speech-driven mouths) against the same real frames, in the same run;
- ``lmd``: the mean distance of the 40 lip landmarks, output against real, in the face's own frame
  (eye-line, hundredths of the outer eye-corner distance);
- ``sharpness``: the variance of the Laplacian over the mouth, output over real
  (``metrics.lipsync.mouth_sharpness``, as ``evaluate lipsync`` measures it); ``footage_sharpness``:
  the footage's own mouths over the real part's, what mouths taken from it can reach;
- ``flicker``: what changes in the mouth between frames once the optical flow has taken the motion out,
  output over real (``metrics.lipsync.compensated_flicker``);
- ``unmatched``: the share of frames left as they were, turned unlike any frame of the footage (their
  real mouth then shows: ``r`` counts them as they are, ``r_dubbed`` leaves them out);
- ``offset`` / ``lse_c``: the built-in sync model on the output, and ``offset_real`` / ``lse_c_real``
  on the real part; the summary's ``in_sync`` is the share of outputs within ±1 frame, ``real_in_sync``
  the share of real parts the model finds so (its own reliability on such short clips), ``as_real`` the
  share of outputs within a frame of the offset it finds on their real part;
- ``other``: the same last 40 % dubbed to another clip's speech: ``leak`` is the output's lip opening
  against the original lips (goal <= 0.2), ``other_offset`` the sync model's offset;
- ``said_offsets`` (with ``--languages``): the sync model's offsets for made speech (espeak-ng) in English,
  German and Spanish dubbed onto the face part;
- ``animate_r`` / ``animate_leak`` (with ``--animate``): today's ``animate`` video path, side by side.

``python bench/bench_dub.py [--footage DIR] [--only tune|test] [--animate] [--limit N] [--json FILE]``;
``--speed CLIP`` times ``lipsync``'s mouths method on a whole clip (e.g. the 720p
``facebookresearch__VisualVoice__interview.mp4``); ``--sheet docs/dub_sheet.jpg`` writes the README's contact sheet (LatentSync's demo 1, Apache-2.0).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# numpy's BLAS on one thread, as the command line runs it (talkingface.cli): set before numpy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from lips_set import Clip, all_clips

from talkingface.errors import InputError

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


def mouth_quality(frames: list, landmarks: np.ndarray, real_frames: list, real: np.ndarray) -> tuple[float, float]:
    """Sharpness and motion-compensated flicker of the output's mouths over the real video's, with the
    measures of ``evaluate lipsync`` (``metrics.lipsync``), over the frames with a face in both."""
    from talkingface.metrics.lipsync import compensated_flicker, mouth_boxes, mouth_sharpness

    count = min(len(frames), len(real_frames))
    both = [k for k in range(count) if np.isfinite(landmarks[k]).all() and np.isfinite(real[k]).all()]
    if len(both) < 3:
        return float("nan"), float("nan")
    ours = np.stack([frames[k] for k in both])
    theirs = np.stack([real_frames[k] for k in both])
    box_ours, box_real = mouth_boxes(landmarks[both]), mouth_boxes(real[both])
    sharpness = mouth_sharpness(ours, box_ours) / mouth_sharpness(theirs, box_real)
    flicker = compensated_flicker(ours, box_ours) / compensated_flicker(theirs, box_real)
    return float(sharpness), float(flicker)


def footage_sharpness(footage: Path, real_frames: list, real: np.ndarray) -> float:
    """How sharp the footage's own mouths are against the real dubbed part's: what the mouths taken
    from it can reach (a phone video's zoom or focus changes over a clip)."""
    from talkingface.media import VideoReader
    from talkingface.metrics.lipsync import mouth_boxes, mouth_sharpness

    frames = list(VideoReader(footage))
    landmarks = tracked(frames)
    mine = [k for k in range(len(frames)) if np.isfinite(landmarks[k]).all()]
    theirs = [k for k in range(len(real_frames)) if np.isfinite(real[k]).all()]
    if len(mine) < 3 or len(theirs) < 3:
        return float("nan")
    own = mouth_sharpness(np.stack([frames[k] for k in mine]), mouth_boxes(landmarks[mine]))
    return float(own / mouth_sharpness(np.stack([real_frames[k] for k in theirs]), mouth_boxes(real[theirs])))


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


def dub(parts: dict, speech: Path, out: Path, mouths: bool = True) -> tuple[float, np.ndarray]:
    """Dub the face part to ``speech``: the seconds it took, and which frames were left as they were
    (turned unlike any footage frame)."""
    from talkingface.pipelines import LipSyncConfig
    from talkingface.pipelines.mouth_dub import MouthDubPipeline

    start = time.perf_counter()
    config = LipSyncConfig(keep_video_length=True, mouths=(str(parts["footage"]),) if mouths else ())
    pipeline = MouthDubPipeline.from_config(config)
    pipeline(parts["face"], speech, out)
    return time.perf_counter() - start, pipeline.unmatched


def animate(parts: dict, speech: Path, out: Path) -> None:
    from talkingface.pipelines.talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline

    TalkingPhotoPipeline.from_config(TalkingPhotoConfig())(parts["face"], speech, out)


#: Made speech in three languages, dubbed onto each clip (with ``--languages``): the sync model's offset.
SAID = (
    ("en-us", "We walked along the river before the rain came down on the quiet town."),
    ("de", "Wir gingen am Fluss entlang, bevor der Regen auf die ruhige Stadt fiel."),
    ("es", "Caminamos junto al río antes de que la lluvia cayera sobre el pueblo tranquilo."),
)


def said_offsets(parts: dict, folder: Path) -> list[float]:
    """The sync model's offset for the face part dubbed to each of :data:`SAID`."""
    from talkingface.media import write_wav
    from talkingface.speech.espeak import synthesize

    offsets = []
    for voice, text in SAID:
        spoken = synthesize(text, voice)
        wav = write_wav(folder / f"said_{voice}.wav", spoken.audio, spoken.sample_rate)
        out = folder / f"said_{voice}.mp4"
        dub(parts, wav, out)
        offsets.append(sync(out)[0])
    return offsets


def run_clip(clip: Clip, other: Clip, with_animate: bool, languages: bool = False) -> dict:
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
        seconds, left = dub(parts, parts["speech"], out)
        row["unmatched"] = float(left.mean())
        row["speed"] = len(parts["real"]) / parts["fps"] / seconds
        frames = list(VideoReader(out))[: len(real)]
        ours = tracked(frames)
        row["r"] = correlation(lip_opening(ours)[: len(real_open)], real_open[: len(ours)])
        dubbed = np.flatnonzero(~left[: min(len(ours), len(real_open))])
        row["r_dubbed"] = (
            correlation(lip_opening(ours)[dubbed], real_open[dubbed]) if len(dubbed) > 10 else float("nan")
        )
        model = load_builtin("openness")
        speech = load_audio(parts["speech"], 16000)
        curve = speech_frames(model, speech, 16000, len(real), parts["fps"]).model
        row["speech_only"] = correlation(curve, real_open)
        row["lmd"] = lip_distance(ours[: len(real)], real[: len(ours)])
        row["sharpness"], row["flicker"] = mouth_quality(frames, ours, parts["real"], real)
        row["footage_sharpness"] = footage_sharpness(parts["footage"], parts["real"], real)
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
        if languages:
            row["said_offsets"] = said_offsets(parts, folder)
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


def write_sheet(clip: Clip, output: Path, columns: int = 6) -> None:
    """A contact sheet of one clip's dubbed part: the real frames, ours (its own speech, mouths from its
    first 60 %), and today's ``animate`` path, at moments spread over the real mouth's openings."""
    import cv2

    from talkingface.media import VideoReader
    from talkingface.metrics.openness import lip_opening

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = split_clip(clip, folder)
        dub(parts, parts["speech"], folder / "ours.mp4")
        animate(parts, parts["speech"], folder / "animate.mp4")
        real = parts["real"]
        landmarks = tracked(real)
        opening = lip_opening(landmarks)
        known = np.flatnonzero(np.isfinite(opening))
        order = known[np.argsort(opening[known])]
        moments = sorted(order[np.linspace(0, len(order) - 1, columns).astype(int)])
        points = landmarks[known[0], :, :2]
        x0, y0 = points.min(0)
        x1, y1 = points.max(0)
        side = 1.15 * max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box = [int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)]
        rows = []
        for label, frames in (
            ("real", real),
            ("ours: own mouths", list(VideoReader(folder / "ours.mp4"))),
            ("animate (today)", list(VideoReader(folder / "animate.mp4"))),
        ):
            tiles = []
            for k in moments:
                frame = frames[min(k, len(frames) - 1)]
                h, w = frame.shape[:2]
                crop = frame[max(0, box[1]) : min(h, box[3]), max(0, box[0]) : min(w, box[2])]
                tiles.append(cv2.resize(np.ascontiguousarray(crop), (256, 256), interpolation=cv2.INTER_AREA))
            row = np.concatenate(tiles, axis=1)
            cv2.putText(row, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
            rows.append(row)
        sheet = np.concatenate(rows, axis=0)
        cv2.imwrite(str(output), sheet[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"sheet: {output} ({clip.name}, frames {', '.join(map(str, moments))} of its last 40 %)")


def speed(clip: Clip) -> dict:
    """The whole clip dubbed to its own speech, its mouths from itself (as ``lipsync`` runs without a
    checkpoint): seconds of video made per second, and each stage's seconds; then the same by the
    command line, a process of its own (``command_realtime``: its start, imports included)."""
    from talkingface.media import probe_video
    from talkingface.pipelines import LipSyncConfig
    from talkingface.pipelines.mouth_dub import MouthDubPipeline

    info = probe_video(clip.path)
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = MouthDubPipeline.from_config(LipSyncConfig(keep_video_length=True))
        start = time.perf_counter()
        result = pipeline(clip.path, clip.path, Path(tmp) / "out.mp4")
        seconds = time.perf_counter() - start
        duration = result.num_frames / float(result.fps)
        command = [sys.executable, "-m", "talkingface", "lipsync", "--face", str(clip.path), "--audio"]
        command += [str(clip.path), "-o", str(Path(tmp) / "cli.mp4"), "--keep-video-length", "--quiet"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        whole = time.perf_counter() - start
    return {
        "clip": clip.name,
        "size": f"{info.width}x{info.height}",
        "frames": result.num_frames,
        "realtime": duration / seconds,
        "command_realtime": duration / whole,
        **{k: round(v, 2) for k, v in pipeline.timings.items()},
    }


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


KEYS = (
    "r",
    "r_dubbed",
    "unmatched",
    "speech_only",
    "lmd",
    "sharpness",
    "flicker",
    "leak",
    "speed",
    "animate_r",
    "animate_leak",
)


def summarise(rows: list[dict]) -> dict:
    summary: dict = {}
    for role in ("tune", "test"):
        group = [r for r in rows if r["role"] == role]
        if not group:
            continue
        entry = {k: float(np.nanmedian([r[k] for r in group])) for k in KEYS if k in group[0]}
        synced = [abs(r["offset"]) <= 1 for r in group if np.isfinite(r["offset"])]
        entry["in_sync"] = float(np.mean(synced)) if synced else float("nan")
        # the sync model on the real part itself, and ours within a frame of what it finds there
        real = [abs(r["offset_real"]) <= 1 for r in group if np.isfinite(r["offset_real"])]
        entry["real_in_sync"] = float(np.mean(real)) if real else float("nan")
        alike = [abs(r["offset"] - r["offset_real"]) <= 1 for r in group if np.isfinite(r["offset"] + r["offset_real"])]
        entry["as_real"] = float(np.mean(alike)) if alike else float("nan")
        other = [abs(r["other_offset"]) <= 1 for r in group if np.isfinite(r["other_offset"])]
        entry["other_in_sync"] = float(np.mean(other)) if other else float("nan")
        said = [abs(o) <= 1 for r in group for o in r.get("said_offsets", []) if np.isfinite(o)]
        if said:
            entry["said_in_sync"] = float(np.mean(said))
        entry["clips"] = len(group)
        summary[role] = entry
    return summary


def main(argv=None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", help="a folder of more footage with its INDEX.tsv")
    parser.add_argument("--only", choices=("tune", "test"))
    parser.add_argument("--animate", action="store_true", help="also today's animate video path")
    parser.add_argument("--limit", type=int, help="at most this many clips")
    parser.add_argument("--clips", nargs="+", metavar="NAME", help="only these clips (file names)")
    parser.add_argument("--languages", action="store_true", help="also dub made speech in 3 languages (sync only)")
    parser.add_argument("--json", help="write the rows and summary here")
    parser.add_argument(
        "--speed", metavar="CLIP", help="time lipsync's mouths method on this clip's whole length, and stop"
    )
    parser.add_argument("--sheet", help="write a contact sheet of --sheet-clip here (.jpg), and stop")
    parser.add_argument("--sheet-clip", default="bytedance__LatentSync__demo1_video.mp4", help="its clip")
    args = parser.parse_args(argv)
    if args.speed:
        named = [c for c in all_clips(args.footage) if c.name == args.speed]
        if not named:
            print(f"{args.speed}: not found")
            return False
        print(speed(named[0]))
        return True
    if args.sheet:
        named = [c for c in all_clips(args.footage) if c.name == args.sheet_clip]
        if not named:
            print(f"{args.sheet_clip}: not found")
            return False
        write_sheet(named[0], Path(args.sheet))
        return True
    chosen = [c for c in clips(args.only, args.footage) if not args.clips or c.name in args.clips][: args.limit]
    if not chosen:
        print("no clips found (../shared/data/clips, or --footage)")
        return False
    rows = []
    for k, clip in enumerate(chosen):
        other = chosen[(k + 1) % len(chosen)] if len(chosen) > 1 else clip
        try:
            row = run_clip(clip, other, args.animate, args.languages)
        except InputError as error:  # said, and left out of the medians
            print(f"clip={clip.name} role={clip.role} failed: {error}", flush=True)
            continue
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
