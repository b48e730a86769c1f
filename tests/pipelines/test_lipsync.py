"""Lip-sync and sync scoring end to end, with seeded random weights (no public checkpoint here)."""

import numpy as np
import pytest
import soundfile
import torch
from tests.face.conftest import place

from talkingface.errors import CheckpointError, InputError, MediaError
from talkingface.media import audio_info, probe_video, read_frames, write_video
from talkingface.models import create_model, load_model
from talkingface.pipelines import LipSyncConfig, LipSyncPipeline, SyncScoreConfig, SyncScorePipeline

SMALL = {"channel_divisor": 4}  # a quarter of the channels: the same pipeline, a fraction of the time


def load_generator(path):
    """The upstream-format test file, as ``lipsync --checkpoint`` loads it."""
    return load_model(path, family="wav2lip", role="generator", **SMALL)


@pytest.fixture(scope="module")
def scene(tmp_path_factory, photo, speech16k):
    """A 3 s real-photo video with a face-less gap, and 4 s of real speech to dub it with."""
    folder = tmp_path_factory.mktemp("lipsync")
    frames = [place(photo, (480, 320), 60 + i, -40, 0.7) for i in range(75)]
    for i in range(30, 35):
        frames[i] = np.full_like(frames[i], 90)
    video = write_video(folder / "in.mp4", frames, 25, audio=speech16k[16000 : 16000 * 4], sample_rate=16000)
    speech = folder / "speech.wav"
    soundfile.write(speech, speech16k[16000 : 16000 * 5], 16000)
    torch.manual_seed(0)
    checkpoint = folder / "wav2lip_random.pth"
    torch.save(
        {
            "state_dict": {"module." + k: v for k, v in create_model("wav2lip", **SMALL).state_dict().items()},
            "global_step": 0,
        },
        checkpoint,
    )
    return video, speech, checkpoint, frames


@pytest.fixture(scope="module")
def dubbed(scene, tmp_path_factory):
    video, speech, checkpoint, _ = scene
    out = tmp_path_factory.mktemp("out") / "dubbed.mp4"
    return LipSyncPipeline(load_generator(checkpoint))(video, speech, out)


def test_output_length_rate_and_audio(dubbed):
    info = probe_video(dubbed.path)
    assert info.fps == 25 and info.num_frames == 100 == dubbed.num_frames  # 4 s of speech, video looped
    assert audio_info(dubbed.path).duration == pytest.approx(4.0, abs=0.05)
    assert dubbed.frames_with_face == 95


@pytest.mark.slow
def test_overlapping_stages_give_the_same_video(dubbed, scene, tmp_path):
    video, speech, checkpoint, _ = scene
    overlapped = LipSyncPipeline(load_generator(checkpoint), LipSyncConfig(overlap=True, batch_size=8))(
        video, speech, tmp_path / "overlapped.mp4"
    )
    assert overlapped.num_frames == dubbed.num_frames and overlapped.frames_with_face == dubbed.frames_with_face
    for a, b in zip(read_frames(dubbed.path), read_frames(overlapped.path)):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_bfloat16_generator_gives_nearly_the_same_video(dubbed, scene, tmp_path, monkeypatch):
    video, speech, checkpoint, _ = scene
    from talkingface.models.inference import Bfloat16, MicroBatched

    monkeypatch.setattr("talkingface.cpu.bfloat16_units", lambda: ("amx_bf16",))  # as on a CPU with AMX
    pipeline = LipSyncPipeline(load_generator(checkpoint), LipSyncConfig(precision="bf16"))
    assert isinstance(pipeline.model, Bfloat16)  # the config reaches the generator
    assert pipeline.precision == "bf16" and pipeline.precision_note is None
    assert isinstance(LipSyncPipeline(load_generator(checkpoint)).model, MicroBatched)  # fp32 inference form
    fast = pipeline(video, speech, tmp_path / "bf16.mp4")
    assert fast.num_frames == dubbed.num_frames
    for a, b in zip(read_frames(dubbed.path), read_frames(fast.path)):
        assert np.abs(a.astype(int) - b).mean() < 0.5  # seeded weights: the mouths stay within a level
    with pytest.raises(InputError, match="precision"):
        LipSyncConfig(precision="int8")


def test_bfloat16_falls_back_to_float32_with_a_note_where_the_cpu_has_no_bfloat16_units(scene, monkeypatch):
    from talkingface.models.inference import Bfloat16, MicroBatched

    monkeypatch.setattr("talkingface.cpu.bfloat16_units", lambda: ())
    pipeline = LipSyncPipeline(load_generator(scene[2]), LipSyncConfig(precision="bf16"))
    assert isinstance(pipeline.model, MicroBatched) and not isinstance(pipeline.model, Bfloat16)
    assert pipeline.precision == "fp32"
    assert "no bfloat16 units" in pipeline.precision_note and "fp32 is used" in pipeline.precision_note


def test_faceless_frames_and_the_upper_face_are_untouched(dubbed, scene):
    source = list(read_frames(scene[0]))  # as decoded: both sides went through the codec
    out = list(read_frames(dubbed.path))
    for j in range(30, 35):
        assert np.abs(out[j].astype(int) - source[j]).mean() < 1.5  # passed through (codec noise only)
    for j in (10, 50, 70):
        # Above the base of the nose (row ~53 here) only the codec touches the frame.
        assert np.abs(out[j][:42].astype(int) - source[j][:42]).mean() < 2.0
    # The mouth (around row 61, column 266 in frame 50) is regenerated.
    mouth = (slice(56, 70), slice(245, 290))
    assert np.abs(out[50][mouth].astype(int) - source[50][mouth]).mean() > 4


@pytest.mark.slow
def test_keep_video_length_and_hard_paste(scene, tmp_path):
    video, speech, checkpoint, _source = scene
    config = LipSyncConfig(keep_video_length=True, paste="hard", batch_size=8)
    result = LipSyncPipeline(load_generator(checkpoint), config)(video, speech, tmp_path / "o.mp4")
    assert result.num_frames == 75 and probe_video(result.path).num_frames == 75
    assert audio_info(result.path).duration == pytest.approx(3.0, abs=0.05)
    # Speech shorter than the video: the sound runs on as silence to the video's end.
    short = tmp_path / "short.wav"
    soundfile.write(short, soundfile.read(speech)[0][:1600], 16000)
    result = LipSyncPipeline(load_generator(checkpoint), config)(video, short, tmp_path / "s.mp4")
    assert probe_video(result.path).num_frames == 75
    assert audio_info(result.path).duration == pytest.approx(3.0, abs=0.05)


@pytest.mark.slow
def test_sync_score_per_track(scene):
    torch.manual_seed(1)
    model = create_model("syncnet.v2", channel_divisor=4)
    every_frame = SyncScorePipeline(model, SyncScoreConfig(track_stride=1))(scene[0])
    assert [t.start for t in every_frame.tracks] == [0, 35]  # the face-less gap is a cut: two tracks
    scores = SyncScorePipeline(model)(scene[0])  # tracked on every 2nd frame: a face is seen by frame 36
    assert [t.start for t in scores.tracks] == [0, 36] and scores.tracks[1].num_frames == 39
    assert abs(scores.tracks[0].scores.lse_d - every_frame.tracks[0].scores.lse_d) < 0.02
    for track in scores.tracks:
        s = track.scores
        assert s.distances.shape == (31,) and s.lse_d == pytest.approx(s.distances.min())
        assert s.lse_c == pytest.approx(np.median(s.distances) - s.distances.min())
        assert -15 <= s.offset <= 15 and len(s.confidence) == track.num_frames - 5  # syncnet_python's count


def test_errors(scene, tmp_path):
    video, speech, checkpoint, _ = scene
    generator = load_generator(checkpoint)
    blank = write_video(tmp_path / "blank.mp4", [np.full((120, 160, 3), 80, np.uint8)] * 10, 25)
    with pytest.raises(InputError, match="no face found"):
        LipSyncPipeline(generator)(blank, speech, tmp_path / "o.mp4")
    with pytest.raises(MediaError, match="no audio stream"):
        LipSyncPipeline(generator)(video, blank, tmp_path / "o.mp4")
    (tmp_path / "corrupt.pth").write_bytes(checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="corrupt.pth: unreadable or truncated"):
        load_generator(tmp_path / "corrupt.pth")
    torch.save(create_model("syncnet.expert", **SMALL).state_dict(), tmp_path / "expert.pth")
    with pytest.raises(CheckpointError, match="holds a syncnet.expert model .sync., not a wav2lip generator"):
        load_generator(tmp_path / "expert.pth")
    with pytest.raises(InputError, match="expected a Wav2Lip generator; got a syncnet.expert model"):
        LipSyncPipeline(create_model("syncnet.expert", **SMALL))
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    "name, problem",
    [
        ("out.avi", "cannot write .avi video"),
        ("out", "no file extension"),
        ("out.gif", ".gif holds no sound"),
        ("missing/out.mp4", "folder .*missing does not exist"),
    ],
)
def test_outputs_are_checked_before_any_work(scene, tmp_path, monkeypatch, name, problem):
    video, speech, checkpoint, _ = scene
    pipeline = LipSyncPipeline(load_generator(checkpoint))
    monkeypatch.setattr(pipeline, "_target", lambda *a: pytest.fail("tracking started before the output was checked"))
    with pytest.raises(InputError, match=problem):
        pipeline(video, speech, tmp_path / name)
    with pytest.raises(InputError, match="is also an input"):
        pipeline(video, speech, video)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_mov_output_and_result_repr(scene, tmp_path):
    video, speech, checkpoint, _ = scene
    config = LipSyncConfig(keep_video_length=True, batch_size=8)
    result = LipSyncPipeline(load_generator(checkpoint), config).to("cpu")(video, speech, tmp_path / "o.mov")
    info = probe_video(result.path)
    assert info.codec == "h264" and audio_info(result.path).duration == pytest.approx(3.0, abs=0.05)
    assert repr(result) == "LipSyncResult(o.mov: 75 frames at 25 fps, 70 with a face, offset 0)"
    with pytest.raises(InputError, match="CUDA is not available|not a torch device"):
        LipSyncPipeline(load_generator(checkpoint)).to("cuda:7")


@pytest.mark.slow
def test_memory_stays_bounded_on_a_long_input(scene, tmp_path, photo, speech16k):
    """Dubbing 5 s takes no more memory than dubbing 2 s: frames stream, nothing accumulates."""
    import tracemalloc

    generator = load_generator(scene[2])
    peaks = {}
    for seconds in (2, 5, 2):  # the first run also holds one-time set-up (models, caches): not measured
        frames = (place(photo, (320, 240), 40 + (i % 50), -30, 0.5) for i in range(25 * seconds))
        video = tmp_path / f"in{seconds}.mp4"
        if not video.exists():
            write_video(video, frames, 25)
        speech = tmp_path / f"s{seconds}.wav"
        soundfile.write(speech, np.tile(speech16k[16000 : 16000 * 5], 3)[: 16000 * seconds], 16000)
        tracemalloc.start()
        result = LipSyncPipeline(generator, LipSyncConfig(batch_size=4))(video, speech, tmp_path / f"o{seconds}.mp4")
        peaks[seconds] = tracemalloc.get_traced_memory()[1]  # the last 2 s run overwrites the first
        tracemalloc.stop()
        assert result.num_frames == 25 * seconds
    # 75 more frames: the per-frame tracking data grows (478 landmarks, 6 KB a frame, plus the mel
    # windows), frames do not accumulate (each decoded frame is 230 KB here, 6 MB in 1080p).
    per_frame = (peaks[5] - peaks[2]) / 75
    assert per_frame < 40_000


@pytest.mark.slow
def test_sync_score_windows_and_jpeg_frames_as_syncnet_python(scene, tmp_path):
    from talkingface.pipelines.sync_score import through_jpeg

    video, _, _, frames = scene
    torch.manual_seed(1)
    model = create_model("syncnet.v2", channel_divisor=4)
    reference = SyncScorePipeline(model)(video).tracks[0]
    every = SyncScorePipeline(model, SyncScoreConfig(windows="all"))(video).tracks[0]
    assert len(reference.scores.confidence) == reference.num_frames - 5
    assert len(every.scores.confidence) == every.num_frames - 4
    # Audio shorter than the video: syncnet_python scores only the frames the audio covers.
    short = write_video(tmp_path / "short.mp4", frames[:30], 25, audio=np.zeros(16000, np.float32), sample_rate=16000)
    scored = SyncScorePipeline(model)(short).tracks[0]
    assert scored.num_frames == 30 and len(scored.scores.confidence) == 25 - 5
    jpeg = SyncScorePipeline(model, SyncScoreConfig(frames="jpeg"))(video).tracks[0]
    assert jpeg.scores.lse_d != reference.scores.lse_d
    assert abs(jpeg.scores.lse_d - reference.scores.lse_d) < 0.05 * reference.scores.lse_d
    crops = np.stack([f[40:136, 60:156] for f in frames[:3]])
    moved = np.abs(through_jpeg(crops).astype(int) - crops).mean()
    assert 0.3 < moved < 8  # a lossy JPEG, close to its input
    with pytest.raises(InputError, match="windows must be"):
        SyncScoreConfig(windows="some")


@pytest.mark.parametrize("frames", ["direct", "jpeg"])
def test_face_crops_stream_through_the_lip_branch_with_the_same_embeddings(frames, monkeypatch):
    from talkingface.pipelines import sync_score

    torch.manual_seed(2)
    model = create_model("syncnet.v2", channel_divisor=4)
    pipeline = SyncScorePipeline(model, SyncScoreConfig(frames=frames))
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(23)]
    monkeypatch.setattr(sync_score, "LIP_CHUNK", 10_000)  # every window at once
    whole, count = pipeline._embed_lips(iter(crops))
    assert count == 23 and whole.shape[0] == 23 - 4
    monkeypatch.setattr(sync_score, "LIP_CHUNK", 4)  # a batch of windows at a time
    read, read_at_first_embedding = [], []
    embed = pipeline._embed_windows

    def counted():
        for crop in crops:
            read.append(crop)
            yield crop

    def first_noted(stack):
        read_at_first_embedding.append(len(read))
        return embed(stack)

    monkeypatch.setattr(pipeline, "_embed_windows", first_noted)
    streamed, count = pipeline._embed_lips(counted())
    assert count == 23 and read_at_first_embedding[0] == 4 + 4  # 4 windows need 8 crops, not all 23
    torch.testing.assert_close(streamed, whole, rtol=0, atol=1e-6)
    if frames == "jpeg":  # one encoder for the whole sequence, as before
        expected = sync_score.through_jpeg(np.stack(crops))
        assert all(np.array_equal(a, b) for a, b in zip(map(sync_score.JpegRoundTrip(), crops), expected))
