"""The talking photo on the real photo and real speech: measured on the output video itself."""

import av
import numpy as np
import pytest
import soundfile
from tests.face.conftest import place

from talkingface.errors import InputError, MediaError
from talkingface.face import FaceTracker, TrackerConfig
from talkingface.media import audio_info, probe_video, read_frames, write_video
from talkingface.pipelines import TalkingPhotoConfig, TalkingPhotoPipeline

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
    """The photo speaking the clip with only its mouth moving (--still)."""
    out = tmp_path_factory.mktemp("talk") / "talk.mp4"
    result = TalkingPhotoPipeline(TalkingPhotoConfig(still=True))(photo_path, clip, out, text=CLIP_TEXT)
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
    # The photo's own smile is open (~0.07); in the silence before the speech the mouth is closed but for
    # the breath the speaker takes (at 0.5 s), which opens it less than the words do.
    assert np.median(opening[:25]) < 0.01 and opening[:25].max() < 0.6 * opening.max()
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
    out = TalkingPhotoPipeline(TalkingPhotoConfig(still=True))(closed_path, clip, tmp_path / "o.mp4", text=CLIP_TEXT)
    opening = mouth_opening(out.path)
    assert np.median(opening[:25]) < 0.01 and opening[30:].max() > 0.06  # closed before the words (a breath aside)
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
    out = TalkingPhotoPipeline(TalkingPhotoConfig(still=True))(video, clip, tmp_path / "o.mp4", text=CLIP_TEXT)
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


def test_a_face_that_fills_the_frame_is_found_and_animated(tmp_path, photo, clip):
    """A 224 px crop of the face alone (as in datasets), which the detector alone misses."""
    from talkingface.face import detect_faces
    from talkingface.media import resize_image

    landmarks = detect_faces(photo)[0].landmarks[:, :2]
    (x0, y0), (x1, y1) = landmarks.min(0), landmarks.max(0)
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
    crop = photo[int(cy - side / 2) : int(cy + side / 2), int(cx - side / 2) : int(cx + side / 2)]
    crop = resize_image(crop, 224, 224)
    found = detect_faces(crop)
    assert len(found) == 1
    expected = (landmarks - [int(cx - side / 2), int(cy - side / 2)]) * 224 / (int(cy + side / 2) - int(cy - side / 2))
    assert np.median(np.linalg.norm(found[0].landmarks[:, :2] - expected, axis=1)) < 3  # px of 224
    assert np.ptp(found[0].landmarks[:, 1]) > 0.9 * 224  # the face fills the frame
    path = tmp_path / "crop.png"
    write_image(path, crop)
    out = TalkingPhotoPipeline()(path, clip, tmp_path / "o.mp4", text=CLIP_TEXT)
    assert out.faces == 1 and out.num_frames == 125


@pytest.mark.slow
def test_face_index_chooses_among_the_faces(tmp_path, photo, clip):
    """Two people side by side (the photo, and a smaller copy of it): the largest is 0."""
    from talkingface.media import resize_image

    small = resize_image(photo, 320, 320)
    pair = np.full((512, 512 + 320, 3), 200, np.uint8)
    pair[:, :512] = photo
    pair[96:416, 512:] = small
    path = tmp_path / "pair.png"
    write_image(path, pair)
    first = TalkingPhotoPipeline()(path, clip, tmp_path / "a.mp4", text=CLIP_TEXT)
    assert (first.faces, first.face_index) == (2, 0)
    second = TalkingPhotoPipeline(TalkingPhotoConfig(face_index=1))(path, clip, tmp_path / "b.mp4", text=CLIP_TEXT)
    assert (second.faces, second.face_index) == (2, 1)
    frames_a, frames_b = list(read_frames(first.path)), list(read_frames(second.path))
    # Each moves its own mouth only: the other face's mouth stays as in the photo (up to the codec).
    mouth_a = (slice(140, 240), slice(150, 360))
    mouth_b = (slice(183, 246), slice(606, 737))

    def change(frames, region):
        return max(np.abs(f[region].astype(int) - pair[region]).mean() for f in frames[30:110:10])

    assert change(frames_a, mouth_a) > 3 * change(frames_a, mouth_b)
    assert change(frames_b, mouth_b) > 3 * change(frames_b, mouth_a)
    with pytest.raises(InputError, match="face index 2 asked, the photo has 2 face"):
        TalkingPhotoPipeline(TalkingPhotoConfig(face_index=2))(path, clip, tmp_path / "c.mp4", text=CLIP_TEXT)
    assert not (tmp_path / "c.mp4").exists()


@pytest.mark.slow
def test_still_is_the_speech_motion_alone_and_the_default_face_lives(tmp_path, talking, clip, photo, photo_path):
    from talkingface.animation.speech import speech_curves
    from talkingface.media import load_audio

    speech = load_audio(clip, 16000)
    alone, _ = speech_curves(speech, 16000, 25, text=CLIP_TEXT)
    assert "head" not in talking.curves.extra
    np.testing.assert_array_equal(talking.curves.values, alone.values)
    lively = TalkingPhotoPipeline()(photo_path, clip, tmp_path / "live.mp4", text=CLIP_TEXT)
    assert lively.curves.extra["head"].std(0).min() > 0.1 and lively.curves.channel("eyeBlinkLeft").max() > 0.9
    mouth = [k for k, n in enumerate(lively.curves.names) if n.startswith(("jaw", "mouth"))]
    np.testing.assert_array_equal(lively.curves.values[:, mouth], alone.values[:, mouth])
    # The eyes move in the lively video and not in the still one.
    still_frames, live_frames = list(read_frames(talking.path)), list(read_frames(lively.path))
    from talkingface.face import detect_faces
    from talkingface.face.topology import face_topology

    ring = detect_faces(photo)[0].landmarks[face_topology().group("left_eye"), :2]
    (x0, y0), (x1, y1) = ring.min(0).astype(int), ring.max(0).astype(int)
    eyes = (slice(y0 - 3, y1 + 3), slice(x0 - 3, x1 + 3))
    spread = [
        np.ptp(np.stack([f[eyes] for f in frames]).astype(float), axis=0).mean()
        for frames in (still_frames, live_frames)
    ]
    assert spread[1] > 3 * spread[0]


@pytest.mark.slow
def test_the_built_in_sync_model_finds_the_talking_photo_in_sync(tmp_path, photo_path, speech16k):
    """Without a transcript the jaw opens before the sound as real speakers' do; the built-in sync model,
    trained on real speakers, still finds the output in sync."""
    from talkingface.pipelines import SyncScorePipeline

    speech = tmp_path / "speech.wav"
    soundfile.write(speech, speech16k[16000 : 16000 * 11], 16000)
    out = TalkingPhotoPipeline()(photo_path, speech, tmp_path / "talk.mp4")
    result = SyncScorePipeline()(out.path)
    scores = max(result.tracks, key=lambda t: t.num_frames).scores
    assert abs(scores.offset) <= 1 and scores.lse_c > 0.02


def test_to_sets_where_the_enhancer_runs():
    pipeline = TalkingPhotoPipeline(TalkingPhotoConfig(enhance="upscaler"))
    assert pipeline.to("cpu") is pipeline and pipeline.device == "cpu"
    assert pipeline.config.enhancement(pipeline.device).device == "cpu"
    with pytest.raises(InputError, match="not a torch device"):
        pipeline.to("toaster")
