"""Every animator's file ``visemes`` and ``mesh`` write, chosen by the output's name or ``--format``.

=============== ======================== ==================================================
format          file name                holds
=============== ======================== ==================================================
rhubarb-tsv     ``.tsv``                 Rhubarb mouth cues (A-F, and G, H, X unless left out)
rhubarb-xml     ``.xml``                 the same, Rhubarb's XML
rhubarb-json    ``.rhubarb.json``        the same, Rhubarb's JSON
moho            ``.dat``                 Moho / OpenToonz switch data at ``--cue-fps``
papagayo        ``.pgo``                 a Papagayo project: words and Preston Blair mouths
unity           ``.anim``                a Unity AnimationClip of blend-shape curves
godot           ``.tres``                a Godot 4 Animation of blend-shape tracks
vrma            ``.vrma``                a VRM 1.0 expression animation
live2d          ``.motion3.json``        a Live2D Cubism motion
mmd             ``.vmd``                 an MMD motion of morphs
a2f             ``.a2f.json``            Audio2Face-style blendshape weights
srt, vtt        ``.srt``, ``.vtt``       captions from the words
=============== ======================== ==================================================

The curve formats take their rig from a retargeting map (``--map``; defaults: ARKit-52 for Unity,
Godot and Audio2Face, VRM for .vrma, Live2D and MMD for theirs). Mouth cues are chosen from the
curves (their pauses from the timed phonemes, where there are some); Papagayo and captions need the
words, so a transcript.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..animation.curves import AnimationCurves
from ..errors import InputError
from ..speech.phonemes import PhonemeSequence
from . import rigs
from .captions import captions, write_captions
from .cues import write_cues, write_papagayo
from .rigs import _sjis, load_preset

#: format -> (file name endings, what it needs: "curves" (through a rig), "cues" (mouth cues chosen from the
#: curves), "phonemes" or "words")
FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    "rhubarb-tsv": ((".tsv",), "cues"),
    "rhubarb-xml": ((".xml",), "cues"),
    "rhubarb-json": ((".rhubarb.json",), "cues"),
    "moho": ((".dat",), "cues"),
    "papagayo": ((".pgo",), "words"),
    "unity": ((".anim",), "curves"),
    "godot": ((".tres",), "curves"),
    "vrma": ((".vrma",), "curves"),
    "live2d": ((".motion3.json",), "curves"),
    "mmd": ((".vmd",), "curves"),
    "a2f": ((".a2f.json",), "curves"),
    "srt": ((".srt",), "words"),
    "vtt": ((".vtt",), "words"),
}
DEFAULT_MAP = {
    "unity": "arkit52",
    "godot": "arkit52",
    "a2f": "arkit52",
    "vrma": "vrm",
    "live2d": "live2d",
    "mmd": "mmd",
}


@dataclass(frozen=True)
class ExportOptions:
    """``map``: a preset name or a map file for the curve formats (None: the format's default);
    ``shapes``: which extended mouth shapes the rig has (some of "GHX"); ``cue_fps``: frame rate of
    Moho and Papagayo files; ``preston_blair``: Moho keys in Preston Blair's names; ``node``: the
    mesh's node path in Unity and Godot; ``sound_file``: the audio file, recorded in Rhubarb's, Moho's and
    Papagayo's files as a path from the output's folder (how Papagayo resolves it);
    ``transcript``: the text the phonemes were aligned to (captions keep its spelling)."""

    map: str | None = None
    shapes: str = "GHX"
    cue_fps: float = 24.0
    preston_blair: bool = False
    node: str = "Face"
    sound_file: str = ""
    transcript: str | None = None


def animation_format(path: str | os.PathLike, explicit: str | None = None) -> str | None:
    """The format of an output: ``explicit`` when given, else the one its name ends with (None: not
    an animator's format)."""
    if explicit is not None:
        if explicit not in FORMATS:
            raise InputError(f"unknown format {explicit!r} (formats: {', '.join(FORMATS)})")
        return explicit
    name = Path(path).name.lower()
    for fmt, (endings, _) in FORMATS.items():
        if any(name.endswith(e) for e in endings) and name not in endings:
            return fmt
    return None


def check_needs(fmt: str, has_words: bool) -> None:
    """Refuse, before any work, a format that needs the words when there is no transcript."""
    if FORMATS[fmt][1] == "words" and not has_words:
        raise InputError(f"{fmt} needs the words: give the transcript (--text or --transcript)")


def check_map(fmt: str, options: ExportOptions) -> None:
    """Refuse, before any work, a map that cannot drive ``fmt`` (MMD's morph names: 15 bytes of
    Shift-JIS at most)."""
    if FORMATS[fmt][1] != "curves":
        return

    preset = load_preset(options.map or DEFAULT_MAP[fmt])
    if fmt == "mmd":
        for name in preset["names"]:
            _sjis(name, 15, "morph")


def sound_path(audio: str, output: str | os.PathLike) -> str:
    """``audio`` as a path from ``output``'s folder ("" stays ""): a project opened from its own
    folder finds its sound, wherever the two lie."""
    if not audio:
        return ""
    return Path(os.path.relpath(os.path.abspath(audio), os.path.dirname(os.path.abspath(output)))).as_posix()


def write_animation(
    path: str | os.PathLike,
    fmt: str,
    curves: AnimationCurves | None,
    phonemes: PhonemeSequence | None,
    options: ExportOptions = ExportOptions(),
) -> Path:
    """Write ``fmt`` to ``path`` from the curves and the timed phonemes."""

    need = FORMATS[fmt][1]
    if need in ("phonemes", "words") and (phonemes is None or not phonemes.duration):
        raise InputError(f"{fmt} needs timed phonemes, which this method does not give (try --method jali)")
    if need in ("curves", "cues") and curves is None:
        raise InputError(f"{fmt} needs animation curves")
    options = replace(options, sound_file=sound_path(options.sound_file, path))
    if fmt.startswith("rhubarb") or fmt == "moho":
        from ..animation.mouth_cues import curve_cues

        assert curves is not None
        cues = curve_cues(curves, phonemes, extended=options.shapes)
        kind = "dat" if fmt == "moho" else fmt.split("-")[1]
        rest = "X" if "X" in options.shapes.upper() else "A"  # Rhubarb's closing shape on a rig without X
        return write_cues(path, cues, options.sound_file, options.cue_fps, options.preston_blair, kind=kind, rest=rest)
    if fmt == "papagayo":
        assert phonemes is not None
        return write_papagayo(path, phonemes, options.sound_file, fps=int(round(options.cue_fps)))
    if fmt in ("srt", "vtt"):
        assert phonemes is not None
        return write_captions(path, captions(phonemes, options.transcript), kind=fmt)
    assert curves is not None
    rig = rigs.retarget(curves.arkit_weights(), rigs.load_preset(options.map or DEFAULT_MAP[fmt]))
    writer = {
        "unity": lambda p: rigs.write_unity_anim(p, rig, mesh_path=options.node),
        "godot": lambda p: rigs.write_godot_tres(p, rig, node=options.node),
        "vrma": lambda p: rigs.write_vrma(p, rig),
        "live2d": lambda p: rigs.write_live2d_motion(p, rig),
        "mmd": lambda p: rigs.write_vmd(p, rig),
        "a2f": lambda p: rigs.write_a2f_json(p, rig),
    }[fmt]
    return writer(path)
