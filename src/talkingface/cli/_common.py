"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path


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
        raise MediaError(path, "file not found")
    return path.read_text(encoding="utf-8", errors="replace")


def fps_argument(text: str):
    """``--fps`` as an exact rate (``29.97002997`` -> 30000/1001), or an argparse error in one line."""
    import argparse

    from ..errors import InputError
    from ..timebase import to_fps

    try:
        return to_fps(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def print_notes(phonemes) -> None:
    """Print the notes of a PhonemeSequence (e.g. sparse recognition) to stderr, one line each."""
    import sys

    for note in getattr(phonemes, "notes", None) or []:
        print(f"note: {note}", file=sys.stderr)
