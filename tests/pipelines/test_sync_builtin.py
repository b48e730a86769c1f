"""The built-in sync model on real clips: known shifts of the speech are found, and with no
checkpoint the commands use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkingface.errors import InputError

CLIPS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clips"
GRID = CLIPS / "rizkiarm__LipNet__swiz3n.mpg"  # 3 s, 25 fps, one face
LRS2 = CLIPS / "smeetrs__deep_avsr__00016.mp4"  # 11 s BBC face crop: a source the model never saw


@pytest.fixture(scope="module")
def clips():
    if not CLIPS.is_dir():
        pytest.skip(f"{CLIPS} is absent: the real clips live in ../shared/data beside the checkout")
    return GRID, LRS2


@pytest.fixture(scope="module")
def pipeline():
    from talkingface.pipelines import SyncScorePipeline

    return SyncScorePipeline()  # the built-in model


def test_known_shifts_of_the_speech_are_found_on_a_real_clip(clips, pipeline):
    results = pipeline.shifted(clips[1], (0, 3, -5, 8))
    for shift, result in results.items():
        longest = max(result.tracks, key=lambda t: t.num_frames)
        assert abs(longest.scores.offset - shift) <= 1, (shift, longest.scores.offset)
        assert longest.scores.distances.shape == (31,)
    in_sync = max(results[0].tracks, key=lambda t: t.num_frames).scores
    assert in_sync.lse_c > 0.02  # a clear minimum


def test_sync_score_uses_the_built_in_model_without_a_checkpoint(clips, capsys):
    from talkingface.cli import main

    assert main(["sync-score", str(clips[0])]) == 0
    out = capsys.readouterr().out
    assert "built-in sync model" in out
    row = next(line for line in out.splitlines() if clips[0].name[-30:] in line)
    assert abs(int(row.split()[-1])) <= 1  # GRID is in sync
    assert main(["sync-score", str(clips[0]), "--whole-frame"]) == 2
    assert "needs a SyncNet checkpoint" in capsys.readouterr().err


@pytest.fixture(scope="module")
def two_faces(clips, tmp_path_factory):
    """Two real BBC speakers (LRS2, never trained on) side by side, with the right one's speech only (the
    left face is the larger: choosing the largest face would pick the wrong one)."""
    from talkingface.media import VideoReader, load_audio, write_video

    left, right = LRS2, CLIPS / "smeetrs__deep_avsr__00019.mp4"
    frames = [np.concatenate([a, b], axis=1) for a, b in zip(VideoReader(left), VideoReader(right), strict=False)]
    path = tmp_path_factory.mktemp("two") / "two.mp4"
    write_video(path, frames, 25, audio=load_audio(right, 16000), sample_rate=16000)
    return path


@pytest.mark.slow
def test_the_speaking_face_is_the_one_whose_lips_follow_the_sound(two_faces, pipeline):
    from talkingface.face import FaceTracker

    tracking = FaceTracker().track_video(two_faces)
    assert len(tracking.tracks) == 2
    chosen = pipeline.speaking_faces(two_faces, tracking)
    right = max(tracking.tracks, key=lambda t: float(np.median(t.boxes[:, 0])))
    assert chosen == {right.scene: right.track_id}
    target = tracking.target(chosen)
    assert set(target.track_ids[target.has_face].tolist()) == {right.track_id}
    largest = tracking.target("largest")
    assert set(largest.track_ids[largest.has_face].tolist()) != {right.track_id}


@pytest.mark.slow
def test_lipsync_speaking_face_dubs_the_speaker_not_the_largest_face(two_faces, tmp_path):
    import torch

    from talkingface.media import read_frames
    from talkingface.models import create_model
    from talkingface.pipelines import LipSyncConfig, LipSyncPipeline

    torch.manual_seed(0)
    generator = create_model("wav2lip", channel_divisor=8)
    out = tmp_path / "dub.mp4"
    LipSyncPipeline(generator, LipSyncConfig(speaking_face=True))(two_faces, two_faces, out)
    before, after = np.stack(list(read_frames(two_faces))), np.stack(list(read_frames(out)))
    n = min(len(before), len(after))
    change = np.abs(after[:n].astype(np.int16) - before[:n].astype(np.int16)).mean(axis=(0, 3))  # (H, W)
    half = change.shape[1] // 2
    left, right = (float(np.percentile(part, 99.5)) for part in (change[:, :half], change[:, half:]))
    assert right > 3 * left  # the right (speaking) face's mouth was redrawn; the left one only re-encoded
    with pytest.raises(InputError, match="give one"):
        LipSyncConfig(speaking_face=True, face_index=0)
