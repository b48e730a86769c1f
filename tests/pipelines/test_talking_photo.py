"""The talking photo on the real photo and real speech: measured on the output video itself."""

import av
import numpy as np
import pytest
import soundfile
from tests.face.conftest import place

from talkingface.errors import InputError, MediaError
from talkingface.face import FaceTracker, TrackerConfig
from talkingface.media import audio_info, probe_video, read_frames, write_video
from talkingface.pipelines import TalkingPhotoPipeline

CLIP_TEXT = "it was the best of times it was the worst of times"


@pytest.fixture(scope="module")
def clip(tmp_path_factory, speech16k):
    """The first 5 s of the real speech: 1.17 s of silence, then 'it was the best of times, it was
    the worst of times'."""
    path = tmp_path_factory.mktemp("speech") / "clip.wav"
    soundfile.write(path, speech16k[: 16000 * 5], 16000)
    return path


@pytest.fixture(scope="module")
def talking(tmp_path_factory, photo_path, clip):
    out = tmp_path_factory.mktemp("talk") / "talk.mp4"
    result = TalkingPhotoPipeline()(photo_path, clip, out, text=CLIP_TEXT)
    return result


def mouth_opening(path):
    """Inner-lip distance over face width, per frame, from landmarks detected on the video."""
    landmarks = FaceTracker(TrackerConfig(smoothing=None)).track_video(path).target().landmarks
    return np.linalg.norm(landmarks[:, 14, :2] - landmarks[:, 13, :2], axis=1) / np.linalg.norm(
        landmarks[:, 454, :2] - landmarks[:, 234, :2], axis=1
    )


def test_output_file_duration_fps_audio_and_tag(talking):
    info = probe_video(talking.path)
    assert info.fps == 25 and info.num_frames == 125 == talking.num_frames  # ceil(5.0 * 25)
    assert (info.width, info.height) == (512, 512)
    assert audio_info(talking.path).duration == pytest.approx(5.0, abs=0.05)
    with av.open(str(talking.path)) as container:
        assert container.metadata["synthetic"] == "true"
    assert talking.phonemes.source == "alignment"


def test_mouth_follows_the_jaw_curve_and_closes(talking, photo):
    opening = mouth_opening(talking.path)
    jaw = talking.curves.channel("jawOpen") * (1 - talking.curves.channel("mouthClose"))
    assert np.corrcoef(opening, jaw)[0, 1] >= 0.8
    # The photo's own smile is open (~0.07); in the silence before the speech the mouth is closed.
    assert opening[:25].max() < 0.03
    for p in talking.phonemes.speech:
        if p.phone in ("M", "B", "P"):
            assert opening[int(round((p.start + p.end) / 2 * 25))] < 0.03, p
    assert opening.max() > 0.08  # and it does open


def test_only_the_lower_face_changes(talking, photo, photo_path):
    frames = list(TalkingPhotoPipeline().render_frames(photo_path, talking.curves))
    assert len(frames) == talking.num_frames
    for frame in frames[40::20]:
        assert (frame[:110] == photo[:110]).all()  # eyes and above: untouched
        # Below and beside the outer ring of the warp mesh (2.1x the face oval) nothing moves.
        assert (frame[240:] == photo[240:]).all()
        assert (frame[:, :128] == photo[:, :128]).all() and (frame[:, 328:] == photo[:, 328:]).all()

    def psnr(a, b):
        mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
        return 10 * np.log10(255**2 / mse)

    for frame in list(read_frames(talking.path))[40::40]:
        assert psnr(frame[:110], photo[:110]) > 33  # in the file: only the codec's loss


@pytest.mark.slow
def test_closed_mouth_photo_opens(tmp_path, photo, clip):
    from talkingface.animation.rig import LandmarkRig
    from talkingface.face import detect_faces
    from talkingface.render.photo import PhotoWarper

    landmarks = detect_faces(photo)[0].landmarks
    closed = PhotoWarper(photo, landmarks).warp(LandmarkRig(landmarks)())
    closed_path = tmp_path / "closed.png"
    write_image(closed_path, closed)
    out = TalkingPhotoPipeline()(closed_path, clip, tmp_path / "o.mp4", text=CLIP_TEXT)
    opening = mouth_opening(out.path)
    assert opening[:25].max() < 0.03 and opening[30:].max() > 0.06
    jaw = out.curves.channel("jawOpen") * (1 - out.curves.channel("mouthClose"))
    assert np.corrcoef(opening, jaw)[0, 1] >= 0.8


def write_image(path, image):
    container = av.open(str(path), "w")
    stream = container.add_stream("png", rate=1)
    stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "rgb24"
    container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
    container.mux(stream.encode(None))
    container.close()


@pytest.mark.slow
def test_video_input_faceless_frames_pass_through_and_short_video_loops(tmp_path, photo, clip):
    frames = [place(photo, (480, 360), -20 + i, -60, 0.8) for i in range(40)]
    for i in range(15, 20):
        frames[i] = np.full_like(frames[i], 100)  # no face here
    video = write_video(tmp_path / "in.mp4", frames, 25)
    out = TalkingPhotoPipeline()(video, clip, tmp_path / "o.mp4", text=CLIP_TEXT)
    assert out.num_frames == 125 and probe_video(out.path).num_frames == 125  # 40 frames played back and forth
    produced = list(read_frames(out.path))
    source = list(read_frames(video))
    for j in (15, 17, 19):
        assert np.abs(produced[j].astype(int) - source[j]).mean() < 2  # passed through
    # Ping-pong: output frame 40 shows source frame 38.
    assert np.abs(produced[40][:150].astype(int) - source[38][:150]).mean() < 3


def test_errors(tmp_path, clip, photo_path):
    with pytest.raises(InputError, match="no face found"):
        blank = tmp_path / "blank.png"
        write_image(blank, np.full((200, 200, 3), 128, np.uint8))
        TalkingPhotoPipeline()(blank, clip, tmp_path / "o.mp4")
    (tmp_path / "noise.wav").write_bytes(b"not audio at all" * 50)
    with pytest.raises(MediaError, match="noise.wav: unreadable"):
        TalkingPhotoPipeline()(photo_path, tmp_path / "noise.wav", tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()
