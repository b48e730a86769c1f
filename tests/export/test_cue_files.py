"""Mouth cues, Papagayo projects and captions written and read back: the same cues, words and times."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from talkingface.animation.mouth_cues import mouth_cues
from talkingface.errors import InputError
from talkingface.export.captions import captions, read_captions, write_captions
from talkingface.export.cues import PRESTON_BLAIR, read_cues, read_papagayo, write_cues, write_papagayo


@pytest.fixture(scope="module")
def cues(two_cities_alignment):
    return mouth_cues(two_cities_alignment)


@pytest.mark.parametrize("suffix", [".tsv", ".xml", ".json"])
def test_rhubarb_files_round_trip(cues, tmp_path, suffix):
    path = write_cues(tmp_path / f"cues{suffix}", cues, sound_file="two_cities.wav")
    assert read_cues(path) == cues
    if suffix == ".json":
        document = json.loads(path.read_text())
        assert document["metadata"] == {"soundFile": "two_cities.wav", "duration": cues[-1].end}
        assert document["mouthCues"][0] == {"start": 0.0, "end": cues[0].end, "value": cues[0].shape}
    if suffix == ".xml":
        root = ElementTree.parse(path).getroot()
        assert root.tag == "rhubarbResult" and len(root.find("mouthCues")) == len(cues)
    if suffix == ".tsv":
        assert path.read_text().splitlines()[-1] == f"{cues[-1].end:.2f}\tX"


@pytest.mark.parametrize("preston_blair", [False, True])
def test_moho_switch_data_numbers_frames_as_rhubarb_and_closes_the_mouth_at_the_end(cues, tmp_path, preston_blair):
    path = write_cues(tmp_path / "cues.dat", cues, fps=24, preston_blair=preston_blair)
    lines = path.read_text().splitlines()
    name = PRESTON_BLAIR.get if preston_blair else str
    assert lines[0] == "MohoSwitch1" and lines[1] == f"1 {name('X')}"
    # Rhubarb's rules: a cue's frame is 1 + its start in hundredths of a second times the frame rate,
    # truncated; the first cue of a frame keeps it; the last line closes the mouth at the end.
    expected, last = [], 0
    for cue in cues:
        frame = 1 + int(24 * round(cue.start * 100) / 100)
        if frame != last:
            expected.append(f"{frame} {name(cue.shape)}")
            last = frame
    end = 1 + int(24 * round(cues[-1].end * 100) / 100)
    expected.append(f"{end + (end == last)} {name('X')}")
    assert lines[1:] == expected
    back = read_cues(path, fps=24)
    assert len(back) == len(expected) - 1 >= 0.95 * len(cues)
    assert back[-1].end == pytest.approx((int(lines[-1].split()[0]) - 1) / 24)
    rigless = write_cues(tmp_path / "no_x.dat", cues, fps=24, rest="A")
    assert rigless.read_text().splitlines()[-1].endswith(" A")
    tsv = write_cues(tmp_path / "no_x.tsv", cues, rest="A")
    assert tsv.read_text().splitlines()[-1] == f"{cues[-1].end:.2f}\tA"


def test_papagayo_project_round_trips(two_cities_alignment, tmp_path):
    path = write_papagayo(tmp_path / "speech.pgo", two_cities_alignment, sound_file="two_cities.wav", fps=24)
    project = read_papagayo(path)
    words = two_cities_alignment.words
    assert project["fps"] == 24 and project["frames"] == round(two_cities_alignment.duration * 24)
    assert [w[0] for w in project["words"]] == [w.text for w in words]
    for (_text, start, end, mouths), word in zip(project["words"], words):
        assert start == round(word.start * 24) and end == round(word.end * 24)
        assert all(m in PRESTON_BLAIR.values() or m == "WQ" for _, m in mouths)
    assert "MBP" in {m for w in project["words"] for _, m in w[3]}


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_captions_round_trip_and_follow_the_words(two_cities_alignment, tmp_path, suffix):
    items = captions(two_cities_alignment)
    path = write_captions(tmp_path / f"speech{suffix}", items)
    back = read_captions(path)
    assert [c.text for c in back] == [c.text for c in items]
    for a, b in zip(back, items):
        assert a.start == pytest.approx(b.start, abs=0.0006) and a.end == pytest.approx(b.end, abs=0.0006)
    assert " ".join(c.text for c in back).split() == [w.text for w in two_cities_alignment.words]
    assert all(len(c.text) <= 42 and c.end - c.start <= 6.0 for c in items)
    if suffix == ".vtt":
        assert path.read_text().startswith("WEBVTT\n\n00:00:")


def test_captions_keep_the_transcripts_spelling(two_cities_alignment, speech_path):
    transcript = speech_path.with_suffix(".txt").read_text()
    plain, spelled = captions(two_cities_alignment), captions(two_cities_alignment, transcript)
    assert [(c.start, c.end) for c in spelled] == [(c.start, c.end) for c in plain]
    assert spelled[0].text.startswith("It was the best of times,")
    flat = " ".join(transcript.split())
    assert all(c.text in flat for c in spelled)  # verbatim, punctuation and capitals kept
    assert sum("," in c.text for c in spelled) > 10
    # A transcript whose words are not the aligned ones falls back to the aligned words.
    assert captions(two_cities_alignment, "Something else entirely.") == plain


def test_bad_cue_files_are_refused(tmp_path, cues):
    (tmp_path / "bad.tsv").write_text("0.00\tX\nzero\tA\n")
    with pytest.raises(InputError, match="not a mouth-cue file"):
        read_cues(tmp_path / "bad.tsv")
    (tmp_path / "bad.dat").write_text("Switch\n1 A\n")
    with pytest.raises(InputError, match="MohoSwitch1"):
        read_cues(tmp_path / "bad.dat")
    with pytest.raises(InputError, match=".tsv, .xml, .json or .dat"):
        write_cues(tmp_path / "cues.txt", cues)
