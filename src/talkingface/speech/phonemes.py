"""Phonemes with times: one inventory (ARPAbet as the hub), IPA and espeak names mapped onto it,
and a timed sequence type that reads and writes JSON and Praat TextGrid.

ARPAbet here is the 39-phoneme set of the CMU dictionary (the one pocketsphinx and Montreal Forced
Aligner's English models use), plus ``SIL`` for silence. Stress (0 none, 1 primary, 2 secondary)
is kept apart from the symbol.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError, MediaError
from ..files import atomic_output, decode_text

SILENCE = "SIL"

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = (
    "B",
    "CH",
    "D",
    "DH",
    "F",
    "G",
    "HH",
    "JH",
    "K",
    "L",
    "M",
    "N",
    "NG",
    "P",
    "R",
    "S",
    "SH",
    "T",
    "TH",
    "V",
    "W",
    "Y",
    "Z",
    "ZH",
)
ARPABET = VOWELS + CONSONANTS

# Manner of articulation of each consonant (what the animator's rules look at).
MANNER = {
    "B": "stop",
    "D": "stop",
    "G": "stop",
    "K": "stop",
    "P": "stop",
    "T": "stop",
    "CH": "affricate",
    "JH": "affricate",
    "DH": "fricative",
    "F": "fricative",
    "HH": "fricative",
    "S": "fricative",
    "SH": "fricative",
    "TH": "fricative",
    "V": "fricative",
    "Z": "fricative",
    "ZH": "fricative",
    "M": "nasal",
    "N": "nasal",
    "NG": "nasal",
    "L": "liquid",
    "R": "liquid",
    "W": "glide",
    "Y": "glide",
}

# IPA (as espeak-ng and most dictionaries write American English) -> ARPAbet. Longest match first.
IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # vowels and diphthongs
    "ɑː": ("AA",),
    "ɑ": ("AA",),
    "a": ("AA",),
    "ɒ": ("AA",),
    "æ": ("AE",),
    "ʌ": ("AH",),
    "ə": ("AH",),
    "ɐ": ("AH",),
    "ɔː": ("AO",),
    "ɔ": ("AO",),
    "aʊ": ("AW",),
    "aɪ": ("AY",),
    "ɛ": ("EH",),
    "e": ("EH",),
    "ɚ": ("ER",),
    "ɜː": ("ER",),
    "ɜ": ("ER",),
    "eɪ": ("EY",),
    "ɪ": ("IH",),
    "ᵻ": ("IH",),
    "ɨ": ("IH",),
    "iː": ("IY",),
    "i": ("IY",),
    "oʊ": ("OW",),
    "o": ("OW",),
    "əʊ": ("OW",),
    "ɔɪ": ("OY",),
    "ʊ": ("UH",),
    "uː": ("UW",),
    "u": ("UW",),
    "ʉ": ("UW",),
    "ɑːɹ": ("AA", "R"),
    "ɔːɹ": ("AO", "R"),
    "oːɹ": ("AO", "R"),
    "ɛɹ": ("EH", "R"),
    "ɪɹ": ("IH", "R"),
    "ʊɹ": ("UH", "R"),
    "aɪɚ": ("AY", "ER"),
    "aɪə": ("AY", "AH"),
    "aʊɚ": ("AW", "ER"),
    "iə": ("IY", "AH"),
    "əl": ("AH", "L"),
    "l̩": ("AH", "L"),
    "n̩": ("AH", "N"),
    "m̩": ("AH", "M"),
    # consonants
    "b": ("B",),
    "tʃ": ("CH",),
    "d": ("D",),
    "ð": ("DH",),
    "f": ("F",),
    "ɡ": ("G",),
    "g": ("G",),
    "h": ("HH",),
    "dʒ": ("JH",),
    "k": ("K",),
    "l": ("L",),
    "ɫ": ("L",),
    "m": ("M",),
    "n": ("N",),
    "ŋ": ("NG",),
    "p": ("P",),
    "ɹ": ("R",),
    "r": ("R",),
    "s": ("S",),
    "ʃ": ("SH",),
    "t": ("T",),
    "θ": ("TH",),
    "v": ("V",),
    "w": ("W",),
    "ʍ": ("W",),
    "j": ("Y",),
    "z": ("Z",),
    "ʒ": ("ZH",),
    "ɾ": ("D",),
    "ʔ": ("T",),
    "x": ("HH",),
    "ç": ("HH",),
}

# espeak-ng's own phoneme mnemonics (English voices) -> ARPAbet.
ESPEAK_TO_ARPABET: dict[str, tuple[str, ...]] = {
    "a": ("AE",),
    "aa": ("AE",),
    "a#": ("AH",),
    "A:": ("AA",),
    "A@": ("AA", "R"),
    "A": ("AA",),
    "aI": ("AY",),
    "aI@": ("AY", "AH"),
    "aI3": ("AY", "ER"),
    "aU": ("AW",),
    "aU@": ("AW", "ER"),
    "@": ("AH",),
    "@-": ("AH",),
    "@2": ("AH",),
    "@5": ("AH",),
    "@L": ("AH", "L"),
    "3": ("ER",),
    "3:": ("ER",),
    "E": ("EH",),
    "E2": ("EH",),
    "e@": ("EH", "R"),
    "eI": ("EY",),
    "I": ("IH",),
    "I2": ("IH",),
    "I#": ("IH",),
    "i": ("IY",),
    "i:": ("IY",),
    "i@": ("IH", "R"),
    "i@3": ("IH", "R"),
    "O:": ("AO",),
    "O": ("AO",),
    "O@": ("AO", "R"),
    "o@": ("AO", "R"),
    "OI": ("OY",),
    "oU": ("OW",),
    "0": ("AA",),
    "U": ("UH",),
    "U@": ("UH", "R"),
    "u:": ("UW",),
    "u": ("UW",),
    "V": ("AH",),
    "b": ("B",),
    "tS": ("CH",),
    "d": ("D",),
    "D": ("DH",),
    "f": ("F",),
    "g": ("G",),
    "h": ("HH",),
    "dZ": ("JH",),
    "k": ("K",),
    "l": ("L",),
    "m": ("M",),
    "n": ("N",),
    "N": ("NG",),
    "p": ("P",),
    "r": ("R",),
    "r-": ("R",),
    "s": ("S",),
    "S": ("SH",),
    "t": ("T",),
    "t#": ("D",),
    "T": ("TH",),
    "v": ("V",),
    "w": ("W",),
    "j": ("Y",),
    "z": ("Z",),
    "Z": ("ZH",),
    "?": ("T",),
    "n-": ("AH", "N"),
    "m-": ("AH", "M"),
    "l-": ("AH", "L"),
}

# Every other sound espeak-ng's voices name (130 languages) -> the nearest English phoneme, judged by what
# the lips, jaw and tongue tip show: place and rounding first, voicing kept where English has the pair.
IPA_NEAREST: dict[str, tuple[str, ...]] = {
    # front rounded vowels: the lips round as for the back vowel of the same height
    "y": ("UW",),
    "ʏ": ("UH",),
    "ø": ("OW",),
    "œ": ("AO",),
    "ɶ": ("AO",),
    # central and back unrounded vowels: spread or neutral lips
    "ɯ": ("IH",),
    "ɤ": ("AH",),
    "ɘ": ("AH",),
    "ɵ": ("UH",),
    "ɞ": ("AO",),
    "ä": ("AA",),
    "ε": ("EH",),  # Greek epsilon written for ɛ
    "ɜ˞": ("ER",),
    # bilabial and labiodental sounds
    "β": ("V",),
    "ɸ": ("F",),
    "Φ": ("F",),  # smj writes the bilabial fricative with the Greek capital
    "ʋ": ("V",),
    "ⱱ": ("V",),
    "ʙ": ("B",),
    "ɓ": ("B",),
    "ʘ": ("P",),
    "ɥ": ("W",),
    "ɰ": ("W",),
    # palatal, retroflex and alveolo-palatal sounds: the tongue's nearest English place
    "c": ("K",),
    "ɟ": ("G",),
    "ɲ": ("N",),
    "ɳ": ("N",),
    "ʎ": ("L",),
    "ɭ": ("L",),
    "ʈ": ("T",),
    "ɖ": ("D",),
    "ɗ": ("D",),
    "ɽ": ("D",),
    "ɻ": ("R",),
    "ɕ": ("SH",),
    "ʑ": ("ZH",),
    "ʂ": ("SH",),
    "ʐ": ("ZH",),
    "ʝ": ("Y",),
    "ʄ": ("JH",),
    "ʦ": ("T", "S"),
    "ʣ": ("D", "Z"),
    "ʧ": ("CH",),
    "ʤ": ("JH",),
    # laterals
    "ɬ": ("L",),
    "ɮ": ("L",),
    "ʟ": ("L",),
    "ɺ": ("L",),
    "ǁ": ("L",),
    # velar, uvular, pharyngeal and glottal sounds: nothing shows at the lips
    "q": ("K",),
    "ɢ": ("G",),
    "ɠ": ("G",),
    "ʛ": ("G",),
    "ɴ": ("NG",),
    "ɣ": ("G",),
    "ʁ": ("G",),
    "χ": ("HH",),
    "ʀ": ("R",),
    "ħ": ("HH",),
    "ʕ": ("HH",),
    "ʢ": ("HH",),
    "ʜ": ("HH",),
    "ɦ": ("HH",),
    "ʡ": ("T",),
    "?": ("T",),  # espeak-ng's name of the glottal stop where a voice lacks the IPA one
    # clicks: a tongue closure behind the teeth
    "ǀ": ("T",),
    "ǃ": ("T",),
    "ǂ": ("T",),
    # espeak-ng's own names, which some voices report in place of IPA
    "A": ("AA",),
    "S": ("SH",),
    "Z": ("ZH",),
    "N": ("NG",),
    "X": ("HH",),
}
# Marks that change nothing the mouth shows: tone letters and digits, the modifier letters of secondary
# articulation (palatalised ʲ, labialised ʷ, velarised ˠ, pharyngealised ˤ, nasal release ⁿ, ejective ʼ;
# any modifier letter), espeak-ng's separators, and every combining diacritic (nasal, dental, creaky...).
_IPA_SILENT = set("˥˦˧˨˩ʲʷˠˤⁿˡʼˑ#^`-[]()0123456789")
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)*\)")

_IPA_MARKS = {"ˈ": 1, "ˌ": 2}
_IPA_IGNORED = set(
    "ː:̃ʰ̚‿.|‖"
)  # ":" is the length mark of a few voices (ky, en-gb-scotland) | {"\u0329", "\u032f", "\u0361", "\u035c", "\u032a"}  # \u032a: dental


def normalize_arpabet(symbol: str) -> tuple[str, int | None]:
    """``"AH0"`` -> ``("AH", 0)``; ``"sil"``/``"sp"``/``""`` -> ``("SIL", None)``.

    Raises InputError for a symbol outside the inventory.
    """
    s = symbol.strip().upper()
    if s in ("", "SIL", "SP", "SPN", "PAU", "<SIL>", "+NSN+", "+SPN+", "+BREATH+", "+NOISE+"):
        return SILENCE, None
    stress = None
    if s[-1:].isdigit():
        s, stress = s[:-1], int(s[-1])
    if s not in ARPABET:
        raise InputError(f"unknown ARPAbet phoneme {symbol!r}")
    return s, stress


def ipa_to_arpabet(ipa: str) -> list[tuple[str, int | None]]:
    """Convert an IPA string (one phoneme or a whole word) to ARPAbet phonemes with stress.

    Stress marks (ˈ primary, ˌ secondary) apply to the next vowel; length marks, ties, tones,
    diacritics and espeak-ng's language switches (``(en)``) are dropped; sounds English lacks take the
    nearest English phoneme (:data:`IPA_NEAREST`). Unknown symbols raise InputError.
    """
    text = unicodedata.normalize("NFC", _LANGUAGE_SWITCH.sub("", ipa))
    table = {**IPA_NEAREST, **IPA_TO_ARPABET}
    keys = sorted(table, key=len, reverse=True)
    out: list[tuple[str, int | None]] = []
    stress: int | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _IPA_MARKS:
            stress = _IPA_MARKS[ch]
            i += 1
            continue
        if ch in _IPA_IGNORED or ch in _IPA_SILENT or ch.isspace() or unicodedata.category(ch) in ("Mn", "Lm", "Sk"):
            i += 1
            continue
        base = unicodedata.normalize("NFD", ch)
        if len(base) > 1 and not any(text.startswith(key, i) for key in keys):
            # A letter with a diacritic built in (ã, ẽ, ũ): the letter, its diacritic dropped.
            text = text[:i] + base + text[i + 1 :]
            continue
        for key in keys:
            if text.startswith(key, i):
                for phone in table[key]:
                    if phone in VOWELS:
                        out.append((phone, stress if stress is not None else 0))
                        stress = None
                    else:
                        out.append((phone, None))
                i += len(key)
                # A length mark directly after a matched symbol belongs to it.
                while i < len(text) and text[i] in "ː:":
                    i += 1
                break
        else:
            raise InputError(f"unknown IPA symbol {ch!r} in {ipa!r}")
    return out


def espeak_to_arpabet(name: str) -> tuple[str, ...]:
    """An espeak-ng phoneme mnemonic (e.g. ``"aI"``, ``"tS"``) -> ARPAbet phonemes; pauses -> ()."""
    key = name.strip().lstrip("',%=")
    if key in ("", "_", "_:", "_!", "_^_", ";"):
        return ()
    try:
        return ESPEAK_TO_ARPABET[key]
    except KeyError:
        raise InputError(f"unknown espeak phoneme {name!r}") from None


def _check_time(value, owner) -> None:
    """A time in seconds: a finite, non-negative number (not a boolean or a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InputError(f"{owner!r}: times must be finite, non-negative seconds, got {value!r}"[:200])


@dataclass(frozen=True)
class Phoneme:
    """One phoneme in time.

    Attributes:
        phone: ARPAbet symbol without stress, or ``"SIL"``.
        start, end: seconds.
        stress: 0/1/2 for vowels when known, else None.
        word: index into the sequence's words, or None (silence).
    """

    phone: str
    start: float
    end: float
    stress: int | None = None
    word: int | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def is_vowel(self) -> bool:
        return self.phone in VOWELS


@dataclass(frozen=True)
class Word:
    """A word in time (seconds)."""

    text: str
    start: float
    end: float


@dataclass
class PhonemeSequence:
    """Phonemes (and words) with times, covering ``[0, duration]`` seconds.

    Attributes:
        phonemes: in time order, without overlaps; gaps are silence.
        words: in time order.
        duration: length of the audio in seconds.
        source: how the timings were obtained ("espeak", "alignment", "recognition", "textgrid", ...).
        notes: what the user should know about these timings (e.g. that recognition found little);
            not saved with them.
    """

    phonemes: list[Phoneme]
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        for item in [*self.phonemes, *self.words]:
            for value in (item.start, item.end):
                _check_time(value, item)
        if not isinstance(self.duration, (int, float)) or isinstance(self.duration, bool):
            raise InputError(f"duration must be a number of seconds, got {self.duration!r}")
        if not self.duration:
            self.duration = max([p.end for p in self.phonemes] + [w.end for w in self.words] + [0.0])
        _check_time(self.duration, "the duration")
        previous = 0.0
        for p in self.phonemes:
            if p.stress is not None and (isinstance(p.stress, bool) or p.stress not in (0, 1, 2)):
                raise InputError(f"phoneme {p.phone!r} has stress {p.stress!r}; stress is 0, 1, 2 or none")
            if p.word is not None and (
                isinstance(p.word, bool)
                or not isinstance(p.word, int)
                or p.word < 0
                or (self.words and p.word >= len(self.words))
            ):
                raise InputError(f"phoneme {p.phone!r} names word {p.word!r} of {len(self.words)}")
            if not isinstance(p.phone, str) or (p.phone != SILENCE and p.phone not in ARPABET):
                raise InputError(f"unknown phoneme {p.phone!r}; use ARPAbet symbols")
            if p.end < p.start or p.start < previous - 1e-6:
                raise InputError(f"phoneme {p.phone} at {p.start:.3f}-{p.end:.3f} s overlaps or runs backwards")
            previous = p.end

    @property
    def speech(self) -> list[Phoneme]:
        """The phonemes that are not silence."""
        return [p for p in self.phonemes if p.phone != SILENCE]

    def arpabet(self) -> str:
        """The phonemes as an ARPAbet string with stress digits, e.g. ``"HH AH0 L OW1"``."""
        return " ".join(p.phone + (str(p.stress) if p.stress is not None else "") for p in self.speech)

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "duration": self.duration,
            "source": self.source,
            "words": [asdict(w) for w in self.words],
            "phonemes": [asdict(p) for p in self.phonemes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PhonemeSequence:
        if not isinstance(data, dict) or not isinstance(data.get("phonemes"), list):
            raise InputError("not a phoneme sequence: expected an object with a 'phonemes' list")
        try:
            return cls(
                phonemes=[Phoneme(**p) for p in data["phonemes"]],
                words=[Word(**w) for w in data.get("words", [])],
                duration=float(data.get("duration", 0.0)),
                source=data.get("source", ""),
            )
        except (KeyError, TypeError, AttributeError, ValueError, OverflowError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"not a phoneme sequence: {e}"[:300]) from None

    def save_json(self, path: str | os.PathLike) -> Path:
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PhonemeSequence:
        """Read a JSON file written by :meth:`save_json` or a Praat TextGrid (by extension)."""
        p = Path(path)
        if not p.is_file():
            raise MediaError(p, "file not found")
        size = p.stat().st_size
        if size > _MAX_TIMINGS_BYTES:
            raise MediaError(p, f"{size} bytes is too long for phoneme timings")
        try:
            text = decode_text(p.read_bytes())
        except UnicodeDecodeError:
            raise MediaError(p, "not a text file (not UTF-8, nor UTF-16 or UTF-32 with a byte-order mark)") from None
        try:
            if p.suffix.lower() == ".textgrid":
                return cls.from_textgrid(text)
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise MediaError(p, f"not JSON: {e}") from None
        except RecursionError:
            raise MediaError(p, "nested too deeply") from None
        except InputError as e:
            raise MediaError(p, str(e)) from None

    # -- Praat TextGrid ----------------------------------------------------------------------
    def to_textgrid(self) -> str:
        """A long-format TextGrid with "words" and "phones" tiers (Montreal Forced Aligner's layout)."""

        def intervals(items: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
            filled, t = [], 0.0
            for start, end, text in items:
                if start > t + 1e-9:
                    filled.append((t, start, ""))
                filled.append((start, end, text))
                t = end
            if t < self.duration - 1e-9 or not filled:
                filled.append((t, self.duration, ""))
            return filled

        tiers = [
            ("words", intervals([(w.start, w.end, w.text) for w in self.words])),
            (
                "phones",
                intervals(
                    [(p.start, p.end, p.phone + (str(p.stress) if p.stress is not None else "")) for p in self.speech]
                ),
            ),
        ]
        lines = [
            'File type = "ooTextFile"',
            'Object class = "TextGrid"',
            "",
            "xmin = 0",
            f"xmax = {self.duration:.6f}",
            "tiers? <exists>",
            f"size = {len(tiers)}",
            "item []:",
        ]
        for k, (name, items) in enumerate(tiers, 1):
            lines += [
                f"    item [{k}]:",
                '        class = "IntervalTier"',
                f'        name = "{name}"',
                "        xmin = 0",
                f"        xmax = {self.duration:.6f}",
                f"        intervals: size = {len(items)}",
            ]
            for j, (start, end, text) in enumerate(items, 1):
                label = text.replace('"', '""')
                lines += [
                    f"        intervals [{j}]:",
                    f"            xmin = {start:.6f}",
                    f"            xmax = {end:.6f}",
                    f'            text = "{label}"',
                ]
        return "\n".join(lines) + "\n"

    def save_textgrid(self, path: str | os.PathLike) -> Path:
        with atomic_output(path) as tmp:
            tmp.write_text(self.to_textgrid(), encoding="utf-8")
        return Path(path)

    @classmethod
    def from_textgrid(cls, text: str) -> PhonemeSequence:
        """Parse a TextGrid (long or short text format) with a phone tier and optionally a word tier.

        Tiers named like "phones"/"phonemes"/"segments" and "words" are used; labels may be ARPAbet
        (with stress digits) or IPA.
        """
        try:
            tiers = _parse_textgrid(text)
        except (IndexError, ValueError, TypeError, OverflowError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"a damaged TextGrid ({type(error).__name__})") from None
        phone_tier = next((t for name, t in tiers if re.search(r"phon|segment", name, re.I)), None)
        word_tier = next((t for name, t in tiers if re.search(r"word", name, re.I)), None)
        if phone_tier is None:
            raise InputError("TextGrid has no phone tier (a tier named 'phones')")
        words = [Word(label, start, end) for start, end, label in word_tier or [] if label.strip()]
        phonemes = []
        for start, end, label in phone_tier:
            if not label.strip():
                continue
            try:
                symbols = [normalize_arpabet(label)]
            except InputError:
                symbols = ipa_to_arpabet(label)
            if not symbols:
                continue
            step = (end - start) / len(symbols)
            for k, (phone, stress) in enumerate(symbols):
                if phone == SILENCE:
                    continue
                mid = start + (k + 0.5) * step
                word = next((i for i, w in enumerate(words) if w.start <= mid < w.end), None)
                phonemes.append(Phoneme(phone, start + k * step, start + (k + 1) * step, stress, word))
        duration = max([end for _, items in tiers for _, end, _ in items] + [0.0])
        return cls(phonemes=phonemes, words=words, duration=duration, source="textgrid")


_MAX_TIMINGS_BYTES = 20_000_000


def _parse_textgrid(text: str) -> list[tuple[str, list[tuple[float, float, str]]]]:
    """Interval tiers of a TextGrid as (name, [(xmin, xmax, text)])."""
    if "ooTextFile" not in text[:200]:
        raise InputError("not a Praat TextGrid (no 'ooTextFile' header)")
    # Tokens: quoted strings (with "" escapes) and bare numbers; labels like "xmin =" are skipped.
    tokens = re.findall(r'"((?:[^"]|"")*)"|(?<![\w\[])(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w\]])', text)
    values: list[str | float] = [s.replace('""', '"') if n == "" else float(n) for s, n in tokens]

    # Skip the header: "ooTextFile", "TextGrid", xmin, xmax, (<exists>), size.
    def number(k: int) -> float:
        value = values[k]
        if not isinstance(value, float) or not math.isfinite(value):
            raise InputError(f"a damaged TextGrid (a number expected, found {str(value)[:40]!r})")
        return value

    def count(k: int) -> int:
        n = number(k)
        if n != int(n) or not 0 <= n <= len(values):  # more than its tokens could hold: damaged
            raise InputError(f"a damaged TextGrid (a count of {n:g})")
        return int(n)

    i = 2
    i += 2  # xmin, xmax
    size = count(i)
    i += 1
    tiers = []
    for _ in range(size):
        kind, name = values[i], values[i + 1]
        items_count = count(i + 4)
        i += 5
        items = []
        for _ in range(items_count):
            if kind == "IntervalTier":
                start, end = number(i), number(i + 1)
                if not 0 <= start <= end:
                    raise InputError(f"a damaged TextGrid (an interval from {start:g} to {end:g} s)")
                items.append((start, end, str(values[i + 2])))
                i += 3
            else:  # TextTier points: (time, mark)
                i += 2
        if kind == "IntervalTier":
            tiers.append((str(name), items))
    return tiers
