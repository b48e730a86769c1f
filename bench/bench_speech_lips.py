"""Speech-driven mouths against real lips, side by side with Rhubarb Lip Sync, on real clips by speaker role.

For each real clip (``lips_set.py``: ``../shared/data/clips`` and any extra footage), the speaker's
inner-lip opening is measured in every video frame (``metrics.openness``: inner-lip gap over face
height, our tracker, no smoothing). Each signal is made from the clip's speech alone and correlated
with it per clip, at zero lag and at the best lag within ±2 frames (lips taken earlier than the sound
is a positive lag):

- ``rhubarb`` and ``rhubarb_phonetic``: Rhubarb Lip Sync's cues (its English recogniser and its
  phonetic one, ``--threads 1``), as openness per frame (``metrics.openness.CUE_OPENNESS``); run when
  its binary is found (``--rhubarb PATH``, ``RHUBARB``, or on the PATH), else said so;
- ``jaw``: our ``jawOpen`` by the default method (``--method auto``, no transcript), and ``jaw_jali``,
  ``jaw_visemenet`` for each method on its own;
- ``cues``: our Rhubarb-style cues (``visemes -o cues.tsv``) as openness, on the same scale;
- ``loudness``: the RMS of the speech per frame, the floor any method should clear;
- ``photo`` (with ``--photo``): the talking photo made from the clip's first frame and its speech,
  its output's inner-lip opening measured by the same tracker; and the ratio of its 90th-percentile
  opening to the real speaker's;
- ``mesh``: the built-in 3D face under our curves (``mesh``'s blendshapes), its inner-lip opening over face
  height taken from its vertices (the face has the tracker's 478 points); and the ratio of its
  90th-percentile opening to the real speaker's;
- ``transcript``: on GRID clips named by their sentence, our ``jawOpen`` with the transcript.

Speed: 60 s of real speech to curves by the default method without a transcript, against VisemeNet
alone (the default before the openness model) timed in the same run (goal: under 1 s on 2 cores).

Medians are reported per role: ``tune`` (held-out speakers on which defaults are chosen), ``test``
(held-out speakers never used for a choice), ``train`` (speakers shippable models may train on), and
within the held-out roles for in-the-wild speech (interviews, news, talks, phone video) apart from
studio corpora. Tracking, Rhubarb's cues and recognition are cached in ``.cache/bench_lips``.

``python bench/bench_speech_lips.py [--footage DIR] [--rhubarb PATH] [--photo] [--only tune|test|train]
[--json FILE] [--speed-only]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lips_set import REPO, ROLES, Clip, all_clips

CACHE = REPO / ".cache" / "bench_lips"
MAX_LAG = 2
SIGNALS = ("rhubarb", "rhubarb_phonetic", "jaw", "jaw_jali", "jaw_visemenet", "cues", "loudness", "mesh", "photo")


def mesh_opening(curves) -> np.ndarray:
    """The built-in 3D face's inner-lip opening over face height under ``curves``, per frame."""
    from talkingface.animation.blendshapes import face_basis
    from talkingface.metrics.openness import lip_opening

    basis = face_basis()
    return lip_opening(basis.evaluate(basis.weights_from(curves)))


def measured(clip: Clip):
    from talkingface.metrics.openness import MeasuredLips, measure_video

    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{clip.name}.lips.npz"
    if cached.is_file():
        data = np.load(cached)
        return MeasuredLips(data["opening"], float(data["fps"]))
    lips = measure_video(clip.path)
    np.savez(cached, opening=lips.opening, fps=lips.fps)
    return lips


def speech_wav(clip: Clip, audio: np.ndarray) -> Path:
    import soundfile

    path = CACHE / f"{clip.name}.16k.wav"
    if not path.is_file():
        soundfile.write(path, audio, 16000, subtype="PCM_16")
    return path


def find_rhubarb(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("RHUBARB"), shutil.which("rhubarb")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def rhubarb_cues(rhubarb: str, wav: Path, recognizer: str):
    """Rhubarb's cues for a WAV (cached by clip and recogniser)."""
    from talkingface.export.cues import read_cues

    cached = CACHE / f"{wav.stem}.rhubarb-{recognizer}.tsv"
    if not cached.is_file():
        result = subprocess.run(
            [rhubarb, "-q", "--threads", "1", "-r", recognizer, "-f", "tsv", str(wav)],
            capture_output=True,
            text=True,
            check=True,
        )
        cached.write_text(result.stdout)
    return read_cues(cached)


def loudness(audio: np.ndarray, count: int, fps: float) -> np.ndarray:
    edges = (np.arange(count + 1) / fps * 16000).astype(int)
    return np.array([np.sqrt(np.mean(audio[a:b] ** 2)) if b > a else 0.0 for a, b in itertools.pairwise(edges)])


def our_cues(curves, phonemes, folder: Path):
    """The cues ``visemes -o cues.tsv`` writes for these curves and phonemes, read back."""
    from talkingface.export.cues import read_cues
    from talkingface.export.formats import write_animation

    path = folder / "cues.tsv"
    write_animation(path, "rhubarb-tsv", curves, phonemes)
    return read_cues(path)


def photo_opening(clip: Clip, wav: Path, folder: Path, count: int, fps: float) -> np.ndarray | None:
    """The talking photo made from the clip's first face frame and its speech, its measured opening at
    the real video's frame times."""
    import cv2

    from talkingface.face import detect_faces
    from talkingface.media import VideoReader
    from talkingface.metrics.openness import measure_video
    from talkingface.pipelines import TalkingPhotoConfig, TalkingPhotoPipeline

    photo = None
    with VideoReader(clip.path) as reader:
        for index, frame in enumerate(reader):
            if detect_faces(frame, max_faces=1):
                photo = folder / f"{clip.path.stem}.png"
                cv2.imwrite(str(photo), frame[..., ::-1])
                break
            if index > 50:
                break
    if photo is None:
        return None
    height, width = cv2.imread(str(photo)).shape[:2]
    out = folder / f"{clip.path.stem}.photo.mp4"
    TalkingPhotoPipeline(TalkingPhotoConfig(size=512 if max(height, width) > 512 else None))(photo, wav, out)
    ours = measure_video(out)
    return np.interp(np.arange(count) / fps, ours.times, ours.opening)


def run_clip(clip: Clip, rhubarb: str | None, with_photo: bool) -> dict:
    from talkingface.animation.speech import speech_curves
    from talkingface.media import load_audio
    from talkingface.metrics.openness import best_lag, correlation, cue_openness, opening_ratio

    lips = measured(clip)
    count, fps = len(lips.opening), lips.fps
    audio = load_audio(clip.path, 16000)
    wav = speech_wav(clip, audio)
    signals: dict[str, np.ndarray] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if rhubarb:
            for key, recognizer in (("rhubarb", "pocketSphinx"), ("rhubarb_phonetic", "phonetic")):
                signals[key] = cue_openness(rhubarb_cues(rhubarb, wav, recognizer), count, fps)
        for key, method in (("jaw", "auto"), ("jaw_jali", "jali"), ("jaw_visemenet", "visemenet")):
            start = time.perf_counter()
            curves, phonemes = speech_curves(audio, 16000, fps, method=method)
            timings[key] = time.perf_counter() - start
            signals[key] = curves.channel("jawOpen")
            if key == "jaw":
                signals["cues"] = cue_openness(our_cues(curves, phonemes, folder), count, fps)
                signals["mesh"] = mesh_opening(curves)
        signals["loudness"] = loudness(audio, count, fps)
        if clip.name.startswith("rizkiarm__LipNet__"):  # GRID named by its sentence code
            from talkingface.data.grid import grid_sentence

            code = clip.path.stem.split("__")[-1].split("_")[-1]
            curves, _ = speech_curves(audio, 16000, fps, text=grid_sentence(code))
            signals["transcript"] = curves.channel("jawOpen")
        row = {
            "clip": clip.name,
            "speaker": clip.speaker,
            "role": clip.role,
            "setting": clip.setting,
            "source": clip.source,
            "seconds": round(len(audio) / 16000, 2),
        }
        row["mesh_p90_ratio"] = opening_ratio(signals["mesh"], lips.opening)
        if with_photo:
            photo = photo_opening(clip, wav, folder, count, fps)
            if photo is not None:
                signals["photo"] = photo
                row["photo_p90_ratio"] = opening_ratio(photo, lips.opening)
    for key, signal in signals.items():
        row[key] = correlation(signal, lips.opening)
        row[f"{key}_best"] = best_lag(signal, lips.opening, MAX_LAG)[1]
        row[f"{key}_lag"] = best_lag(signal, lips.opening, MAX_LAG)[0]
    row["timings"] = timings
    return row


def summarise(rows: list[dict]) -> dict:
    groups = {}
    for role in ROLES:
        groups[role] = [r for r in rows if r["role"] == role]
        groups[f"{role} wild"] = [r for r in rows if r["role"] == role and r["setting"] == "wild"]
    groups["held out"] = [r for r in rows if r["role"] in ("tune", "test")]
    groups["held out wild"] = [r for r in groups["held out"] if r["setting"] == "wild"]
    groups["GRID"] = [r for r in rows if r["source"] == "GRID"]
    summary = {}
    for label, chosen in groups.items():
        if not chosen:
            continue
        entry: dict = {"clips": len(chosen), "speakers": len({r["speaker"] for r in chosen})}
        for key in (*SIGNALS, "transcript"):
            values = [r[key] for r in chosen if key in r]
            if values:
                entry[key] = float(np.nanmedian(values))
                entry[f"{key}_best"] = float(np.nanmedian([r[f"{key}_best"] for r in chosen if key in r]))
        for kind in ("photo", "mesh"):
            ratios = [r[f"{kind}_p90_ratio"] for r in chosen if np.isfinite(r.get(f"{kind}_p90_ratio", np.nan))]
            if ratios:
                entry[f"{kind}_p90_ratio"] = float(np.median(ratios))
                entry[f"{kind}_p90_within"] = float(np.mean([0.7 <= x <= 1.3 for x in ratios]))
        if "rhubarb_phonetic" in chosen[0]:
            for key in ("jaw", "cues", "photo"):
                pairs = [(r[key], r["rhubarb_phonetic"]) for r in chosen if key in r]
                entry[f"{key}_beats_rhubarb_phonetic"] = sum(a > b for a, b in pairs)
        summary[label] = entry
    return summary


def print_summary(summary: dict) -> None:
    shown = [s for s in (*SIGNALS, "transcript") if any(s in e for e in summary.values())]
    print("\nmedian r with the measured inner-lip opening: zero lag (best lag within ±2 frames)")
    print(f"  {'clips':<16}{'n':>4} " + "".join(f"{s:>20}" for s in shown))
    for label, entry in summary.items():
        cells = "".join(f"{entry[s]:+9.3f} ({entry[s + '_best']:+.3f})" if s in entry else f"{'':>20}" for s in shown)
        print(f"  {label:<16}{entry['clips']:>4} {cells}")
    for label, entry in summary.items():
        for kind, what in (("photo", "talking photo"), ("mesh", "3D face")):
            if f"{kind}_p90_ratio" in entry:
                print(
                    f"  {label}: the {what}'s 90th-percentile opening {entry[kind + '_p90_ratio']:.2f}x the real "
                    f"speaker's (median), within 0.7-1.3x on {entry[kind + '_p90_within']:.0%} of clips"
                )


def speed() -> dict:
    """Seconds for 60 s of speech to curves: ``auto`` (no transcript) and VisemeNet alone, best of 5."""
    import statistics

    from talkingface.animation.speech import speech_curves
    from talkingface.media import load_audio

    clip = REPO.parent / "shared" / "data" / "clips" / "tanshuai0219__EDTalk__pose_source2.mp4"
    audio = load_audio(clip, 16000)[: 60 * 16000]
    times: dict[str, list[float]] = {"auto": [], "visemenet": []}
    for method in ("auto", "visemenet"):
        speech_curves(audio[:16000], 16000, 30, method=method)  # models loaded
    for _ in range(5):
        for method in times:
            start = time.perf_counter()
            speech_curves(audio, 16000, 30, method=method)
            times[method].append(time.perf_counter() - start)
    result = {m: {"min": min(t), "median": statistics.median(t)} for m, t in times.items()}
    print(
        f"\n60 s of speech to curves at 30 fps (2 threads): auto {result['auto']['median']:.3f} s "
        f"(min {result['auto']['min']:.3f}), VisemeNet alone {result['visemenet']['median']:.3f} s: "
        f"{result['auto']['median'] / result['visemenet']['median']:.2f}x its time (goal: under 1 s)"
    )
    return result


def main(argv=None) -> bool:
    """True when, on the held-out speakers in the wild, our jaw and cues are ahead of Rhubarb's phonetic
    recogniser (or, without Rhubarb, of the loudness envelope)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", help="a folder of more real clips with its INDEX.tsv (or TALKINGFACE_FOOTAGE)")
    parser.add_argument("--rhubarb", help="Rhubarb Lip Sync's binary (or RHUBARB, or on the PATH)")
    parser.add_argument("--photo", action="store_true", help="also animate each clip's first frame (slow)")
    parser.add_argument("--only", choices=ROLES, action="append", help="only these roles (repeatable)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--speed-only", action="store_true", help="only the speed of the default method")
    args = parser.parse_args(argv)
    clips = [c for c in all_clips(args.footage) if not args.only or c.role in args.only]
    if not clips:
        print("skipped: no real clips found (../shared/data/clips, --footage)")
        return True
    import torch

    torch.set_num_threads(2)
    timing = speed()
    if args.speed_only:
        return timing["auto"]["median"] < 1.0
    rhubarb = find_rhubarb(args.rhubarb)
    print(
        f"{len(clips)} clips, {len({c.speaker for c in clips})} speakers; Rhubarb: "
        + (rhubarb if rhubarb else "not found (--rhubarb PATH): its columns are left out")
    )
    rows = []
    for clip in clips:
        row = run_clip(clip, rhubarb, args.photo)
        rows.append(row)
        print(
            f"  {clip.name[:50]:<50} {clip.role:<5} "
            + " ".join(f"{k} {row[k]:+.2f}" for k in (*SIGNALS, "transcript") if k in row),
            flush=True,
        )
    summary = summarise(rows)
    print_summary(summary)
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": rows, "summary": summary, "speed": timing}, indent=1))
    held = summary.get("held out wild", {})
    floor = "rhubarb_phonetic" if rhubarb else "loudness"
    ahead = bool(held) and all(held.get(k, -1) > held.get(floor, 1) for k in ("jaw", "cues"))
    return ahead and timing["auto"]["median"] < 1.0


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
