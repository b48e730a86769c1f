import csv

import numpy as np
import pygltflib
import pytest
import soundfile

from talkingface.cli import main
from talkingface.media import audio_info, probe_video


@pytest.fixture(scope="module")
def speech(tmp_path_factory, speech16k):
    path = tmp_path_factory.mktemp("m") / "speech.wav"
    soundfile.write(path, speech16k[16000 : 16000 * 5], 16000)
    return path


def test_mesh_writes_every_output(tmp_path, speech, capsys):
    outs = [tmp_path / "face.mp4", tmp_path / "face.glb", tmp_path / "face.csv", tmp_path / "v.npy", tmp_path / "objs"]
    argv = [
        "mesh",
        "--audio",
        str(speech),
        "--text",
        "it was the best of times it was the worst of times",
        "--fps",
        "25",
        "--size",
        "256",
    ]
    for out in outs:
        argv += ["-o", str(out)]
    assert main(argv) == 0
    info = probe_video(outs[0])
    assert info.num_frames == 100 and info.fps == 25 and (info.width, info.height) == (256, 256)
    assert audio_info(outs[0]).duration == pytest.approx(4.0, abs=0.05)
    gltf = pygltflib.GLTF2().load(str(outs[1]))
    assert len(gltf.meshes[0].primitives[0].targets) == 23  # the mouth, the eyes and the brows
    assert gltf.accessors[gltf.animations[0].samplers[0].input].count == 100
    rows = list(csv.reader(outs[2].open()))
    assert len(rows) == 101 and "JawOpen" in rows[0]
    assert np.load(outs[3]).shape == (100, 478 * 3)
    assert len(list(outs[4].glob("*.obj"))) == 100
    assert "rendered with" in capsys.readouterr().out


def test_mesh_with_visemenet(tmp_path, speech, capsys):
    """No transcript: the built-in VisemeNet drives the blendshapes; its phoneme groups are reported."""
    import json

    glb, curves = tmp_path / "face.glb", tmp_path / "face.json"
    assert main(["mesh", "--audio", str(speech), "-o", str(glb), "-o", str(curves)]) == 0
    data = json.loads(curves.read_text())
    assert data["num_frames"] == 120 and data["visemes"]["names"][-3:] == ["MBP", "FV", "WA_PEDAL"]
    jaw = np.array(data["frames"])[:, data["names"].index("jawOpen")]
    assert jaw.max() > 0.15
    gltf = pygltflib.GLTF2().load(str(glb))
    assert gltf.accessors[gltf.animations[0].samplers[0].input].count == 120


def test_mesh_on_a_user_template(tmp_path, speech):
    from talkingface.animation.mesh import face_template, save_obj

    template = face_template()
    path = save_obj(tmp_path / "head.obj", template.vertices * 10 + np.array([0, 17, 0]), template.faces)
    out = tmp_path / "v.npy"
    assert main(["mesh", "--audio", str(speech), "--template", str(path), "-o", str(out)]) == 0
    frames = np.load(out).reshape(-1, 478, 3)
    assert frames[:, 152, 1].min() < frames[0, 152, 1] - 0.01  # the chin of the bigger head drops


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mesh", "--audio", "{speech}", "-o", "out.stl"], "outputs are"),
        (["mesh", "--audio", "{speech}", "--template", "missing.obj", "-o", "o.npy"], "missing.obj: file not found"),
        (["mesh", "--audio", "missing.wav", "-o", "o.npy"], "missing.wav: file not found"),
    ],
)
def test_mesh_bad_input(tmp_path, monkeypatch, capsys, speech, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main([a.format(speech=speech) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def faceformer_file(tmp_path_factory):
    """A small FaceFormer on the built-in face whose motion is the rig's jawOpen times one feature."""
    import torch

    from talkingface.animation.blendshapes import face_basis
    from talkingface.models import create_model, save_model

    torch.manual_seed(0)
    model = create_model("faceformer.mel", feature_dim=16, num_speakers=2, mel_width=16, mel_layers=1)
    basis = face_basis()
    jaw = torch.from_numpy(basis.deltas[basis.names.index("jawOpen")].reshape(-1).copy())
    with torch.no_grad():
        model.vertice_map_r.weight.copy_(torch.outer(jaw, torch.eye(16)[0]))
    return save_model(model, tmp_path_factory.mktemp("ff") / "faceformer.safetensors"), model, jaw


def test_mesh_with_faceformer(tmp_path, speech, faceformer_file, capsys):
    from talkingface.animation.mesh import face_template
    from talkingface.media import load_audio

    path, model, jaw = faceformer_file
    template = face_template().vertices
    outs = [tmp_path / "v.npy", tmp_path / "c.csv", tmp_path / "f.glb", tmp_path / "f.mp4"]
    argv = [
        "mesh",
        "--audio",
        str(speech),
        "--method",
        "faceformer",
        "--checkpoint",
        str(path),
        "--style",
        "1",
        "--size",
        "128",
    ]
    for out in outs:
        argv += ["-o", str(out)]
    assert main(argv) == 0
    expected = model.predict(load_audio(speech, 16000), template, 1)[0].numpy()
    frames = np.load(outs[0])
    assert frames.shape == expected.shape == (119, 478 * 3)  # 4 s of audio, 30 fps as upstream counts
    assert np.abs(frames - expected).max() < 1e-5
    # the fitted ARKit curves find the jaw motion: its amount is the first decoder feature
    rows = list(csv.reader(outs[1].open()))
    column = rows[0].index("JawOpen")
    fitted = np.array([float(r[column]) for r in rows[1:]])
    amount = (frames - template.reshape(-1)) @ jaw.numpy() / (jaw @ jaw).item()
    inside = (amount > 0.05) & (amount < 0.95)
    assert inside.sum() > 10 and np.abs(fitted[inside] - amount[inside]).max() < 0.05
    gltf = pygltflib.GLTF2().load(str(outs[2]))
    assert gltf.accessors[gltf.animations[0].samplers[0].input].count == 119
    assert probe_video(outs[3]).num_frames == 119
    assert "119 frames at 30 fps, 478 vertices" in capsys.readouterr().out


def test_mesh_faceformer_at_another_frame_rate(tmp_path, speech, faceformer_file, capsys):
    from talkingface.timebase import resample_frames

    path = faceformer_file[0]
    base = ["mesh", "--audio", str(speech), "--method", "faceformer", "--checkpoint", str(path)]
    assert main([*base, "-o", str(tmp_path / "30.npy")]) == 0
    assert main([*base, "--fps", "25", "-o", str(tmp_path / "25.npy")]) == 0
    at30, at25 = np.load(tmp_path / "30.npy"), np.load(tmp_path / "25.npy")
    assert len(at25) == 100 and "100 frames at 25 fps" in capsys.readouterr().out  # 119 / 30 s, at 25 fps
    np.testing.assert_allclose(at25[0], at30[0])
    np.testing.assert_allclose(at25[5], at30[6])  # 0.2 s: exactly frame 6 at 30 fps
    np.testing.assert_allclose(at25[1], at30[1] * 0.8 + at30[2] * 0.2, atol=1e-6)  # 0.04 s = frame 1.2
    assert resample_frames(at30, 30, 30) is at30


def test_mesh_faceformer_with_a_subject_from_templates_pkl(tmp_path, speech, faceformer_file):
    from talkingface.animation.mesh import face_template, save_obj
    from talkingface.data.mesh_sets import write_templates

    path, model, _ = faceformer_file
    face = face_template()
    save_obj(tmp_path / "faces.obj", face.vertices, face.faces)
    neutral = face.vertices * 1.1  # the subject's own face
    write_templates(tmp_path, {"Someone": neutral})
    out = tmp_path / "v.npy"
    assert (
        main(
            [
                "mesh",
                "--audio",
                str(speech),
                "--method",
                "faceformer",
                "--checkpoint",
                str(path),
                "--template",
                str(tmp_path / "faces.obj"),
                "--templates",
                str(tmp_path / "templates.pkl"),
                "--subject",
                "Someone",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    frames = np.load(out).reshape(-1, 478, 3)
    from talkingface.media import load_audio

    expected = model.predict(load_audio(speech, 16000), neutral, 0)[0].numpy().reshape(-1, 478, 3)
    assert np.abs(frames - expected).max() < 1e-5
    assert (
        main(
            [
                "mesh",
                "--audio",
                str(speech),
                "--method",
                "faceformer",
                "--checkpoint",
                str(path),
                "--template",
                str(tmp_path / "faces.obj"),
                "--templates",
                str(tmp_path / "templates.pkl"),
                "--subject",
                "Nobody",
                "-o",
                str(out),
            ]
        )
        == 2
    )


def test_mesh_faceformer_refuses_bad_use(tmp_path, speech, faceformer_file, capsys):
    path = faceformer_file[0]
    base = ["mesh", "--audio", str(speech), "-o", str(tmp_path / "v.npy")]
    assert main([*base, "--method", "faceformer"]) == 2
    assert "needs --checkpoint" in capsys.readouterr().err
    assert main([*base, "--method", "faceformer", "--checkpoint", str(path), "--style", "5"]) == 2
    assert "style must be 0..1" in capsys.readouterr().err
    assert main([*base, "--method", "faceformer", "--checkpoint", str(path), "--text", "hello"]) == 2
    assert "transcript is not used" in capsys.readouterr().err
    assert main([*base, "--checkpoint", str(path)]) == 2
    assert "only used by the faceformer method" in capsys.readouterr().err
    assert not (tmp_path / "v.npy").exists()


def test_mesh_head_turns_in_the_exports(tmp_path, speech, gltf_validate):
    """The lively face's head motion turns the mesh in the vertex exports and the glTF node; --still
    leaves the head where it is. Both .glb files are valid under Khronos' glTF validator."""
    import json

    lively = [tmp_path / "live.glb", tmp_path / "live.npy", tmp_path / "live.json"]
    still = [tmp_path / "still.glb", tmp_path / "still.npy"]
    assert main(["mesh", "--audio", str(speech), *[a for p in lively for a in ("-o", str(p))]]) == 0
    assert main(["mesh", "--audio", str(speech), "--still", *[a for p in still for a in ("-o", str(p))]]) == 0
    paths = {c.target.path for c in pygltflib.GLTF2().load(str(lively[0])).animations[0].channels}
    assert paths == {"weights", "rotation", "translation"}
    assert {c.target.path for c in pygltflib.GLTF2().load(str(still[0])).animations[0].channels} == {"weights"}
    for report in gltf_validate(lively[0], still[0]):
        assert (report["errors"], report["warnings"]) == (0, 0), report["messages"]
    head = np.array(json.loads(lively[2].read_text())["head"]["frames"])
    assert np.abs(head).max() <= 4.0 and head.std(0).min() > 0.1
    live, calm = np.load(lively[1]).reshape(120, -1, 3), np.load(still[1]).reshape(120, -1, 3)
    width = np.ptp(calm[0, :, 0])
    forehead = 10  # above the brows: only the head moves it
    assert np.ptp(calm[:, forehead], axis=0).max() == 0
    moved = np.linalg.norm(live[:, forehead] - calm[:, forehead], axis=1)
    assert 0.002 * width < moved.max() < 1.5 * width * np.radians(4 * np.sqrt(2))
