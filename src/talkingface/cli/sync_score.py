"""``talkingface sync-score``: LSE-D, LSE-C and AV offset of videos (syncnet_python's protocol).

Scores every face track of every video with SyncNet (``--checkpoint syncnet_v2.model``: syncnet_python's
numbers) or, with no checkpoint, with the built-in sync model (lip landmarks against speech; its
distances are on its own scale, not SyncNet's). ``--whole-frame`` scores the whole frame resized to 224
(the Wav2Lip paper's LRS variant). Prints a table, or JSON/CSV.
"""

from __future__ import annotations

import argparse

from .. import choices


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sync-score", help="LSE-D / LSE-C / AV offset of videos (SyncNet)", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("videos", nargs="+", help="videos to score")
    parser.add_argument(
        "--checkpoint", help="syncnet_v2.model (syncnet_python) or our .safetensors (default: the built-in model)"
    )
    parser.add_argument("--whole-frame", action="store_true", help="score whole frames (LRS variant)")
    parser.add_argument(
        "--valid-only",
        action="store_true",
        help="average every offset over the same frames (no zero padding; not syncnet_python's numbers)",
    )
    parser.add_argument(
        "--windows",
        default="reference",
        choices=choices.SYNC_WINDOWS,
        help="reference: syncnet_python's windows (its numbers); all: one per frame but the last 4",
    )
    parser.add_argument(
        "--jpeg-frames", action="store_true", help="pass crops through FFmpeg's default JPEG first, as syncnet_python"
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON (- for stdout)")
    parser.add_argument("--csv", metavar="FILE", help="write the results as CSV")
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="draw distance vs offset and confidence per frame (several videos: PNG_<video>.png)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..errors import InputError
    from ..files import check_output
    from ..pipelines import SyncScoreConfig, SyncScorePipeline

    if args.plot:
        check_output(args.plot, suffixes=(".png",), inputs=tuple(args.videos), what="plot")
    if args.json and args.json != "-":
        check_output(args.json, suffixes=(".json",), inputs=tuple(args.videos), what="JSON file")
    if args.csv:
        check_output(args.csv, suffixes=(".csv",), inputs=tuple(args.videos), what="CSV file")
    config = SyncScoreConfig(
        whole_frame=args.whole_frame,
        padding="valid" if args.valid_only else "zeros",
        windows=args.windows,
        frames="jpeg" if args.jpeg_frames else "direct",
    )
    pipeline = SyncScorePipeline.from_config(config, args.checkpoint)
    if pipeline.lips:
        crop_only = {
            "--whole-frame": args.whole_frame,
            "--jpeg-frames": args.jpeg_frames,
            "--valid-only": args.valid_only,
            "--windows all": args.windows != "reference",
        }
        used = [flag for flag, on in crop_only.items() if on]
        if used:
            raise InputError(f"{used[0]} needs a SyncNet checkpoint (--checkpoint syncnet_v2.model)")
    scored = pipeline.to(args.device).score_all(args.videos)
    results, failures, rows = scored.results, scored.failures, scored.rows()
    if not results and len(failures) == 1:
        raise InputError(next(iter(failures.values())))
    for problem in failures.values():  # the others were scored (or the last line says none was)
        print(f"note: not scored: {problem}", file=sys.stderr)
    if not results:
        raise InputError(f"no video could be scored ({len(failures)} failed, each noted above)")
    _write_reports(args, results, rows)
    if args.json != "-":
        print(f"model: {_model_name(args.checkpoint)}")
        names = _shown_names([r["video"] for r in rows])
        width = max(len("video"), *(len(n) for n in names.values()))
        print(f"{'video':<{width}} {'track':>5} {'frames':>6} {'LSE-D':>7} {'LSE-C':>7} {'offset':>6}")
        for r in rows:
            print(
                f"{names[r['video']]:<{width}} {r['track']:>5} {r['frames']:>6} {r['lse_d']:>7.3f} "
                f"{r['lse_c']:>7.3f} {r['offset']:>6}"
            )
    if failures:
        print(
            f"talkingface sync-score: error: {len(failures)} of {len(args.videos)} videos could not be scored "
            "(each noted above); the others were scored",
            file=sys.stderr,
        )
        return 2
    return 0


def _model_name(checkpoint: str | None) -> str:
    return checkpoint if checkpoint else "the built-in sync model (syncnet.lips; distances on its own scale)"


def _write_reports(args: argparse.Namespace, results: list, rows: list[dict]) -> None:
    """The plot of each video's scores, the JSON (a file, or standard output for ``-``) and the CSV."""
    import csv
    import io
    import json
    from pathlib import Path

    from ..files import atomic_output

    if args.plot:
        from ..media import probe_video
        from ..metrics.plot import plot_sync_scores

        for result in results:
            target = Path(args.plot)
            if len(args.videos) > 1:
                target = target.with_name(f"{target.stem}_{result.path.stem}{target.suffix}")
            plot_sync_scores(target, result.tracks, float(probe_video(result.path).fps or 25), str(result.path))
            print(f"plot: {target}")
    if args.json == "-":
        print(json.dumps([r.to_dict() for r in results], indent=1))
    elif args.json:
        with atomic_output(args.json) as tmp:  # ASCII: a name that is not UTF-8 keeps its bytes as escapes
            tmp.write_text(json.dumps([r.to_dict() for r in results], indent=1), encoding="ascii")
    if args.csv:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        with atomic_output(args.csv) as tmp:  # bytes of a name that are not UTF-8 shown as \\x.. escapes
            tmp.write_text(text.getvalue(), encoding="utf-8", errors="backslashreplace")


def _shown_names(videos: list[str]) -> dict[str, str]:
    """How the table names each video: its file name, whole, or its whole path where two share a name."""
    from pathlib import Path

    names = {v: Path(v).name for v in videos}
    clashes = {n for n in names.values() if len({v for v, m in names.items() if m == n}) > 1}
    return {v: v if n in clashes else n for v, n in names.items()}
