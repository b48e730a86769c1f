"""Synthetic speech with exact phoneme timings from espeak-ng, through its C API.

espeak-ng reports an event at the first audio sample of every phoneme it speaks (names in IPA), and
of every word; those sample positions are the exact timings of the audio it returns. The same engine
also converts text to phonemes (used as a pronunciation guesser for words a dictionary lacks).

The library keeps global state, so calls are serialised with a lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InputError, MissingDependencyError
from ..native import quiet_stderr
from .phonemes import SILENCE, VOWELS, Phoneme, PhonemeSequence, Word, ipa_to_arpabet

_LOCK = threading.Lock()
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_PHONEME_EVENTS, _PHONEME_IPA = 0x1, 0x2
_EVENT_WORD, _EVENT_END, _EVENT_MSG_TERMINATED, _EVENT_PHONEME = 1, 5, 6, 7
_CHARS_UTF8, _POS_CHARACTER = 1, 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class _VoiceEntry(ctypes.Structure):
    """espeak_VOICE as espeak_ListVoices returns it (pointers kept raw: ``languages`` holds zero bytes)."""

    _fields_ = [("name", ctypes.c_void_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p)]


class _VoiceProperties(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Engine:
    """The loaded library with its synthesis callback collecting audio and events."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError:
            raise MissingDependencyError(
                "espeak-ng is not installed (Debian packages espeak-ng libespeak-ng1; `make` installs them)"
            ) from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceProperties)]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_VoiceProperties)
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _PHONEME_EVENTS | _PHONEME_IPA)
        if self.sample_rate <= 0:
            raise MissingDependencyError("espeak-ng could not start (is espeak-ng-data installed?)")
        self.lib = lib
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, int, int, str]] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced for the library's lifetime
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, count, events) -> int:
        if count > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while events[i].type != 0:
            e = events[i]
            name = bytes(e.id).split(b"\0")[0].decode("utf-8", "replace") if e.type == _EVENT_PHONEME else ""
            self.events.append((e.type, e.text_position, e.length, e.sample, name))
            i += 1
        return 0

    def variants(self) -> set[str]:
        """Names of the voice variants installed (``+f2``, ``+m3``, ``+klatt``, ...)."""
        from pathlib import Path

        data = ctypes.c_char_p()
        self.lib.espeak_Info(ctypes.byref(data))
        folder = Path((data.value or b"").decode()) / "voices" / "!v"
        return {p.name for p in folder.iterdir()} if folder.is_dir() else set()

    def voice_files(self) -> dict[str, bytes]:
        """Each language espeak-ng lists -> the identifier of a voice file that speaks it."""
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceEntry))
        listed = self.lib.espeak_ListVoices(None)
        files: dict[str, bytes] = {}
        k = 0
        while listed and listed[k]:
            voice = listed[k].contents
            # languages: a priority byte then the name, repeated, ending with a zero byte.
            raw = ctypes.string_at(voice.languages, 256) if voice.languages else b""
            position = 0
            while position < len(raw) and raw[position] != 0:
                end = raw.index(b"\0", position + 1)
                files.setdefault(raw[position + 1 : end].decode("utf-8", "replace"), voice.identifier)
                position = end + 1
            k += 1
        return files

    def set_voice(self, voice: str, rate: int, pitch: int, pitch_range: int, word_gap: int) -> None:
        variant_name = voice.partition("+")[2]
        if variant_name and variant_name not in self.variants():
            raise InputError(f"unknown espeak-ng voice variant {variant_name!r} in {voice!r} (e.g. f2, m3, klatt)")
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            # Not a voice file's name: take it as a language ("en-gb" is the voice file "gmw/en"), and
            # put a variant ("+f2") on the voice file the language chose.
            language, _, variant = voice.partition("+")
            wanted = _VoiceProperties(languages=language.encode())
            unknown = InputError(f"unknown espeak-ng voice {voice!r} (e.g. en-us, en-gb, en-gb+f2, de, fr+m3)")
            if self.lib.espeak_SetVoiceByProperties(ctypes.byref(wanted)) != 0:
                identifier = self.voice_files().get(language)
                if identifier is None or self.lib.espeak_SetVoiceByName(identifier) != 0:
                    raise unknown
            if variant:
                current = self.lib.espeak_GetCurrentVoice()
                identifier = current.contents.identifier if current else None
                if not identifier or self.lib.espeak_SetVoiceByName(identifier + b"+" + variant.encode()) != 0:
                    raise unknown
        for parameter, value in (
            (_RATE, rate),
            (_PITCH, pitch),
            (_RANGE, pitch_range),
            (_WORDGAP, word_gap),
            (_VOLUME, 100),
        ):
            self.lib.espeak_SetParameter(parameter, int(value), 0)


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    # One initialisation per process: initialising again would drop the phoneme-event option.
    return _Engine()


def engine_version() -> str:
    """The espeak-ng library's version string."""
    with _LOCK, quiet_stderr():
        lib = _engine().lib
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        return lib.espeak_Info(None).decode()


def languages() -> list[str]:
    """The languages espeak-ng speaks here (voice names for :func:`synthesize`), sorted."""
    with _LOCK, quiet_stderr():
        return sorted(_engine().voice_files())


@dataclass
class Synthesis:
    """Speech made by :func:`synthesize`.

    Attributes:
        audio: ``(N,) float32`` samples in [-1, 1].
        sample_rate: Hz (22050 for espeak-ng).
        phonemes: exact phoneme and word timings of ``audio``.
    """

    audio: np.ndarray
    sample_rate: int
    phonemes: PhonemeSequence


def synthesize(
    text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, pitch_range: int = 50, word_gap: int = 0
) -> Synthesis:
    """Speak ``text`` with espeak-ng; return the audio and its exact phoneme timings.

    Args:
        voice: espeak-ng voice name, optionally with a variant (``"en-us"``, ``"en-gb"``, ``"en-us+f3"``).
        rate: words per minute (80-450).
        pitch, pitch_range: 0-100.
        word_gap: extra pause between words in units of 10 ms.
    """
    if not text or not text.strip():
        raise InputError("text to speak is empty")
    if not 80 <= rate <= 450 or not 0 <= pitch <= 100 or not 0 <= pitch_range <= 100 or word_gap < 0:
        raise InputError(f"rate must be 80-450 and pitch, range 0-100; got {rate}, {pitch}, {pitch_range}")
    with _LOCK, quiet_stderr():
        engine = _engine()
        engine.set_voice(voice, rate, pitch, pitch_range, word_gap)
        engine.chunks, engine.events = [], []
        data = text.encode("utf-8")
        engine.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        engine.lib.espeak_Synchronize()
        chunks, events, rate_hz = engine.chunks, engine.events, engine.sample_rate
        stresses = _stress_pattern(engine, text)
    audio = (np.concatenate(chunks).astype(np.float32) / 32768.0) if chunks else np.zeros(0, np.float32)
    sequence = _timings(text, events, len(audio), rate_hz, stresses)
    return Synthesis(audio=audio, sample_rate=rate_hz, phonemes=sequence)


def _timings(text: str, events, num_samples: int, rate: int, stresses: list[int | None]) -> PhonemeSequence:
    """Phonemes and words from the event stream: each phoneme lasts until the next event."""
    chars = text  # positions are 1-based character indices into the text
    marks = [
        (sample, kind, pos, length, name)
        for kind, pos, length, sample, name in events
        if kind in (_EVENT_WORD, _EVENT_PHONEME, _EVENT_END, _EVENT_MSG_TERMINATED)
    ]
    phonemes: list[Phoneme] = []
    words: list[Word] = []
    word_spans: list[list[float]] = []
    current_word: int | None = None
    spoken = False  # whether the current word has a phoneme yet
    stress_iter = iter(stresses)
    for k, (sample, kind, pos, length, name) in enumerate(marks):
        if kind == _EVENT_WORD:
            words.append(Word(chars[pos - 1 : pos - 1 + length], sample / rate, sample / rate))
            word_spans.append([sample / rate, sample / rate])
            current_word, spoken = len(words) - 1, False
            continue
        if kind != _EVENT_PHONEME:
            current_word = None
            continue
        end_sample = next((m[0] for m in marks[k + 1 :] if m[1] != _EVENT_WORD or m[0] > sample), num_samples)
        start, end = sample / rate, max(sample, end_sample) / rate
        symbols = ipa_to_arpabet(name) if name else []
        if not symbols:
            # a pause ends the word it follows; one before a word's first phoneme (after a comma) does not
            current_word = None if name == "" and spoken else current_word
            continue
        spoken = True
        step = (end - start) / len(symbols)
        for j, (phone, stress) in enumerate(symbols):
            if phone in VOWELS:
                stress = next(stress_iter, None)
            phonemes.append(Phoneme(phone, start + j * step, start + (j + 1) * step, stress, current_word))
        if current_word is not None:
            word_spans[current_word][1] = end
    words = [Word(w.text, span[0], span[1]) for w, span in zip(words, word_spans)]
    # Words that produced no phoneme (punctuation, digits spelled elsewhere) are dropped.
    keep = [i for i, w in enumerate(words) if w.end > w.start]
    remap: dict[int | None, int] = {old: new for new, old in enumerate(keep)}  # p.word None stays None
    phonemes = [Phoneme(p.phone, p.start, p.end, p.stress, remap.get(p.word)) for p in phonemes]
    return PhonemeSequence(
        phonemes=phonemes, words=[words[i] for i in keep], duration=num_samples / rate, source="espeak"
    )


def _stress_pattern(engine: _Engine, text: str) -> list[int | None]:
    """Stress of each vowel espeak-ng will speak for ``text``, in order (from its IPA transcription)."""
    stresses: list[int | None] = []
    for ipa in _ipa_clauses(engine, text):
        with contextlib.suppress(InputError):
            stresses += [s for phone, s in ipa_to_arpabet(ipa) if phone in VOWELS]
    return stresses


def _ipa_clauses(engine: _Engine, text: str) -> list[str]:
    buffer = ctypes.create_string_buffer(text.encode("utf-8"))
    pointer = ctypes.c_char_p(ctypes.addressof(buffer))
    clauses = []
    while pointer.value:
        result = engine.lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _PHONEME_IPA)
        if result:
            clauses.append(result.decode("utf-8", "replace"))
    return clauses


def pronounce(word: str, voice: str = "en-us") -> list[tuple[str, int | None]]:
    """espeak-ng's pronunciation of ``word`` as ARPAbet phonemes with stress (a dictionary fallback)."""
    if not word.strip():
        raise InputError("word to pronounce is empty")
    with _LOCK, quiet_stderr():
        engine = _engine()
        engine.set_voice(voice, 175, 50, 50, 0)
        ipa = " ".join(_ipa_clauses(engine, word))
    return [(p, s) for p, s in ipa_to_arpabet(ipa) if p != SILENCE]
