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
    soundfile.write(path, speech16k[16000:16000 * 5], 16000)
    return path


def test_mesh_writes_every_output(tmp_path, speech, capsys):
    outs = [tmp_path / "face.mp4", tmp_path / "face.glb", tmp_path / "face.csv", tmp_path / "v.npy", tmp_path / "objs"]
    argv = ["mesh", "--audio", str(speech), "--text", "it was the best of times it was the worst of times",
            "--fps", "25", "--size", "256"]
    for out in outs:
        argv += ["-o", str(out)]
    assert main(argv) == 0
    info = probe_video(outs[0])
    assert info.num_frames == 100 and info.fps == 25 and (info.width, info.height) == (256, 256)
    assert audio_info(outs[0]).duration == pytest.approx(4.0, abs=0.05)
    gltf = pygltflib.GLTF2().load(str(outs[1]))
    assert len(gltf.meshes[0].primitives[0].targets) == 20
    assert gltf.accessors[gltf.animations[0].samplers[0].input].count == 100
    rows = list(csv.reader(outs[2].open()))
    assert len(rows) == 101 and "JawOpen" in rows[0]
    assert np.load(outs[3]).shape == (100, 478 * 3)
    assert len(list(outs[4].glob("*.obj"))) == 100
    assert "rendered with" in capsys.readouterr().out


def test_mesh_on_a_user_template(tmp_path, speech):
    from talkingface.animation.mesh import face_template, save_obj

    template = face_template()
    path = save_obj(tmp_path / "head.obj", template.vertices * 10 + np.array([0, 17, 0]), template.faces)
    out = tmp_path / "v.npy"
    assert main(["mesh", "--audio", str(speech), "--template", str(path), "-o", str(out)]) == 0
    frames = np.load(out).reshape(-1, 478, 3)
    assert frames[:, 152, 1].min() < frames[0, 152, 1] - 0.01  # the chin of the bigger head drops


@pytest.mark.parametrize("argv, message", [
    (["mesh", "--audio", "{speech}", "-o", "out.stl"], "outputs are"),
    (["mesh", "--audio", "{speech}", "--template", "missing.obj", "-o", "o.npy"], "missing.obj: file not found"),
    (["mesh", "--audio", "missing.wav", "-o", "o.npy"], "missing.wav: file not found"),
])
def test_mesh_bad_input(tmp_path, monkeypatch, capsys, speech, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main([a.format(speech=speech) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
