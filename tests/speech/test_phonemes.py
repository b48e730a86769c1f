import pytest

from talkingface.errors import InputError
from talkingface.speech.phonemes import (
    Phoneme,
    PhonemeSequence,
    Word,
    espeak_to_arpabet,
    ipa_to_arpabet,
    normalize_arpabet,
)
from talkingface.speech.visemes import ARKIT_52, JALI_VISEMES, VISEME_POSES, viseme_of


def test_arpabet_normalisation():
    assert normalize_arpabet("ah0") == ("AH", 0)
    assert normalize_arpabet("OW1") == ("OW", 1)
    assert normalize_arpabet("sp") == ("SIL", None)
    with pytest.raises(InputError, match="unknown ARPAbet"):
        normalize_arpabet("QQ")


def test_ipa_and_espeak_names_map_onto_arpabet():
    assert ipa_to_arpabet("həlˈoʊ wˈɜːld") == [
        ("HH", None),
        ("AH", 0),
        ("L", None),
        ("OW", 1),
        ("W", None),
        ("ER", 1),
        ("L", None),
        ("D", None),
    ]
    assert [p for p, _ in ipa_to_arpabet("tʃˈɑːɹdʒ")] == ["CH", "AA", "R", "JH"]
    assert espeak_to_arpabet("aI") == ("AY",) and espeak_to_arpabet("tS") == ("CH",) and espeak_to_arpabet("_:") == ()
    assert ipa_to_arpabet("ʘ") == [("P", None)]  # a bilabial click: the nearest English phoneme
    with pytest.raises(InputError, match="unknown IPA"):
        ipa_to_arpabet("☃")


def _sequence():
    return PhonemeSequence(
        phonemes=[
            Phoneme("HH", 0.1, 0.18, None, 0),
            Phoneme("AH", 0.18, 0.25, 0, 0),
            Phoneme("L", 0.25, 0.33, None, 0),
            Phoneme("OW", 0.33, 0.5, 1, 0),
            Phoneme("M", 0.7, 0.8, None, 1),
            Phoneme("IY", 0.8, 0.95, 1, 1),
        ],
        words=[Word("hello", 0.1, 0.5), Word("me", 0.7, 0.95)],
        duration=1.2,
        source="test",
    )


def test_json_round_trip(tmp_path):
    seq = _sequence()
    back = PhonemeSequence.load(seq.save_json(tmp_path / "p.json"))
    assert back == seq
    assert back.arpabet() == "HH AH0 L OW1 M IY1"


def test_textgrid_round_trip(tmp_path):
    seq = _sequence()
    text = seq.to_textgrid()
    assert 'name = "phones"' in text and 'text = "OW1"' in text
    back = PhonemeSequence.load(seq.save_textgrid(tmp_path / "p.TextGrid"))
    assert back.arpabet() == seq.arpabet() and back.duration == pytest.approx(1.2)
    assert [w.text for w in back.words] == ["hello", "me"]
    assert [p.word for p in back.phonemes] == [0, 0, 0, 0, 1, 1]
    for a, b in zip(back.phonemes, seq.phonemes):
        assert (a.start, a.end) == pytest.approx((b.start, b.end), abs=1e-6)


def test_short_textgrid_with_ipa_labels():
    short = "\n".join(
        [
            'File type = "ooTextFile"',
            'Object class = "TextGrid"',
            "",
            "0",
            "1",
            "<exists>",
            "1",
            '"IntervalTier"',
            '"phones"',
            "0",
            "1",
            "3",
            "0",
            "0.2",
            '""',
            "0.2",
            "0.5",
            '"tʃ"',
            "0.5",
            "1",
            '"iː"',
        ]
    )
    seq = PhonemeSequence.from_textgrid(short)
    assert [(p.phone, p.start, p.end) for p in seq.phonemes] == [("CH", 0.2, 0.5), ("IY", 0.5, 1.0)]


def test_bad_sequences():
    with pytest.raises(InputError, match="overlaps"):
        PhonemeSequence([Phoneme("AA", 0.0, 0.5), Phoneme("B", 0.3, 0.6)])
    with pytest.raises(InputError, match="not a Praat TextGrid"):
        PhonemeSequence.from_textgrid("hello")


def test_viseme_standards_cover_every_phoneme():
    assert viseme_of("M") == "MBP" and viseme_of("UW1") == "U" and viseme_of("SIL") == "sil"
    assert viseme_of("P", "ovr") == "PP" and viseme_of("S", "ovr") == "SS"
    assert viseme_of("B", "azure") == 21 and viseme_of("SIL", "azure") == 0
    assert viseme_of("F", "blair") == "G" and viseme_of("sp", "blair") == "X"
    assert set(VISEME_POSES) == set(JALI_VISEMES)
    assert all(set(pose) <= set(ARKIT_52) for pose in VISEME_POSES.values())
    with pytest.raises(InputError, match="unknown viseme standard"):
        viseme_of("M", "disney")
