"""Writing H.264 + AAC video files atomically with PyAV.

Frames are streamed in one at a time (bounded memory); the audio track, given as samples or as a
file, is interleaved with them. Frames are encoded by a background thread while the caller makes the
next ones. The file is written under a temporary name in the target folder and
renamed when complete, so a failure or an interruption never leaves a partial output.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import av
import numpy as np

from ..errors import InputError
from ..files import AtomicFile, check_output
from ..timebase import to_fps

_ORDERS = {"rgb": "rgb24", "bgr": "bgr24"}


@dataclass(frozen=True)
class VideoFormat:
    """A container with its codecs: what :class:`VideoWriter` writes for a file extension."""

    suffix: str
    video_codec: str
    pix_fmt: str
    audio_codec: str | None  # None: the container holds no sound
    audio_rates: tuple[int, ...] = ()
    audio_sample_format: str = "fltp"
    options: tuple[tuple[str, str], ...] = ()


_AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
_VP9_OPTIONS = (("b", "0"), ("deadline", "realtime"), ("cpu-used", "8"), ("row-mt", "1"))  # real-time speed
VIDEO_FORMATS = {
    ".mp4": VideoFormat(".mp4", "libx264", "yuv420p", "aac", _AAC_RATES),
    ".m4v": VideoFormat(".m4v", "libx264", "yuv420p", "aac", _AAC_RATES),
    ".mov": VideoFormat(".mov", "libx264", "yuv420p", "aac", _AAC_RATES),
    ".mkv": VideoFormat(".mkv", "libx264", "yuv420p", "aac", _AAC_RATES),
    ".webm": VideoFormat(".webm", "libvpx-vp9", "yuv420p", "libopus", (48000,), "flt", _VP9_OPTIONS),
    ".gif": VideoFormat(".gif", "gif", "rgb8", None),
}


def video_format(path: str | os.PathLike, audio: bool = False) -> VideoFormat:
    """The format :class:`VideoWriter` uses for ``path``'s extension; a one-line error for an extension
    it cannot write, or for sound in a container that holds none (GIF)."""
    suffix = Path(path).suffix.lower()
    known = ", ".join(VIDEO_FORMATS)
    if not suffix:
        raise InputError(f"{path}: no file extension; video outputs are {known}")
    if suffix not in VIDEO_FORMATS:
        raise InputError(f"{path}: cannot write {suffix} video; video outputs are {known}")
    chosen = VIDEO_FORMATS[suffix]
    if audio and chosen.audio_codec is None:
        raise InputError(f"{path}: {suffix} holds no sound; write the speech into .mp4, .mov, .mkv or .webm")
    return chosen


# Keys that the MP4 muxer stores natively; others need its `use_metadata_tags` flag.
_MP4_STANDARD_TAGS = {
    "title",
    "artist",
    "album",
    "comment",
    "genre",
    "copyright",
    "description",
    "date",
    "encoder",
    "composer",
    "author",
    "synopsis",
}


class VideoWriter:
    """Write ``(H, W, 3) uint8`` frames to an H.264 (yuv420p) file with an optional AAC audio track.

    Example::

        with VideoWriter("out.mp4", fps=25, audio="speech.wav") as writer:
            for frame in frames:
                writer.write(frame)

    Args:
        path: output file: .mp4, .m4v, .mov, .mkv (H.264 + AAC), .webm (VP9 + Opus) or .gif (no sound).
            Its folder must exist.
        fps: frame rate; decimals of the NTSC family (29.97, 59.94, 23.976) are taken exactly.
        audio: ``(N,)`` float samples in [-1, 1] (with ``sample_rate``) or a media file to take the
            audio from. All of it is written, whatever the video length.
        sample_rate: rate of ``audio`` samples in Hz (required for arrays).
        order: channel order of the frames, "rgb" or "bgr".
        crf, preset: x264 quality (lower crf is better; 18 is visually lossless) and speed preset.
        metadata: container tags, e.g. ``{"comment": "synthetic"}``.

    All frames must have one size. Odd widths or heights are padded by one replicated pixel
    (yuv420p needs even sizes). Leaving the ``with`` block by an exception removes the output.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | Fraction,
        *,
        audio: np.ndarray | str | os.PathLike | None = None,
        sample_rate: int | None = None,
        order: str = "rgb",
        crf: int = 18,
        preset: str = "veryfast",
        metadata: dict[str, str] | None = None,
    ):
        if order not in _ORDERS:
            raise InputError(f"order must be 'rgb' or 'bgr', got {order!r}")
        if not 0 <= crf <= 51:
            raise InputError(f"crf must be in [0, 51], got {crf}")
        self.path = Path(path)
        self.format = video_format(self.path, audio=audio is not None)
        self.fps = to_fps(fps)
        self._pix_fmt = _ORDERS[order]
        self._crf, self._preset = crf, preset
        self._metadata = dict(metadata or {})
        self._audio, self._audio_rate = _prepare_audio(audio, sample_rate, self.format.audio_rates)
        self._atomic = AtomicFile(self.path)
        self._container: av.container.OutputContainer | None = None
        self._size: tuple[int, int] | None = None
        self._audio_pos = 0
        self._encoder: _Encoder | None = None
        self._closed = False
        self.frames_written = 0

    # -- frames ------------------------------------------------------------------------------
    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3) uint8`` frame."""
        if self._closed:
            raise InputError(f"{self.path}: writer is closed")
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
        if self._container is None:
            self._open(frame.shape[1], frame.shape[0])
        elif frame.shape[:2] != self._size:
            assert self._size is not None  # set together with the container
            raise InputError(
                f"frame {self.frames_written} is {frame.shape[1]}x{frame.shape[0]}, "
                f"expected {self._size[1]}x{self._size[0]} like the first frame"
            )
        if frame.shape[0] % 2 or frame.shape[1] % 2:
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
        else:
            frame = frame.copy()  # the caller may draw on its array again while this one waits
        assert self._encoder is not None  # started with the container
        self._encoder.put(frame)
        self.frames_written += 1

    def write_all(self, frames: Iterable[np.ndarray]) -> None:
        for frame in frames:
            self.write(frame)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> Path:
        """Finish the file (rest of the audio, encoder flush) and move it to its final name."""
        if self._closed:
            return self.path
        try:
            if self._container is None:
                raise InputError(f"{self.path}: no frames were written")
            if self._encoder is not None:
                self._encoder.finish()
            if self._audio is not None:
                self._write_audio(until=len(self._audio), final=True)
            self._container.mux(self._video.encode(None))
            self._container.close()
            self._closed = True
        except BaseException:
            self.abort()
            raise
        return self._atomic.finish()

    def abort(self) -> None:
        """Stop writing and remove the partial output."""
        self._closed = True
        if self._encoder is not None:
            self._encoder.stop()
        if self._container is not None:
            with contextlib.suppress(av.error.FFmpegError):
                self._container.close()
        self._atomic.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- internals ---------------------------------------------------------------------------
    def _open(self, width: int, height: int) -> None:
        self._size = (height, width)
        self._time_base = Fraction(1) / self.fps
        options = {}
        if self.path.suffix.lower() in (".mp4", ".mov", ".m4v"):
            flags = "+faststart"
            if set(self._metadata) - _MP4_STANDARD_TAGS:
                flags += "+use_metadata_tags"
            options["movflags"] = flags
        container = av.open(str(self._atomic.tmp), mode="w", options=options)
        self._container = container
        container.metadata.update(self._metadata)
        fmt = self.format
        # VIDEO_FORMATS names a video and an audio codec; the stubs narrow add_stream only for literal names.
        video = cast(av.VideoStream, container.add_stream(fmt.video_codec, rate=self.fps))
        video.width, video.height = width + width % 2, height + height % 2
        video.pix_fmt = fmt.pix_fmt
        video.time_base = self._time_base
        video.codec_context.time_base = self._time_base
        video.thread_type = "AUTO"
        if fmt.video_codec == "libx264":
            video.options = {"crf": str(self._crf), "preset": self._preset}
        elif fmt.video_codec == "libvpx-vp9":
            video.options = {"crf": str(min(63, self._crf + 14)), **dict(fmt.options)}
        self._video = video
        self._encoder = _Encoder(self._encode)
        if self._audio is not None and fmt.audio_codec is not None:
            audio = cast(av.AudioStream, container.add_stream(fmt.audio_codec, rate=self._audio_rate, layout="mono"))
            audio.time_base = Fraction(1, self._audio_rate)
            audio.bit_rate = 128000 if fmt.audio_codec == "aac" else 96000
            self._audio_stream = audio

    def _encode(self, frame: np.ndarray, index: int) -> None:
        """Frame ``index`` into the file, with the audio up to its end (so the file is interleaved)."""
        video_frame = av.VideoFrame.from_ndarray(frame, format=self._pix_fmt)
        video_frame.pts = index
        video_frame.time_base = self._time_base
        assert self._container is not None  # opened before the first frame
        self._container.mux(self._video.encode(video_frame))
        self._write_audio(until=round((index + 1) / self.fps * self._audio_rate) if self._audio_rate else 0)

    def _write_audio(self, until: int, final: bool = False) -> None:
        if self._audio is None:
            return
        container, rate = self._container, self._audio_rate
        assert container is not None and rate is not None  # audio is written after _open, with its rate
        frame_size = self._audio_stream.codec_context.frame_size or 1024
        until = min(until, len(self._audio))
        while self._audio_pos + frame_size <= until or (final and self._audio_pos < until):
            chunk = self._audio[self._audio_pos : self._audio_pos + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format=self.format.audio_sample_format, layout="mono")
            frame.sample_rate = rate
            frame.pts = self._audio_pos
            frame.time_base = Fraction(1, rate)
            container.mux(self._audio_stream.encode(frame))
            self._audio_pos += len(chunk)
        if final:
            container.mux(self._audio_stream.encode(None))


class _Encoder:
    """Frames encoded and written by a background thread while the caller makes the next ones (the
    codec and the muxer leave the interpreter free), at most :data:`QUEUED` frames behind. An error
    there is raised by the caller's next :meth:`put` or by :meth:`finish`."""

    QUEUED = 4

    def __init__(self, encode: Callable[[np.ndarray, int], None]):
        self._encode = encode
        self._queue: queue.Queue = queue.Queue(maxsize=self.QUEUED)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        index = 0
        while (frame := self._queue.get()) is not None:
            if self._stopping or self._error is not None:
                continue  # drained, so that put() never blocks on a dead thread
            try:
                self._encode(frame, index)
            except BaseException as error:  # handed to the caller's thread
                self._error = error
            index += 1

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stopping = True
            raise error

    def put(self, frame: np.ndarray) -> None:
        self._raise()
        self._queue.put(frame)

    def finish(self) -> None:
        """Wait until every frame is in the file."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def stop(self) -> None:
        """Drop the frames not yet written and end the thread."""
        self._stopping = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


def _prepare_audio(
    audio: np.ndarray | str | os.PathLike | None, sample_rate: int | None, rates: tuple[int, ...]
) -> tuple[np.ndarray | None, int | None]:
    """Audio as contiguous float32 mono at a rate the audio codec supports (``rates``)."""
    from .audio import audio_info, load_audio, resample

    if audio is None:
        return None, None
    if isinstance(audio, (str, os.PathLike)):
        rate = audio_info(audio).sample_rate
        samples = load_audio(audio, sample_rate=rate)
    else:
        if sample_rate is None:
            raise InputError("sample_rate is required when audio is given as samples")
        samples = np.asarray(audio, dtype=np.float32)
        rate = int(sample_rate)
        if samples.ndim != 1:
            raise InputError(f"audio samples must be mono (N,), got shape {samples.shape}")
    if rates and rate not in rates:
        samples, rate = resample(samples, rate, 48000), 48000
    return np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32), rate


def check_video_output(
    path: str | os.PathLike, *, audio: bool = True, inputs: tuple[str | os.PathLike | None, ...] = ()
) -> Path:
    """A video output path checked before any work: its folder exists and is writable, its extension
    names a container this writer can fill (with sound when ``audio``), it is none of ``inputs``."""

    p = check_output(path, inputs=inputs, what="video")
    video_format(p, audio=audio)
    return p


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float | Fraction,
    **options: Any,
) -> Path:
    """Write ``frames`` to ``path`` atomically; ``options`` are those of :class:`VideoWriter`."""
    with VideoWriter(path, fps, **options) as writer:
        writer.write_all(frames)
    return writer.path
