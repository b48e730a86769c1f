"""Training data for VisemeNet, made here: per 10 ms step, the audio features and what the mouth does.

Two kinds of utterance:

- **Synthetic speech** (:func:`synthetic_utterance`): espeak-ng in any of its languages and voice
  variants, at random rates and pitches, saying random numbers (every language speaks them in its own
  words) and, where the language reads Latin letters itself, random pseudo-words; English voices also
  read real sentences. espeak-ng reports its exact phoneme timings, so every target is known: the phoneme
  group of each step, the JALI viseme activations and JA/LI field (:class:`~talkingface.animation.JaliAnimator`
  on the exact timings, at 100 frames/s), and the lips of the built-in face driven by those curves. The
  audio is then degraded at random: gain, noise, a room's reverberation, a telephone or radio band,
  the G.711 mu-law codec.
- **Real clips** (:func:`real_utterance`): a preprocessed clip (``talkingface preprocess``) gives the
  speaker's real lips, measured by the tracker in every video frame; they are the lip targets. Its other
  targets are unknown (masked in the loss) unless timed phonemes are given (forced alignment of a
  transcript), which also give the phoneme groups.

Lips are the 40 lip landmarks of the face topology in the frontal frame of
:func:`~talkingface.features.lips.lip_shapes`, minus the utterance's median shape: real and synthetic
faces differ in their mouths at rest, not in how speech moves them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from ..animation import JaliAnimator, JaliConfig
from ..animation.blendshapes import face_basis
from ..animation.jali import STYLES
from ..data.lrs2 import ClipData
from ..errors import InputError, MediaError
from ..files import atomic_output
from ..native import quiet_stderr
from ..speech.espeak import _LOCK, _engine, _ipa_clauses, synthesize
from ..speech.phonemes import Phoneme, PhonemeSequence
from ..speech.sentences import SENTENCES
from ..speech.visemes import GROUP_OF

#: Steps per second of the features and targets.
STEP_RATE = 100
SAMPLE_RATE = 16000

#: Target of a step whose phoneme is unknown (ignored by the loss).
UNKNOWN = -1


@dataclass
class Utterance:
    """One utterance's features and targets, per 10 ms step (``T`` steps).

    Attributes:
        name: where it came from.
        features: ``(T, 65) float32`` (:func:`~talkingface.features.visemenet.visemenet_features`).
        lips: ``(T, 80) float32`` lip motion, NaN where unknown.
        groups: ``(T,) int64`` phoneme group, :data:`UNKNOWN` where unknown.
        visemes: ``(T, 20) float32`` JALI viseme activations, or None (unknown).
        jali: ``(T, 2) float32`` JA and LI, or None.
        language: espeak-ng language, or "" for real speech.
    """

    name: str
    features: np.ndarray
    lips: np.ndarray
    groups: np.ndarray
    visemes: np.ndarray | None = None
    jali: np.ndarray | None = None
    language: str = ""
    real: bool = field(default=False)

    def __len__(self) -> int:
        return len(self.features)


def step_groups(phonemes: PhonemeSequence, steps: int) -> np.ndarray:
    """The phoneme group at the centre of each 10 ms step's 25 ms frame (silence between phonemes)."""
    centres = (np.arange(steps) * 160 + 200) / SAMPLE_RATE
    groups = np.zeros(steps, np.int64)
    for p in phonemes.phonemes:
        a, b = np.searchsorted(centres, [p.start, p.end])
        groups[a:b] = GROUP_OF[p.phone]
    return groups


@lru_cache(maxsize=1)
def _rig():
    """The built-in face's blendshapes and its lips at rest."""

    return face_basis()


def rig_lips(curves) -> np.ndarray:
    """ARKit curves -> the built-in face's lips ``(T, 80)`` in the frontal frame (not centred)."""
    from ..features.lips import lip_shapes

    basis = _rig()
    vertices = basis.evaluate(basis.weights_from(curves)) * np.array([1.0, -1.0, -1.0], np.float32)  # image axes
    return lip_shapes(vertices, frame="frontal")


def _centred(lips: np.ndarray) -> np.ndarray:
    known = np.isfinite(lips).all(axis=1)
    if not known.any():
        return lips.astype(np.float32)
    return (lips - np.median(lips[known], axis=0)).astype(np.float32)


# -- synthetic speech --------------------------------------------------------------------------------
_SYLLABLE_ONSETS = ("", "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "sh", "ch")
_SYLLABLE_VOWELS = ("a", "e", "i", "o", "u", "ai", "au", "ei", "ou")
_SYLLABLE_CODAS = ("", "", "", "n", "m", "s", "t", "l", "r", "k")
# Letters of the scripts of the voices that read neither Latin letters nor digits.
_CYRILLIC = ("бдгклмнпрстшч", "аеиоуыэя")
_SCRIPTS = {"cv": _CYRILLIC, "nog": _CYRILLIC, "he": ("בגדהזכלמנפרשת", "אוי")}


@cache
def reads_latin(language: str) -> bool:
    """Whether espeak-ng reads Latin letters in ``language``'s own rules (not by switching to English)."""

    with _LOCK, quiet_stderr():
        engine = _engine()
        engine.set_voice(language, 175, 50, 50, 0)
        ipa = "".join(_ipa_clauses(engine, "tanimolu kesa"))
    return "(" not in ipa


def languages() -> list[str]:
    """Every language espeak-ng lists."""

    return sorted(_engine().voice_files())


def utterance_text(rng: np.random.Generator, language: str) -> str:
    """Random words to speak in ``language``: numbers, pseudo-words (in Latin letters where it reads
    them itself; in its own script for the few voices that read neither Latin letters nor digits), and
    for English, real sentences."""

    parts: list[str] = []
    latin = reads_latin(language)
    for k in range(int(rng.integers(2, 6))):
        kind = rng.random()
        if language.startswith("en") and kind < 0.4:
            parts.append(str(rng.choice(SENTENCES)))
        elif language in _SCRIPTS and (kind < 0.7 or k == 0):
            consonants, vowels = _SCRIPTS[language]
            words = [
                "".join(rng.choice(list(consonants)) + rng.choice(list(vowels)) for _ in range(3)) for _ in range(2)
            ]
            parts.append(" ".join(words) + ".")
        elif latin and (kind < 0.7 or k == 0):  # some voices (Cherokee) speak no digits
            words = []
            for _ in range(int(rng.integers(1, 4))):
                syllables = int(rng.integers(1, 4))
                words.append(
                    "".join(
                        rng.choice(_SYLLABLE_ONSETS) + rng.choice(_SYLLABLE_VOWELS) + rng.choice(_SYLLABLE_CODAS)
                        for _ in range(syllables)
                    )
                )
            parts.append(" ".join(words) + str(rng.choice([",", ".", "", "?"])))
        else:
            parts.append(str(int(rng.integers(0, 10 ** int(rng.integers(1, 7))))) + str(rng.choice([",", ".", ""])))
    return " ".join(parts)


def degrade(audio: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Random recording conditions on 16 kHz speech: gain, room reverberation, a band limit, noise and
    the G.711 mu-law codec (each with some probability; ``strength`` 0 leaves the audio as it is)."""
    from scipy.signal import butter, fftconvolve, sosfilt

    x = np.asarray(audio, np.float64)
    if strength <= 0 or len(x) == 0:
        return x.astype(np.float32)
    if rng.random() < 0.4 * strength:  # a room: exponentially decaying noise as the impulse response
        rt60 = rng.uniform(0.15, 0.7)
        n = int(rt60 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        response = rng.normal(size=n) * np.exp(-6.9 * t / rt60)
        response[0] = 1.0 / rng.uniform(0.3, 1.0)  # the direct sound
        wet = fftconvolve(x, response)[: len(x)]
        x = wet * (np.abs(x).max() / max(np.abs(wet).max(), 1e-9))
    if rng.random() < 0.35 * strength:  # telephone, radio or a poor microphone
        low, high = rng.choice([(300.0, 3400.0), (100.0, 5000.0), (60.0, 7000.0)])
        sos = butter(4, [low, high], btype="band", fs=SAMPLE_RATE, output="sos")
        x = sosfilt(sos, x)
    peak = np.abs(x).max()
    if peak > 0:
        x = x / peak * 10 ** rng.uniform(-1.6, -0.05)  # gain: -32 to -0.4 dBFS peak
    if rng.random() < 0.6 * strength:
        level = np.sqrt(np.mean(x**2)) + 1e-9
        snr = rng.uniform(5.0, 40.0)
        noise = rng.normal(size=len(x))
        if rng.random() < 0.5:  # pink-ish: more energy low
            noise = np.cumsum(noise) * 0.05
            noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
        x = x + noise / (np.sqrt(np.mean(noise**2)) + 1e-12) * level * 10 ** (-snr / 20)
    if rng.random() < 0.15 * strength:  # G.711 mu-law at 8 bits
        mu = 255.0
        y = np.sign(x) * np.log1p(mu * np.clip(np.abs(x), 0, 1)) / np.log1p(mu)
        y = np.round(y * 127) / 127
        x = np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu
    return np.clip(x, -1, 1).astype(np.float32)


def synthetic_utterance(
    rng: np.random.Generator, language: str, augment: float = 1.0, variants: Sequence[str] | None = None
) -> Utterance:
    """One random espeak-ng utterance in ``language`` with all its targets (see the module), in the
    language's own voice or one of ``variants`` (None: any installed variant)."""
    from ..features.visemenet import visemenet_features
    from ..media.audio import resample

    if variants is None:
        variants = sorted(v for v in _engine().variants() if v != "klatt")
    plain = rng.random() < 0.3
    voice = language if plain or not variants else f"{language}+{rng.choice(list(variants))}"
    text = utterance_text(rng, language)
    speech = synthesize(
        text,
        voice=voice,
        rate=int(rng.integers(110, 280)),
        pitch=int(rng.integers(10, 90)),
        pitch_range=int(rng.integers(10, 90)),
        word_gap=int(rng.choice([0, 0, 0, 5, 15])),
    )
    audio = resample(speech.audio, speech.sample_rate, SAMPLE_RATE)
    lead, tail = rng.uniform(0.05, 0.6, size=2)
    audio = np.concatenate(
        [np.zeros(int(lead * SAMPLE_RATE), np.float32), audio, np.zeros(int(tail * SAMPLE_RATE), np.float32)]
    )
    duration = len(audio) / SAMPLE_RATE
    phonemes = PhonemeSequence(
        [Phoneme(p.phone, p.start + lead, p.end + lead, p.stress, p.word) for p in speech.phonemes.phonemes],
        speech.phonemes.words,
        duration=duration,
        source="espeak",
    )
    features = visemenet_features(degrade(audio, rng, augment))
    steps = len(features)
    style = str(rng.choice(list(STYLES)))
    curves = JaliAnimator(JaliConfig(style=style)).animate(phonemes, STEP_RATE, audio, SAMPLE_RATE)
    # Curves hold frame t at t / 100 s; step t's frame is centred 12.5 ms later: take the nearer frame.
    index = np.minimum(np.arange(steps) + 1, curves.num_frames - 1)
    lips = _centred(rig_lips(curves)[index])
    return Utterance(
        name=f"{voice} {text[:40]}",
        features=features,
        lips=lips,
        groups=step_groups(phonemes, steps),
        visemes=curves.extra["visemes"][index].astype(np.float32),
        jali=curves.extra["jali"][index].astype(np.float32),
        language=language,
    )


# -- real clips --------------------------------------------------------------------------------------
def real_utterance(
    folder: str | os.PathLike,
    phonemes: PhonemeSequence | None = None,
    rng: np.random.Generator | None = None,
    augment: float = 0.0,
    speed: float = 1.0,
) -> Utterance:
    """A preprocessed clip's speech and its measured lips (the clip's fps resampled to 100 steps/s);
    with ``phonemes`` (timed on the clip's speech) its phoneme groups too. ``speed`` plays the clip
    that many times faster (the speech resampled, its pitch moving with it; lips and phonemes follow)."""
    from ..features.lips import lip_shapes
    from ..features.visemenet import visemenet_features
    from ..media.audio import change_speed

    if not 0.5 <= speed <= 2.0:
        raise InputError(f"speed must be within 0.5-2, got {speed}")
    clip = ClipData(folder)
    audio = clip.audio
    audio = change_speed(audio, speed)
    if augment and rng is not None:
        audio = degrade(audio, rng, augment)
    features = visemenet_features(audio)
    steps = len(features)
    landmarks = clip.landmarks
    if landmarks.ndim != 3 or landmarks.shape[2] != 3 or len(landmarks) < 2:
        raise InputError(f"{folder}: needs 3D landmarks of two frames or more, got {landmarks.shape}")
    lips = lip_shapes(landmarks, frame="frontal")
    fps = float(clip.info.fps) * speed
    centres = (np.arange(steps) * 160 + 200) / SAMPLE_RATE
    frames = np.arange(len(lips)) / fps
    resampled = np.stack([np.interp(centres, frames, lips[:, k]) for k in range(lips.shape[1])], axis=1)
    resampled[centres > frames[-1] + 0.5 / fps] = np.nan  # speech past the video: unknown lips
    groups = np.full(steps, UNKNOWN, np.int64)
    if phonemes is not None:
        groups = step_groups(
            PhonemeSequence(
                [Phoneme(p.phone, p.start / speed, p.end / speed) for p in phonemes.phonemes],
                [],
                duration=phonemes.duration / speed,
            ),
            steps,
        )
    return Utterance(str(folder), features, _centred(resampled), groups, real=True)


# -- sets on disk --------------------------------------------------------------------------------------
def save_utterances(path: str | os.PathLike, utterances: Sequence[Utterance]) -> Path:
    """All utterances in one ``.npz`` (written atomically)."""

    if not utterances:
        raise InputError("no utterances to save")
    lengths = np.array([len(u) for u in utterances], np.int64)

    def stacked(name: str, width: int) -> np.ndarray:
        parts = [
            getattr(u, name) if getattr(u, name) is not None else np.full((len(u), width), np.nan) for u in utterances
        ]
        return np.concatenate(parts).astype(np.float32)

    arrays = {
        "lengths": lengths,
        "features": np.concatenate([u.features for u in utterances]),
        "lips": np.concatenate([u.lips for u in utterances]),
        "groups": np.concatenate([u.groups for u in utterances]),
        "visemes": stacked("visemes", 20),
        "jali": stacked("jali", 2),
        "names": np.array([u.name for u in utterances]),
        "languages": np.array([u.language for u in utterances]),
        "real": np.array([u.real for u in utterances]),
    }
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    return Path(path)


def load_utterances(path: str | os.PathLike) -> list[Utterance]:
    """Utterances saved by :func:`save_utterances`."""

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError) as error:
        raise MediaError(path, f"unreadable utterance set ({error})") from None
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    out = []
    for k in range(len(arrays["lengths"])):
        span = slice(int(bounds[k]), int(bounds[k + 1]))
        visemes, jali = arrays["visemes"][span], arrays["jali"][span]
        out.append(
            Utterance(
                str(arrays["names"][k]),
                arrays["features"][span],
                arrays["lips"][span],
                arrays["groups"][span],
                None if np.isnan(visemes).all() else visemes,
                None if np.isnan(jali).all() else jali,
                str(arrays["languages"][k]),
                bool(arrays["real"][k]),
            )
        )
    return out
