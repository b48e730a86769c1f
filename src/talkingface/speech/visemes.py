"""Phoneme -> viseme maps for the common standards, and an ARKit-52 pose for each JALI viseme.

Visemes are the visible mouth shapes of phonemes. The JALI set (in VisemeNet's output order) drives
the procedural animator; the others are for export to engines that expect them: Meta/Oculus OVR 15
(also OpenXR), Microsoft Azure's 22 viseme ids, and Preston Blair's 9 mouth shapes (Rhubarb Lip Sync).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InputError
from .phonemes import ARPABET, SILENCE

# JALI / VisemeNet viseme names, in VisemeNet's output order (after its Jaw and Lip parameters).
JALI_VISEMES = (
    "Ah",
    "Aa",
    "Eh",
    "Ee",
    "Ih",
    "Oh",
    "Uh",
    "U",
    "Eu",
    "Schwa",
    "R",
    "S",
    "ShChZh",
    "Th",
    "JY",
    "LNTD",
    "GK",
    "MBP",
    "FV",
    "WA_PEDAL",
)

JALI_MAP = {
    "AA": "Ah",
    "AO": "Ah",
    "AY": "Ah",
    "AW": "Ah",
    "AE": "Aa",
    "EY": "Aa",
    "UW": "U",
    "IH": "Ih",
    "IY": "Ih",
    "EH": "Eh",
    "HH": "Eh",
    "AH": "Eh",
    "ER": "Eh",
    "UH": "Eh",
    "OW": "Oh",
    "OY": "Oh",
    "R": "R",
    "D": "LNTD",
    "T": "LNTD",
    "L": "LNTD",
    "N": "LNTD",
    "NG": "LNTD",
    "F": "FV",
    "V": "FV",
    "B": "MBP",
    "M": "MBP",
    "P": "MBP",
    "CH": "ShChZh",
    "SH": "ShChZh",
    "ZH": "ShChZh",
    "S": "S",
    "Z": "S",
    "DH": "Th",
    "TH": "Th",
    "G": "GK",
    "K": "GK",
    "Y": "JY",
    "JH": "JY",
    "W": "WA_PEDAL",
}

OVR_VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
OVR_MAP = {
    "B": "PP",
    "M": "PP",
    "P": "PP",
    "F": "FF",
    "V": "FF",
    "TH": "TH",
    "DH": "TH",
    "T": "DD",
    "D": "DD",
    "K": "kk",
    "G": "kk",
    "NG": "kk",
    "CH": "CH",
    "JH": "CH",
    "SH": "CH",
    "ZH": "CH",
    "S": "SS",
    "Z": "SS",
    "N": "nn",
    "L": "nn",
    "R": "RR",
    "ER": "RR",
    "AA": "aa",
    "AE": "aa",
    "AH": "aa",
    "AY": "aa",
    "AW": "aa",
    "HH": "aa",
    "EH": "E",
    "EY": "E",
    "IH": "ih",
    "IY": "ih",
    "Y": "ih",
    "AO": "oh",
    "OW": "oh",
    "OY": "oh",
    "UH": "ou",
    "UW": "ou",
    "W": "ou",
}

# Azure's viseme ids (0 is silence).
AZURE_MAP = {
    "AE": 1,
    "AH": 1,
    "AA": 2,
    "AO": 3,
    "EY": 4,
    "EH": 4,
    "UH": 4,
    "ER": 5,
    "Y": 6,
    "IY": 6,
    "IH": 6,
    "W": 7,
    "UW": 7,
    "OW": 8,
    "AW": 9,
    "OY": 10,
    "AY": 11,
    "HH": 12,
    "R": 13,
    "L": 14,
    "S": 15,
    "Z": 15,
    "SH": 16,
    "CH": 16,
    "JH": 16,
    "ZH": 16,
    "TH": 17,
    "DH": 17,
    "F": 18,
    "V": 18,
    "D": 19,
    "T": 19,
    "N": 19,
    "K": 20,
    "G": 20,
    "NG": 20,
    "P": 21,
    "B": 21,
    "M": 21,
}

# Preston Blair mouth shapes as Rhubarb names them: A closed (M B P), B slightly open with teeth
# (most consonants, EE), C open (EH AE), D wide open (AA), E rounded (AO ER), F puckered (UW OW W),
# G F/V, H L, X rest.
BLAIR_SHAPES = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
BLAIR_MAP = {
    "M": "A",
    "B": "A",
    "P": "A",
    "K": "B",
    "G": "B",
    "NG": "B",
    "S": "B",
    "Z": "B",
    "T": "B",
    "D": "B",
    "N": "B",
    "TH": "B",
    "DH": "B",
    "CH": "B",
    "JH": "B",
    "SH": "B",
    "ZH": "B",
    "Y": "B",
    "HH": "B",
    "IY": "B",
    "IH": "B",
    "EH": "C",
    "AE": "C",
    "AH": "C",
    "EY": "C",
    "AA": "D",
    "AY": "D",
    "AW": "D",
    "AO": "E",
    "ER": "E",
    "R": "E",
    "OY": "E",
    "UW": "F",
    "OW": "F",
    "UH": "F",
    "W": "F",
    "F": "G",
    "V": "G",
    "L": "H",
}

# Per standard: phoneme -> viseme (a name, or an int id for Azure), and the viseme of silence.
STANDARDS: dict[str, tuple[Mapping[str, str | int], str | int]] = {
    "jali": (JALI_MAP, "sil"),
    "ovr": (OVR_MAP, "sil"),
    "azure": (AZURE_MAP, 0),
    "blair": (BLAIR_MAP, "X"),
}


def viseme_of(phone: str, standard: str = "jali"):
    """The viseme of an ARPAbet phoneme (stress digits allowed) in ``standard``:
    "jali", "ovr", "azure" (an int id) or "blair"."""
    try:
        mapping, silence = STANDARDS[standard]
    except KeyError:
        raise InputError(f"unknown viseme standard {standard!r}; known: {', '.join(STANDARDS)}") from None
    symbol = phone.upper().rstrip("012")
    if symbol in (SILENCE, "SP", ""):
        return silence
    if symbol not in ARPABET:
        raise InputError(f"unknown ARPAbet phoneme {phone!r}")
    return mapping[symbol]


#: The 21 phoneme groups (stage 1's classes): silence, then consonants by place and manner, then vowels.
PHONEME_GROUPS: tuple[tuple[str, ...], ...] = (
    (SILENCE,),
    ("M", "B", "P"),
    ("F", "V"),
    ("TH", "DH"),
    ("T", "D"),
    ("L", "N"),
    ("S", "Z"),
    ("SH", "ZH", "CH", "JH"),
    ("K", "G", "NG"),
    ("HH",),
    ("R", "ER"),
    ("W",),
    ("Y",),
    ("IY",),
    ("IH",),
    ("EY", "EH"),
    ("AE",),
    ("AH",),
    ("AA", "AO"),
    ("UW", "UH"),
    ("OW", "OY", "AW", "AY"),
)
GROUP_OF = {phone: k for k, phones in enumerate(PHONEME_GROUPS) for phone in phones}


# ARKit-52 blendshape names (Apple's order).
ARKIT_52 = (
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeSquintLeft",
    "eyeWideLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "eyeSquintRight",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
    "tongueOut",
)


def _sym(**weights: float) -> dict[str, float]:
    """Weights with Left/Right pairs written once: ``stretch=0.3`` -> mouthStretchLeft/Right."""
    out = {}
    for key, value in weights.items():
        name = "mouth" + key[0].upper() + key[1:] if not key.startswith(("jaw", "mouth", "tongue", "cheek")) else key
        if name + "Left" in ARKIT_52:
            out[name + "Left"] = out[name + "Right"] = value
        else:
            out[name] = value
    return out


# The ARKit pose of each JALI viseme at full strength (jaw and lips at a neutral JALI setting; the
# animator scales the jaw part by JA and the lip part by LI).
VISEME_POSES: dict[str, dict[str, float]] = {
    "Ah": _sym(jawOpen=0.62, lowerDown=0.35, upperUp=0.1, stretch=0.1),
    "Aa": _sym(jawOpen=0.5, lowerDown=0.35, upperUp=0.15, stretch=0.3, smile=0.12),
    "Eh": _sym(jawOpen=0.38, lowerDown=0.25, upperUp=0.08, stretch=0.22),
    "Ee": _sym(jawOpen=0.16, stretch=0.5, smile=0.3, lowerDown=0.1, upperUp=0.1),
    "Ih": _sym(jawOpen=0.22, stretch=0.38, smile=0.15, lowerDown=0.15),
    "Oh": _sym(jawOpen=0.45, mouthFunnel=0.6, mouthPucker=0.3),
    "Uh": _sym(jawOpen=0.3, mouthFunnel=0.25, lowerDown=0.1),
    "U": _sym(jawOpen=0.14, mouthPucker=0.85, mouthFunnel=0.45),
    "Eu": _sym(jawOpen=0.25, mouthPucker=0.45, mouthFunnel=0.35),
    "Schwa": _sym(jawOpen=0.3, lowerDown=0.12),
    "R": _sym(jawOpen=0.16, mouthFunnel=0.35, mouthPucker=0.3),
    "S": _sym(jawOpen=0.05, stretch=0.3, smile=0.1, lowerDown=0.18, upperUp=0.15),
    "ShChZh": _sym(jawOpen=0.1, mouthFunnel=0.6, mouthPucker=0.35, lowerDown=0.12, upperUp=0.12),
    "Th": _sym(jawOpen=0.14, lowerDown=0.12, tongueOut=0.35),
    "JY": _sym(jawOpen=0.12, stretch=0.15, mouthFunnel=0.2, lowerDown=0.1),
    "LNTD": _sym(jawOpen=0.15, lowerDown=0.06),
    "GK": _sym(jawOpen=0.2, lowerDown=0.05),
    "MBP": _sym(mouthClose=1.0, press=0.3, mouthRollLower=0.12, mouthRollUpper=0.08, jawOpen=0.0),
    "FV": _sym(jawOpen=0.08, mouthRollLower=0.55, upperUp=0.2, mouthShrugLower=0.15),
    "WA_PEDAL": _sym(jawOpen=0.1, mouthPucker=0.9, mouthFunnel=0.5),
}

# Which ARKit channels belong to the jaw (scaled by JA) rather than the lips (scaled by LI).
JAW_CHANNELS = frozenset({"jawOpen", "jawForward", "jawLeft", "jawRight"})
