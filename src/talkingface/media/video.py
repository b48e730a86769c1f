"""Reading video (and still images) frame by frame with PyAV, in bounded memory.

Frames are ``(H, W, 3) uint8`` arrays in RGB order by default (``order="bgr"`` for OpenCV-style
code and the Wav2Lip models, which were trained on BGR crops). Rotation metadata (a display matrix,
as phones write) is applied, so frames come out the way a player shows them. A still image (PNG,
JPEG, WebP, BMP, TIFF) reads as a one-frame video, decoded by Pillow: its EXIF orientation is applied,
CMYK, palette, greyscale, 16-bit and transparent images become RGB (transparency over white), a
truncated or corrupt file is refused rather than shown half grey or green, and an image larger than
:data:`MAX_STILL_SIDE` pixels on its long side is read downscaled to that size (a face needs far less,
and the work stays in bounded memory).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..errors import InputError, MediaError
from ._container import check_complete, check_input_file, decoding_errors, open_input, stated_duration

_ORDERS = {"rgb": "rgb24", "bgr": "bgr24"}
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif")
_STILL_FORMATS = ("PNG", "JPEG", "MPO", "BMP", "WEBP", "TIFF", "PPM", "TGA", "JPEG2000")
MAX_STILL_SIDE = 2048
#: What an image file may claim before it is refused unread: a JPEG is decoded at a reduced size, so it
#: may be large (a 200 MP phone photo); other formats decode whole (50 MP: 150 MB of pixels at most).
_MAX_STILL_PIXELS = {"JPEG": 200_000_000, "MPO": 200_000_000}
_MAX_OTHER_PIXELS = 50_000_000


def still_too_large(width: int, height: int, fmt: str | None) -> str | None:
    """Why an image of ``width`` x ``height`` pixels in Pillow's format ``fmt`` is refused before it is
    decoded (a decompression bomb: a small file that claims a huge picture), or None."""
    limit = _MAX_STILL_PIXELS.get(fmt or "", _MAX_OTHER_PIXELS)
    if width * height <= limit:
        return None
    return f"image of {width}x{height} pixels is too large to read (at most {limit // 1_000_000} megapixels as {fmt})"


def _read_still(path: Path) -> tuple[np.ndarray, str] | None:
    """A still image file as shown, ``((H, W, 3) uint8 RGB, format)``, or None if Pillow does not
    read it as a still (a video, an animated GIF)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, in one line
            image = Image.open(path)
        with image:
            if image.format not in _STILL_FORMATS:
                return None
            refused = still_too_large(image.width, image.height, image.format)
            if refused:
                raise MediaError(path, refused)
            image.draft("RGB", (MAX_STILL_SIDE, MAX_STILL_SIDE))  # JPEG: decode at a reduced size
            image.load()
            fmt = image.format.lower()
            shown = ImageOps.exif_transpose(image) or image
            shown = _to_rgb(shown)
            if max(shown.size) > MAX_STILL_SIDE:
                shown.thumbnail((MAX_STILL_SIDE, MAX_STILL_SIDE), Image.Resampling.LANCZOS)
            return np.asarray(shown, np.uint8).copy(), fmt
    except UnidentifiedImageError:
        if path.suffix.lower() in (".tif", ".tiff"):
            pixels = _read_float_tiff(path)
            if pixels is not None:
                return pixels, "tiff"
        return None
    except MediaError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise MediaError(path, f"image data is corrupt or truncated ({reason})") from None


def _to_8bit(values: np.ndarray, mode: str) -> np.ndarray:
    """Pixel values of a 16-bit, 32-bit or float image as 8 bits, scaled by their range: floats from 0
    to 1 (as image tools write them), else 0-255, else 16-bit."""
    finite = values[np.isfinite(values)]
    top_value = float(finite.max()) if finite.size else 0.0
    if mode in ("F", "float") and finite.size and float(np.percentile(finite, 99)) <= 1.05:
        top = 1.0  # 0 to 1, give or take the overshoot of a colour conversion
    elif mode.startswith("I;16") or top_value > 255:
        top = 65535.0
    else:
        top = 255.0
    return np.clip(np.nan_to_num(values) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _read_float_tiff(path: Path) -> np.ndarray | None:
    """A colour TIFF of 16-bit or float samples, which Pillow does not open, read by OpenCV (the face
    extra): ``(H, W, 3) uint8 RGB``, or None where OpenCV does not read it either."""
    from ..optional import needs

    with needs("face", "reading a colour TIFF of float or 16-bit samples"):
        import cv2
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        return None
    kind = "float" if image.dtype.kind == "f" else "I;16" if image.dtype == np.uint16 else "I"
    rgb = image[..., 2::-1].astype(np.float64)
    return np.ascontiguousarray(_to_8bit(rgb, kind))


def _to_rgb(image: Any) -> Any:
    """Any Pillow mode as 8-bit RGB: 16-bit and float scaled by their range, transparency over white."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, np.float64)
        return Image.fromarray(_to_8bit(values, image.mode)).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as shown (after rotation).

    Attributes:
        path: the file.
        width, height: frame size in pixels after rotation.
        fps: frame rate in frames per second (exact, e.g. 30000/1001); None for a still image.
        num_frames: frame count when the container states it, else None.
        duration: seconds, when known.
        rotation: degrees counter-clockwise applied to decoded frames (0, 90, 180 or 270).
        codec: video codec name.
        is_image: True for a still image file.
        has_audio: whether the file also has an audio stream.
    """

    path: str
    width: int
    height: int
    fps: Fraction | None
    num_frames: int | None
    duration: float | None
    rotation: int
    codec: str
    is_image: bool
    has_audio: bool


class VideoReader:
    """Iterate over the frames of a video or image file without loading it whole.

    Example::

        with VideoReader("talk.mp4", order="bgr") as video:
            print(video.info.fps, video.info.num_frames)
            for frame in video:   # (H, W, 3) uint8
                ...

    Opening decodes the first frame, so a file with a video stream but no decodable frame fails
    here with a MediaError rather than later.
    """

    def __init__(self, path: str | os.PathLike, order: str = "rgb"):
        if order not in _ORDERS:
            raise InputError(f"order must be 'rgb' or 'bgr', got {order!r}")
        self.path = Path(path)
        self._pix_fmt = _ORDERS[order]
        self._consumed = False
        self._still: np.ndarray | None = None
        still = _read_still(check_input_file(self.path))
        if still is not None:
            array, fmt = still
            self._still = array if order == "rgb" else np.ascontiguousarray(array[..., ::-1])
            height, width = array.shape[:2]
            self.info = VideoInfo(str(self.path), width, height, None, 1, None, 0, fmt, True, False)
            return
        self._container = open_input(self.path)
        try:
            if not self._container.streams.video:
                raise MediaError(self.path, "no video stream")
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            self._frames = self._decode()
            first = next(self._frames, None)
            if first is None:
                if self._stream.frames:
                    raise MediaError(
                        self.path, f"truncated or corrupt: none of its {self._stream.frames} frames could be decoded"
                    )
                raise MediaError(self.path, "video stream has no frames (zero-length video)")
            self._first: av.VideoFrame | None = first
            self.info = self._make_info(first)
        except (AttributeError, ValueError, UnicodeDecodeError, ZeroDivisionError, OverflowError) as error:
            self._container.close()
            if isinstance(error, InputError):
                raise
            raise MediaError(self.path, f"its video stream header is damaged ({type(error).__name__})") from None
        except BaseException:
            self._container.close()
            raise

    def _decode(self) -> Iterator[av.VideoFrame]:
        with decoding_errors(self.path, "video"):
            yield from self._container.decode(self._stream)

    def _make_info(self, first: av.VideoFrame) -> VideoInfo:
        stream, container = self._stream, self._container
        rotation = int(round(first.rotation or 0)) % 360
        if rotation % 90:
            raise MediaError(self.path, f"unsupported rotation of {rotation} degrees")
        w, h = first.width, first.height
        if rotation in (90, 270):
            w, h = h, w
        is_image = container.format.name in _IMAGE_FORMATS or (
            container.format.name.endswith("_pipe") and (stream.frames or 0) <= 1
        )
        fps: Fraction | None
        num_frames: int | None
        duration: float | None
        if is_image:
            fps, num_frames, duration = None, 1, None
        else:
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = Fraction(rate) if rate else None
            num_frames = stream.frames or None
            duration = stated_duration(container, stream)
        return VideoInfo(
            path=str(self.path),
            width=w,
            height=h,
            fps=fps,
            num_frames=num_frames,
            duration=duration,
            rotation=rotation,
            codec=stream.codec_context.name,
            is_image=is_image,
            has_audio=bool(container.streams.audio),
        )

    def _to_array(self, frame: av.VideoFrame) -> np.ndarray:
        array: np.ndarray = frame.to_ndarray(format=self._pix_fmt)
        if self.info.rotation:
            array = np.ascontiguousarray(np.rot90(array, self.info.rotation // 90))
        return array

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield each frame as an ``(H, W, 3) uint8`` array; a reader can be iterated once."""
        if self._consumed:
            raise InputError(f"{self.path}: a VideoReader can be iterated only once; open it again")
        self._consumed = True
        if self._still is not None:
            still, self._still = self._still, None
            yield still
            return
        try:
            first, self._first = self._first, None
            assert first is not None  # set by __init__, cleared only here (guarded by _consumed)
            yield self._to_array(first)
            last = first
            for frame in self._frames:
                yield self._to_array(frame)
                last = frame
            if not self.info.is_image and last.time is not None and self.info.fps:
                frame_s = 1 / float(self.info.fps)
                check_complete(
                    self.path, "video", self.info.duration, last.time + frame_s, tolerance=max(3 * frame_s, 0.25)
                )
        finally:
            self.close()

    def close(self) -> None:
        if hasattr(self, "_container"):  # a still image has no container
            self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Return the :class:`VideoInfo` of a video or image file (decodes one frame)."""
    with VideoReader(path) as reader:
        return reader.info


def read_frames(path: str | os.PathLike, order: str = "rgb") -> Iterator[np.ndarray]:
    """Yield the frames of a video or image file as ``(H, W, 3) uint8`` arrays (streaming)."""
    yield from VideoReader(path, order=order)


def read_image(path: str | os.PathLike, order: str = "rgb") -> np.ndarray:
    """Read a still image (or the first frame of a video) as an ``(H, W, 3) uint8`` array."""
    with VideoReader(path, order=order) as reader:
        return next(iter(reader))
