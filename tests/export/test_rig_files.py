"""Curves retargeted by every preset and written in every rig format, then read back with the format's
own reader where Python has one (YAML for Unity, pygltflib for VRM) or ours: the same curves within the
files' precision."""

from __future__ import annotations

import json

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.export import rigs
from talkingface.export.rigs import PRESETS, Rig, load_preset, retarget, thin


@pytest.fixture(scope="module")
def curves(speech16k, two_cities_alignment):
    """The real recording's curves (44 s, aligned to its transcript, with blinks and brows)."""
    from talkingface.animation import JaliAnimator, JaliConfig
    from talkingface.animation.idle import with_idle_motion

    made = JaliAnimator(JaliConfig()).animate(two_cities_alignment, 30, np.asarray(speech16k), 16000)
    return with_idle_motion(made, 0, np.asarray(speech16k), 16000)


def sampled(times, values, fps, count):
    return np.interp(np.arange(count) / fps, times, values)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_cover_every_name_of_their_rig_from_our_channels(name, curves):
    preset = load_preset(name)
    assert preset["rig"] and len(preset["names"]) == len(set(preset["names"])) == len(preset["shapes"])
    rig = retarget(curves, preset)
    assert rig.values.shape == (curves.num_frames, len(preset["names"]))
    assert np.isfinite(rig.values).all()
    moving = (rig.values.max(0) - rig.values.min(0)) > 0.05
    assert moving.sum() >= min(3, len(preset["names"]))  # speech moves the rig


def test_a_users_map_with_gain_and_offset(tmp_path, curves):
    (tmp_path / "mine.json").write_text(
        json.dumps(
            {
                "names": ["Open", "Closed"],
                "shapes": {
                    "Open": {"from": {"jawOpen": 1.0}, "gain": 0.5, "offset": 0.1},
                    "Closed": {"from": {"visemes.MBP": 1.0}, "range": [0, 0.5]},
                },
            }
        )
    )
    rig = retarget(curves, load_preset(tmp_path / "mine.json"))
    jaw = curves.values[:, curves.names.index("jawOpen")]
    np.testing.assert_allclose(rig.values[:, 0], np.clip(0.1 + 0.5 * jaw, 0, 1), atol=1e-6)
    assert rig.values[:, 1].max() <= 0.5
    (tmp_path / "bad.json").write_text('{"shapes": {"Open": {"from": {"jawOpen": "a lot"}}}}')
    with pytest.raises(InputError, match="not a retargeting map"):
        load_preset(tmp_path / "bad.json")
    (tmp_path / "unknown.json").write_text('{"shapes": {"Open": {"from": {"jawOpn": 1}}}}')
    with pytest.raises(InputError, match="'jawOpn'"):
        retarget(curves, load_preset(tmp_path / "unknown.json"))


def test_thinned_keys_stay_within_the_tolerance(curves):
    total = 0
    for k, name in enumerate(curves.names):
        values = curves.values[:, k].astype(np.float64)
        keys = thin(values, 0.002)
        total += len(keys)
        assert np.abs(np.interp(np.arange(len(values)), keys, values[keys]) - values).max() <= 0.002, name
    assert total < 0.4 * curves.values.size  # still channels keep two keys
    assert list(thin(np.zeros(100))) == [0, 99]


FORMATS = {
    "unity": ("anim", "arkit52", rigs.write_unity_anim, rigs.read_unity_anim, 0.0021),
    "godot": ("tres", "arkit52", rigs.write_godot_tres, rigs.read_godot_tres, 0.0021),
    "vrma": ("vrma", "vrm", rigs.write_vrma, rigs.read_vrma, 1e-4),  # float32 times
    "live2d": ("motion3.json", "live2d", rigs.write_live2d_motion, rigs.read_live2d_motion, 0.0021),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_rig_files_round_trip(fmt, curves, tmp_path):
    suffix, preset, write, read, tolerance = FORMATS[fmt]
    rig = retarget(curves, load_preset(preset))
    path = write(tmp_path / f"speech.{suffix}", rig)
    back = read(path)
    if fmt == "vrma":  # the look expressions may not be animated, and those at rest are left to the model
        moving = {n for k, n in enumerate(rig.names) if np.abs(rig.values[:, k]).max() > 1e-6}
        assert set(back) == moving - rigs.VRM_LOOK and {"aa", "blink"} <= set(back)
    else:
        assert set(back) == set(rig.names)
    for k, name in enumerate(rig.names):
        if name not in back:
            continue
        times, values = back[name]
        again = sampled(times, values, rig.fps, len(rig.values))
        assert np.abs(again - rig.values[:, k]).max() <= tolerance, name


def test_vrma_is_valid_gltf_with_the_vrm_extension(curves, tmp_path, gltf_validate):
    path = rigs.write_vrma(tmp_path / "speech.vrma", retarget(curves, load_preset("vrm")))
    glb = tmp_path / "speech.glb"
    glb.write_bytes(path.read_bytes())
    (report,) = gltf_validate(glb)
    assert report["errors"] == 0, report["messages"]
    from pygltflib import GLTF2

    expressions = GLTF2.load_binary(str(path)).extensions["VRMC_vrm_animation"]["expressions"]["preset"]
    assert {"aa", "ih", "ou", "ee", "oh", "blink"} <= set(expressions)


def test_mmd_motion_round_trips_at_30_fps_in_shift_jis(curves, tmp_path):
    rig = retarget(curves, load_preset("mmd"))
    path = rigs.write_vmd(tmp_path / "speech.vmd", rig)
    assert path.read_bytes()[:25] == b"Vocaloid Motion Data 0002"
    back = rigs.read_vmd(path)
    assert "あ" in back and "まばたき" in back
    times, weights = back["あ"]
    assert np.allclose(times * 30, np.round(times * 30))  # whole MMD frames
    k = rig.names.index("あ")
    source = np.interp(times, np.arange(len(rig.values)) / rig.fps, rig.values[:, k])
    assert np.abs(weights - source).max() < 1e-5
    with pytest.raises(InputError, match="longer than 15 bytes"):
        rigs.write_vmd(tmp_path / "long.vmd", Rig(("a_very_long_morph_name",), np.zeros((3, 1), np.float32), 30.0))


def test_audio2face_style_json_round_trips(curves, tmp_path):
    rig = retarget(curves, load_preset("arkit52"))
    back = rigs.read_a2f_json(rigs.write_a2f_json(tmp_path / "speech.json", rig))
    assert back.names == rig.names and back.fps == rig.fps
    np.testing.assert_allclose(back.values, rig.values, atol=6e-6)


def unity_play(keys: list[dict], times: np.ndarray) -> np.ndarray:
    """A Unity float curve evaluated as Unity's AnimationCurve does with weightedMode 0: cubic Hermite
    between neighbouring keys from the stored outSlope and inSlope, clamped to the ends outside."""
    t = np.array([k["time"] for k in keys], float)
    v = np.array([k["value"] for k in keys], float)
    out_slope = np.array([k["outSlope"] for k in keys], float)
    in_slope = np.array([k["inSlope"] for k in keys], float)
    at = np.clip(times, t[0], t[-1])
    i = np.clip(np.searchsorted(t, at, side="right") - 1, 0, len(t) - 2)
    span = t[i + 1] - t[i]
    u = (at - t[i]) / span
    h00, h10, h01, h11 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u, -2 * u**3 + 3 * u**2, u**3 - u**2
    return h00 * v[i] + h10 * span * out_slope[i] + h01 * v[i + 1] + h11 * span * in_slope[i + 1]


def test_unity_plays_every_curve_as_written_between_and_on_frames(curves, tmp_path):
    import yaml

    rig = retarget(curves, load_preset("arkit52"))
    path = rigs.write_unity_anim(tmp_path / "speech.anim", rig, mesh_path="Face")

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    Loader.add_multi_constructor("tag:unity3d.com,2011:", lambda loader, _, node: loader.construct_mapping(node, True))
    clip = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)["AnimationClip"]
    frames = np.arange(len(rig.values)) / rig.fps
    between = (frames[:-1] + frames[1:]) / 2
    played_any = False
    for entry in clip["m_FloatCurves"]:
        k = rig.names.index(entry["attribute"].removeprefix("blendShape."))
        keys = entry["curve"]["m_Curve"]
        on_frames = unity_play(keys, frames)
        assert np.abs(on_frames - 100 * rig.values[:, k]).max() <= 0.21, entry["attribute"]  # the thinning's 0.2
        halfway = unity_play(keys, between)
        assert halfway.min() >= -1e-6 and halfway.max() <= 100 + 1e-6  # no overshoot past the weights' range
        linear = np.interp(between, frames, 100 * rig.values[:, k])
        assert np.abs(halfway - linear).max() <= 0.21
        played_any |= np.ptp(on_frames) > 10
    assert played_any
    # As Unity writes clips: the editor's copy of the curves, and one generic binding per curve.
    assert len(clip["m_EditorCurves"]) == len(clip["m_FloatCurves"]) == len(rig.names)
    bindings = clip["m_ClipBindingConstant"]["genericBindings"]
    assert len(bindings) == len(rig.names) and all(b["typeID"] == 137 for b in bindings)
    import zlib

    assert bindings[0]["attribute"] == zlib.crc32(f"blendShape.{rig.names[0]}".encode())


def test_vrma_of_silence_and_of_looks_animates_nothing_the_specification_forbids(tmp_path, gltf_validate):
    from pygltflib import GLTF2

    names = ("aa", "blink", "lookUp", "lookLeft")
    values = np.zeros((30, 4), np.float32)
    values[:, 2:] = 0.5  # the gaze would move, which a VRM animation may not say
    path = rigs.write_vrma(tmp_path / "still.vrma", Rig(names, values, 30.0))
    assert rigs.read_vrma(path) == {}
    assert not GLTF2.load_binary(str(path)).extensions["VRMC_vrm_animation"].get("expressions")
    glb = tmp_path / "still.glb"
    glb.write_bytes(path.read_bytes())
    (report,) = gltf_validate(glb)
    assert report["errors"] == 0, report["messages"]
