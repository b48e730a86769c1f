"""``--enhance`` in ``animate`` and ``lipsync`` on real faces: the same length, the same sync, a sharper
mouth that flickers no more, the rest of the frame left alone; bad settings refused up front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from tests.conftest import status

from talkingface.cli import main
from talkingface.media import probe_video, read_frames

GRID_CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips" / "rizkiarm__LipNet__bbaf2n.mpg"


@pytest.fixture(scope="module")
def speech(tmp_path_factory, speech16k):
    path = tmp_path_factory.mktemp("enhance") / "speech.wav"
    soundfile.write(path, speech16k[16000 : 16000 * 5], 16000)
    return path


def frames_of(path: Path) -> np.ndarray:
    return np.stack(list(read_frames(path)))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--enhance", "gfpgan"], "--enhance gfpgan needs --enhance-checkpoint"),
        (["--enhance-checkpoint", "{speech}"], "--enhance-checkpoint needs --enhance gfpgan or upscaler"),
        (["--enhance", "upscaler", "--enhance-checkpoint", "missing.pth"], "missing.pth: no such checkpoint file"),
        (["--enhance", "gfpgan", "--enhance-checkpoint", "{speech}", "--enhance-every", "0"], "enhance-every"),
        (["--enhance", "upscaler", "--enhance-checkpoint", "o.mp4"], "o.mp4"),
    ],
)
def test_bad_enhancement_settings_are_refused_before_any_work(
    tmp_path, monkeypatch, capsys, photo_path, speech, extra, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "o.mp4").write_bytes(b"")  # an output named as the checkpoint is one of the inputs
    for command in ("animate", "lipsync"):
        argv = [command, "--face", str(photo_path), "--audio", str(speech), "-o", "o.mp4"]
        if command == "lipsync":
            argv += ["--checkpoint", str(speech)]
        assert status(argv + [a.format(speech=speech) for a in extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (command, err)
    assert (tmp_path / "o.mp4").read_bytes() == b""


def test_damaged_or_foreign_enhancement_files_are_refused_in_one_line(tmp_path, capsys, photo_path, speech):
    from talkingface.models.registry import builtin_path

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all" * 40)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(builtin_path("visemenet").read_bytes()[:1000])
    cases = [
        ("upscaler", builtin_path("visemenet"), "holds a visemenet model"),
        ("gfpgan", builtin_path("visemenet"), "holds a visemenet model, not gfpgan"),
        ("upscaler", cut, "safetensors file ("),
        ("gfpgan", cut, "safetensors file ("),
        ("gfpgan", junk, "checkpoint"),
        ("upscaler", junk, "checkpoint"),
    ]
    for method, checkpoint, message in cases:
        out = tmp_path / "o.mp4"
        argv = ["animate", "--face", str(photo_path), "--audio", str(speech), "-o", str(out), "--quiet"]
        assert main([*argv, "--enhance", method, "--enhance-checkpoint", str(checkpoint)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "internal error" not in err, (method, checkpoint, err)
        assert not out.exists()


@pytest.mark.slow
def test_animate_with_the_upscaler_keeps_length_and_sync_and_sharpens_the_mouth(tmp_path, photo, speech):
    import cv2

    from talkingface.face import FaceTracker
    from talkingface.metrics.lipsync import compensated_flicker, mouth_boxes, mouth_sharpness
    from talkingface.pipelines import SyncScorePipeline

    # A small portrait shown larger (a soft mouth to sharpen).
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(photo, (192, 192), interpolation=cv2.INTER_AREA)[..., ::-1])
    plain, sharp = tmp_path / "plain.mp4", tmp_path / "sharp.mp4"
    common = ["animate", "--face", str(small), "--audio", str(speech), "--size", "512", "--quiet"]
    assert main([*common, "-o", str(plain)]) == 0
    assert main([*common, "--enhance", "upscaler", "-o", str(sharp)]) == 0
    a, b = probe_video(plain), probe_video(sharp)
    assert b.num_frames == a.num_frames == 100 and b.has_audio
    before, after = frames_of(plain), frames_of(sharp)
    landmarks = FaceTracker().track_video(plain).target("largest").landmarks
    boxes = mouth_boxes(landmarks)
    # The photo is sharpened once, before it moves (the mouth's inside is drawn at the output's size).
    assert mouth_sharpness(after, boxes) >= mouth_sharpness(before, boxes)
    assert compensated_flicker(after, boxes) <= 1.05 * compensated_flicker(before, boxes)
    from talkingface.enhance.video import EnhanceConfig, enhance_still
    from talkingface.face import detect_faces

    shown = cv2.resize(cv2.resize(photo, (192, 192), interpolation=cv2.INTER_AREA), (512, 512))
    face = detect_faces(shown)[0].landmarks
    lips = mouth_boxes(face[None])
    sharper = enhance_still(shown, face, EnhanceConfig("upscaler"))
    assert mouth_sharpness(sharper[None], lips) > 1.2 * mouth_sharpness(shown[None], lips)
    # Above the nose nothing changes (beyond the codec's own noise).
    eyes = int(np.nanmax(landmarks[:, [33, 263], 1])) + 5
    assert np.abs(after[:, :eyes].astype(int) - before[:, :eyes].astype(int)).mean() < 0.5
    # The same sync: the built-in sync model finds the same offset with about the same confidence.
    scorer = SyncScorePipeline()
    s_plain = max(scorer(plain).tracks, key=lambda t: t.num_frames).scores
    s_sharp = max(scorer(sharp).tracks, key=lambda t: t.num_frames).scores
    assert s_sharp.offset == s_plain.offset and s_sharp.lse_c > 0.85 * s_plain.lse_c


@pytest.mark.slow
def test_lipsync_with_the_upscaler_and_gfpgan_keeps_the_length_of_a_real_clip(tmp_path):
    from talkingface.models import create_model, save_model
    from talkingface.models.gfpgan import Gfpgan

    if not GRID_CLIP.exists():
        pytest.skip("../shared/data is not beside the checkout")
    torch.manual_seed(0)
    generator = save_model(create_model("wav2lip", channel_divisor=4), tmp_path / "g.safetensors")
    gfpgan = tmp_path / "GFPGANv1.4.pth"
    torch.save({"params_ema": Gfpgan().state_dict()}, gfpgan)  # the public file's form, drawn weights
    common = ["lipsync", "--face", str(GRID_CLIP), "--audio", str(GRID_CLIP), "--checkpoint", str(generator)]
    outputs = {}
    for name, extra in (
        ("plain", []),
        ("upscaler", ["--enhance", "upscaler"]),
        ("gfpgan", ["--enhance", "gfpgan", "--enhance-checkpoint", str(gfpgan), "--enhance-every", "40"]),
    ):
        outputs[name] = tmp_path / f"{name}.mp4"
        assert main(common + extra + ["--quiet", "-o", str(outputs[name])]) == 0
    frames = {name: frames_of(path) for name, path in outputs.items()}
    assert {len(f) for f in frames.values()} == {75}  # 3 s at 25 fps, every frame written, in order
    assert all(probe_video(p).has_audio for p in outputs.values())
    plain = frames["plain"].astype(np.int16)
    for name in ("upscaler", "gfpgan"):
        ours = frames[name].astype(np.int16)
        changed = np.abs(ours - plain).mean(axis=(0, 3))
        assert changed.max() > 2.0, name  # the mouth was worked on
        # Each enhanced frame is its own frame's, not a neighbour's: nothing lags or is dropped.
        near = np.abs(ours[2:-2] - plain[2:-2]).mean(axis=(1, 2, 3))
        before = np.abs(ours[2:-2] - plain[:-4]).mean(axis=(1, 2, 3))
        after = np.abs(ours[2:-2] - plain[4:]).mean(axis=(1, 2, 3))
        assert np.mean(near < np.minimum(before, after)) > 0.9, name
