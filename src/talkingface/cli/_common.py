"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path

from .. import choices
from ..settings import Bounded


def output_path(path: str, *, suffixes: tuple[str, ...] | None = None, inputs: tuple = (), video: bool = False) -> Path:
    """An output file path checked before any work (its folder exists and is writable, the extension
    fits, it is none of ``inputs``); ``video``: a container the writer can fill with sound."""
    if video:
        from ..media import check_video_output

        return check_video_output(path, audio=True, inputs=inputs)
    from ..files import check_output

    return check_output(path, suffixes=suffixes, inputs=inputs)


def read_text_argument(text: str | None, transcript: str | None) -> str | None:
    """The transcript given inline (``--text``) or as a file (``--transcript``)."""
    if not transcript:
        return text
    from ..errors import MediaError

    path = Path(transcript)
    if not path.is_file():
        raise MediaError(path, "file not found" if not path.exists() else "not a file")
    return read_transcript(path)


MAX_TRANSCRIPT_BYTES = 1_000_000  # about 18 hours of speech


def read_transcript(path: Path) -> str:
    """A transcript file's text: UTF-8, UTF-16 or UTF-32 by its byte-order mark (Latin-1 if it is none
    of these); a file over 1 MB, or one that is
    not text (control characters), is refused in one line before any work."""
    import unicodedata

    from ..errors import MediaError
    from ..files import decode_text

    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise MediaError(path, f"{size} bytes is too long for a transcript (at most {MAX_TRANSCRIPT_BYTES} bytes)")
    data = path.read_bytes()
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    control = sum(1 for c in text if c not in "\t\n\r\f" and unicodedata.category(c) in ("Cc", "Cs", "Co"))
    if control > max(2, 0.01 * len(text)):
        raise MediaError(path, f"not a text file ({control} control characters in {len(text)})")
    return text


MAX_FPS_ARGUMENT = 240
MIN_FPS_ARGUMENT = 1


#: Bounds most options share: seeds as numpy takes them, counts of workers or items, pixel sizes.
SEED = Bounded(int, 0, 2**32 - 1)
WORKERS = Bounded(int, 1, 256)
#: Whole numbers above 0 (counts, sizes, seconds, megabytes), up to a billion.
positive_int = Bounded(int, 1, 10**9)


def fps_argument(text: str):
    """``--fps`` as an exact rate (``29.97002997`` -> 30000/1001), or an argparse error in one line."""
    import argparse

    from ..errors import InputError
    from ..timebase import to_fps

    try:
        rate = to_fps(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if rate > MAX_FPS_ARGUMENT:
        raise argparse.ArgumentTypeError(f"fps must be at most {MAX_FPS_ARGUMENT} (a frame every few ms), got {text!r}")
    if rate < MIN_FPS_ARGUMENT:
        raise argparse.ArgumentTypeError(f"fps must be at least {MIN_FPS_ARGUMENT} (a moving picture), got {text!r}")
    return rate


def print_notes(phonemes) -> None:
    """Print the notes of a PhonemeSequence (e.g. sparse recognition) to stderr, one line each."""
    import sys

    for note in getattr(phonemes, "notes", None) or []:
        print(f"note: {note}", file=sys.stderr)


def transcript_arguments(parser) -> None:
    """``--text`` or ``--transcript``: what is said, for forced alignment; ``--language``: its language
    (animate, mesh, visemes, lipsync)."""
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--text", help="what is said (better timing through forced alignment)")
    text.add_argument("--transcript", metavar="FILE", help="a text file with what is said")
    parser.add_argument(
        "--language",
        default="en",
        help="the transcript's language, an espeak-ng voice: en (default), de, fr, es, ... (any language "
        "espeak-ng speaks; English is aligned by pocketsphinx, the others through espeak-ng's own rendering)",
    )


def transcript_language(args) -> str:
    """``--language``, checked before any work (a one-line error when espeak-ng does not speak it)."""
    from ..speech import check_language

    return check_language(args.language)


def motion_arguments(parser, methods=choices.SPEECH_METHODS, style: bool = True) -> None:
    """``--style`` (where ``style``) and ``--method`` of the motion from speech (animate, visemes, mesh)."""
    if style:
        parser.add_argument(
            "--style",
            default="normal",
            choices=choices.STYLES,
            help="how much the jaw and lips move: the JA/LI field's shift (default normal)",
        )
    parser.add_argument(
        "--method",
        default="auto",
        choices=methods,
        help="auto (default): jali with a transcript, else visemenet, the jaw from the openness model; "
        "jali without a transcript uses phoneme recognition",
    )


def enhance_arguments(parser) -> None:
    """``--enhance``, ``--enhance-checkpoint`` and ``--enhance-every`` (lipsync, animate)."""
    group = parser.add_argument_group("enhancement")
    group.add_argument(
        "--enhance",
        default="none",
        choices=choices.ENHANCE_METHODS,
        help="sharpen the mouth: gfpgan (GFPGAN v1.3/v1.4, needs --enhance-checkpoint) or upscaler (the "
        "built-in mouth upscaler); steady over time (default none)",
    )
    group.add_argument(
        "--enhance-checkpoint", metavar="FILE", help="GFPGANv1.3.pth / GFPGANv1.4.pth, or an upscaler of ours"
    )
    group.add_argument(
        "--enhance-every",
        type=Bounded(int, 1, 1000),
        default=1,
        metavar="N",
        help="gfpgan: restore every N-th frame, carried along the motion between (default 1)",
    )


def enhance_settings(args) -> dict:
    """The pipeline config's enhancement fields from :func:`enhance_arguments`'s options."""
    return {"enhance": args.enhance, "enhance_checkpoint": args.enhance_checkpoint, "enhance_every": args.enhance_every}


def sheet_arguments(parser, moments: str) -> None:
    """``--sheet FILE`` and ``--sheet-at SECONDS...``: a contact sheet of the video made (animate, lipsync);
    ``moments`` names the default moments in the help."""
    parser.add_argument(
        "--sheet", metavar="PNG", help="also a contact sheet of the face at telling moments (.png or .jpg)"
    )
    parser.add_argument(
        "--sheet-at",
        type=Bounded(float, 0, 86400),
        nargs="+",
        metavar="SECONDS",
        help=f"the contact sheet's moments (default: {moments})",
    )


def check_sheet(args, inputs) -> None:
    """Before any work: ``--sheet``'s file is writable and none of ``inputs``; ``--sheet-at`` needs it."""
    from ..errors import InputError

    if args.sheet:
        output_path(args.sheet, suffixes=(".png", ".jpg", ".jpeg"), inputs=inputs)
    elif args.sheet_at:
        raise InputError("--sheet-at needs --sheet FILE")


def write_sheet(args, video, duration: float, curves, phonemes=None, face_index: int = 0, near=None) -> None:
    """The contact sheet of ``video`` (``duration`` seconds) at ``--sheet-at``, or at the telling moments
    of ``curves`` (and ``phonemes``) under ``--audio``'s speech, framing the face ``face_index`` of its
    first frame (largest first), or the one nearest ``near`` (x, y)."""
    from ..errors import InputError
    from ..media import load_audio
    from ..render.sheet import telling_moments, write_contact_sheet

    if args.sheet_at:
        moments = [(t, "") for t in args.sheet_at if 0 <= t < duration]
        if not moments:
            raise InputError(f"--sheet-at: no moment within the video's {duration:.2f} s")
    else:
        moments = telling_moments(curves, load_audio(args.audio, 16000), 16000, phonemes)
    write_contact_sheet(video, moments, args.sheet, face_index, near)
    print(f"contact sheet: {args.sheet} ({len(moments)} moments)")
