"""Mouth cues for 2D animation: Rhubarb Lip Sync's shapes with its timing rules, chosen from animation
curves (:func:`curve_cues`, what the cue files are made from) or from timed phonemes alone
(:func:`mouth_cues`, as Rhubarb does).

The shapes (Rhubarb's letters, the 2D animators' standard):

    A  closed (m, b, p)                 E  slightly rounded (ao, er)
    B  slightly open, teeth together    F  puckered (uw, ow, w)
    C  open (eh, ae)                    G  upper teeth on the lower lip (f, v)      - extended
    D  wide open (aa)                   H  tongue up behind the teeth (a long l)    - extended
                                        X  idle, mouth at rest                      - extended

A rig without the extended shapes gets B for G, C for H and A for X, as Rhubarb's documentation says.

From phonemes, the rules follow Rhubarb's animation stage: each phoneme allows one or more shapes; the
one closest to the previous shape is taken, and a consonant that allows the next vowel's shape takes it
early (the vowel anticipated, at most 200 ms); diphthongs are split 60/40 between their two shapes; a
short AH is C, a long one D. From curves, each frame's shape is the jaw's openness (closed, B, C or D),
or A, E/F or G where the lips close, round or tuck. Both then keep Rhubarb's timing: m/b/p close the
mouth for at least 80 ms, taking the time from their neighbours; pauses under 120 ms hold the previous
shape, pauses up to 350 ms relax to B, longer ones rest at X; a jump between distant shapes passes
through the one between them for 40-80 ms (D to A through C); no cue is shorter than 80 ms (a shorter
one joins the neighbour closer in shape); a shape held longer than 1.2 s alternates with its neighbour
so that the mouth never freezes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..speech.phonemes import PhonemeSequence

BASIC = "ABCDEF"
EXTENDED = "GHX"
FALLBACK = {"G": "B", "H": "C", "X": "A"}

#: The shapes each ARPAbet phoneme allows, best first. Diphthongs are two shapes in sequence.
ALLOWED: dict[str, str] = {
    "AA": "D", "AE": "C", "AH": "C", "AO": "E", "EH": "C", "ER": "E", "IH": "B", "IY": "B", "UH": "F", "UW": "F",
    "M": "A", "B": "A", "P": "A", "F": "G", "V": "G", "W": "F", "R": "EB", "L": "HBC", "Y": "BC",
    "S": "B", "Z": "B", "SH": "BF", "ZH": "BF", "CH": "BF", "JH": "BF", "TH": "BC", "DH": "BC",
    "T": "BC", "D": "BC", "N": "BC", "NG": "BC", "K": "BCE", "G": "BCE", "HH": "BCDEF",
}  # fmt: skip
DIPHTHONGS: dict[str, tuple[str, str]] = {
    "AY": ("D", "B"),
    "AW": ("C", "F"),
    "EY": ("C", "B"),
    "OW": ("E", "F"),
    "OY": ("E", "B"),
}
# A diphthong too short to show both shapes shows the one that tells it.
SHORT_DIPHTHONGS = {"AY": "D", "AW": "C", "EY": "C", "OW": "F", "OY": "E"}
VOWELS = {"AA", "AE", "AH", "AO", "EH", "ER", "IH", "IY", "UH", "UW", *DIPHTHONGS}
#: How open each shape is, from closed (0) to wide open (1). With the rounding below it gives the distance
#: between shapes ("closest", tweens); ``metrics.openness`` scores cues against real lips with it.
OPENNESS = {"A": 0.0, "B": 1 / 3, "C": 2 / 3, "D": 1.0, "E": 0.6, "F": 1 / 3, "G": 0.7 / 3, "H": 0.6, "X": 0.2 / 3}
_OPEN = {shape: 3 * value for shape, value in OPENNESS.items()}
_ROUND = {"E": 1.0, "F": 2.0}
_BETWEEN = {
    frozenset("DA"): "C",
    frozenset("DB"): "C",
    frozenset("DF"): "E",
    frozenset("CA"): "B",
    frozenset("EA"): "B",
}

MIN_CUE = 0.08
ANTICIPATION = 0.2
LONG_AH = 0.15
HOLD_PAUSE, RELAXED_PAUSE = 0.12, 0.35
STATIC = 1.2


@dataclass(frozen=True)
class MouthCue:
    """A mouth shape from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    shape: str


@dataclass(frozen=True)
class _Cue(MouthCue):
    """A cue while the rules work on it: ``rank`` says what must survive: 3 a closure, 2 a vowel,
    1 a consonant, 0 a pause or a tween."""

    rank: int = 0


def distance(a: str, b: str) -> float:
    return abs(_OPEN[a] - _OPEN[b]) + abs(_ROUND.get(a, 0.0) - _ROUND.get(b, 0.0))


def mouth_cues(phonemes: PhonemeSequence, extended: str = EXTENDED) -> list[MouthCue]:
    """Rhubarb mouth cues covering ``[0, phonemes.duration]``; ``extended``: which of G, H and X the rig
    has (the others are replaced by their basic fallbacks)."""
    if set(extended) - set(EXTENDED):
        raise InputError(f"extended shapes are some of G, H, X, got {extended!r}")
    duration = float(phonemes.duration)
    if not duration > 0:
        raise InputError("the speech has no duration")
    segments = _segments(phonemes, duration)
    cues = _choose(segments)
    return _finished(cues, duration, extended)


# -- the stages ----------------------------------------------------------------------------------
@dataclass
class _Segment:
    start: float
    end: float
    allowed: str  # "" for silence
    phone: str


def _segments(phonemes: PhonemeSequence, duration: float) -> list[_Segment]:
    """Phonemes as segments with their allowed shapes; silence between them as "" segments."""
    out: list[_Segment] = []
    t = 0.0
    for p in phonemes.phonemes:
        start, end = max(t, float(p.start)), min(duration, float(p.end))
        if end <= start:
            continue
        if start > t + 1e-6:
            out.append(_Segment(t, start, "", "SIL"))
        phone = p.phone.upper().rstrip("012")
        if phone == "SIL" or (phone not in ALLOWED and phone not in DIPHTHONGS):
            out.append(_Segment(start, end, "", "SIL"))
        elif phone in DIPHTHONGS and end - start < 2 * MIN_CUE:
            out.append(_Segment(start, end, SHORT_DIPHTHONGS[phone], phone))
        elif phone in DIPHTHONGS:
            first, second = DIPHTHONGS[phone]
            split = start + 0.6 * (end - start)
            out += [_Segment(start, split, first, phone), _Segment(split, end, second, phone)]
        elif phone == "AH":
            out.append(_Segment(start, end, "D" if end - start > LONG_AH else "C", phone))
        else:
            out.append(_Segment(start, end, ALLOWED[phone], phone))
        t = end
    if t < duration - 1e-6:
        out.append(_Segment(t, duration, "", "SIL"))
    return out


def _choose(segments: list[_Segment]) -> list[MouthCue]:
    cues: list[MouthCue] = []
    previous = "X"
    for k, seg in enumerate(segments):
        if not seg.allowed:  # a pause
            length = seg.end - seg.start
            edge = k == 0 or k == len(segments) - 1
            if length < HOLD_PAUSE and not edge:
                shape = previous
            elif length <= RELAXED_PAUSE and not edge:
                shape = "B"
            else:
                shape = "X"
            cues.append(_Cue(seg.start, seg.end, shape, 0))
            previous = shape
            continue
        following = next((s for s in segments[k + 1 :] if s.allowed and s.phone in VOWELS), None)
        if (
            following is not None
            and following.start - seg.end < 1e-6  # the vowel comes right after
            and len(seg.allowed) > 1
            and following.allowed[0] in seg.allowed
        ):
            # The consonant already shows the coming vowel (anticipation), for at most 200 ms.
            shape = following.allowed[0]
            early = max(seg.start, seg.end - ANTICIPATION)
            if early > seg.start:
                other = min(seg.allowed, key=lambda s: distance(s, previous))
                cues.append(_Cue(seg.start, early, other, 1))
            cues.append(_Cue(early, seg.end, shape, 1))
            previous = shape
            continue
        shape = min(seg.allowed, key=lambda s: (distance(s, previous), seg.allowed.index(s)))
        rank = 3 if shape == "A" else 2 if seg.phone in VOWELS else 1
        cues.append(_Cue(seg.start, seg.end, shape, rank))
        previous = shape
    return _joined(cues)


def _closures(cues: list[MouthCue]) -> list[MouthCue]:
    """A closed mouth (A) lasts at least MIN_CUE, taking the time from the cue before it."""
    out = list(cues)
    for k in range(1, len(out)):
        cue = out[k]
        short = MIN_CUE - (cue.end - cue.start)
        if cue.shape != "A" or short <= 0:
            continue
        before = out[k - 1]
        take = min(short, max(0.0, (before.end - before.start) - MIN_CUE))
        if take > 0:
            out[k - 1] = replace(before, end=before.end - take)
            out[k] = replace(cue, start=cue.start - take)
    return out


def _tweens(cues: list[MouthCue]) -> list[MouthCue]:
    """Between distant shapes, 40-80 ms of the shape between them at their boundary: taken from the
    end of the first cue, or from the start of the second when the first is a closure (the lips
    stay shut until the release)."""
    out = list(cues)
    k = 0
    while k + 1 < len(out):
        first, second = out[k], out[k + 1]
        between = _BETWEEN.get(frozenset(first.shape + second.shape))
        if between is None or "X" in (first.shape, second.shape):
            k += 1
            continue
        donor = second if first.shape == "A" else first
        tween = min(0.08, (donor.end - donor.start) - MIN_CUE)
        if tween < 0.04:
            k += 1
            continue
        if donor is first:
            out[k : k + 2] = [
                replace(first, end=first.end - tween),
                _Cue(first.end - tween, first.end, between),
                second,
            ]
        else:
            out[k : k + 2] = [
                first,
                _Cue(second.start, second.start + tween, between),
                replace(second, start=second.start + tween),
            ]
        k += 2
    return out


def _merge_short(cues: list[MouthCue]) -> list[MouthCue]:
    """No cue shorter than MIN_CUE (a tween may be 40 ms): it joins the neighbour closer in shape."""
    out = _joined(cues)
    changed = True
    while changed and len(out) > 1:
        changed = False
        for k, cue in enumerate(out):
            if cue.end - cue.start >= MIN_CUE - 1e-9 or _is_tween(out, k):
                continue
            left = out[k - 1] if k > 0 else None
            right = out[k + 1] if k + 1 < len(out) else None
            if getattr(cue, "rank", 0) >= 2:  # a closure or a vowel stays if its neighbours can give way
                lengthened = _lengthen(out, k)
                if lengthened is not None:
                    out = lengthened
                    changed = True
                    break
            if left is None or (
                right is not None and distance(right.shape, cue.shape) < distance(left.shape, cue.shape)
            ):
                assert right is not None
                out[k + 1] = replace(right, start=cue.start)
            else:
                out[k - 1] = replace(left, end=cue.end)
            del out[k]
            out = _joined(out)
            changed = True
            break
    return out


def _lengthen(cues: list[MouthCue], k: int) -> list[MouthCue] | None:
    """Cue ``k`` made MIN_CUE long from its neighbours' spare time, or by swallowing the shorter
    neighbour when that one matters less (a lower rank); None when neither works."""
    out = list(cues)
    cue = out[k]
    lack = MIN_CUE - (cue.end - cue.start)
    start, end = cue.start, cue.end
    for side in (k - 1, k + 1):
        if lack <= 1e-9 or not 0 <= side < len(out):
            continue
        other = out[side]
        take = min(lack, max(0.0, (other.end - other.start) - MIN_CUE))
        if take <= 0:
            continue
        if side < k:
            out[side], start = replace(other, end=other.end - take), start - take
        else:
            out[side], end = replace(other, start=other.start + take), end + take
        lack -= take
    out[k] = replace(cue, start=start, end=end)
    if lack > 1e-9:
        sides = [j for j in (k - 1, k + 1) if 0 <= j < len(out)]
        j = min(sides, key=lambda j: out[j].end - out[j].start)
        if getattr(out[j], "rank", 0) >= getattr(cue, "rank", 0):
            return None
        out[min(j, k)] = replace(out[k], start=min(out[j].start, start), end=max(out[j].end, end))
        del out[max(j, k)]
    return _joined(out)


def _is_tween(cues: list[MouthCue], k: int) -> bool:
    if not 0 < k < len(cues) - 1 or cues[k].end - cues[k].start < 0.04 - 1e-9:
        return False
    return _BETWEEN.get(frozenset(cues[k - 1].shape + cues[k + 1].shape)) == cues[k].shape


def _break_static(cues: list[MouthCue]) -> list[MouthCue]:
    """A shape held over STATIC seconds (not at rest) alternates with its nearest shape every 0.3 s."""
    out: list[MouthCue] = []
    for cue in cues:
        if cue.shape in "AX" or cue.end - cue.start <= STATIC:
            out.append(cue)
            continue
        neighbour = min((s for s in "BCDE" if s != cue.shape), key=lambda s: distance(s, cue.shape))
        t, k = cue.start, 0
        while t < cue.end - 1e-9:
            step = min(0.3, cue.end - t)
            out.append(replace(cue, start=t, end=t + step, shape=cue.shape if k % 2 == 0 else neighbour))
            t, k = t + step, k + 1
    return _joined(out)


def _rig_shape(shape: str, extended: str) -> str:
    return shape if shape in BASIC or shape in extended else FALLBACK[shape]


def _rounded(cues: list[MouthCue], duration: float) -> list[MouthCue]:
    """Times on Rhubarb's centisecond grid; cues that vanish on it join their neighbours."""
    out: list[MouthCue] = []
    for cue in cues:
        start = out[-1].end if out else 0.0
        end = round(cue.end, 2) if cue is not cues[-1] else round(duration, 2)
        if end > start:
            out.append(replace(cue, start=start, end=end))
    return out


def _joined(cues: list[MouthCue]) -> list[MouthCue]:
    out: list[MouthCue] = []
    for cue in cues:
        if cue.end - cue.start <= 1e-9:
            continue
        if out and out[-1].shape == cue.shape:
            last = out[-1]
            if isinstance(last, _Cue) and isinstance(cue, _Cue):  # the joined cue matters as its weightier part
                out[-1] = replace(last, end=cue.end, rank=max(last.rank, cue.rank))
            else:
                out[-1] = replace(last, end=cue.end)
        else:
            out.append(cue)
    return out


# -- cues from curves ------------------------------------------------------------------------------
#: ``jawOpen`` read as a closed mouth (A) and as a wide-open one (D) when cues are chosen from curves
#: (chosen on the tune speakers of ``bench/bench_speech_lips.py``).
JAW_CLOSED, JAW_WIDE = 0.08, 0.4
#: Channel levels above which the lips are closed (A), round (E, F) or the lower lip tucked (G).
CLOSED, ROUND, TUCKED = 0.5, 0.35, 0.3
#: Phoneme sources whose timings are estimated from the sound alone: their gaps are not trusted as
#: pauses, and the jaw at rest marks them instead (on the tune speakers in the wild, cues with these
#: pauses follow the real lips better on 8 clips of 14 than with the estimated phonemes' gaps).
ESTIMATED = frozenset({"recognition", "visemenet"})


def curve_cues(curves, phonemes: PhonemeSequence | None = None, extended: str = EXTENDED) -> list[MouthCue]:
    """Rhubarb mouth cues covering the curves' duration, chosen frame by frame from the curves (how open
    the jaw is, lips closed, rounded or tucked) and then given Rhubarb's timing rules (closures held, tweens,
    no cue under 80 ms, no frozen mouth). Pauses come from ``phonemes`` where their times were given
    or aligned to a transcript (silence between them: held under 120 ms, relaxed to B up to 350 ms, at
    rest beyond), else (none, or times estimated from the sound alone: :data:`ESTIMATED`) from a jaw at
    rest.

    The openness of each frame's shape (:data:`OPENNESS`) is the jaw's, ``jawOpen`` from
    :data:`JAW_CLOSED` (0) to :data:`JAW_WIDE` (1), taken to the nearest of closed, B, C and D; a rounded mouth takes E or F at that openness, a tucked lower lip G,
    closed lips A."""
    if set(extended) - set(EXTENDED):
        raise InputError(f"extended shapes are some of G, H, X, got {extended!r}")
    count = curves.num_frames
    if count == 0:
        raise InputError("the curves have no frames")
    rate = float(curves.fps)
    duration = count / rate
    jaw = (curves.channel("jawOpen") - JAW_CLOSED) / (JAW_WIDE - JAW_CLOSED)
    closed = curves.channel("mouthClose")
    rounded = np.maximum(curves.channel("mouthFunnel"), curves.channel("mouthPucker"))
    tucked = curves.channel("mouthRollLower")
    shapes, rest = [], np.zeros(count, bool)
    for k in range(count):
        level = float(jaw[k])
        if closed[k] >= CLOSED and level < 0.5:
            shape = "A"
        elif tucked[k] >= TUCKED and level < 0.5:
            shape = "G"
        elif level < 1 / 6:
            shape, rest[k] = "A", True
        elif rounded[k] >= ROUND:
            shape = "F" if level < 0.5 else "E"
        else:
            shape = "B" if level < 0.5 else "C" if level < 5 / 6 else "D"
        shapes.append(shape)
    if phonemes is not None and phonemes.source not in ESTIMATED:
        pauses = _pauses(phonemes, count, rate)
    else:
        pauses = _rest_pauses(rest, rate)
    cues: list[MouthCue] = []
    for k, shape in enumerate(shapes):
        rank = 3 if shape == "A" else 2 if shape in "CDE" else 1
        cues.append(_Cue(k / rate, min((k + 1) / rate, duration), shape, rank))
    cues = _joined(cues)
    cues = _with_pauses(cues, pauses)
    return _finished(cues, duration, extended)


def _pauses(phonemes: PhonemeSequence, count: int, rate: float) -> list[tuple[float, float]]:
    """The silences between spoken phonemes, ``(start, end)`` in seconds, over ``count`` frames."""
    duration = count / rate
    out, t = [], 0.0
    for p in phonemes.speech:
        if p.start > t + 1e-6:
            out.append((t, min(float(p.start), duration)))
        t = max(t, float(p.end))
    if t < duration - 1e-6:
        out.append((t, duration))
    return [(a, b) for a, b in out if b > a]


def _rest_pauses(rest: np.ndarray, rate: float) -> list[tuple[float, float]]:
    """Without phonemes: stretches of 120 ms or more where the mouth is at rest (the jaw shut, the lips
    neither pressed, tucked nor rounded)."""
    low = np.concatenate([[False], rest, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(low))
    return [(a / rate, b / rate) for a, b in zip(edges[::2], edges[1::2]) if (b - a) / rate >= HOLD_PAUSE]


def _with_pauses(cues: list[MouthCue], pauses: list[tuple[float, float]]) -> list[MouthCue]:
    """Rhubarb's pauses: under 120 ms the mouth holds its shape, up to 350 ms it relaxes to B (a closed
    mouth stays closed), longer ones (and those at the ends) rest at X."""
    duration = cues[-1].end if cues else 0.0
    out = list(cues)
    for start, end in pauses:
        length = end - start
        edge = start <= 1e-6 or end >= duration - 1e-6
        if length < HOLD_PAUSE and not edge:
            continue
        kept = [c for c in out if c.end <= start + 1e-9 or c.start >= end - 1e-9]
        inside = [c for c in out if c.end > start + 1e-9 and c.start < end - 1e-9]
        pieces = []
        for c in inside:  # the parts of the cues outside the pause stay
            if c.start < start:
                pieces.append(replace(c, end=start))
            if c.end > end:
                pieces.append(replace(c, start=end))
        if length <= RELAXED_PAUSE and not edge:
            closed = bool(inside) and all(c.shape == "A" for c in inside)
            shape = "A" if closed else "B"
        else:
            shape = "X"
        out = sorted([*kept, *pieces, _Cue(start, end, shape, 0)], key=lambda c: c.start)
    return _joined(out)


def _finished(cues: list[MouthCue], duration: float, extended: str) -> list[MouthCue]:
    """The chosen shapes made into cues as Rhubarb's are: closures before the lips open, tweens between
    distant shapes, no cue too short to see, no shape held still too long, only the rig's shapes, and
    times on the cue grid."""
    cues = _closures(cues)
    cues = _tweens(cues)
    cues = _merge_short(cues)
    cues = _break_static(cues)
    cues = [MouthCue(c.start, c.end, _rig_shape(c.shape, extended)) for c in cues]
    return _joined(_rounded(cues, duration))
