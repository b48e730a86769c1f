"""The JALI procedural animator: timed phonemes (+ audio) -> viseme curves -> ARKit-52 weights.

After Edwards et al., "JALI: An Animator-Centric Viseme Model for Expressive Lip Synchronization"
(SIGGRAPH 2016). Each phoneme becomes a viseme event whose activation rises before the sound (onset
120 ms; lip-heavy visemes 160 ms), peaks when the sound starts (apex), holds to 75% of it (sustain)
and decays over 120 ms (lip-heavy: 150 ms of protrusion). Co-articulation rules:

- duplicates merge: consecutive phonemes with one viseme are one event ("pop man": one long closure);
- lip-heavy visemes (UW OW OY W S Z JH CH SH ZH) start early, end late and replace the lip shape of
  their neighbours, except bilabials and labiodentals, with which they are co-articulated;
- tongue-only visemes (L N T D NG G K) leave the lips to their neighbours: a vowel's lip shape
  reaches back over the tongue-only consonants before it in its word (look-ahead within a word) and,
  at the end of a word, forward over those after it (the last phoneme looks back);
- obstruents and nasals shorter than a frame do not move the jaw.

Hard constraints are applied last: bilabials close the lips (mouthClose -> 1, jawOpen -> 0 at the
apex, held for at least one frame so that no closure falls between frames), labiodentals tuck the
lower lip, sibilants narrow the jaw. The JA/LI field scales the jaw part
of each pose by JA and the lip part by LI; both come from the audio (vowel intensity -> JA;
intensity, stress and fricative high-frequency energy -> LI) and can be shifted from "mumble" to
"enunciate" or fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .. import choices
from ..errors import InputError
from ..settings import setting
from ..speech.phonemes import MANNER, SILENCE, VOWELS, PhonemeSequence
from ..speech.visemes import ARKIT_52, JALI_MAP, JALI_VISEMES, JAW_CHANNELS, VISEME_POSES
from ..timebase import num_frames_for_duration, to_fps
from .curves import AnimationCurves

LIP_HEAVY = frozenset({"UW", "OW", "OY", "W", "S", "Z", "JH", "CH", "SH", "ZH"})
TONGUE_ONLY = frozenset({"L", "N", "T", "D", "NG", "G", "K"})
BILABIAL = frozenset({"M", "B", "P"})
LABIODENTAL = frozenset({"F", "V"})
SIBILANT = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
OBSTRUENT_OR_NASAL = frozenset(p for p, m in MANNER.items() if m in ("stop", "fricative", "affricate", "nasal"))

STYLES = dict(zip(choices.STYLES, (-0.3, -0.15, 0.0, 0.15, 0.3), strict=True))

_NAMES = ARKIT_52
_INDEX = {n: i for i, n in enumerate(_NAMES)}
_JAW_MASK = np.array([n in JAW_CHANNELS for n in _NAMES])


def _pose_vector(viseme: str) -> np.ndarray:
    v = np.zeros(len(_NAMES), np.float64)
    for name, value in VISEME_POSES[viseme].items():
        v[_INDEX[name]] = value
    return v


@dataclass(frozen=True)
class JaliConfig:
    """Settings of :class:`JaliAnimator` (times in seconds).

    Attributes:
        onset, decay: rise before the apex and fall after the sustain, for most visemes.
        lip_onset, lip_decay: the same for lip-heavy visemes (anticipation and protrusion).
        sustain: fraction of the phoneme held at the apex.
        style: "mumble", "relaxed", "normal", "clear" or "enunciate": shifts both JA and LI.
        jaw, lip: fixed JA / LI values in [0, 1] instead of the field from the audio.
    """

    onset: float = 0.12
    decay: float = 0.12
    lip_onset: float = 0.16
    lip_decay: float = 0.15
    sustain: float = 0.75
    style: str = setting("normal", "how clearly the mouth articulates", choices=choices.STYLES)
    jaw: float | None = None
    lip: float | None = None

    def __post_init__(self):
        if self.style not in STYLES:
            raise InputError(f"style must be one of {', '.join(STYLES)}, got {self.style!r}")
        for name in ("jaw", "lip"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise InputError(f"{name} must be in [0, 1], got {value}")
        if min(self.onset, self.decay, self.lip_onset, self.lip_decay) <= 0 or not 0 < self.sustain <= 1:
            raise InputError(f"timings must be positive and sustain in (0, 1]: {self}")


@dataclass
class _Event:
    viseme: str
    phones: list[str]
    start: float
    end: float
    word: int | None
    stress: int | None
    last_start: float = 0.0  # start of the last phoneme merged into this event
    jaw_moves: bool = True
    lip_start: float = 0.0
    lip_end: float = 0.0
    ja: float = 0.45
    li: float = 0.5
    pose: np.ndarray | None = field(default=None, repr=False)  # set by JaliAnimator._events

    def sustain_end(self, sustain: float) -> float:
        """The apex holds through the merged phonemes and ``sustain`` of the last one."""
        return self.last_start + sustain * (self.end - self.last_start)

    @property
    def first(self) -> str:
        return self.phones[0]

    @property
    def lip_heavy(self) -> bool:
        return any(p in LIP_HEAVY for p in self.phones)

    @property
    def tongue_only(self) -> bool:
        return all(p in TONGUE_ONLY for p in self.phones)

    @property
    def labial(self) -> bool:
        return self.first in BILABIAL or self.first in LABIODENTAL

    @property
    def vowel(self) -> bool:
        return self.first in VOWELS


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def envelope(t: np.ndarray, rise_start: float, apex: float, hold_end: float, fall_end: float) -> np.ndarray:
    """Activation over times ``t``: eased rise to 1 at ``apex``, hold to ``hold_end``, eased fall."""
    out = np.zeros_like(t)
    rising = (t >= rise_start) & (t < apex)
    out[rising] = _smoothstep((t[rising] - rise_start) / max(apex - rise_start, 1e-6))
    out[(t >= apex) & (t <= hold_end)] = 1.0
    falling = (t > hold_end) & (t < fall_end)
    out[falling] = 1.0 - _smoothstep((t[falling] - hold_end) / max(fall_end - hold_end, 1e-6))
    return out


class JaliAnimator:
    """Timed phonemes (and optionally the audio) -> per-frame ARKit-52 curves.

    Example::

        curves = JaliAnimator().animate(phonemes, fps=30, audio=samples, sample_rate=16000)
        curves.channel("jawOpen")   # (T,) with T = ceil(duration * fps)
    """

    def __init__(self, config: JaliConfig = JaliConfig()):
        self.config = config

    def animate(
        self,
        phonemes: PhonemeSequence,
        fps: float | Fraction = 30,
        audio: np.ndarray | None = None,
        sample_rate: int | None = None,
    ) -> AnimationCurves:
        """Curves for ``phonemes`` at ``fps`` covering ``phonemes.duration`` seconds.

        Returns AnimationCurves with the 52 ARKit channels, plus extras ``visemes`` ``(T, 20)``
        (JALI viseme activations, VisemeNet order) and ``jali`` ``(T, 2)`` (the JA and LI field).
        """
        rate = to_fps(fps)
        if audio is not None and (sample_rate is None or sample_rate <= 0):
            raise InputError("sample_rate is required with audio")
        num_frames = num_frames_for_duration(phonemes.duration, rate)
        t = np.arange(num_frames, dtype=np.float64) / float(rate)
        events = self._events(phonemes, float(rate))
        self._field(events, audio, sample_rate)
        return self._curves(events, t, rate)

    # -- events and rules --------------------------------------------------------------------
    def _events(self, phonemes: PhonemeSequence, fps: float) -> list[_Event]:
        events: list[_Event] = []
        for p in phonemes.phonemes:
            if p.phone == SILENCE or p.duration <= 0:
                continue
            viseme = JALI_MAP[p.phone]
            last = events[-1] if events else None
            if last is not None and last.viseme == viseme and p.start - last.end < 0.05:
                last.phones.append(p.phone)  # duplicates merge
                last.end, last.last_start = p.end, p.start
                continue
            events.append(_Event(viseme, [p.phone], p.start, p.end, p.word, p.stress, last_start=p.start))
        frame = max(1.0 / fps, 1.0 / 24)
        for _k, e in enumerate(events):
            e.pose = _pose_vector(e.viseme)
            e.jaw_moves = not (e.first in OBSTRUENT_OR_NASAL and e.end - e.start < frame)
            e.lip_start, e.lip_end = e.start, e.sustain_end(self.config.sustain)
        self._lip_coarticulation(events)
        return events

    @staticmethod
    def _lip_coarticulation(events: list[_Event]) -> None:
        """Vowels and lip-heavy visemes take over the lips of tongue-only consonants in their word."""
        for k, e in enumerate(events):
            if not (e.vowel or e.lip_heavy) or e.tongue_only:
                continue
            # Look ahead: the tongue-only consonants right before it in its word already show its lips.
            j = k - 1
            while j >= 0 and events[j].tongue_only and events[j].word == e.word and e.word is not None:
                e.lip_start = events[j].start
                j -= 1
            # Look back: word-final tongue-only consonants keep it (if no vowel follows in the word).
            j = k + 1
            tail = []
            while j < len(events) and events[j].word == e.word and e.word is not None and events[j].tongue_only:
                tail.append(events[j])
                j += 1
            ends_word = j >= len(events) or events[j].word != e.word
            if tail and ends_word:
                e.lip_end = max(e.lip_end, tail[-1].end)

    def _field(self, events: list[_Event], audio: np.ndarray | None, sample_rate: int | None) -> None:
        """JA and LI per event, from the audio when given (see the module docstring)."""
        cfg = self.config
        if audio is not None and len(events):
            assert sample_rate is not None  # animate() requires it with audio
            audio = np.asarray(audio, np.float64)
            energy = np.concatenate([[0.0], np.cumsum(audio * audio)])  # level of any span in O(1)
            loudness = np.array([_level_db(energy, sample_rate, e.start, e.end) for e in events])
            vowels = np.array([e.vowel for e in events])
            ref = loudness[vowels] if vowels.any() else loudness
            mu, sd = float(np.mean(ref)), float(np.std(ref)) + 1.0
            fric = np.array([e.first in SIBILANT or e.first in LABIODENTAL or e.first in ("TH", "DH") for e in events])
            hf = np.zeros(len(events))
            hf[fric] = [_high_band_ratio(audio, sample_rate, e.start, e.end) for e, f in zip(events, fric) if f]
            hf_mu, hf_sd = (float(np.mean(hf[fric])), float(np.std(hf[fric])) + 0.05) if fric.any() else (0.5, 0.2)
            for k, e in enumerate(events):
                z = (loudness[k] - mu) / sd
                e.ja = float(np.interp(z, [-1.0, 0.0, 1.0], [0.15, 0.45, 0.8]))
                if e.vowel:
                    e.li = float(np.interp(z + (0.5 if e.stress == 1 else 0.0), [-1.0, 0.0, 1.0], [0.3, 0.5, 0.8]))
                elif fric[k]:
                    e.li = float(np.interp((hf[k] - hf_mu) / hf_sd, [-1.0, 0.0, 1.0], [0.3, 0.5, 0.8]))
        else:
            for e in events:
                e.ja = 0.45 + (0.1 if e.stress == 1 else -0.05 if e.stress == 0 else 0.0)
        shift = STYLES[cfg.style]
        for e in events:
            e.ja = cfg.jaw if cfg.jaw is not None else float(np.clip(e.ja + shift, 0.05, 1.0))
            e.li = cfg.lip if cfg.lip is not None else float(np.clip(e.li + shift, 0.05, 1.0))

    # -- curves ------------------------------------------------------------------------------
    def _curves(self, events: list[_Event], t: np.ndarray, fps: Fraction) -> AnimationCurves:
        cfg = self.config
        n = len(t)
        rate = float(fps)
        jaw_sum = np.zeros((n, len(_NAMES)))
        jaw_weight = np.zeros(n)
        lip_sum = np.zeros((n, len(_NAMES)))
        lip_weight = np.zeros(n)
        visemes = np.zeros((n, len(JALI_VISEMES)), np.float32)
        field_sum = np.zeros((n, 2))
        field_weight = np.zeros(n)
        lip_heavy_level = np.zeros(n)
        spans = []
        for e in events:
            heavy = e.lip_heavy
            onset = cfg.lip_onset if heavy else cfg.onset
            decay = cfg.lip_decay if heavy else cfg.decay
            hold = e.sustain_end(cfg.sustain)
            if e.labial:
                # A closure shorter than a frame would fall between frames: hold it for one.
                hold = max(hold, e.last_start + 1.0 / rate)
            lip_hold = max(e.lip_end, hold)
            # Each event only touches the frames of its own support.
            first = max(0, int(np.floor(min(e.start - cfg.onset, e.lip_start - onset) * rate)))
            last = min(n, int(np.ceil(max(hold + cfg.decay, lip_hold + decay) * rate)) + 1)
            window = slice(first, last)
            tw = t[window]
            jaw_env = envelope(tw, e.start - cfg.onset, e.start, hold, hold + cfg.decay)
            lip_env = envelope(tw, e.lip_start - onset, e.lip_start, lip_hold, lip_hold + decay)
            spans.append((e, window, jaw_env, lip_env))
            if heavy:
                np.maximum(lip_heavy_level[window], lip_env, out=lip_heavy_level[window])
        for e, window, jaw_env, lip_env in spans:
            assert e.pose is not None  # set by _events
            scaled = e.pose * np.where(_JAW_MASK, e.ja / 0.45, e.li / 0.5)
            if e.jaw_moves:
                jaw_sum[window] += jaw_env[:, None] * np.where(_JAW_MASK, scaled, 0.0)
                jaw_weight[window] += jaw_env
            if not e.tongue_only:
                weight = lip_env if (e.lip_heavy or e.labial) else lip_env * (1.0 - lip_heavy_level[window])
                lip_sum[window] += weight[:, None] * np.where(_JAW_MASK, 0.0, scaled)
                lip_weight[window] += weight
            both = np.maximum(jaw_env, lip_env)
            column = JALI_VISEMES.index(e.viseme)
            np.maximum(visemes[window, column], both, out=visemes[window, column])
            field_sum[window] += both[:, None] * (e.ja, e.li)
            field_weight[window] += both
        values = jaw_sum / np.maximum(jaw_weight, 1.0)[:, None] + lip_sum / np.maximum(lip_weight, 1.0)[:, None]
        values = self._constraints(values, spans)
        jali = field_sum / np.maximum(field_weight, 1e-6)[:, None]
        return AnimationCurves(
            fps=fps,
            names=_NAMES,
            values=np.clip(values, 0.0, 1.0).astype(np.float32),
            extra={"visemes": visemes, "jali": jali.astype(np.float32)},
            extra_names={"visemes": JALI_VISEMES, "jali": ("JA", "LI")},
        )

    @staticmethod
    def _constraints(values: np.ndarray, spans) -> np.ndarray:
        jaw = _INDEX["jawOpen"]
        for e, window, jaw_env, _ in spans:
            part = values[window]
            if e.first in BILABIAL:
                part += jaw_env[:, None] * (e.pose - part)  # lips closed, jaw shut at the apex
            elif e.first in LABIODENTAL:
                lips = ~_JAW_MASK & (e.pose > 0)
                part[:, lips] = np.maximum(part[:, lips], jaw_env[:, None] * e.pose[lips])
                part[:, jaw] += jaw_env * (np.minimum(part[:, jaw], 0.08) - part[:, jaw])
            elif e.first in SIBILANT:
                part[:, jaw] += jaw_env * (np.minimum(part[:, jaw], 0.1) - part[:, jaw])
        return values


def _segment(audio: np.ndarray, sample_rate: int, start: float, end: float) -> np.ndarray:
    a, b = int(start * sample_rate), int(math.ceil(end * sample_rate))
    return audio[max(0, a) : max(a + 1, b)]


def _level_db(energy: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    """Mean power in dB of ``[start, end)`` from the cumulative energy of the samples."""
    n = len(energy) - 1
    a = min(n, max(0, int(start * sample_rate)))
    b = min(n, max(a + 1, int(math.ceil(end * sample_rate))))
    if b <= a:
        return -100.0
    return float(10 * np.log10((energy[b] - energy[a]) / (b - a) + 1e-10))


def _high_band_ratio(audio: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    """Share of the energy above 3 kHz (fricatives: how hard the lips and teeth shape the noise)."""
    seg = _segment(audio, sample_rate, start, end)
    if seg.size < 16:
        return 0.0
    power = np.abs(np.fft.rfft(seg * np.hanning(seg.size))) ** 2
    freqs = np.fft.rfftfreq(seg.size, 1.0 / sample_rate)
    total = power.sum()
    return float(power[freqs >= 3000].sum() / total) if total > 0 else 0.0


def pose_curves(visemes: np.ndarray, jali: np.ndarray) -> np.ndarray:
    """Per-frame viseme weights ``(T, 20)`` (JALI order) and the JA/LI field ``(T, 2)`` -> ARKit-52
    values ``(T, 52)`` in [0, 1], the way :class:`JaliAnimator` mixes its events: the jaw part of each
    viseme's pose scaled by JA, the lip part by LI, each part averaged over the visemes that are on (a
    sum of weights up to 1 is kept as it is), then the hard constraints: bilabials close the lips,
    labiodentals tuck the lower lip, sibilants narrow the jaw, in proportion to their weight."""
    weights = np.clip(np.asarray(visemes, np.float64), 0.0, 1.0)
    field = np.asarray(jali, np.float64)
    if weights.ndim != 2 or weights.shape[1] != len(JALI_VISEMES) or field.shape != (len(weights), 2):
        raise InputError(
            f"expected visemes (T, {len(JALI_VISEMES)}) and jali (T, 2), got {weights.shape}, {field.shape}"
        )
    poses = np.stack([_pose_vector(v) for v in JALI_VISEMES])  # (20, 52)
    total = np.maximum(weights.sum(1, keepdims=True), 1.0)
    jaw = (weights @ np.where(_JAW_MASK, poses, 0.0)) / total * (field[:, :1] / 0.45)
    lips = (weights @ np.where(_JAW_MASK, 0.0, poses)) / total * (field[:, 1:] / 0.5)
    values = jaw + lips
    jaw_index = _INDEX["jawOpen"]
    for viseme in ("MBP", "FV", "S", "ShChZh"):
        w = weights[:, JALI_VISEMES.index(viseme)]
        pose = poses[JALI_VISEMES.index(viseme)]
        if viseme == "MBP":
            values += w[:, None] * (pose - values)
        elif viseme == "FV":
            tuck = ~_JAW_MASK & (pose > 0)
            values[:, tuck] = np.maximum(values[:, tuck], w[:, None] * pose[tuck])
            values[:, jaw_index] += w * (np.minimum(values[:, jaw_index], 0.08) - values[:, jaw_index])
        else:
            values[:, jaw_index] += w * (np.minimum(values[:, jaw_index], 0.1) - values[:, jaw_index])
    return np.clip(values, 0.0, 1.0).astype(np.float32)
