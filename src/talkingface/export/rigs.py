"""Curves into animators' tools: retargeting presets, and the files of Unity, Godot, VRM, Live2D, MMD and
Audio2Face-style pipelines, each with a reader so that every file can be read back and compared.

A preset (``presets/NAME.json``, or a copy a user edited, given as ``--map FILE``) names a rig's shapes
and makes each from our channels: ``value = clip(offset + gain * sum(weight * channel), range)``, where
a channel is one of the ARKit-52 curves (``jawOpen``) or one of the 20 JALI viseme curves
(``visemes.MBP``). Keys are thinned where straight lines between the kept ones stay within ``tolerance``
of every frame (constant curves keep two keys), so files stay small and exact to that precision.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..animation.curves import AnimationCurves
from ..errors import InputError
from ..files import atomic_output
from .gltf import _Builder, write_gltf_document

PRESETS = ("arkit52", "ovr15", "readyplayerme", "azure22", "vrm", "cc4", "preston_blair", "rhubarb", "live2d", "mmd")
TOLERANCE = 0.002
#: Unity's tangentMode for a key whose two tangents are Linear (mode 2 on each side) and broken apart.
UNITY_LINEAR = (2 << 1) | (2 << 5) | 1


@dataclass(frozen=True)
class Rig:
    """A rig's curves: ``names`` and ``values`` ``(T, N)`` at ``fps``."""

    names: tuple[str, ...]
    values: np.ndarray
    fps: float

    @property
    def duration(self) -> float:
        return (len(self.values) - 1) / self.fps if len(self.values) else 0.0


# -- presets ------------------------------------------------------------------------------------
def load_preset(name_or_path: str | os.PathLike) -> dict:
    """A preset by name (one of :data:`PRESETS`) or from a JSON file, checked."""
    text = str(name_or_path)
    if text in PRESETS:
        data = resources.files("talkingface.export").joinpath(f"presets/{text}.json").read_text(encoding="utf-8")
        where = f"preset {text}"
    else:
        path = Path(text)
        if not path.is_file():
            raise InputError(f"--map {text}: neither a preset ({', '.join(PRESETS)}) nor a file")
        if path.stat().st_size > 1 << 20:
            raise InputError(f"{path}: a map file is at most 1 MB")
        data = path.read_text(encoding="utf-8", errors="replace")
        where = str(path)
    try:
        preset = json.loads(data)
        shapes = preset["shapes"]
        names = preset.get("names", list(shapes))
        if not isinstance(shapes, dict) or not shapes or not isinstance(names, list):
            raise ValueError("'shapes' must be a non-empty object")
        for name, rule in shapes.items():
            sources = rule.get("from", {})
            if not isinstance(sources, dict) or not all(isinstance(w, (int, float)) for w in sources.values()):
                raise ValueError(f"{name}: 'from' must map channel names to numbers")
            low, high = rule.get("range", (0.0, 1.0))
            numbers = (rule.get("gain", 1.0), rule.get("offset", 0.0), low, high)
            if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in numbers) or low > high:
                raise ValueError(f"{name}: gain, offset and range must be finite numbers, the range low to high")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"{where}: not a retargeting map ({error})") from None
    missing = [n for n in names if n not in shapes]
    if missing:
        raise InputError(f"{where}: names without a rule: {', '.join(missing[:5])}")
    return {"rig": preset.get("rig", ""), "names": names, "shapes": shapes}


def retarget(curves: AnimationCurves, preset: dict) -> Rig:
    """``curves`` on the preset's rig."""
    channels: dict[str, np.ndarray] = {n: curves.values[:, k] for k, n in enumerate(curves.names)}
    for key, array in curves.extra.items():
        for k, n in enumerate(curves.extra_names.get(key, ())):
            channels[f"{key}.{n}"] = array[:, k]
    count = curves.num_frames
    columns = []
    for name in preset["names"]:
        rule = preset["shapes"][name]
        total = np.zeros(count)
        for source, weight in rule.get("from", {}).items():
            if source not in channels:
                raise InputError(f"map: {name} reads {source!r}, which these curves do not have")
            total += float(weight) * channels[source]
        low, high = rule.get("range", (0.0, 1.0))
        columns.append(np.clip(float(rule.get("offset", 0.0)) + float(rule.get("gain", 1.0)) * total, low, high))
    values = np.stack(columns, 1) if columns else np.zeros((count, 0))
    return Rig(tuple(preset["names"]), values.astype(np.float32), float(curves.fps))


# -- key thinning -------------------------------------------------------------------------------
def thin(values: np.ndarray, tolerance: float = TOLERANCE) -> np.ndarray:
    """Indices of the keys to keep: linear interpolation between them is within ``tolerance`` of every
    value (first and last always kept)."""
    n = len(values)
    if n <= 2:
        return np.arange(n)
    bend = np.abs(values[1:-1] - 0.5 * (values[:-2] + values[2:]))
    kept = np.zeros(n, bool)
    kept[[0, -1]] = True
    kept[1:-1] = bend > tolerance / 4
    frames = np.arange(n)
    for _ in range(64):
        index = np.flatnonzero(kept)
        error = np.abs(np.interp(frames, index, values[index]) - values)
        bad = error > tolerance
        if not bad.any():
            break
        kept |= bad
    return np.flatnonzero(kept)


# -- writers and readers ------------------------------------------------------------------------
def write_unity_anim(path: str | os.PathLike, rig: Rig, mesh_path: str = "", name: str = "speech") -> Path:
    """A Unity AnimationClip (.anim, the text YAML Unity writes): one float curve per shape on the
    SkinnedMeshRenderer at ``mesh_path``, ``blendShape.<name>``, weights 0-100."""
    out = [
        "%YAML 1.1",
        "%TAG !u! tag:unity3d.com,2011:",
        "--- !u!74 &7400000",
        "AnimationClip:",
        "  m_ObjectHideFlags: 0",
        "  m_CorrespondingSourceObject: {fileID: 0}",
        "  m_PrefabInstance: {fileID: 0}",
        "  m_PrefabAsset: {fileID: 0}",
        f"  m_Name: {_yaml_string(name)}",
        "  serializedVersion: 7",
        "  m_Legacy: 0",
        "  m_Compressed: 0",
        "  m_UseHighQualityCurve: 1",
        "  m_RotationCurves: []",
        "  m_CompressedRotationCurves: []",
        "  m_EulerCurves: []",
        "  m_PositionCurves: []",
        "  m_ScaleCurves: []",
        "  m_FloatCurves:",
    ]
    curves = [_unity_curve(rig, k, mesh_path) for k in range(len(rig.names))]
    for curve in curves:
        out += curve
    out += [
        "  m_PPtrCurves: []",
        "  m_ClipBindingConstant:",
        "    genericBindings:" if rig.names else "    genericBindings: []",
    ]
    for shape in rig.names:  # Unity's binding of each curve: CRC-32 of its path and of its attribute
        out += [
            "    - serializedVersion: 2",
            f"      path: {zlib.crc32(mesh_path.encode('utf-8'))}",
            f"      attribute: {zlib.crc32(('blendShape.' + shape).encode('utf-8'))}",
            "      script: {fileID: 0}",
            "      typeID: 137",
            "      customType: 0",
            "      isPPtrCurve: 0",
        ]
    out += [
        "    pptrCurveMapping: []",
        f"  m_SampleRate: {rig.fps:.6g}",
        "  m_WrapMode: 0",
        "  m_Bounds:",
        "    m_Center: {x: 0, y: 0, z: 0}",
        "    m_Extent: {x: 0, y: 0, z: 0}",
        "  m_AnimationClipSettings:",
        "    serializedVersion: 2",
        "    m_StartTime: 0",
        f"    m_StopTime: {rig.duration:.6g}",
        "    m_LoopTime: 0",
        "  m_EditorCurves:" if curves else "  m_EditorCurves: []",
        *(line for curve in curves for line in curve),
        "  m_EulerEditorCurves: []",
        "  m_HasGenericRootTransform: 0",
        "  m_HasMotionFloatCurves: 0",
        "  m_Events: []",
    ]
    return _write_text(path, "\n".join(out) + "\n")


def _unity_curve(rig: Rig, k: int, mesh_path: str) -> list[str]:
    """The YAML of shape ``k``'s curve: keys where the weight bends (:func:`thin`), each slope the
    straight line to its neighbour on that side, so that Unity's Hermite evaluation draws the same
    straight segments between keys that the thinning checked (both tangents Linear, broken: mode 69)."""
    column = rig.values[:, k].astype(np.float64) * 100.0
    keys = thin(column, TOLERANCE * 100)
    times, values = keys / rig.fps, column[keys]
    if len(keys) > 1:
        segments = np.diff(values) / np.diff(times)
        in_slopes, out_slopes = np.concatenate([segments[:1], segments]), np.concatenate([segments, segments[-1:]])
    else:
        in_slopes = out_slopes = np.zeros(len(keys))
    out = ["  - curve:", "      serializedVersion: 2", "      m_Curve:"]
    for t, v, s_in, s_out in zip(times, values, in_slopes, out_slopes):
        out += [
            "      - serializedVersion: 3",
            f"        time: {t:.9g}",
            f"        value: {v:.9g}",
            f"        inSlope: {s_in:.9g}",
            f"        outSlope: {s_out:.9g}",
            f"        tangentMode: {UNITY_LINEAR}",
            "        weightedMode: 0",
            "        inWeight: 0.33333334",
            "        outWeight: 0.33333334",
        ]
    return [
        *out,
        "      m_PreInfinity: 2",
        "      m_PostInfinity: 2",
        "      m_RotationOrder: 4",
        f"    attribute: {_yaml_string('blendShape.' + rig.names[k])}",
        f"    path: {_yaml_string(mesh_path)}",
        "    classID: 137",
        "    script: {fileID: 0}",
    ]


def read_unity_anim(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{shape: (times, weights 0-1)}`` from a Unity .anim, read with a YAML loader."""
    import yaml

    class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's when built with it
        pass

    _Loader.add_multi_constructor(
        "tag:unity3d.com,2011:", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
    )
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)
        curves = document["AnimationClip"]["m_FloatCurves"]
        out = {}
        for entry in curves:
            keys = entry["curve"]["m_Curve"]
            name = str(entry["attribute"]).removeprefix("blendShape.")
            out[name] = (np.array([k["time"] for k in keys], float), np.array([k["value"] for k in keys], float) / 100)
        return out
    except (yaml.YAMLError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a Unity animation clip ({error})") from None


def write_godot_tres(path: str | os.PathLike, rig: Rig, node: str = "Face", name: str = "speech") -> Path:
    """A Godot 4 Animation resource (.tres): one blend-shape track per shape on ``node`` (a
    MeshInstance3D), keys as (time, transition, value)."""
    lines = ['[gd_resource type="Animation" format=3]', "", "[resource]", f'resource_name = "{_godot_escape(name)}"']
    lines.append(f"length = {max(rig.duration, 1 / rig.fps):.6g}")
    for k, shape in enumerate(rig.names):
        column = rig.values[:, k].astype(np.float64)
        keys = thin(column)
        packed = ", ".join(f"{i / rig.fps:.6g}, 1, {column[i]:.6g}" for i in keys)
        p = f"tracks/{k}"
        lines += [
            f'{p}/type = "blend_shape"',
            f"{p}/imported = false",
            f"{p}/enabled = true",
            f'{p}/path = NodePath("{_godot_escape(node)}:{_godot_escape(shape)}")',
            f"{p}/interp = 1",
            f"{p}/loop_wrap = true",
            f"{p}/keys = PackedFloat32Array({packed})",
        ]
    return _write_text(path, "\n".join(lines) + "\n")


def read_godot_tres(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{shape: (times, values)}`` from a Godot .tres written by :func:`write_godot_tres`."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith('[gd_resource type="Animation"'):
        raise InputError(f"{path}: not a Godot animation resource")
    paths = dict(re.findall(r'^tracks/(\d+)/path = NodePath\("(?:[^"\\]|\\.)*?:((?:[^"\\]|\\.)*)"\)$', text, re.M))
    keys = dict(re.findall(r"^tracks/(\d+)/keys = PackedFloat32Array\(([^)]*)\)$", text, re.M))
    out = {}
    for track, shape in paths.items():
        numbers = np.array([float(x) for x in keys[track].split(",")]) if keys[track].strip() else np.zeros(0)
        triples = numbers.reshape(-1, 3)
        out[shape.replace('\\"', '"').replace("\\\\", "\\")] = (triples[:, 0], triples[:, 2])
    return out


VRM_PRESETS = {"happy", "angry", "sad", "relaxed", "surprised", "aa", "ih", "ou", "ee", "oh", "blink",
               "blinkLeft", "blinkRight", "lookUp", "lookDown", "lookLeft", "lookRight", "neutral"}  # fmt: skip
#: The expressions a VRM animation may not animate (the model's gaze drives them).
VRM_LOOK = frozenset({"lookUp", "lookDown", "lookLeft", "lookRight"})


def write_vrma(path: str | os.PathLike, rig: Rig) -> Path:
    """A VRM 1.0 animation (.vrma: glTF binary with ``VRMC_vrm_animation``): one node per expression
    whose translation x is the expression's weight, animated. As the specification asks, the look
    expressions (``lookUp``, ...: driven by the model's gaze) are left out, and so is every expression
    at rest for the whole clip, which would override the model's own (its blinks, say)."""

    b = _Builder()
    count = len(rig.values)
    times = np.arange(count, dtype=np.float32) / np.float32(rig.fps)
    time_accessor = b.add(times, "SCALAR", 5126, bounds=True)
    nodes: list[dict] = []
    samplers: list[dict] = []
    channels: list[dict] = []
    expressions: dict[str, dict] = {"preset": {}, "custom": {}}
    kept = [k for k, shape in enumerate(rig.names) if shape not in VRM_LOOK and np.abs(rig.values[:, k]).max() > 1e-6]
    for k in kept:
        shape, node = rig.names[k], len(nodes)
        translation = np.zeros((count, 3), np.float32)
        translation[:, 0] = rig.values[:, k]
        samplers.append({"input": time_accessor, "output": b.add(translation, "VEC3", 5126), "interpolation": "LINEAR"})
        channels.append({"sampler": node, "target": {"node": node, "path": "translation"}})
        nodes.append({"name": f"expression_{shape}"})
        expressions["preset" if shape in VRM_PRESETS else "custom"][shape] = {"node": node}
    document = {
        "asset": {"version": "2.0", "generator": "talkingface"},
        "extensionsUsed": ["VRMC_vrm_animation"],
        "extensions": {
            "VRMC_vrm_animation": {"specVersion": "1.0", "expressions": {k: v for k, v in expressions.items() if v}}
        },
        "scene": 0,
        "scenes": [{"nodes": list(range(len(nodes)))}],
        "nodes": nodes,
        "animations": [{"name": "speech", "samplers": samplers, "channels": channels}],
    }
    if not channels:  # nothing moves (silence): an animation needs a channel, so there is none
        del document["animations"]
        document["scenes"] = [{}]
        document.pop("nodes")
    return write_gltf_document(path, document, b)


def read_vrma(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{expression: (times, weights)}`` from a .vrma, read with pygltflib."""
    from pygltflib import GLTF2

    try:
        gltf = GLTF2.load_binary(str(path))
        blob = gltf.binary_blob()
        extension = gltf.extensions["VRMC_vrm_animation"]
    except Exception as error:  # pygltflib raises many kinds
        raise InputError(f"{path}: not a VRM animation ({type(error).__name__})") from None

    def read(index: int, width: int) -> np.ndarray:
        accessor = gltf.accessors[index]
        view = gltf.bufferViews[accessor.bufferView]
        start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
        return np.frombuffer(blob, np.float32, accessor.count * width, start).reshape(accessor.count, width)

    node_of = {e["node"]: name for group in extension.get("expressions", {}).values() for name, e in group.items()}
    if not gltf.animations:  # nothing moves
        return {}
    animation = gltf.animations[0]
    out = {}
    for channel in animation.channels:
        sampler = animation.samplers[channel.sampler]
        out[node_of[channel.target.node]] = (read(sampler.input, 1)[:, 0], read(sampler.output, 3)[:, 0])
    return out


def write_live2d_motion(path: str | os.PathLike, rig: Rig) -> Path:
    """A Live2D Cubism motion (.motion3.json): one parameter curve per shape, linear segments."""
    curves, segments_total, points_total = [], 0, 0
    for k, shape in enumerate(rig.names):
        column = rig.values[:, k].astype(np.float64)
        keys = thin(column)
        flat: list[float] = [round(keys[0] / rig.fps, 4), round(float(column[keys[0]]), 4)]
        for i in keys[1:]:
            flat += [0, round(i / rig.fps, 4), round(float(column[i]), 4)]
        curves.append({"Target": "Parameter", "Id": shape, "Segments": flat})
        segments_total += len(keys) - 1
        points_total += len(keys)
    document = {
        "Version": 3,
        "Meta": {
            "Duration": round(rig.duration, 4),
            "Fps": rig.fps,
            "Loop": False,
            "AreBeziersRestricted": True,
            "CurveCount": len(curves),
            "TotalSegmentCount": segments_total,
            "TotalPointCount": points_total,
            "UserDataCount": 0,
            "TotalUserDataSize": 0,
        },
        "Curves": curves,
    }
    return _write_text(path, json.dumps(document, separators=(",", ":")) + "\n")


def read_live2d_motion(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{parameter: (times, values)}`` from a .motion3.json (linear, stepped and inverse-stepped
    segments; Bezier segments by their end points)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        out = {}
        for curve in document["Curves"]:
            s = curve["Segments"]
            times, values, at = [s[0]], [s[1]], 2
            while at < len(s):
                kind = int(s[at])
                width = 6 if kind == 1 else 2
                times.append(s[at + width - 1])
                values.append(s[at + width])
                at += width + 1
            out[curve["Id"]] = (np.array(times, float), np.array(values, float))
        return out
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise InputError(f"{path}: not a Live2D motion ({error})") from None


def write_vmd(path: str | os.PathLike, rig: Rig, model: str = "talkingface") -> Path:
    """An MMD motion (.vmd) with morph keys only, at MMD's 30 frames per second; names in Shift-JIS."""
    count = len(rig.values)
    frames30 = np.arange(int(np.floor(rig.duration * 30 + 1e-9)) + 1) if count else np.zeros(0, int)
    source_times = np.arange(count) / rig.fps
    keys: list[bytes] = []
    for k, shape in enumerate(rig.names):
        name = _sjis(shape, 15, "morph")
        column = np.interp(frames30 / 30.0, source_times, rig.values[:, k].astype(np.float64))
        for i in thin(column):
            keys.append(name + struct.pack("<If", int(frames30[i]), float(column[i])))
    blob = b"Vocaloid Motion Data 0002".ljust(30, b"\0") + _sjis(model, 20, "model")
    blob += struct.pack("<I", 0) + struct.pack("<I", len(keys)) + b"".join(keys) + struct.pack("<III", 0, 0, 0)
    with atomic_output(path) as tmp:
        tmp.write_bytes(blob)
    return Path(path)


def read_vmd(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{morph: (times, weights)}`` from a .vmd (bone keys skipped)."""
    data = Path(path).read_bytes()
    if not data.startswith(b"Vocaloid Motion Data 0002"):
        raise InputError(f"{path}: not an MMD motion (no 'Vocaloid Motion Data 0002' header)")
    try:
        at = 50
        (bones,) = struct.unpack_from("<I", data, at)
        at += 4 + bones * 111
        (morphs,) = struct.unpack_from("<I", data, at)
        at += 4
        out: dict[str, list] = {}
        for _ in range(morphs):
            name = data[at : at + 15].split(b"\0")[0].decode("shift_jis")
            frame, weight = struct.unpack_from("<If", data, at + 15)
            out.setdefault(name, []).append((frame / 30.0, weight))
            at += 23
    except (struct.error, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not an MMD motion ({error})") from None
    return {n: (np.array([t for t, _ in v]), np.array([w for _, w in v])) for n, v in out.items()}


def write_a2f_json(path: str | os.PathLike, rig: Rig) -> Path:
    """Blendshape weights in the layout of Audio2Face's JSON export: ``exportFps``, ``numPoses``,
    ``numFrames``, ``facsNames`` and ``weightMat`` (a row of weights per frame)."""
    document = {
        "exportFps": rig.fps,
        "trackPath": "",
        "numPoses": len(rig.names),
        "numFrames": len(rig.values),
        "facsNames": list(rig.names),
        "weightMat": np.round(rig.values.astype(np.float64), 5).tolist(),
    }
    return _write_text(path, json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n")


def read_a2f_json(path: str | os.PathLike) -> Rig:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        values = np.asarray(document["weightMat"], np.float32).reshape(
            int(document["numFrames"]), int(document["numPoses"])
        )
        return Rig(tuple(document["facsNames"]), values, float(document["exportFps"]))
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not an Audio2Face-style blendshape file ({error})") from None


def _write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _godot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _sjis(text: str, size: int, what: str) -> bytes:
    try:
        encoded = text.encode("shift_jis")
    except UnicodeEncodeError:
        raise InputError(f"MMD {what} name {text!r} cannot be written in Shift-JIS") from None
    if len(encoded) > size:
        raise InputError(f"MMD {what} name {text!r} is longer than {size} bytes in Shift-JIS")
    return encoded.ljust(size, b"\0")
