import math

import av
import numpy as np
import pytest
import soundfile

from talkingface.errors import InputError, MediaError
from talkingface.media import audio_info, load_audio, resample, write_video


def _tone(freq, seconds, rate, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x, rate):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * rate / len(x)


def _encode(path, samples, rate, codec, layout="mono"):
    """Write audio-only files through FFmpeg encoders (mp3, aac in m4a, flac)."""
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=rate, layout=layout)
    channels = 2 if layout == "stereo" else 1
    frame = av.AudioFrame.from_ndarray(np.repeat(samples[None], channels, 0), format="fltp", layout=layout)
    frame.sample_rate = rate
    fmt = stream.codec_context.codec.audio_formats[0].name
    for converted in av.AudioResampler(format=fmt, layout=layout, rate=rate).resample(frame):
        container.mux(stream.encode(converted))
    container.mux(stream.encode(None))
    container.close()


def test_real_speech_loads_mono_float32_resampled(speech_path):
    info = audio_info(speech_path)
    assert (info.sample_rate, info.channels) == (48000, 1)
    assert info.duration == pytest.approx(44.37, abs=0.05)
    native = load_audio(speech_path, sample_rate=None)
    speech = load_audio(speech_path, 16000)
    assert native.dtype == speech.dtype == np.float32
    assert len(native) == round(info.duration * 48000)
    assert len(speech) == int(np.ceil(len(native) / 3))
    assert 0.01 < np.sqrt(np.mean(speech**2)) < 0.5  # real speech level, within [-1, 1]
    assert np.abs(speech).max() <= 1.0


@pytest.mark.parametrize("suffix, codec", [(".mp3", "libmp3lame"), (".m4a", "aac"), (".flac", "flac")])
def test_compressed_formats(tmp_path, suffix, codec):
    tone = _tone(440, 1.0, 44100)
    path = tmp_path / f"tone{suffix}"
    _encode(path, tone, 44100, codec, layout="stereo")
    assert audio_info(path).channels == 2
    out = load_audio(path, 16000)
    assert abs(len(out) - 16000) < 0.1 * 16000  # codecs add a little padding
    assert _peak_hz(out, 16000) == pytest.approx(440, abs=3)
    assert np.sqrt(np.mean(out**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_audio_track_of_a_video(make_video):
    path = make_video(seconds=2.0)
    out = load_audio(path, 16000)
    assert len(out) == pytest.approx(32000, abs=2048)
    assert np.abs(out).max() > 0.05


def test_stereo_channels_are_averaged(tmp_path):
    left, right = _tone(300, 0.5, 16000), _tone(1200, 0.5, 16000)
    soundfile.write(tmp_path / "st.wav", np.stack([left, right], 1), 16000, subtype="FLOAT")
    out = load_audio(tmp_path / "st.wav", 16000)
    np.testing.assert_allclose(out, (left + right) / 2, atol=1e-6)


def test_format_only_libsndfile_reads(tmp_path):
    tone = _tone(500, 0.5, 16000)
    path = tmp_path / "tone.mat"
    soundfile.write(path, tone, 16000, format="MAT5", subtype="FLOAT")
    with pytest.raises(av.error.FFmpegError):
        av.open(str(path))
    np.testing.assert_allclose(load_audio(path, 16000), tone, atol=1e-6)
    assert audio_info(path).sample_rate == 16000


def test_resampling_keeps_band_and_rejects_aliases():
    rate = 48000
    passband = resample(_tone(1000, 1.0, rate), rate, 16000)
    assert _peak_hz(passband, 16000) == pytest.approx(1000, abs=2)
    assert np.sqrt(np.mean(passband[800:-800] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    # 10 kHz is above the new Nyquist (8 kHz): it must vanish, not fold down to 6 kHz.
    alias = resample(_tone(10000, 1.0, rate), rate, 16000)
    assert np.sqrt(np.mean(alias[800:-800] ** 2)) < 1e-3
    odd = resample(_tone(1000, 1.0, 44100), 44100, 16000)
    assert len(odd) == 16000 and _peak_hz(odd, 16000) == pytest.approx(1000, abs=2)


@pytest.mark.parametrize(
    ("orig", "target"), [(44100, 16000), (48000, 16000), (8000, 16000), (16000, 44100), (768000, 16000), (44101, 16000)]
)
def test_resampling_gives_scipys_polyphase_filter(orig, target):
    """The filter and alignment are ``scipy.signal.resample_poly``'s (Kaiser 8.6), at every length, with
    outputs that start or end where the filter overhangs the input."""
    from scipy.signal import resample_poly

    from talkingface.media.audio import change_speed, polyphase

    rng = np.random.default_rng(orig + target)
    gcd = math.gcd(orig, target)
    for n in (1, 2, 7, 441, 3001):
        x = rng.standard_normal(n)
        expected = resample_poly(x, target // gcd, orig // gcd, window=("kaiser", 8.6))
        ours = polyphase(x, target // gcd, orig // gcd, 8.6)
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
        assert resample(x, orig, target).dtype == np.float32
    x = rng.standard_normal(5000)
    np.testing.assert_allclose(change_speed(x, 1.1), resample_poly(x, 10, 11), rtol=0, atol=1e-5)


def test_video_without_audio_stream(make_video):
    path = make_video(audio_seconds=None)
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(path)


def test_missing_and_empty_and_junk(tmp_path):
    with pytest.raises(MediaError, match="file not found"):
        load_audio(tmp_path / "none.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF but not really" * 20)
    with pytest.raises(MediaError, match="junk.wav: unreadable"):
        load_audio(tmp_path / "junk.wav")


def test_zero_length_audio(tmp_path):
    soundfile.write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(MediaError, match="zero.wav: .*no samples"):
        load_audio(tmp_path / "zero.wav")


def test_truncated_audio(tmp_path, speech_path):
    data = speech_path.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="cut.wav: truncated"):
        load_audio(cut)


def test_bad_sample_rate(speech_path):
    with pytest.raises(InputError, match="sample_rate"):
        load_audio(speech_path, sample_rate=0)


def test_writer_keeps_speech_content(tmp_path, speech16k, photo):
    clip = speech16k[:32000]
    path = write_video(tmp_path / "talk.mp4", [photo] * 50, 25, audio=clip, sample_rate=16000)
    back = load_audio(path, 16000)
    # AAC adds an encoder delay of 1024 samples at most; find the lag, then compare.
    lag = max(range(2048), key=lambda k: float(np.dot(back[k : k + 16000], clip[:16000])))
    corr = np.corrcoef(back[lag : lag + 30000], clip[:30000])[0, 1]
    assert corr > 0.95


def test_channels_that_cancel_out_when_mixed_give_the_loudest_alone(tmp_path, speech16k):
    import soundfile

    clip = np.asarray(speech16k[16000:48000], np.float32)
    soundfile.write(tmp_path / "inverted.wav", np.stack([clip, -0.8 * clip], axis=1), 16000, subtype="FLOAT")
    loaded = load_audio(tmp_path / "inverted.wav", 16000)
    assert np.allclose(loaded, clip, atol=1e-6)  # the left channel, not 0.1 x the speech
    soundfile.write(tmp_path / "stereo.wav", np.stack([clip, 0.5 * clip], axis=1), 16000, subtype="FLOAT")
    assert np.allclose(load_audio(tmp_path / "stereo.wav", 16000), 0.75 * clip, atol=1e-6)  # an ordinary mix


@pytest.mark.parametrize("count", [3, 8, 16])
def test_many_channels_without_a_named_layout_are_mixed(tmp_path, speech16k, count):
    import soundfile

    clip = np.asarray(speech16k[16000:32000], np.float32)
    gains = np.linspace(1.0, 0.1, count, dtype=np.float32)
    soundfile.write(tmp_path / "many.wav", clip[:, None] * gains, 16000, subtype="FLOAT")
    assert np.allclose(load_audio(tmp_path / "many.wav", 16000), clip * gains.mean(), atol=1e-5)


def test_a_header_claiming_an_impossible_rate_is_refused_before_decoding(tmp_path, speech16k):
    import struct

    import soundfile

    soundfile.write(tmp_path / "ok.wav", np.asarray(speech16k[:16000], np.float32), 16000, subtype="PCM_16")
    data = (tmp_path / "ok.wav").read_bytes()
    (tmp_path / "lying.wav").write_bytes(data[:24] + struct.pack("<II", 1, 2) + data[32:])
    with pytest.raises(MediaError, match="1 Hz is no recording's rate"):
        load_audio(tmp_path / "lying.wav", 16000)


def _two_tracks(path, first: np.ndarray, second: np.ndarray, rate: int = 16000) -> None:
    """An .mkv with two audio streams (AAC), interleaved, as a dubbed film or a screen recording has."""
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        streams = [container.add_stream("aac", rate=rate, layout="mono") for _ in range(2)]
        for start in range(0, len(first), 1024):
            for stream, samples in zip(streams, (first, second)):
                chunk = samples[None, start : start + 1024].astype(np.float32)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
                container.mux(stream.encode(frame))
        for stream in streams:
            container.mux(stream.encode(None))


@pytest.mark.parametrize("speech_first", [False, True])
def test_of_two_audio_streams_the_one_with_sound_is_taken(tmp_path, speech16k, speech_first):
    clip = np.asarray(speech16k[16000:64000], np.float32)
    silence = np.zeros_like(clip)
    _two_tracks(tmp_path / "two.mkv", *((clip, silence) if speech_first else (silence, clip)))
    loaded = load_audio(tmp_path / "two.mkv", 16000)
    n = min(len(loaded), len(clip)) - 4000
    lag = int(np.argmax([np.dot(loaded[k : k + n], clip[:n]) for k in range(3000)]))  # the codec's delay
    assert np.corrcoef(loaded[lag : lag + n], clip[:n])[0, 1] > 0.9  # the speech, not the silent track


def test_audio_over_45_minutes_is_refused_from_its_header_before_decoding(tmp_path, capsys):
    """46 minutes of 8 kHz 8-bit speech (22 MB on disk, 0.5 GB once decoded and resampled): one line,
    at once, from the header."""
    import time
    import wave

    from talkingface.cli import main

    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        second = (128 + 40 * np.sin(np.arange(8000) * 0.3)).astype(np.uint8).tobytes()
        out.writeframes(second * (46 * 60))
    started = time.monotonic()
    assert main(["visemes", str(path), "-o", str(tmp_path / "c.json")]) == 2
    error = capsys.readouterr().err
    assert "46 minutes of audio; at most 45 minutes" in error and error.count("\n") == 1
    assert time.monotonic() - started < 5 and not (tmp_path / "c.json").exists()


def test_audio_whose_header_does_not_say_its_length_is_stopped_at_the_limit(tmp_path, monkeypatch):
    from talkingface.media import audio

    path = tmp_path / "three.wav"
    soundfile.write(path, _tone(440, 3.0, 16000), 16000)
    monkeypatch.setattr(audio, "MAX_AUDIO_SECONDS", 2)
    with pytest.raises(InputError, match="minutes are read at once"):
        load_audio(path)  # the header says 3 s: refused before decoding
    monkeypatch.setattr(audio, "stated_duration", lambda container, stream: None)  # a header that does not say
    with pytest.raises(InputError, match="audio longer than that"):
        load_audio(path)
    mat = tmp_path / "three.mat"  # read by libsndfile, not FFmpeg
    soundfile.write(mat, _tone(440, 3.0, 16000), 16000, format="MAT5", subtype="FLOAT")
    with pytest.raises(InputError, match="minutes are read at once"):
        load_audio(mat)
