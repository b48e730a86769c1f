"""``visemes`` and ``mesh`` write every animator's format at once from real speech, refuse what
cannot be made before any work, and show the preset maps."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from talkingface.cli import main
from talkingface.export import rigs
from talkingface.export.captions import read_captions
from talkingface.export.cues import read_cues, read_papagayo

ALL = [
    "c.json", "c.tsv", "c.xml", "c.rhubarb.json", "c.dat", "c.pgo", "c.anim", "c.tres", "c.vrma",
    "c.motion3.json", "c.vmd", "c.a2f.json", "c.srt", "c.vtt",
]  # fmt: skip


@pytest.mark.slow
def test_every_format_at_once_from_the_real_recording(tmp_path, speech_path, capsys):
    transcript = speech_path.with_suffix(".txt")
    argv = ["visemes", str(speech_path), "--transcript", str(transcript)]
    for name in ALL:
        argv += ["-o", str(tmp_path / name)]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ALL)
    curves = json.loads((tmp_path / "c.json").read_text())
    duration = curves["num_frames"] / curves["fps"]
    for name in ("c.tsv", "c.xml", "c.rhubarb.json"):
        cues = read_cues(tmp_path / name) if not name.endswith(".rhubarb.json") else None
        if cues is None:
            document = json.loads((tmp_path / name).read_text())
            assert (tmp_path / document["metadata"]["soundFile"]).resolve() == speech_path.resolve()  # from here
            cues = document["mouthCues"]
            assert cues[-1]["end"] == pytest.approx(duration, abs=0.05)
        else:
            assert cues[-1].end == pytest.approx(duration, abs=0.05)
    assert read_cues(tmp_path / "c.dat", fps=24)[0].start == 0
    project = read_papagayo(tmp_path / "c.pgo")
    assert len(project["words"]) > 100
    assert (tmp_path / project["sound"]).resolve() == speech_path.resolve()  # as Papagayo-NG resolves it
    assert read_captions(tmp_path / "c.srt") == read_captions(tmp_path / "c.vtt")
    assert "jawOpen" in rigs.read_unity_anim(tmp_path / "c.anim")  # ARKit-52 by default
    vrma = set(rigs.read_vrma(tmp_path / "c.vrma"))  # its own default map
    assert {"aa", "oh"} <= vrma and not vrma & rigs.VRM_LOOK  # the gaze is the model's
    assert "ParamMouthOpenY" in rigs.read_live2d_motion(tmp_path / "c.motion3.json")
    assert "あ" in rigs.read_vmd(tmp_path / "c.vmd")
    assert list(rigs.read_a2f_json(tmp_path / "c.a2f.json").names) == rigs.load_preset("arkit52")["names"]


def test_a_map_drives_the_curve_formats(tmp_path, speech16k):
    from talkingface.media import write_wav

    speech = write_wav(tmp_path / "speech.wav", speech16k[: 16000 * 5], 16000)
    out = tmp_path / "c.anim"
    assert main(["visemes", str(speech), "--map", "readyplayerme", "-o", str(out)]) == 0
    unity = rigs.read_unity_anim(out)
    assert "viseme_aa" in unity and "jawOpen" in unity  # ARKit and the Oculus visemes


def test_format_flag_and_shapes(tmp_path, speech_path):
    out = tmp_path / "cues.json"
    assert main(["visemes", str(speech_path), "--format", "rhubarb-json", "--shapes", "", "-o", str(out)]) == 0
    shapes = {c["value"] for c in json.loads(out.read_text())["mouthCues"]}
    assert shapes <= set("ABCDEF") and len(shapes) >= 5  # without a transcript: recognised phonemes
    tsv, dat = tmp_path / "cues.tsv", tmp_path / "cues.dat"
    assert main(["visemes", str(speech_path), "--shapes", "", "-o", str(tsv), "-o", str(dat)]) == 0
    assert tsv.read_text().splitlines()[-1].endswith("\tA")  # a rig without X closes on A, as Rhubarb does
    assert dat.read_text().splitlines()[-1].endswith(" A")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-o", "{tmp}/c.srt"], "srt needs the words: give the transcript"),
        (["-o", "{tmp}/c.pgo"], "papagayo needs the words"),
        (["-o", "{tmp}/c.anim", "--map", "{tmp}/missing.json"], "neither a preset"),
        (["-o", "{tmp}/c.tsv", "--shapes", "Q"], "some of G, H, X"),
        (["-o", "{tmp}/c.vmd", "--map", "arkit52"], "longer than 15 bytes in Shift-JIS"),
        (["-o", "{tmp}/a.tsv", "-o", "{tmp}/b.anim", "--format", "unity"], "--format names the format of one output"),
        (["-o", "{tmp}/c.vrma", "-o", "{tmp}/c.vrma"], "c.vrma twice"),
        (["-o", "{tmp}/c.txt"], "c.txt"),
    ],
)
def test_what_cannot_be_made_is_refused_before_the_work(tmp_path, speech_path, capsys, extra, message):
    argv = ["visemes", str(speech_path)] + [a.format(tmp=tmp_path) for a in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_show_map_prints_a_preset_a_user_can_edit_and_use(tmp_path, speech_path, capsys):
    assert main(["visemes", "--show-map", "vrm"]) == 0
    preset = json.loads(capsys.readouterr().out)
    preset["shapes"]["aa"]["gain"] = 0.5
    (tmp_path / "mine.json").write_text(json.dumps(preset))
    out = tmp_path / "c.a2f.json"
    assert main(["visemes", str(speech_path), "--map", str(tmp_path / "mine.json"), "-o", str(out)]) == 0
    rig = rigs.read_a2f_json(out)
    assert rig.names[0] == "aa" and rig.values[:, 0].max() <= 0.5 + 1e-6


@pytest.mark.slow
def test_mesh_writes_animator_files_too(tmp_path, speech_path):
    transcript = speech_path.with_suffix(".txt")
    argv = ["mesh", "--audio", str(speech_path), "--transcript", str(transcript), "--quiet"]
    for name in ("m.tsv", "m.vrma", "m.srt"):
        argv += ["-o", str(tmp_path / name)]
    assert main(argv) == 0
    assert read_cues(tmp_path / "m.tsv")[0].start == 0
    assert read_captions(tmp_path / "m.srt")[0].text.startswith("It was the best of times,")  # the transcript's own


def glb_weights(path) -> dict[str, np.ndarray]:
    """Each morph target's weights over time, read from the .glb by pygltflib as a viewer reads them."""
    from pygltflib import GLTF2

    document = GLTF2.load_binary(str(path))
    names = document.meshes[0].extras["targetNames"]
    (channel,) = [c for c in document.animations[0].channels if c.target.path == "weights"]
    accessor = document.accessors[document.animations[0].samplers[channel.sampler].output]
    view = document.bufferViews[accessor.bufferView]
    data = document.binary_blob()[view.byteOffset + (accessor.byteOffset or 0) :]
    values = np.frombuffer(data, np.float32, accessor.count).reshape(-1, len(names))
    return {name: values[:, k] for k, name in enumerate(names)}


def test_every_file_of_one_run_holds_the_same_weights_with_mouth_close_within_jaw_open(tmp_path, speech16k):
    from talkingface.animation import AnimationCurves
    from talkingface.media import write_wav

    speech = write_wav(tmp_path / "speech.wav", speech16k[: 16000 * 10], 16000)
    names = ("c.glb", "c.csv", "c.json", "c.anim", "c.tres", "c.a2f.json")
    argv = ["mesh", "--audio", str(speech)]
    for name in names:
        argv += ["-o", str(tmp_path / name)]
    assert main(argv) == 0
    glb = glb_weights(tmp_path / "c.glb")
    frames = len(glb["jawOpen"])
    with open(tmp_path / "c.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[header.index("JawForward") + 1 : header.index("JawOpen")] == ["JawRight", "JawLeft"]  # the app's
    assert header[header.index("MouthPucker") + 1 : header.index("MouthSmileLeft")] == ["MouthRight", "MouthLeft"]
    table = np.array([[float(v) for v in row[2:]] for row in rows[1:]])

    def csv_column(name):
        return table[:, header.index(name[0].upper() + name[1:]) - 2]

    document = json.loads((tmp_path / "c.json").read_text())
    assert document["weights"] == "arkit"
    json_frames = np.asarray(document["frames"])
    fps = document["fps"]
    a2f = rigs.read_a2f_json(tmp_path / "c.a2f.json")
    unity, godot = rigs.read_unity_anim(tmp_path / "c.anim"), rigs.read_godot_tres(tmp_path / "c.tres")
    times = np.arange(frames) / fps
    for name in ("jawOpen", "mouthClose"):
        reference = glb[name]
        seen = {
            "csv": csv_column(name),
            "json": json_frames[:, document["names"].index(name)],
            "a2f": a2f.values[:, a2f.names.index(name)],
            "unity": np.interp(times, *unity[name]),  # straight lines between keys, as Unity now plays them
            "godot": np.interp(times, *godot[name]),
        }
        for fmt, values in seen.items():
            assert len(values) == frames, fmt
            assert np.abs(values - reference).max() <= 0.0021, (fmt, name)  # the key thinning's 0.002
    assert (glb["mouthClose"] <= glb["jawOpen"] + 1e-6).all()
    assert (csv_column("mouthClose") <= csv_column("jawOpen") + 1e-5).all()
    assert glb["mouthClose"].max() > 0.02  # closures are in the clip
    back = AnimationCurves.load_json(tmp_path / "c.json")  # read back: the rig's share again
    assert np.allclose(back.arkit_weights().channel("mouthClose"), glb["mouthClose"], atol=2e-5)
