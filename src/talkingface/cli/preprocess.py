"""``talkingface preprocess VIDEOS... OUT``: real talking-face videos into the Wav2Lip / LRS2 training
layout (face crops at 25 fps, 16 kHz speech, landmarks, file lists split by speaker). With
``--min-confidence`` clips of low sync confidence are dropped, with ``--shift`` the others are shifted
to their measured offset (scored by the built-in sync model, or ``--syncnet FILE``).

Runs several videos at once (``--workers``), resumes where an interrupted run stopped, and reports
what it dropped and why (no face, several faces, too short, no audio, unreadable) in OUT/report.json.
"""

from __future__ import annotations

import argparse

from ._common import SEED, WORKERS, Bounded


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "preprocess",
        help="videos -> Wav2Lip/LRS2 training layout",
        description=__doc__.split(":", 1)[1].strip(),
    )
    parser.add_argument("inputs", nargs="+", metavar="VIDEO", help="videos with speech, or folders of them")
    parser.add_argument("out", metavar="OUT", help="the set's folder (created; its parent must exist)")
    parser.add_argument("--size", type=Bounded(int, 16, 1024), default=96, help="crop side in pixels (default 96)")
    parser.add_argument(
        "--pads",
        nargs=4,
        type=Bounded(int, 0, 100000),
        default=[0, 10, 0, 0],
        metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"),
        help="pixels around the face box (default 0 10 0 0)",
    )
    parser.add_argument(
        "--min-frames", type=Bounded(int, 1, 10**7), default=25, help="shortest clip kept, 25 fps frames (default 25)"
    )
    parser.add_argument(
        "--split",
        nargs=3,
        type=Bounded(float, 0, 1),
        default=[0.8, 0.1, 0.1],
        metavar=("TRAIN", "VAL", "TEST"),
        help="shares of the speakers (default 0.8 0.1 0.1)",
    )
    parser.add_argument("--speakers", metavar="TSV", help="file<TAB>speaker lines (default: folder names)")
    parser.add_argument("--workers", type=WORKERS, default=1, help="videos processed at once (default 1)")
    parser.add_argument("--seed", type=SEED, default=0, help="the speaker split's shuffle (default 0)")
    parser.add_argument(
        "--syncnet",
        metavar="FILE",
        help="check each clip's sync with this SyncNet (syncnet_v2.model; default: the built-in sync model)",
    )
    parser.add_argument(
        "--min-confidence", type=Bounded(float, -100, 100), help="drop clips whose sync confidence (LSE-C) is lower"
    )
    parser.add_argument("--shift", action="store_true", help="take each clip's speech at its measured offset")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(run=run)


VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".avi", ".mpg", ".mpeg", ".flv", ".ts")


def _videos(inputs: list[str]) -> list[str]:
    from pathlib import Path

    from ..errors import InputError

    found: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(str(path))
        else:
            raise InputError(f"{item}: no such file or folder")
    if not found:
        raise InputError("no videos found in the given folders")
    return found


def _mapping(path: str | None) -> dict[str, str] | None:
    from pathlib import Path

    from ..errors import InputError, MediaError

    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise MediaError(p, "file not found")
    mapping = {}
    for number, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip():
            raise InputError(f"{p}:{number}: expected 'file<TAB>speaker'")
        mapping[Path(parts[0].strip()).name] = parts[1].strip()
    return mapping


def run(args: argparse.Namespace) -> int:
    import sys

    from ..builders.preprocess import PreprocessConfig, preprocess, speakers_for

    config = PreprocessConfig(
        size=args.size,
        pads=tuple(args.pads),
        min_frames=args.min_frames,
        split=tuple(args.split),
        seed=args.seed,
        syncnet=args.syncnet,
        min_confidence=args.min_confidence,
        shift=args.shift,
    )
    videos = _videos(args.inputs)
    speakers = speakers_for(videos, _mapping(args.speakers))

    def progress(done: int, total: int, report) -> None:
        if args.quiet:
            return
        state = f"error: {report.error}" if report.error else f"{len(report.clips)} clip(s), {report.frames} frames"
        print(f"[{done}/{total}] {report.video}: {state}", file=sys.stderr)

    result = preprocess(videos, args.out, config, speakers, workers=args.workers, progress=progress)
    dropped = ", ".join(f"{reason} {count}" for reason, count in sorted(result.dropped().items())) or "nothing"
    print(
        f"{result.clips} clips from {len(result.reports)} videos in {result.root} "
        f"(train {len(result.splits['train'])}, val {len(result.splits['val'])}, test {len(result.splits['test'])}); "
        f"dropped: {dropped}; details in {result.root / 'report.json'}"
    )
    return 0
