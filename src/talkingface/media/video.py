"""Reading video (and still images) frame by frame with PyAV, in bounded memory.

Frames are ``(H, W, 3) uint8`` arrays in RGB order by default (``order="bgr"`` for OpenCV-style
code and the Wav2Lip models, which were trained on BGR crops). Rotation metadata (a display matrix,
as phones write) is applied, so frames come out the way a player shows them. A still image (PNG,
JPEG, ...) reads as a one-frame video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InputError, MediaError
from ._container import check_complete, decoding_errors, open_input, stated_duration

_ORDERS = {"rgb": "rgb24", "bgr": "bgr24"}
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif")


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
        except BaseException:
            self._container.close()
            raise
        self._consumed = False

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
