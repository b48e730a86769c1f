"""GRID corpus sentences (Cooke et al., 2006) from their six-letter codes.

Every GRID sentence follows one grammar: command, colour, preposition, letter, digit, adverb; a clip's
file name spells it with one character per word (``bbaf2n`` = "bin blue at f two now"). Clips so named
come with their transcript: forced alignment then gives their phonemes.
"""

from __future__ import annotations

import re

from ..errors import InputError

_WORDS = (
    {"b": "bin", "l": "lay", "p": "place", "s": "set"},
    {"b": "blue", "g": "green", "r": "red", "w": "white"},
    {"a": "at", "b": "by", "i": "in", "w": "with"},
    None,  # the letter itself (a-z without w)
    {
        "z": "zero",
        "0": "zero",
        "1": "one",
        "2": "two",
        "3": "three",
        "4": "four",
        "5": "five",
        "6": "six",
        "7": "seven",
        "8": "eight",
        "9": "nine",
    },
    {"a": "again", "n": "now", "p": "please", "s": "soon"},
)


def grid_sentence(code: str) -> str:
    """The sentence of a GRID code (``"bbaf2n"`` -> ``"bin blue at f two now"``); the code may end a
    longer name (``"rizkiarm__LipNet__bbaf2n"``, ``"id2_vcd_swwp2s"``)."""
    match = re.search(r"([a-z0-9]{6})$", code.lower())
    if not match:
        raise InputError(f"{code!r} does not end in a GRID sentence code (six letters and digits, e.g. bbaf2n)")
    words = []
    for char, table in zip(match.group(1), _WORDS):
        if table is None:
            if not char.isalpha() or char == "w":
                raise InputError(f"{code!r}: {char!r} is not a GRID letter")
            words.append(char)
        elif char in table:
            words.append(table[char])
        else:
            raise InputError(f"{code!r}: {char!r} is not a GRID word code")
    return " ".join(words)
