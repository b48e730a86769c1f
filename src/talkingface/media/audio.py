"""Reading audio from any file PyAV (FFmpeg) or libsndfile can open, as float32 mono.

wav, mp3, flac, ogg, m4a/aac and the audio track of a video all go through PyAV; the few formats only
libsndfile reads (MATLAB, IRCAM, ...) fall back to soundfile. Resampling is our own polyphase
filter with a Kaiser-windowed anti-aliasing design (:func:`polyphase`, the design of scipy's
``resample_poly``), so down-sampling does not alias.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ..errors import InputError, MediaError
from ..files import atomic_output
from ._container import check_complete, check_input_file, decoding_errors, open_input, stated_duration

# Kaiser beta 8.6 puts the filter's stop band about 90 dB down: inaudible aliasing.
_KAISER_BETA = 8.6
#: The longest audio read, in seconds: 45 minutes keep every command's peak memory under 1.5 GB (the
#: speech-only commands peak at 0.5-0.65 GB for 10 minutes and grow by about 22 MB a minute;
#: ``bench/bench_long_inputs.py``). Longer audio is refused from its header, or, where the header does
#: not say or lies, as soon as the decoding passes the limit.
MAX_AUDIO_SECONDS = 45 * 60


@dataclass(frozen=True)
class AudioInfo:
    """The first audio stream of a file: sample rate (Hz), channel count, duration (s) when known."""

    path: str
    sample_rate: int
    channels: int
    duration: float | None
    codec: str


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Describe the first audio stream of a media file."""
    p = check_input_file(path)
    try:
        container = open_input(p)
    except MediaError:
        return _soundfile_info(p)
    with container:
        stream = _audio_stream(container, p)
        return AudioInfo(
            str(p), stream.rate, stream.channels, stated_duration(container, stream), stream.codec_context.name
        )


def load_audio(path: str | os.PathLike, sample_rate: int | None = 16000) -> np.ndarray:
    """Decode the audio of a file to mono float32 samples in [-1, 1]: its audio stream, or of several the
    one with the most sound.

    Args:
        path: any audio or video file with an audio stream.
        sample_rate: output rate in Hz; None keeps the file's own rate.

    Returns:
        ``(N,) float32``; channels are averaged.

    Raises:
        MediaError: missing, unreadable or truncated file; no audio stream; no samples.
    """
    if sample_rate is not None and (not isinstance(sample_rate, int) or sample_rate <= 0):
        raise InputError(f"sample_rate must be a positive int or None, got {sample_rate!r}")
    p = check_input_file(path)
    _check_riff_complete(p)
    try:
        container = open_input(p)
    except MediaError as error:
        samples, rate = _soundfile_read(p, error)
    else:
        with container:
            several = len(container.streams.audio) > 1
            index = _loudest_stream(container) if several else 0
            if not several:
                samples, rate, loudest = _decode(container, p)
        if several:  # choosing read the streams' start: the chosen one is decoded from a new opening
            with open_input(p) as container:
                samples, rate, loudest = _decode(container, p, index=index)
        if loudest is not None:  # the channels cancel out when mixed: take the loudest alone
            with open_input(p) as container:
                samples, rate, _ = _decode(container, p, channel=loudest, index=index)
    if samples.size == 0:
        raise MediaError(p, "audio stream has no samples (zero-length audio)")
    if not np.isfinite(samples).all():
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        raise MediaError(p, f"{bad} audio samples are not numbers (NaN or infinity); the file is damaged")
    if sample_rate is not None and sample_rate != rate:
        samples = resample(samples, rate, sample_rate)
    return samples


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono ``samples`` (float in [-1, 1]) as a 16-bit PCM WAV, atomically. Written by Python
    itself, so a full disk is a one-line ``OSError``, never a C library's message."""
    import wave

    pcm = (np.clip(np.nan_to_num(np.asarray(samples, np.float32)), -1.0, 1.0) * 32767).round().astype("<i2")
    with atomic_output(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return Path(path)


def speech_at(audio: np.ndarray, sample_rate: int, rate: int) -> np.ndarray:
    """``audio``, ``(N,)`` samples at ``sample_rate`` (N > 0, else a one-line error), as float32 at ``rate``."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError(f"audio must be (N,) samples with N > 0, got shape {audio.shape}")
    return resample(audio, sample_rate, rate) if sample_rate != rate else audio


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling of ``(N,)`` samples from ``orig_rate`` to ``target_rate`` Hz.

    Output length is ``ceil(N * target_rate / orig_rate)``; dtype float32. The filter is that of
    ``scipy.signal.resample_poly`` with a Kaiser window of beta 8.6 (:func:`polyphase`).
    """
    if orig_rate == target_rate:
        return np.asarray(samples, dtype=np.float32)
    g = math.gcd(int(orig_rate), int(target_rate))
    return polyphase(samples, int(target_rate) // g, int(orig_rate) // g, _KAISER_BETA).astype(np.float32)


def change_speed(samples: np.ndarray, speed: float) -> np.ndarray:
    """``(N,)`` samples played ``speed`` times faster (resampled by the nearest ratio with a denominator
    up to 20, so the pitch moves with the speed); float32."""
    from fractions import Fraction

    if speed == 1.0:
        return np.asarray(samples, dtype=np.float32)
    ratio = Fraction(speed).limit_denominator(20)
    return polyphase(samples, ratio.denominator, ratio.numerator, 5.0).astype(np.float32)


def polyphase(samples: np.ndarray, up: int, down: int, beta: float) -> np.ndarray:
    """``(N,)`` samples upsampled by ``up``, low-pass filtered and downsampled by ``down``: ``ceil(N * up /
    down)`` float64 samples, the first centred on the first input sample, zeros assumed past both ends.

    The filter is a windowed sinc of ``20 * max(up, down) + 1`` taps cut at the lower of the two Nyquist
    frequencies, its window Kaiser's of ``beta``, with unit gain at 0 Hz (as ``scipy.signal.resample_poly``
    designs it, whose results this gives to rounding). Each output sample takes only the taps that meet
    input samples: output ``m`` lies ``s = m * down + 10 * max(up, down)`` steps into the upsampled signal,
    and sums tap ``s % up + j * up`` times input ``s // up - j``. Outputs ``up`` apart share their taps and
    step ``down`` inputs at a time: each such set is a matrix-vector product over a strided view of the
    input (no copy), taken a block of outputs at a time so that the block's inputs stay in cache.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise InputError(f"expected (N,) samples, got shape {x.shape}")
    gcd = math.gcd(up, down)
    up, down = up // gcd, down // gcd
    if up == down:
        return x.copy()
    half, taps = _lowpass(up, down, beta)
    count = -(-len(x) * up // down)
    lead = -(-len(taps) // up)  # zeros before the first sample: the most taps one output takes
    last = ((count - 1) * down + half) // up if count else 0  # the last input any output starts from
    padded = np.zeros(lead + max(last + 1, len(x)))
    padded[lead : lead + len(x)] = x
    out = np.empty(count)
    step = padded.strides[0]
    phases = []  # per first output: its taps, latest input first, and where its first row starts
    for first in range(min(up, count)):
        start = first * down + half
        reversed_taps = taps[start % up :: up][::-1]
        phases.append((first, reversed_taps, lead + start // up - (len(reversed_taps) - 1)))
    rounds = -(-count // up)  # outputs up apart: row q of each phase is output first + q * up
    block = max(_ROWS // up, 256)  # rows per phase at a time: their inputs stay in cache for every phase
    for begin in range(0, rounds, block):
        for first, reversed_taps, at in phases:
            rows = len(range(first + begin * up, min(count, first + (begin + block) * up), up))
            if rows <= 0:
                continue
            windows = np.lib.stride_tricks.as_strided(
                padded[at + begin * down :], (rows, len(reversed_taps)), (down * step, step), writeable=False
            )
            out[first + begin * up :: up][:rows] = windows @ reversed_taps
    return out


#: Outputs :func:`polyphase` computes at a time (each a row of its taps' inputs).
_ROWS = 1 << 16


@functools.lru_cache(maxsize=8)
def _lowpass(up: int, down: int, beta: float) -> tuple[int, np.ndarray]:
    """Half the length of :func:`polyphase`'s filter, and its taps (times ``up``, the upsampling's gain)."""
    widest = max(up, down)
    half = 10 * widest
    offsets = np.arange(2 * half + 1) - half
    taps = np.sinc(offsets / widest) / widest * np.kaiser(2 * half + 1, beta)
    taps *= up / taps.sum()
    taps.setflags(write=False)
    return half, taps


def _audio_stream(container: av.container.InputContainer, path: Path, index: int = 0) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise MediaError(path, "no audio stream")
    stream = container.streams.audio[index]
    try:
        channels, rate = stream.channels, stream.rate
        stream.layout  # noqa: B018 - a damaged header fails here ("Invalid layout: 0 channels")
    except (AttributeError, ValueError, UnicodeDecodeError):
        raise MediaError(path, "audio stream header is damaged") from None
    if not channels or not rate or rate <= 0:
        raise MediaError(path, f"audio stream has {channels} channels at {rate} Hz; its header is damaged")
    _check_rate(path, rate)
    return stream


#: A mix of the channels quieter than this share of the loudest channel's level cancels out (one
#: channel's polarity inverted): the loudest channel is taken alone instead.
CANCELLED = 0.1


#: Seconds of each audio stream heard to choose among several.
_SAMPLED = 10.0


def _loudest_stream(container: av.container.InputContainer) -> int:
    """Of a file's audio streams, the one with the most sound (mean power) in its first :data:`_SAMPLED`
    seconds: a second track may hold the speech and the first be silent."""
    streams = list(container.streams.audio)
    position = {stream.index: k for k, stream in enumerate(streams)}
    converters = [av.AudioResampler(format="flt", layout=stream.layout, rate=stream.rate) for stream in streams]
    power, values, heard = np.zeros(len(streams)), np.zeros(len(streams)), np.zeros(len(streams))
    with contextlib.suppress(av.error.FFmpegError, ValueError):
        for packet in container.demux(*streams):
            k = position.get(packet.stream.index)
            if k is None or heard[k] >= _SAMPLED:
                if heard.min() >= _SAMPLED:
                    break
                continue
            for frame in packet.decode():
                if not isinstance(frame, av.AudioFrame):
                    continue
                for converted in converters[k].resample(frame):
                    block = converted.to_ndarray()
                    power[k] += float(np.square(block, dtype=np.float64).sum())
                    values[k] += block.size
                    heard[k] += converted.samples / max(1, converted.sample_rate)
    return int(np.argmax(power / np.maximum(values, 1)))


def _decode(
    container: av.container.InputContainer, path: Path, channel: int | None = None, index: int = 0
) -> tuple[np.ndarray, int, int | None]:
    """Audio stream ``index``'s samples, its channels averaged (or ``channel`` alone), its rate, and the
    loudest channel where the average cancels out (else None)."""
    stream = _audio_stream(container, path, index)
    rate, channels = stream.rate, max(1, stream.channels)
    # Every decoded frame as interleaved float at the stream's own rate (one plane, whatever the channel
    # count or layout); mixing and resampling are done here, not by swresample, so their behaviour is known.
    converter = av.AudioResampler(format="flt", layout=stream.layout, rate=rate)
    chunks: list[np.ndarray] = []
    energy = np.zeros(channels)  # each channel's, to tell a mix that cancels out

    stated = stated_duration(container, stream)
    if stated is not None and stated > MAX_AUDIO_SECONDS:
        raise InputError(_too_long(path, stated))
    decoded = 0

    def take(frame: av.AudioFrame) -> None:
        nonlocal decoded
        block = frame.to_ndarray().reshape(-1, channels)
        decoded += len(block)
        if decoded > MAX_AUDIO_SECONDS * rate:  # a header that does not say, or lies
            raise InputError(_too_long(path, None))
        if channel is not None:
            chunks.append(np.ascontiguousarray(block[:, channel], np.float32))
            return
        energy[:] += np.square(block, dtype=np.float64).sum(axis=0)
        chunks.append(block.mean(axis=1, dtype=np.float32))

    with decoding_errors(path, "audio"):
        for frame in container.decode(stream):
            for converted in converter.resample(frame):
                take(converted)
        for converted in converter.resample(None):
            take(converted)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size:
        check_complete(path, "audio", stated, samples.size / rate, tolerance=0.25)
    loudest = None
    if channel is None and channels > 1 and samples.size:
        mixed = float(np.square(samples, dtype=np.float64).sum())
        if energy.max() > 1e-6 * samples.size and mixed < CANCELLED**2 * energy.max():
            loudest = int(energy.argmax())
    return samples, rate, loudest


def _check_riff_complete(path: Path) -> None:
    """A WAV file's header states its data size; FFmpeg and libsndfile quietly read less when the
    file was cut short, so compare the two here."""
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        size = path.stat().st_size
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = f.read(4), int.from_bytes(f.read(4), "little")
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mean "unknown" (a writer that streamed the file).
                if chunk_size not in (0, 0xFFFFFFFF) and offset + 8 + chunk_size > size:
                    raise MediaError(
                        path,
                        f"truncated: the WAV header states {chunk_size} bytes of audio, "
                        f"the file holds {size - offset - 8}",
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)


#: Sample rates a sound may have: below, the header lies (a 32 KB file "at 1 Hz" would be hours long and
#: gigabytes once resampled); above, no recorder records.
MIN_RATE, MAX_RATE = 2000, 768000


def _check_rate(path: Path, rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise MediaError(
            path, f"audio at {rate} Hz is no recording's rate ({MIN_RATE}-{MAX_RATE} Hz): its header is damaged"
        )


def _soundfile_read(path: Path, error: MediaError) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception:
        raise error from None
    _check_rate(path, int(info.samplerate))
    if info.frames > MAX_AUDIO_SECONDS * info.samplerate:
        raise InputError(_too_long(path, info.frames / info.samplerate))
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception:
        raise error from None
    return data.mean(axis=1, dtype=np.float32), rate


def _too_long(path: Path, seconds: float | None) -> str:
    length = f"{seconds / 60:.0f} minutes of audio" if seconds is not None else "audio longer than that"
    return (
        f"{path}: {length}; at most {MAX_AUDIO_SECONDS // 60} minutes are read at once (to stay within "
        "1.5 GB of memory): cut it into parts"
    )


def _soundfile_info(path: Path) -> AudioInfo:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception:
        raise MediaError(path, "unreadable: not a media file, or truncated or corrupt") from None
    return AudioInfo(str(path), info.samplerate, info.channels, info.duration, info.format.lower())
