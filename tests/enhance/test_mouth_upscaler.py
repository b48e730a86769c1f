"""The mouth upscaler's pieces: the mouth canvas on real faces, moving canvases onto one another, the
network, the streaming steadiness, and its training recipe on real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from talkingface.enhance.align import five_points, steady_points
from talkingface.enhance.mouth import (
    MOUTH_WIDTH,
    canvas_height,
    cut_canvas,
    frame_pixels_per_canvas_pixel,
    mouth_transform,
    native_width,
    relative_transform,
    warp_canvases,
)
from talkingface.errors import InputError
from talkingface.face.crops import apply_affine

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_the_canvas_centres_the_mouth_at_the_frames_own_size(face):
    import cv2

    photo, landmarks = face
    points = five_points(landmarks)
    width = native_width(points)
    transform = mouth_transform(points, width)
    corners = apply_affine(transform, points[3:])
    height = canvas_height(width)
    # The mouth corners sit a quarter of the width either side of the centre, level, above the middle.
    scale = width / MOUTH_WIDTH
    assert np.abs(corners.mean(0) - [width / 2, height / 2 - 16 * scale]).max() < 0.15 * width
    assert 0.3 * width < corners[1, 0] - corners[0, 0] < 0.7 * width
    assert 0.8 < frame_pixels_per_canvas_pixel(transform) < 1.25  # one canvas pixel ~ one frame pixel
    # Twice the photo, twice the canvas (to the width step).
    doubled = cv2.resize(photo, (photo.shape[1] * 2, photo.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    assert abs(native_width(points * 2, largest=1024) - 2 * width) <= 16
    canvas = cut_canvas(photo, transform, width)
    assert canvas.shape == (height, width, 3)
    # A frame far larger than the canvas is shrunk with area averaging first: no aliasing.
    big = mouth_transform(points * 2, width // 2)
    small = mouth_transform(points, width // 2)
    shrunk, direct = cut_canvas(doubled, big, width // 2), cut_canvas(photo, small, width // 2)
    assert frame_pixels_per_canvas_pixel(big) > 2
    assert np.abs(shrunk.astype(int) - direct.astype(int)).mean() < 4


def test_canvases_move_onto_one_another_as_opencv_moves_them():
    import cv2

    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.random((40, 64, 3)).astype(np.float32), (0, 0), 1.0)
    move = np.array([[1.02, 0.03, 1.4], [-0.03, 1.02, -0.6]])
    expected = cv2.warpAffine(image, move, (64, 40), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = warp_canvases(torch.from_numpy(image).permute(2, 0, 1)[None], torch.tensor(move, dtype=torch.float32)[None])
    assert np.abs(moved[0].permute(1, 2, 0).numpy() - expected)[2:-2, 2:-2].mean() < 2e-3
    # The move between two canvases of one frame takes the first's pixels onto the second's.
    first = np.array([[0.5, 0.0, -10.0], [0.0, 0.5, -4.0]])
    second = np.array([[0.55, 0.01, -12.0], [-0.01, 0.55, -5.0]])
    point = np.array([[30.0, 20.0]])
    between = relative_transform(second, first)
    assert np.allclose(apply_affine(between, apply_affine(first, point)), apply_affine(second, point))


def test_the_network_starts_as_bicubic_and_uses_its_previous_output():
    from talkingface.models import create_model

    torch.manual_seed(0)
    model = create_model("upscaler.mouth")
    small = torch.rand(2, 3, 30, 48)
    out = model(small)
    assert out.shape == (2, 3, 60, 96)
    assert torch.equal(out, model.enlarge(small))  # untrained: bicubic, clamped
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    previous = torch.rand(2, 3, 60, 96)
    assert not torch.allclose(model(small, previous), model(small))  # the previous output matters
    with pytest.raises(InputError, match="previous output must be"):
        model(small, torch.rand(2, 3, 30, 48))
    with pytest.raises(InputError, match="expected canvases"):
        model(torch.rand(3, 30, 48))
    assert sum(p.numel() for p in model.parameters()) < 150_000  # small enough for the CPU


def test_saved_upscalers_load_and_other_models_are_refused(tmp_path):
    from talkingface.errors import CheckpointError
    from talkingface.models import create_model, save_model
    from talkingface.models.upscaler import load_upscaler

    torch.manual_seed(1)
    model = create_model("upscaler.mouth", width=8, blocks=2)
    path = save_model(model, tmp_path / "up.safetensors")
    again = load_upscaler(path)
    small = torch.rand(1, 3, 20, 32)
    assert torch.equal(again(small), model(small))
    other = save_model(create_model("syncnet.lips"), tmp_path / "sync.safetensors")
    with pytest.raises(CheckpointError):
        load_upscaler(other)


def test_streaming_points_are_the_centred_average_within_each_run(face):
    from talkingface.enhance.video import VideoEnhancer

    _, landmarks = face
    rng = np.random.default_rng(2)
    series = [landmarks + rng.normal(0, 1.5, landmarks.shape) if t != 6 else None for t in range(14)]
    for t in range(10, 14):
        series[t] = series[t] + 400  # a cut: the face jumps

    class Recorder(VideoEnhancer):
        def __init__(self):
            super().__init__(5)
            self.seen: list = []
            self.resets = 0

        def reset(self):
            self.resets += 1

        def process(self, frame, points):
            self.seen.append((int(frame[0, 0, 0]), points))
            return frame

    recorder = Recorder()
    frames = [np.full((4, 4, 3), t, np.uint8) for t in range(14)]
    out = list(recorder.run(zip(frames, series)))
    assert [int(f[0, 0, 0]) for f in out] == list(range(14))  # every frame, in order
    assert [t for t, _ in recorder.seen] == [t for t in range(14) if t != 6]
    points = dict(recorder.seen)
    for run in ([0, 1, 2, 3, 4, 5], [7, 8, 9], [10, 11, 12, 13]):
        expected = steady_points(np.stack([five_points(series[t]) for t in run]), 5)
        for t, e in zip(run, expected):
            assert np.allclose(points[t], e)
    assert recorder.resets >= 3


def test_a_real_clip_is_cut_into_runs_of_consecutive_canvases(tmp_path):
    from talkingface.data.mouths import mouth_runs

    clip = DATA / "clips" / "rizkiarm__LipNet__bbaf2n.mpg"
    if not clip.exists():
        pytest.skip("../shared/data is not beside the checkout")
    # GRID's mouths are about as large as a 96 px canvas: all frames at 0.5, none at 1.5.
    (runs,) = mouth_runs([clip], tmp_path, width=96, min_ratio=0.5)
    assert runs.canvases.shape == (75, 60, 96, 3) and not runs.photo
    assert (runs.runs == 0).all() and len(runs.starts(4)) == 72
    steps = [relative_transform(runs.transforms[t], runs.transforms[t - 1]) for t in range(1, 75)]
    assert max(np.abs(s[:, 2]).max() for s in steps) < 8  # the canvas follows the face smoothly
    (none,) = mouth_runs([clip], tmp_path, width=96, min_ratio=1.5)
    assert len(none.canvases) == 0 and len(none.starts(4)) == 0
    assert len(list(tmp_path.glob("*.npz"))) == 2  # each cut kept, keyed by its settings


@pytest.mark.slow
def test_the_recipe_learns_real_mouths(tmp_path):
    from talkingface.models.upscaler import load_upscaler
    from talkingface.train.upscaler import UpscalerTrainConfig, train_upscaler

    faces = DATA / "faces"
    if not faces.exists():
        pytest.skip("../shared/data is not beside the checkout")
    config = UpscalerTrainConfig(
        data=(str(faces / "sadtalker__art_1.png"), str(faces / "sadtalker__art_12.png")),
        val=(str(faces / "sadtalker__art_20.png"),),
        out_dir=tmp_path / "run",
        photo_runs=4,
        batch_size=8,
        steps_per_epoch=10,
        val_runs=8,
        epochs=3,
        lr=3e-3,
        warmup_epochs=0,
        device="cpu",
    )
    result = train_upscaler(config, log=None)
    history = result.history
    assert len(history) == 3 and history[-1]["train_loss"] < history[0]["train_loss"]
    # On another face it already beats bicubic enlargement.
    assert history[-1]["val_psnr"] > history[-1]["val_psnr_bicubic"]
    model = load_upscaler(tmp_path / "run" / "last.safetensors")
    assert model.config.width == 32
    assert len(list((tmp_path / "run" / "mouths").glob("*.npz"))) == 3  # the cut mouths are kept


def test_the_recipe_refuses_bad_settings_and_run_folders_before_any_work(tmp_path):
    from talkingface.train.upscaler import UpscalerTrainConfig, train_upscaler

    photo = str(DATA / "faces" / "sadtalker__art_1.png")
    for settings, message in (
        ({"canvas": 100}, "multiple of 16"),
        ({"run_length": 1}, "run_length must be >= 2"),
        ({"photo_share": 2.0}, "photo_share"),
    ):
        with pytest.raises(InputError, match=message):
            UpscalerTrainConfig(data=(photo,), out_dir=tmp_path / "run", **settings)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out, message in ((a_file, "is a file"), (tmp_path / "missing" / "run", "does not exist")):
        with pytest.raises(InputError, match=message):
            train_upscaler(UpscalerTrainConfig(data=(photo,), out_dir=out), log=None)
    assert a_file.read_text() == "x" and not (tmp_path / "missing").exists()
    with pytest.raises(InputError, match="no such file"):
        train_upscaler(UpscalerTrainConfig(data=(str(tmp_path / "none.mp4"),), out_dir=tmp_path / "run"), log=None)
