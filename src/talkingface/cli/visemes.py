"""``talkingface visemes``: speech -> animation curves (ARKit-52, JSON or Live Link Face CSV).

With a transcript (``--text`` or ``--transcript``) forced alignment times its phonemes and the JALI
animator makes the curves; without one the built-in VisemeNet makes them from the audio alone, in any
language, with its phoneme groups (``--method`` chooses; ``--method jali`` without a transcript uses
phoneme recognition). ``--plot`` draws the curves over the waveform with the phonemes labelled.

Outputs (``-o``, repeat for several) are chosen by name: ``.json`` / ``.csv`` curves, Rhubarb mouth cues
(``.tsv``, ``.xml``, ``.rhubarb.json``), Moho ``.dat``, Papagayo ``.pgo``, Unity ``.anim``, Godot ``.tres``,
VRM ``.vrma``, Live2D ``.motion3.json``, MMD ``.vmd``, Audio2Face-style ``.a2f.json``, captions ``.srt`` /
``.vtt``; or by ``--format``. ``--map`` retargets the curve formats onto a rig (a preset or a JSON file;
``--show-map NAME`` prints a preset to copy and edit).
"""

from __future__ import annotations

import argparse

from ._common import fps_argument, output_path, print_notes, read_text_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "visemes", help="animation curves (ARKit-52) from speech", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("audio", nargs="?", help="speech: any audio or video file with sound")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--text", help="what is said (for forced alignment)")
    text.add_argument("--transcript", metavar="FILE", help="a text file with what is said")
    parser.add_argument("--fps", type=fps_argument, default=30, help="frames per second of the curves (default 30)")
    parser.add_argument(
        "--style",
        default="normal",
        choices=["mumble", "relaxed", "normal", "clear", "enunciate"],
        help="shift the JA/LI field (default normal)",
    )
    parser.add_argument(
        "--method",
        default="auto",
        choices=["auto", "jali", "visemenet"],
        help="auto (default): jali with a transcript, else visemenet",
    )
    parser.add_argument(
        "-o", "--output", action="append", default=[], metavar="FILE", help="an output (repeat for several; see above)"
    )
    parser.add_argument("--format", help="the format of the output(s), whatever their names (e.g. rhubarb-json)")
    parser.add_argument("--map", metavar="NAME|FILE", help="retargeting map of the curve formats (a preset or JSON)")
    parser.add_argument("--show-map", metavar="NAME", help="print a preset map (to copy and edit) and stop")
    parser.add_argument(
        "--shapes", default="GHX", help="extended mouth shapes the rig has, some of GHX ('' for A-F only; default GHX)"
    )
    parser.add_argument("--cue-fps", type=fps_argument, default=24, help="frame rate of .dat and .pgo (default 24)")
    parser.add_argument("--preston-blair", action="store_true", help=".dat keys in Preston Blair's names")
    parser.add_argument("--node", default="Face", help="the face mesh's node (Unity path, Godot node; default Face)")
    parser.add_argument("--phonemes", metavar="FILE", help="also write the timed phonemes (.json or .TextGrid)")
    parser.add_argument("--plot", metavar="PNG", help="also draw the curves over the waveform")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..animation import JaliConfig
    from ..animation.speech import resolve_method, speech_curves
    from ..errors import InputError
    from ..export.formats import ExportOptions, animation_format, check_needs, write_animation
    from ..media import load_audio
    from ..speech import SPEECH_RATE

    if args.show_map:
        import json

        from ..export.rigs import load_preset

        print(json.dumps(load_preset(args.show_map), ensure_ascii=False, indent=1))
        return 0
    if not args.audio:
        raise InputError("give the speech (an audio or video file)")
    if not args.output:
        raise InputError("give at least one output (-o FILE)")
    if args.format and len(args.output) > 1:
        raise InputError("--format names the format of one output; with several, let their names choose")
    inputs = (args.audio, args.transcript, args.map)
    text = read_text_argument(args.text, args.transcript)
    formats = {}
    for out in args.output:
        fmt = animation_format(out, args.format)
        if fmt is None:
            output_path(out, suffixes=(".json", ".csv"), inputs=inputs)
        else:
            output_path(out, inputs=inputs)
            check_needs(fmt, text is not None)
        formats[out] = fmt
    if len({Path(o).resolve() for o in args.output}) < len(args.output):
        raise InputError("an output is given twice")
    if args.phonemes:
        output_path(args.phonemes, suffixes=(".json", ".textgrid"), inputs=inputs)
    if args.plot:
        output_path(args.plot, suffixes=(".png",), inputs=inputs)
    options = ExportOptions(
        map=args.map,
        shapes=args.shapes,
        cue_fps=float(args.cue_fps),
        preston_blair=args.preston_blair,
        node=args.node,
        sound_file=Path(args.audio).name,
    )
    from ..export.formats import check_map

    for fmt in formats.values():
        if fmt is not None:
            check_map(fmt, options)  # a bad map fails before the work
    if set(args.shapes) - set("GHX"):
        raise InputError(f"--shapes: some of G, H, X, got {args.shapes!r}")
    resolve_method(args.method, text)
    sample_rate = SPEECH_RATE
    audio = load_audio(args.audio, sample_rate)
    curves, phonemes = speech_curves(audio, sample_rate, args.fps, text, args.method, JaliConfig(style=args.style))
    print_notes(phonemes)
    for out, fmt in formats.items():
        if fmt is None:
            curves.save(out)
        else:
            write_animation(out, fmt, curves, phonemes, options)
        print(f"{fmt or 'curves'}: {out}")
    print(
        f"{curves.num_frames} frames at {float(curves.fps):g} fps, {len(phonemes.speech)} phonemes by {phonemes.source}"
    )
    if args.phonemes:
        target = Path(args.phonemes)
        if target.suffix.lower() == ".textgrid":
            phonemes.save_textgrid(target)
        else:
            phonemes.save_json(target)
        print(f"phonemes: {args.phonemes}")
    if args.plot:
        from ..animation.plot import plot_curves

        plot_curves(Path(args.plot), curves, audio, sample_rate, phonemes)
        print(f"plot: {args.plot}")
    return 0
