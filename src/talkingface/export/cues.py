"""Mouth cues as files: Rhubarb Lip Sync's TSV, XML and JSON, Moho/OpenToonz switch data (.dat) and
Papagayo projects (.pgo); each with a reader, so that every file can be read back and compared.

Rhubarb's formats hold one cue per line or element with its start (and end) in seconds on a centisecond
grid; the TSV's last line gives the end of the last cue with the rest shape. Moho's ``.dat`` holds a
switch key per cue at its frame (frame 1 is time 0), with Rhubarb's letters or Preston Blair's names.
Papagayo's ``.pgo`` holds the words, each with its phonemes at frames, in Preston Blair's names.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from xml.etree import ElementTree

from ..animation.mouth_cues import MouthCue
from ..errors import InputError
from ..files import atomic_output
from ..speech.phonemes import PhonemeSequence

#: Rhubarb's shapes in Preston Blair's names (Moho's and Papagayo's mouth sets).
PRESTON_BLAIR = {"A": "MBP", "B": "etc", "C": "E", "D": "AI", "E": "O", "F": "U", "G": "FV", "H": "L", "X": "rest"}
_FROM_PRESTON_BLAIR = {v: k for k, v in PRESTON_BLAIR.items()}
# Papagayo's breakdown of ARPAbet phonemes into Preston Blair's mouths.
_PAPAGAYO = {
    **dict.fromkeys(["AA", "AH", "AY", "AE", "AW"], "AI"),
    **dict.fromkeys(["EH", "EY", "IH", "IY", "ER"], "E"),
    **dict.fromkeys(["AO", "OW", "OY"], "O"),
    **dict.fromkeys(["UH", "UW"], "U"),
    **dict.fromkeys(["W", "R"], "WQ"),
    **dict.fromkeys(["M", "B", "P"], "MBP"),
    **dict.fromkeys(["F", "V"], "FV"),
    "L": "L",
}


def write_cues(
    path: str | os.PathLike,
    cues: list[MouthCue],
    sound_file: str = "",
    fps: float = 24.0,
    preston_blair: bool = False,
    kind: str | None = None,
    rest: str = "X",
) -> Path:
    """Write ``cues`` as ``kind`` (default: ``path``'s extension): .tsv, .xml, .json (Rhubarb) or .dat
    (Moho; at ``fps``, in Preston Blair's names when ``preston_blair``). ``rest``: the shape that closes
    the mouth at the recording's end in .tsv and .dat, as Rhubarb writes it: X, or A for a rig without X."""
    target = Path(path)
    suffix = f".{kind}" if kind else target.suffix.lower()
    _check(cues)
    if rest not in PRESTON_BLAIR:
        raise InputError(f"rest must be a mouth shape A-H or X, got {rest!r}")
    duration = cues[-1].end
    if suffix == ".tsv":
        text = "".join(f"{c.start:.2f}\t{c.shape}\n" for c in cues) + f"{duration:.2f}\t{rest}\n"
    elif suffix == ".json":
        document = {
            "metadata": {"soundFile": sound_file, "duration": round(duration, 2)},
            "mouthCues": [{"start": round(c.start, 2), "end": round(c.end, 2), "value": c.shape} for c in cues],
        }
        text = json.dumps(document, indent=2) + "\n"
    elif suffix == ".xml":
        root = ElementTree.Element("rhubarbResult")
        metadata = ElementTree.SubElement(root, "metadata")
        ElementTree.SubElement(metadata, "soundFile").text = sound_file
        ElementTree.SubElement(metadata, "duration").text = f"{duration:.2f}"
        holder = ElementTree.SubElement(root, "mouthCues")
        for c in cues:
            ElementTree.SubElement(holder, "mouthCue", start=f"{c.start:.2f}", end=f"{c.end:.2f}").text = c.shape
        ElementTree.indent(root)
        text = '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
    elif suffix == ".dat":
        if not (math.isfinite(fps) and 0 < fps <= 240):
            raise InputError(f"fps must be in (0, 240], got {fps}")
        lines = ["MohoSwitch1"]
        last = 0
        for c in cues:  # a frame holds one key: of cues starting in the same frame, the first
            frame = moho_frame(c.start, fps)
            if frame != last:
                lines.append(f"{frame} {PRESTON_BLAIR[c.shape] if preston_blair else c.shape}")
                last = frame
        end = moho_frame(duration, fps)
        lines.append(f"{end + (end == last)} {PRESTON_BLAIR[rest] if preston_blair else rest}")  # the mouth closes
        text = "\n".join(lines) + "\n"
    else:
        raise InputError(
            f"{target}: mouth cues are written as .tsv, .xml, .json or .dat, not {suffix or 'no extension'}"
        )
    with atomic_output(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def moho_frame(seconds: float, fps: float) -> int:
    """The Moho switch frame of a cue starting at ``seconds``, as Rhubarb numbers them: its time in
    whole hundredths of a second, times ``fps``, truncated, plus one (frames count from 1)."""
    return 1 + int(fps * (round(seconds * 100) / 100))


def read_cues(path: str | os.PathLike, fps: float = 24.0) -> list[MouthCue]:
    """Read cues written by :func:`write_cues` (or by Rhubarb). In a .dat (at ``fps``) the last line
    closes the mouth at the recording's end: it ends the cues before it."""
    target = Path(path)
    suffix = target.suffix.lower()
    text = target.read_text(encoding="utf-8")
    try:
        if suffix == ".tsv":
            rows = [line.split("\t") for line in text.splitlines() if line.strip()]
            times = [(float(t), shape.strip()) for t, shape in rows]
            return [MouthCue(t, times[k + 1][0], s) for k, (t, s) in enumerate(times[:-1])]
        if suffix == ".json":
            return [MouthCue(float(c["start"]), float(c["end"]), c["value"]) for c in json.loads(text)["mouthCues"]]
        if suffix == ".xml":
            root = ElementTree.fromstring(text)
            return [
                MouthCue(float(e.get("start", "")), float(e.get("end", "")), (e.text or "").strip())
                for e in root.iter("mouthCue")
            ]
        if suffix == ".dat":
            lines = text.splitlines()
            if not lines or lines[0].strip() != "MohoSwitch1":
                raise ValueError("no MohoSwitch1 header")
            keys = [(int(f) - 1) / fps for f, _ in (line.split() for line in lines[1:] if line.strip())]
            names = [n for _, n in (line.split() for line in lines[1:] if line.strip())]
            letters = all(n in PRESTON_BLAIR for n in names)  # else Preston Blair's names ("E" is in both)
            shapes = names if letters else [_FROM_PRESTON_BLAIR[n] for n in names]
            if len(keys) < 2:
                raise ValueError("no cue before the closing line")
            return [MouthCue(a, b, s) for a, b, s in zip(keys, keys[1:], shapes)]
    except (ValueError, KeyError, TypeError, IndexError, ElementTree.ParseError) as error:
        raise InputError(f"{target}: not a mouth-cue file ({error})") from None
    raise InputError(f"{target}: mouth cues are read from .tsv, .xml, .json or .dat")


def write_papagayo(path: str | os.PathLike, phonemes: PhonemeSequence, sound_file: str = "", fps: int = 24) -> Path:
    """A Papagayo project (``lipsync version 1``): one voice, one phrase per run of words between
    pauses, each word with its phonemes at frames, in Preston Blair's mouths (``rest`` where none)."""
    if not phonemes.words:
        raise InputError("a Papagayo project needs words: give the transcript (--text or --transcript)")
    frame = lambda t: int(round(t * fps))  # noqa: E731
    total = max(1, frame(phonemes.duration))
    phrases: list[list[int]] = []
    for k, word in enumerate(phonemes.words):
        if not phrases or word.start - phonemes.words[phrases[-1][-1]].end > 0.35:
            phrases.append([])
        phrases[-1].append(k)
    lines = ["lipsync version 1", sound_file, str(fps), str(total), "1", "\tVoice 1"]
    lines.append("\t" + " ".join(w.text for w in phonemes.words).replace("\n", " "))
    lines.append(f"\t{len(phrases)}")
    for phrase in phrases:
        words = [phonemes.words[k] for k in phrase]
        lines += [
            "\t\t" + " ".join(w.text for w in words),
            f"\t\t{frame(words[0].start)}",
            f"\t\t{frame(words[-1].end)}",
        ]
        lines.append(f"\t\t{len(words)}")
        for k in phrase:
            word = phonemes.words[k]
            inside = [p for p in phonemes.phonemes if p.word == k]
            lines.append(f"\t\t\t{word.text} {frame(word.start)} {frame(word.end)} {len(inside)}")
            lines += [f"\t\t\t\t{frame(p.start)} {_PAPAGAYO.get(p.phone.rstrip('012'), 'etc')}" for p in inside]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def read_papagayo(path: str | os.PathLike) -> dict:
    """A Papagayo project as ``{"sound", "fps", "frames", "words": [(text, start, end, [(frame, mouth), ...])]}``
    (``sound``: the path as written, from the project's folder when relative)."""
    target = Path(path)
    lines = target.read_text(encoding="utf-8").splitlines()
    try:
        if lines[0].strip() != "lipsync version 1":
            raise ValueError("no 'lipsync version 1' header")
        fps, frames, voices = int(lines[2]), int(lines[3]), int(lines[4])
        at, words = 8, []
        for _ in range(voices):
            for _ in range(int(lines[7])):
                count = int(lines[at + 3])
                at += 4
                for _ in range(count):
                    text, start, end, n = lines[at].split()
                    mouths = [(int(f), m) for f, m in (lines[at + 1 + i].split() for i in range(int(n)))]
                    words.append((text, int(start), int(end), mouths))
                    at += 1 + int(n)
    except (ValueError, IndexError) as error:
        raise InputError(f"{target}: not a Papagayo project ({error})") from None
    return {"sound": lines[1].strip(), "fps": fps, "frames": frames, "words": words}


def _check(cues: list[MouthCue]) -> None:
    if not cues:
        raise InputError("no mouth cues to write")
    for a, b in itertools.pairwise(cues):
        if abs(a.end - b.start) > 1e-6:
            raise InputError(f"mouth cues must follow each other: one ends at {a.end}, the next starts at {b.start}")
