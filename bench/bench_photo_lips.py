"""The talking photo's mouth against real lips: each real clip of ``../shared/data/clips`` (the same
clips and groups as ``bench_visemenet.py``) gives its first frame as the photo and its own speech; the
photo is animated (at most 512 px, the default lively face) and our tracker measures the inner-lip opening of
the output, as it does on the real video. Reported per group: the median over clips of the
correlation between the two openings, and the mean absolute difference of the opening over face
height (forehead to chin). Without a transcript (VisemeNet, the default), and for GRID clips with
their transcript too (forced alignment + JALI).

``python bench/bench_photo_lips.py [--json FILE]``; tracking of the real clips is cached with
``bench_visemenet.py``'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_visemenet import CACHE, CLIPS, HELD_OUT_SELECTIONS, correlation, group_of


def openings(video: Path) -> np.ndarray:
    """Inner-lip distance over face height (landmarks 10 to 152) per frame, NaN without a face."""
    from talkingface.face import FaceTracker, TrackerConfig

    landmarks = FaceTracker(TrackerConfig(smoothing=None)).track_video(video).target().landmarks
    lips = np.linalg.norm(landmarks[:, 14, :2] - landmarks[:, 13, :2], axis=1)
    return lips / np.linalg.norm(landmarks[:, 152, :2] - landmarks[:, 10, :2], axis=1)


def real_openings(video: Path) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{video.name}.height.npy"
    if cached.is_file():
        return np.load(cached)
    measured = openings(video)
    np.save(cached, measured)
    return measured


def first_face_frame(video: Path, folder: Path) -> Path | None:
    import cv2

    from talkingface.face import detect_faces
    from talkingface.media import VideoReader

    with VideoReader(video) as reader:
        for index, frame in enumerate(reader):
            if detect_faces(frame, max_faces=1):
                path = folder / f"{video.stem}.png"
                cv2.imwrite(str(path), frame[..., ::-1])
                return path
            if index > 50:
                return None
    return None


def main(argv=None) -> bool:
    """True when, without a transcript, the output's lips follow the real ones (median correlation > 0)
    on the held-out speakers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    if not CLIPS.is_dir():
        print(f"skipped: {CLIPS} not found")
        return True
    import cv2
    import soundfile

    from talkingface.data.grid import grid_sentence
    from talkingface.media import load_audio
    from talkingface.pipelines import TalkingPhotoConfig, TalkingPhotoPipeline

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for video in sorted(p for p in CLIPS.iterdir() if p.suffix in (".mp4", ".mpg") and group_of(p.name)):
            group, held = group_of(video.name)  # type: ignore[misc]
            photo = first_face_frame(video, folder)
            if photo is None:
                continue
            real = real_openings(video)
            height, width = cv2.imread(str(photo)).shape[:2]
            pipeline = TalkingPhotoPipeline(TalkingPhotoConfig(size=512 if max(height, width) > 512 else None))
            speech = folder / f"{video.stem}.wav"
            soundfile.write(speech, load_audio(video, 16000), 16000)
            texts = {"no transcript": None}
            if video.name.startswith("rizkiarm__LipNet__"):
                texts["transcript"] = grid_sentence(video.stem)
            row = {"clip": video.name, "group": group, "held_out": held}
            for label, text in texts.items():
                out = folder / f"{video.stem}.{len(text or '')}.mp4"
                result = pipeline(photo, speech, out, text=text)
                ours = openings(out)
                # The output runs at the photo's 25 fps; the real video at its own: compare in time.
                times = np.arange(len(real)) / float(_fps(video))
                ours_at = np.interp(times, np.arange(len(ours)) / float(result.fps), ours)
                row[f"{label} correlation"] = correlation(ours_at, real)
                keep = np.isfinite(ours_at) & np.isfinite(real)
                row[f"{label} difference"] = (
                    float(np.mean(np.abs(ours_at[keep] - real[keep]))) if keep.any() else float("nan")
                )
            rows.append(row)
            print(
                f"  {video.name[:58]:<58} {group:<13} "
                + "  ".join(f"{k} {v:+.3f}" for k, v in row.items() if k.endswith(("correlation", "difference"))),
                flush=True,
            )
    summary = {}
    selections = {
        **HELD_OUT_SELECTIONS,
        "training speakers": lambda r: not r["held_out"],
        "GRID": lambda r: r["group"] == "GRID",
    }
    print("\nthe talking photo's inner-lip opening against the real video's (median over clips):")
    for label, keep in selections.items():
        chosen = [r for r in rows if keep(r)]
        if not chosen:
            continue
        figures = {}
        for key in ("no transcript", "transcript"):
            values = [r[f"{key} correlation"] for r in chosen if f"{key} correlation" in r]
            differences = [r[f"{key} difference"] for r in chosen if f"{key} difference" in r]
            if values:
                figures[key] = (float(np.nanmedian(values)), float(np.nanmean(differences)))
        summary[label] = {
            "clips": len(chosen),
            **{k: {"correlation": c, "difference": d} for k, (c, d) in figures.items()},
        }
        print(
            f"  {label:<20} {len(chosen):2d} clips  "
            + "  ".join(
                f"{k}: correlation {c:+.3f}, difference {d:.4f} of face height" for k, (c, d) in figures.items()
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": rows, "summary": summary}, indent=1))
    held = summary.get("held-out speakers", {}).get("no transcript", {})
    return bool(held) and held["correlation"] > 0


def _fps(video: Path) -> float:
    from talkingface.media import probe_video

    return float(probe_video(video).fps or 25)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
