"""``talkingface evaluate sync VIDEOS... [--checkpoint F]``: how well a SyncNet (default: the built-in
sync model) finds AV offsets.

Each video's audio is moved by every shift in ``--shifts`` (video frames; the faces are cut and
embedded once) and scored; the report gives the share of (clip, shift) pairs whose measured offset is
within 1 frame of the shift (the clips taken as in sync), the same against each clip's own offset, and
the share of in-sync and far-off (|shift| >= 5) pairs told apart. Use clips known to be in sync
(GRID, LRS2, MEAD, or the held-out clips of a preprocessed set's sources).

``talkingface evaluate lipsync OUT.mp4 --reference REAL.mp4`` compares lip-sync output with the real
video of the same speech: mouth landmark distance (LMD), and the mouth's sharpness and flicker in both.
"""

from __future__ import annotations

import argparse

from ._common import Bounded


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model on clips (sync: AV-offset accuracy)",
        description=__doc__.split(":", 1)[1].strip(),
    )
    kinds = parser.add_subparsers(dest="kind", metavar="WHAT", required=True)
    sync = kinds.add_parser("sync", help="AV-offset accuracy of a SyncNet on clips with shifted audio")
    sync.add_argument("videos", nargs="+", help="talking-face videos with their own speech, in sync")
    sync.add_argument("--checkpoint", help="syncnet_v2.model or our .safetensors (default: the built-in model)")
    sync.add_argument(
        "--shifts", nargs=2, type=Bounded(int, -100, 100), default=[-6, 6], metavar=("FROM", "TO"), help="default -6 6"
    )
    sync.add_argument("--json", metavar="FILE", help="also write the report and every score as JSON")
    sync.add_argument("--device", default="cpu", help="torch device (default cpu)")
    sync.set_defaults(run=run)
    lip = kinds.add_parser("lipsync", help="lip-sync output against the real video: LMD, mouth sharpness and flicker")
    lip.add_argument("output", help="the lip-synced video")
    lip.add_argument("--reference", required=True, help="the real video of the same speech (ground truth)")
    lip.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    lip.set_defaults(run=run_lipsync)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from ..errors import InputError, TalkingFaceError
    from ..files import atomic_output, check_output
    from ..metrics.sync import shift_report
    from ..pipelines import SyncScorePipeline

    low, high = args.shifts
    if not -15 <= low <= 0 <= high <= 15:
        raise InputError(f"--shifts must span 0 within -15..15 (the offsets SyncNet searches), got {low} {high}")
    if args.json:
        check_output(args.json, suffixes=(".json",), inputs=tuple(args.videos), what="JSON file")
    shifts = [0, *[s for s in range(low, high + 1) if s != 0]]
    pipeline = SyncScorePipeline.from_config(None, args.checkpoint).to(args.device)
    measured: dict[tuple[str, int], int] = {}
    rows = []
    failed = 0
    for video in args.videos:
        try:
            results = pipeline.shifted(video, shifts)
        except TalkingFaceError as error:
            print(f"talkingface evaluate: error: {error}", file=sys.stderr)
            failed += 1
            continue
        for shift, result in results.items():
            if not result.tracks:
                continue
            longest = max(result.tracks, key=lambda t: t.num_frames).scores
            measured[(video, shift)] = longest.offset
            rows.append({"video": video, "shift": shift, "offset": longest.offset, "lse_d": round(longest.lse_d, 4),
                         "lse_c": round(longest.lse_c, 4)})  # fmt: skip
    if not measured:
        raise InputError(f"no video could be scored ({failed} failed)")
    report = shift_report(measured)
    print(
        f"{len({v for v, _ in measured})} clips x {len(shifts)} shifts: offset within 1 frame of the shift "
        f"{report.within_one:.1%} (against each clip's own offset {report.within_one_relative:.1%}); "
        f"in sync vs {report.far}+ frames off told apart {report.told_apart:.1%}"
    )
    if args.json:
        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps({"report": report.to_dict(), "scores": rows}, indent=1) + "\n")
    return 2 if failed else 0


def run_lipsync(args: argparse.Namespace) -> int:
    import json

    from ..files import atomic_output, check_output
    from ..media import probe_video
    from ..metrics.lipsync import compare_videos

    if args.json:
        check_output(args.json, suffixes=(".json",), inputs=(args.output, args.reference), what="JSON file")
    probe_video(args.output)
    probe_video(args.reference)
    report = compare_videos(args.output, args.reference)
    print(
        f"{report['frames']} frames: LMD {report['lmd']:.3f} (96 px crop pixels); mouth sharpness "
        f"{report['sharpness_output']:.1f} (real {report['sharpness_reference']:.1f}); mouth flicker "
        f"{report['flicker_output']:.2f} (real {report['flicker_reference']:.2f})"
    )
    if args.json:
        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n")
    return 0
