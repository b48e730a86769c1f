from fractions import Fraction

import numpy as np
import pytest
from tests.face.conftest import PHOTO_POINTS, place

from talkingface.errors import InputError
from talkingface.face import TrackerConfig, TrackingResult

NOSE = PHOTO_POINTS[1]


def moving(photo):
    for i in range(60):
        yield place(photo, (1280, 720), 50 + 8 * i, 100, 0.8)


def occluded(photo):
    still = place(photo, (1280, 720), 300, 100)
    for i in range(90):
        frame = still.copy()
        if 30 <= i < 34 or 45 <= i < 75:
            frame[150:300, 450:600] = (128, 104, 96)  # a hand-sized patch over the face
        yield frame


def two_faces(photo):
    frame = place(photo, (1280, 720), 0, 100)
    frame = place(photo, (1280, 720), 800, 200, 0.6, out=frame)
    for i in range(20):
        yield np.roll(frame, i % 3, axis=1)


def cut(photo):
    first = place(photo, (1280, 720), 100, 100)
    second = place(photo[:, ::-1], (1280, 720), 500, -100, 1.5, background=30)
    for i in range(40):
        yield first if i < 20 else second


def portrait(photo):
    for i in range(30):
        yield place(photo, (720, 1280), 100 + i, 300)


def test_face_moving_across_the_frame_is_followed_without_lag(photo, track_video):
    _, result = track_video("moving", lambda: moving(photo))
    assert len(result.tracks) == 1
    track = result.tracks[0]
    assert track.frames.tolist() == list(range(60)) and not track.interpolated.any()
    expected_x = 50 + 8 * np.arange(60) + NOSE[0] * 0.8
    assert np.abs(track.landmarks[:, 1, 0] - expected_x).max() < 4
    assert np.abs(track.landmarks[:, 1, 1] - (100 + NOSE[1] * 0.8)).max() < 4


def test_short_loss_is_interpolated_long_loss_is_a_faceless_span(photo, track_video):
    _, result = track_video("occluded", lambda: occluded(photo))
    assert result.scene_cuts == []
    assert len(result.tracks) == 1  # the same person after the long loss
    track = result.tracks[0]
    filled = track.frames[track.interpolated].tolist()
    assert set(range(31, 34)) <= set(filled) <= set(range(29, 36))
    target = result.target()
    spans = target.faceless_spans
    assert len(spans) == 1
    start, stop = spans[0]
    assert 44 <= start <= 47 and 74 <= stop <= 77
    assert not target.has_face[start:stop].any() and target.has_face[:start].all() and target.has_face[stop:].all()
    assert np.isnan(target.landmarks[start:stop]).all()
    # Interpolated positions sit where the still face is.
    assert np.abs(track.landmarks[track.interpolated, 1, 0] - (300 + NOSE[0])).max() < 4


def test_two_faces_two_tracks_and_target_choice(photo, track_video):
    _, result = track_video("two_faces", lambda: two_faces(photo))
    assert len(result.tracks) == 2
    by_x = sorted(result.tracks, key=lambda t: t.landmarks[0, 1, 0])
    assert all(len(t.frames) == 20 for t in by_x)
    large, small = by_x
    assert result.target("largest").track_ids[0] == large.track_id
    assert result.target((900, 300)).track_ids[0] == small.track_id
    assert result.target(small.track_id).has_face.all()
    with pytest.raises(InputError, match="no track"):
        result.target(99)
    with pytest.raises(InputError, match="target must be"):
        result.target("smallest")


def test_faces_followed_at_once_are_tracked_as_one_at_a_time(photo, track_video, monkeypatch):
    """Several faces are followed on threads; each face's landmarks are what one thread would give."""
    from talkingface.face import FaceTracker, tracking

    path, _ = track_video("two_faces", lambda: two_faces(photo))
    monkeypatch.setattr(tracking, "FOLLOWERS", 2)
    together = FaceTracker(TrackerConfig()).track_video(path)
    monkeypatch.setattr(tracking, "FOLLOWERS", 1)
    alone = FaceTracker(TrackerConfig()).track_video(path)
    assert len(together.tracks) == len(alone.tracks) == 2
    for a, b in zip(together.tracks, alone.tracks, strict=True):
        assert a.track_id == b.track_id and np.array_equal(a.frames, b.frames)
        assert np.array_equal(a.landmarks, b.landmarks)


def test_scene_cut_starts_new_tracks(photo, track_video):
    _, result = track_video("cut", lambda: cut(photo))
    assert result.scene_cuts == [20]
    assert sorted((t.scene, t.segments[0]) for t in result.tracks) == [(0, (0, 20)), (1, (20, 40))]
    target = result.target()
    assert target.has_face.all() and target.track_ids[19] != target.track_ids[20]


def test_portrait_2997(photo, track_video):
    _path, result = track_video("portrait", lambda: portrait(photo), fps=29.97)
    assert result.fps == Fraction(30000, 1001)
    assert (result.width, result.height, result.num_frames) == (720, 1280, 30)
    assert len(result.tracks) == 1 and len(result.tracks[0].frames) == 30


@pytest.mark.slow
def test_smoothing_reduces_jitter_on_a_still_noisy_face(photo, track_video):
    def noisy():
        rng = np.random.default_rng(0)
        still = place(photo, (640, 480), 100, 60).astype(np.int16)
        for _ in range(60):
            yield np.clip(still + rng.normal(0, 10, still.shape), 0, 255).astype(np.uint8)

    _, smooth = track_video("noisy", noisy)
    _, raw = track_video("noisy_raw", noisy, config=TrackerConfig(smoothing=None))
    jitter = {
        name: float(r.tracks[0].landmarks[:, :, :2].std(axis=0).mean())
        for name, r in (("raw", raw), ("smooth", smooth))
    }
    assert jitter["raw"] > 0.05  # the noise does move the raw landmarks
    assert jitter["smooth"] < 0.6 * jitter["raw"], jitter


def test_json_round_trip(photo, track_video, tmp_path):
    _, result = track_video("two_faces", lambda: two_faces(photo))
    path = result.save_json(tmp_path / "t.json")
    back = TrackingResult.load_json(path)
    assert back.num_frames == result.num_frames and back.fps == result.fps
    for a, b in zip(result.tracks, back.tracks):
        assert a.track_id == b.track_id and (a.frames == b.frames).all()
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=0.01)
    # Written a frame at a time, the file is the JSON text of to_dict, with and without landmarks.
    import json

    assert path.read_text() == json.dumps(result.to_dict(), separators=(",", ":"))
    boxes = result.save_json(tmp_path / "b.json", landmarks=False)
    assert boxes.read_text() == json.dumps(result.to_dict(landmarks=False), separators=(",", ":"))


def test_a_face_the_frame_cuts_is_found_by_looking_past_the_edges():
    from tests.conftest import REPO, in_shared

    from talkingface.face import FaceTracker
    from talkingface.media import read_frames

    clip = in_shared(REPO.parent / "shared" / "data" / "clips" / "smeetrs__deep_avsr__00009.mp4")  # LRS2, tight crop
    frames = list(read_frames(clip))
    part = frames[int(len(frames) * 0.6) :]  # a video that starts where the frame cuts the face
    found = FaceTracker().track_frames(part, 25.0).target().has_face
    assert found.mean() > 0.95  # 0.63 when the keyframes search only the frame itself


def test_a_tracking_run_releases_its_landmarks_when_its_result_is_dropped(photo_path):
    """In a fresh process, where the first tracking run imports mediapipe: nothing the import keeps may
    hold the run's frames (and a long video's landmarks) afterwards."""
    import subprocess
    import sys

    script = f"""
import gc, weakref
from talkingface.face import FaceTracker
from talkingface.media import read_image

def tracked():
    frames = [read_image({str(photo_path)!r})] * 3
    result = FaceTracker().track_frames(frames, fps=25)
    assert result.tracks, "no face tracked"
    return weakref.ref(result.tracks[0].landmarks)

landmarks = tracked()
gc.collect()
print("released" if landmarks() is None else "kept")
"""
    run = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == "released"


def test_videos_longer_than_the_tracking_bound_are_refused_from_the_header_or_as_frames_arrive(
    photo, track_video, monkeypatch
):
    from talkingface.face import FaceTracker
    from talkingface.face import tracking as module

    path, _ = track_video("moving", lambda: moving(photo))  # 60 frames
    monkeypatch.setattr(module, "MAX_TRACKED_FRAMES", 40)
    with pytest.raises(InputError, match=r"moving.mp4: 60 frames .*at most 40 frames .* cut the video into parts"):
        FaceTracker().track_video(path)  # the header says 60: refused before decoding
    with pytest.raises(InputError, match="more than 40 frames"):
        FaceTracker().track_frames(moving(photo), fps=25)  # no header: refused as the 41st frame arrives
    monkeypatch.setattr(module, "MAX_TRACKED_FRAMES", 60)
    monkeypatch.setattr(module, "MAX_TRACKED_ROWS", 50)  # one face in 60 frames: past the rows
    with pytest.raises(InputError, match="faces were followed in 51 frames in all: at most 50"):
        FaceTracker().track_frames(moving(photo), fps=25)
    monkeypatch.setattr(module, "MAX_TRACKED_ROWS", 60)
    assert FaceTracker().track_frames(moving(photo), fps=25).tracks  # within both bounds
