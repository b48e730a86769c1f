"""Opening media files with PyAV, turning every failure into a one-line MediaError."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import av

from ..errors import MediaError, TalkingFaceError


def check_input_file(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path if it names a non-empty regular file, else raise MediaError."""
    p = Path(path)
    if not p.exists():
        raise MediaError(p, "file not found")
    if not p.is_file():
        raise MediaError(p, "not a regular file")
    if p.stat().st_size == 0:
        raise MediaError(p, "empty file (0 bytes)")
    return p


def open_input(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a media file for reading; any failure becomes a MediaError naming the file."""
    p = check_input_file(path)
    try:
        return av.open(str(p), mode="r")
    except av.error.InvalidDataError:
        raise MediaError(p, "unreadable: not a media file, or truncated or corrupt") from None
    except av.error.FFmpegError as e:
        raise MediaError(p, f"unreadable: {_ffmpeg_reason(e)}") from None
    except (UnicodeDecodeError, ValueError):  # damaged metadata in the header
        raise MediaError(p, "unreadable: its header is damaged") from None


@contextlib.contextmanager
def decoding_errors(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Map FFmpeg errors raised while decoding into a MediaError."""
    try:
        yield
    except av.error.FFmpegError as e:
        raise MediaError(path, f"{what} data is corrupt or truncated ({_ffmpeg_reason(e)})") from None
    except (UnicodeDecodeError, ValueError) as e:
        if isinstance(e, TalkingFaceError):
            raise
        raise MediaError(path, f"{what} data is corrupt or truncated ({type(e).__name__})") from None


def _ffmpeg_reason(e: av.error.FFmpegError) -> str:
    return getattr(e, "strerror", None) or str(e)


def check_complete(
    path: str | os.PathLike, what: str, stated: float | None, decoded: float | None, tolerance: float
) -> None:
    """Raise MediaError if a stream decoded to clearly less than the duration its file states.

    FFmpeg stops quietly at the end of a truncated file; comparing the decoded span with the
    container's stated duration is what tells a cut-off download from a complete file.
    """
    if stated is None or decoded is None:
        return
    if decoded < stated - tolerance:
        raise MediaError(
            path, f"truncated: {what} stream ends at {decoded:.2f} s of the {stated:.2f} s the file states"
        )


def stated_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """Seconds a stream lasts by the file's own account (the stream's, else the container's)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
