"""``talkingface say``: speak text with espeak-ng; write the audio and its exact phoneme timings."""

from __future__ import annotations

import argparse

from ._common import Bounded, output_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "say", help="synthetic speech with exact phoneme timings", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("text", help="what to say (text that starts with '-' goes after '--': say -o s.wav -- -TEXT)")
    parser.add_argument("-o", "--output", required=True, metavar="WAV", help="the speech (.wav)")
    parser.add_argument("--phonemes", metavar="FILE", help="the phoneme timings (.json or .TextGrid)")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice, e.g. en-us, en-gb, en-us+f3")
    parser.add_argument(
        "--rate", type=Bounded(int, 80, 450), default=175, help="words per minute (80-450, default 175)"
    )
    parser.add_argument("--pitch", type=Bounded(int, 0, 100), default=50, help="0-100 (default 50)")
    parser.set_defaults(run=run)


#: The longest text spoken at once: about 20 minutes of speech at the default rate (120,000 characters
#: took 2.3 GB).
MAX_CHARACTERS = 20000


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..media import write_wav
    from ..speech.espeak import synthesize

    if len(args.text) > MAX_CHARACTERS:
        raise InputError(
            f"{len(args.text)} characters is more than say speaks at once (at most {MAX_CHARACTERS}, about "
            "20 minutes): split the text"
        )
    target = output_path(args.output, suffixes=(".wav",))
    if args.phonemes:
        output_path(args.phonemes, suffixes=(".json", ".textgrid"))
    speech = synthesize(args.text, voice=args.voice, rate=args.rate, pitch=args.pitch)
    write_wav(target, speech.audio, speech.sample_rate)
    print(
        f"speech: {args.output} ({len(speech.audio) / speech.sample_rate:.2f} s, "
        f"{len(speech.phonemes.speech)} phonemes)"
    )
    if args.phonemes:
        path = Path(args.phonemes)
        if path.suffix.lower() == ".textgrid":
            speech.phonemes.save_textgrid(path)
        else:
            speech.phonemes.save_json(path)
        print(f"phonemes: {args.phonemes}")
    return 0
