"""``talkingface visemes``: speech -> animation curves (ARKit-52, JSON or Live Link Face CSV).

With a transcript (``--text`` or ``--transcript``) forced alignment times its phonemes and the JALI
animator makes the curves; without one the built-in VisemeNet makes them from the audio alone, in any
language, with its phoneme groups (``--method`` chooses; ``--method jali`` without a transcript uses
phoneme recognition). ``--plot`` draws the curves over the waveform with the phonemes labelled.
"""

from __future__ import annotations

import argparse

from ._common import fps_argument, output_path, print_notes, read_text_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "visemes", help="animation curves (ARKit-52) from speech", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("audio", help="speech: any audio or video file with sound")
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
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="curves: .json or .csv (Live Link Face)")
    parser.add_argument("--phonemes", metavar="FILE", help="also write the timed phonemes (.json or .TextGrid)")
    parser.add_argument("--plot", metavar="PNG", help="also draw the curves over the waveform")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..animation import JaliConfig
    from ..animation.speech import resolve_method, speech_curves
    from ..media import load_audio
    from ..speech import SPEECH_RATE

    output = output_path(args.output, suffixes=(".json", ".csv"), inputs=(args.audio, args.transcript))
    if args.phonemes:
        output_path(args.phonemes, suffixes=(".json", ".textgrid"), inputs=(args.audio, args.transcript))
    if args.plot:
        output_path(args.plot, suffixes=(".png",), inputs=(args.audio,))
    text = read_text_argument(args.text, args.transcript)
    resolve_method(args.method, text)
    sample_rate = SPEECH_RATE
    audio = load_audio(args.audio, sample_rate)
    curves, phonemes = speech_curves(audio, sample_rate, args.fps, text, args.method, JaliConfig(style=args.style))
    print_notes(phonemes)
    curves.save(output)
    print(
        f"curves: {args.output} ({curves.num_frames} frames at {float(curves.fps):g} fps, "
        f"{len(phonemes.speech)} phonemes by {phonemes.source})"
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
