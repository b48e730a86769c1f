from fractions import Fraction

import av
import numpy as np
import pytest
from tests.conftest import moving_frames

from talkingface.errors import MediaError
from talkingface.media import VideoReader, probe_video, read_frames, read_image, write_video


@pytest.mark.parametrize(
    "fps, exact", [(25, Fraction(25)), (29.97, Fraction(30000, 1001)), (30, Fraction(30)), (60, Fraction(60))]
)
def test_roundtrip_keeps_rate_count_size_and_content(tmp_path, photo, fps, exact):
    frames = list(moving_frames(photo, 24, 160, 120))
    path = write_video(tmp_path / "v.mp4", frames, fps)
    info = probe_video(path)
    assert (info.width, info.height, info.fps, info.num_frames) == (160, 120, exact, 24)
    assert info.duration == pytest.approx(24 / float(exact), abs=1e-3)
    assert not info.has_audio and not info.is_image and info.codec == "h264"
    decoded = list(read_frames(path))
    assert len(decoded) == 24
    for a, b in zip(decoded, frames):
        assert a.shape == (120, 160, 3) and a.dtype == np.uint8
        assert np.abs(a.astype(int) - b).mean() < 4  # crf 18: visually lossless


def test_bgr_order_swaps_channels(tmp_path):
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 230
    path = write_video(tmp_path / "red.mp4", [red] * 3, 25)
    rgb = read_image(path)
    bgr = read_image(path, order="bgr")
    assert rgb[32, 32, 0] > 200 and rgb[32, 32, 2] < 40
    np.testing.assert_array_equal(bgr, rgb[..., ::-1])


def _rotated_video(path, rotation):
    """A phone-style file: frames stored landscape with a display matrix rotating them."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
    stream.set_display_rotation(rotation)
    stored = np.zeros((64, 96, 3), np.uint8)
    stored[:16, :16] = 255  # white marker at the stored top-left corner
    for i in range(3):
        frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
        frame.pts = i
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return stored


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_metadata_is_applied(tmp_path, rotation):
    path = tmp_path / "phone.mp4"
    stored = _rotated_video(path, rotation)
    with VideoReader(path) as reader:
        assert reader.info.rotation == rotation % 360
        if rotation % 180:
            assert (reader.info.width, reader.info.height) == (64, 96)
        frames = list(reader)
    expected = np.rot90(stored, rotation // 90)
    assert frames[0].shape == expected.shape
    marker = frames[0].mean(axis=2) > 128
    assert (marker == (expected.mean(axis=2) > 128)).mean() > 0.98


def test_still_image_reads_as_one_frame(photo_path, photo):
    info = probe_video(photo_path)
    assert info.is_image and info.num_frames == 1 and info.fps is None
    assert (info.width, info.height) == (512, 512)
    frames = list(read_frames(photo_path))
    assert len(frames) == 1 and frames[0].shape == (512, 512, 3)
    assert 80 < photo.mean() < 200  # a real photo, not a blank


def test_reader_streams_without_decoding_ahead(make_video):
    path = make_video(seconds=4.0)
    reader = VideoReader(path)
    iterator = iter(reader)
    first = next(iterator)
    assert first.shape == (120, 160, 3)
    iterator.close()  # stopping early closes the file
    with pytest.raises(StopIteration):
        next(iterator)


def test_reader_iterates_once(make_video):
    reader = VideoReader(make_video())
    assert len(list(reader)) == 50
    with pytest.raises(Exception, match="only once"):
        list(reader)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="nope.mp4: file not found"):
        VideoReader(tmp_path / "nope.mp4")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        VideoReader(tmp_path / "empty.mp4")


def test_not_a_media_file(tmp_path):
    (tmp_path / "notes.mp4").write_text("these are not video frames\n" * 50)
    with pytest.raises(MediaError, match="notes.mp4: unreadable"):
        VideoReader(tmp_path / "notes.mp4")


@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_truncated_file(tmp_path, make_video, keep):
    data = make_video().read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(MediaError, match="cut.mp4: .*(truncated|unreadable)"):
        list(VideoReader(cut))


def test_audio_only_file_has_no_video_stream(speech_path):
    with pytest.raises(MediaError, match="two_cities.wav: no video stream"):
        VideoReader(speech_path)


def test_error_message_is_one_line(tmp_path):
    (tmp_path / "bad.mov").write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError) as info:
        VideoReader(tmp_path / "bad.mov")
    assert "\n" not in str(info.value) and str(info.value).startswith(str(tmp_path / "bad.mov"))


@pytest.mark.parametrize(("width", "height", "refused"), [(14000, 12000, True), (8000, 6000, False)])
def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(tmp_path, width, height, refused):
    from tests.conftest import png_claiming

    from talkingface.errors import MediaError
    from talkingface.media import read_image

    bomb = png_claiming(tmp_path / "bomb.png", width, height)
    with pytest.raises(MediaError) as caught:
        read_image(bomb)
    message = str(caught.value)
    assert ("too large to read" in message) == refused, message
    assert "\n" not in message


@pytest.mark.parametrize("channels", [1, 3])
def test_a_float_tiff_from_0_to_1_reads_as_the_picture_not_black(tmp_path, photo, channels):
    import cv2
    from PIL import Image

    from talkingface.media import read_image

    scaled = photo.astype(np.float32) / 255.0
    path = tmp_path / "face.tif"
    if channels == 1:
        Image.fromarray(scaled[..., 1], mode="F").save(path)  # Pillow writes one float channel
        expected = photo[..., 1].mean()
    else:
        assert cv2.imwrite(str(path), scaled[..., ::-1])  # OpenCV writes three: a TIFF Pillow cannot open
        expected = photo.mean()
    pixels = read_image(path)
    assert pixels.shape == (*photo.shape[:2], 3) and abs(pixels.mean() - expected) < 2
