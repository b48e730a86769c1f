"""Captions from the word alignment: SubRip (.srt) and WebVTT (.vtt), with readers.

Words are grouped into captions of at most 42 characters and 6 seconds, broken at pauses longer than
0.5 s; each caption shows from its first word's start to its last word's end.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..files import atomic_output
from ..speech.phonemes import PhonemeSequence

MAX_CHARACTERS, MAX_SECONDS, PAUSE = 42, 6.0, 0.5


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    text: str


_CLOSING = ".,;:!?\"')\u201d\u2019\u2026"  # punctuation that stays with the word before it
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")


def captions(phonemes: PhonemeSequence, transcript: str | None = None) -> list[Caption]:
    """The words of ``phonemes`` grouped into captions; with the ``transcript`` they were aligned to,
    each caption shows the transcript's own spelling and punctuation."""
    if not phonemes.words:
        raise InputError("captions need the words: give the transcript (--text or --transcript)")
    spans = _spans(transcript, len(phonemes.words)) if transcript else None
    out: list[list] = []
    for word in phonemes.words:
        if out:
            current = out[-1]
            text = " ".join(w.text for w in current) + " " + word.text
            if (
                len(text) <= MAX_CHARACTERS
                and word.end - current[0].start <= MAX_SECONDS
                and word.start - current[-1].end <= PAUSE
            ):
                current.append(word)
                continue
        out.append([word])
    if spans is None:
        return [Caption(ws[0].start, ws[-1].end, " ".join(w.text for w in ws)) for ws in out]
    assert transcript is not None
    result, k = [], 0
    for ws in out:
        first, last = spans[k], spans[k + len(ws) - 1]
        result.append(Caption(ws[0].start, ws[-1].end, " ".join(transcript[first[0] : last[1]].split())))
        k += len(ws)
    return result


def _spans(transcript: str, count: int) -> list[tuple[int, int]] | None:
    """Where each aligned word is in the transcript, with the punctuation after it; None when the
    transcript's words are not the aligned ones one for one."""
    tokens = list(_TOKEN.finditer(transcript))
    if len(tokens) != count:
        return None
    spans = []
    for k, token in enumerate(tokens):
        end = tokens[k + 1].start() if k + 1 < len(tokens) else len(transcript)
        tail = transcript[token.end() : end]
        spans.append((token.start(), token.end() + len(tail) - len(tail.lstrip(_CLOSING))))
    return spans


def _stamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def write_captions(path: str | os.PathLike, items: list[Caption], kind: str | None = None) -> Path:
    """SubRip or WebVTT: ``kind`` "srt" or "vtt" (default: ``path``'s extension)."""
    target = Path(path)
    suffix = f".{kind}" if kind else target.suffix.lower()
    if suffix == ".srt":
        blocks = [f"{k}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n" for k, c in enumerate(items, 1)]
        text = "\n".join(blocks)
    elif suffix == ".vtt":
        blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n" for c in items]
        text = "WEBVTT\n\n" + "\n".join(blocks)
    else:
        raise InputError(f"{target}: captions are written as .srt or .vtt, not {suffix or 'no extension'}")
    with atomic_output(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


_TIMING = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3}) --> (\d+):(\d\d):(\d\d)[,.](\d{3})")


def read_captions(path: str | os.PathLike) -> list[Caption]:
    """Captions from a .srt or .vtt file (cue settings and styling are not kept)."""
    target = Path(path)
    text = target.read_text(encoding="utf-8-sig")
    if target.suffix.lower() == ".vtt" and not text.startswith("WEBVTT"):
        raise InputError(f"{target}: not a WebVTT file (no WEBVTT header)")
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        for k, line in enumerate(lines):
            match = _TIMING.match(line.strip())
            if match:
                g = [int(x) for x in match.groups()]
                start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
                end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
                out.append(Caption(start, end, "\n".join(lines[k + 1 :])))
                break
    return out
