"""Uploaded files: saved under names we choose, their type told by their content, never by their name."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..media.video import still_too_large

# Containers PyAV names -> the extension the job's file gets.
_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": ".mp4",
    "matroska,webm": ".mkv",
    "wav": ".wav",
    "mp3": ".mp3",
    "flac": ".flac",
    "ogg": ".ogg",
    "avi": ".avi",
    "aac": ".aac",
    "aiff": ".aiff",
    "mpeg": ".mpg",
    "mpegts": ".ts",
    "asf": ".wmv",
    "flv": ".flv",
}
_IMAGES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif", "GIF": ".gif"}


def identify(path: Path) -> tuple[str, str, bool, bool]:
    """What the file at ``path`` holds, by its bytes: ``(kind, extension, has_video, has_audio)``,
    ``kind`` ``"image"`` or ``"media"``. InputError for anything else."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    with open(path, "rb") as f:
        head = f.read(64)
    if not head:
        raise InputError("the file is empty")
    still: tuple[str, int, int] | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:  # reads the header only
                if image.format in _IMAGES and image.format != "GIF":
                    still = (image.format, image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    if still is not None:
        fmt, width, height = still
        refused = still_too_large(width, height, fmt)
        if refused:
            raise InputError(refused)
        return "image", _IMAGES[fmt], True, False
    import av

    try:
        with av.open(str(path), "r") as container:
            extension = _CONTAINERS.get(container.format.name)
            has_video = any(s.type == "video" for s in container.streams)
            has_audio = any(s.type == "audio" for s in container.streams)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        raise InputError("not an image, audio or video file that can be read") from None
    if extension is None or not (has_video or has_audio):
        raise InputError("not an image, audio or video file that can be read")
    return "media", extension, has_video, has_audio


def place(path: Path, role: str, wanted: str) -> str:
    """Check the upload at ``path`` for its ``role`` (``face`` or ``speech``) and give it its final
    name in the job's folder (``face.png``, ``speech.mp3``, ...); returns that name.

    ``wanted``: ``"image or video"``, ``"video"`` (with sound) or ``"audio"`` (anything with sound).
    """
    kind, extension, has_video, has_audio = identify(path)
    if wanted == "image or video" and not (kind == "image" or has_video):
        raise InputError(f"{role}: expected a photo or a video, got a file with sound only")
    if wanted == "video" and not (kind == "media" and has_video and has_audio):
        raise InputError(f"{role}: expected a video with its sound")
    if wanted == "audio" and not has_audio:
        raise InputError(f"{role}: expected speech (audio, or a video with sound), got a file without sound")
    name = role + extension
    path.rename(path.with_name(name))
    return name
