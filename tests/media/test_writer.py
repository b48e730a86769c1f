import av
import numpy as np
import pytest
from tests.conftest import moving_frames

from talkingface.errors import InputError
from talkingface.media import VideoWriter, audio_info, load_audio, probe_video, read_frames, write_video


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_failure_midway_leaves_no_file(tmp_path, photo):
    def frames():
        yield from moving_frames(photo, 5, 96, 64)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_video(tmp_path / "out.mp4", frames(), 25)
    assert _leftovers(tmp_path) == []


def test_failure_keeps_existing_output(tmp_path, photo):
    target = tmp_path / "out.mp4"
    write_video(target, moving_frames(photo, 5, 96, 64), 25)
    before = target.read_bytes()
    with pytest.raises(InputError, match="expected 96x64"):
        write_video(target, [np.zeros((64, 96, 3), np.uint8), np.zeros((64, 80, 3), np.uint8)], 25)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == ["out.mp4"]


def test_no_frames_is_an_error_and_no_file(tmp_path):
    with pytest.raises(InputError, match="no frames"):
        write_video(tmp_path / "out.mp4", [], 25)
    assert _leftovers(tmp_path) == []


def test_output_is_h264_yuv420p_with_aac(tmp_path, photo, speech16k):
    path = write_video(
        tmp_path / "o.mp4", moving_frames(photo, 25, 160, 120), 25, audio=speech16k[:16000], sample_rate=16000
    )
    with av.open(str(path)) as c:
        video, audio = c.streams.video[0], c.streams.audio[0]
        assert video.codec_context.name == "h264" and video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac" and audio.rate == 16000
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not a private temp file


def test_odd_sizes_are_padded_to_even(tmp_path):
    frame = np.full((65, 97, 3), 200, np.uint8)
    path = write_video(tmp_path / "odd.mp4", [frame] * 3, 25)
    info = probe_video(path)
    assert (info.width, info.height) == (98, 66)
    decoded = next(read_frames(path))
    assert abs(int(decoded[-1, -1, 0]) - 200) < 6  # replicated edge, not black


def test_audio_from_a_file_and_longer_than_video(tmp_path, photo, speech_path):
    path = write_video(tmp_path / "o.mp4", moving_frames(photo, 25, 96, 64), 25, audio=speech_path)
    info = audio_info(path)
    assert info.sample_rate == 48000
    assert info.duration == pytest.approx(44.37, abs=0.1)  # all of the audio is kept
    assert probe_video(path).num_frames == 25


def test_unusual_sample_rate_is_resampled_for_aac(tmp_path, photo):
    tone = np.sin(2 * np.pi * 500 * np.arange(22000) / 22000).astype(np.float32) * 0.3
    path = write_video(tmp_path / "o.mp4", moving_frames(photo, 25, 96, 64), 25, audio=tone, sample_rate=22000)
    assert audio_info(path).sample_rate == 48000
    back = load_audio(path, 16000)
    spectrum = np.abs(np.fft.rfft(back[2000:14000]))
    assert np.argmax(spectrum) * 16000 / 12000 == pytest.approx(500, abs=3)


def test_metadata_is_written(tmp_path, photo):
    path = write_video(
        tmp_path / "o.mp4",
        moving_frames(photo, 3, 96, 64),
        25,
        metadata={"comment": "synthetic", "talkingface_synthetic": "true"},
    )
    with av.open(str(path)) as c:
        assert c.metadata["comment"] == "synthetic"
        assert c.metadata["talkingface_synthetic"] == "true"


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((64, 96), np.uint8), r"\(H, W, 3\) uint8, got \(64, 96\) uint8"),
        (np.zeros((64, 96, 3), np.float32), r"\(H, W, 3\) uint8, got \(64, 96, 3\) float32"),
    ],
)
def test_bad_frames(tmp_path, bad, message):
    with pytest.raises(InputError, match=message):
        write_video(tmp_path / "o.mp4", [bad], 25)
    assert _leftovers(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="fps"):
        VideoWriter(tmp_path / "o.mp4", fps=0)
    with pytest.raises(InputError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "o.mp4", fps=25)
    with pytest.raises(InputError, match="sample_rate is required"):
        VideoWriter(tmp_path / "o.mp4", fps=25, audio=np.zeros(100, np.float32))
    assert _leftovers(tmp_path) == []


def test_abandoned_writer_cleans_up(tmp_path, photo):
    writer = VideoWriter(tmp_path / "o.mp4", 25)
    writer.write(next(moving_frames(photo, 1, 96, 64)))
    writer.abort()
    assert _leftovers(tmp_path) == []


def test_a_frame_drawn_over_after_writing_keeps_what_it_was(tmp_path):
    # Frames are encoded in the background while the caller draws the next one into the same array.
    frame = np.zeros((64, 96, 3), np.uint8)
    with VideoWriter(tmp_path / "out.mp4", 25, crf=0) as writer:
        for level in range(0, 250, 25):
            frame[:] = level
            writer.write(frame)
    means = [f.mean() for f in read_frames(tmp_path / "out.mp4")]
    assert np.allclose(means, range(0, 250, 25), atol=2)


def test_an_encoding_error_reaches_the_caller_and_leaves_no_file(tmp_path, photo, monkeypatch):
    def broken(self, frame, index):
        if index == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(VideoWriter, "_encode", broken)
    with pytest.raises(OSError, match="No space left"):
        write_video(tmp_path / "out.mp4", moving_frames(photo, 40, 96, 64), 25)
    assert _leftovers(tmp_path) == []
