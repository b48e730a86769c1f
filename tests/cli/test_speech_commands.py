import csv
import json

import numpy as np
import pytest
import soundfile

from talkingface.cli import main
from talkingface.speech.phonemes import PhonemeSequence


def test_say_writes_speech_and_timings(tmp_path, capsys):
    wav, phonemes = tmp_path / "s.wav", tmp_path / "s.TextGrid"
    assert main(["say", "The duke popped by.", "-o", str(wav), "--phonemes", str(phonemes), "--rate", "150"]) == 0
    audio, rate = soundfile.read(wav)
    assert rate == 22050 and len(audio) > 0.8 * rate
    seq = PhonemeSequence.load(phonemes)
    assert seq.arpabet().split()[:5] == ["DH", "AH0", "D", "UW1", "K"]
    assert seq.duration == pytest.approx(len(audio) / rate, abs=1e-3)
    assert "phonemes" in capsys.readouterr().out


def test_visemes_from_real_speech_with_transcript(tmp_path, speech_path):
    from talkingface.media import load_audio

    clip = tmp_path / "clip.wav"
    soundfile.write(clip, load_audio(speech_path, 16000)[: 16000 * 5], 16000)
    out, plot, phones = tmp_path / "c.csv", tmp_path / "c.png", tmp_path / "p.json"
    code = main(
        [
            "visemes",
            str(clip),
            "--text",
            "it was the best of times it was the worst of times",
            "--fps",
            "25",
            "-o",
            str(out),
            "--plot",
            str(plot),
            "--phonemes",
            str(phones),
        ]
    )
    assert code == 0
    rows = list(csv.reader(out.open()))
    assert len(rows) == 5 * 25 + 1 and rows[0][0] == "Timecode"
    jaw = np.array([float(r[rows[0].index("JawOpen")]) for r in rows[1:]])
    # A silent first second (but for a breath before the words), then speech.
    assert np.median(jaw[:25]) < 0.1 and jaw[30:75].max() > 0.25 and jaw[30:75].mean() > 2 * jaw[:25].mean()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(phones.read_text())["source"] == "alignment"


def test_visemes_without_transcript(tmp_path, capsys):
    """Without a transcript the built-in VisemeNet makes the curves (any language); --method jali
    recognises phonemes instead."""
    wav, out, phones = tmp_path / "s.wav", tmp_path / "c.json", tmp_path / "p.json"
    assert main(["say", "hallo, wie geht es dir heute", "--voice", "de", "-o", str(wav)]) == 0
    capsys.readouterr()
    assert main(["visemes", str(wav), "-o", str(out), "--phonemes", str(phones)]) == 0
    assert "by visemenet" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["fps"] == 30 and len(data["names"]) == 52 and len(data["visemes"]["names"]) == 20
    jaw = np.array(data["frames"])[:, data["names"].index("jawOpen")]
    assert jaw.max() > 0.15 and jaw.std() > 0.05
    assert json.loads(phones.read_text())["source"] == "visemenet"
    assert main(["visemes", str(wav), "--method", "jali", "-o", str(out)]) == 0
    assert "by recognition" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["visemes", "{speech}", "-o", "c.txt"], "the output must be .json or .csv (our curves)"),
        (["visemes", "{speech}", "-o", "c.fbx"], ".anim, .tres, .vrma, .motion3.json, .vmd, .a2f.json, .srt, .vtt"),
        (["visemes", "{speech}", "--text", "bananas are yellow", "-o", "c.csv"], "covers only"),
        (["visemes", "missing.wav", "-o", "c.csv"], "missing.wav: file not found"),
        (["visemes", "{speech}", "--method", "visemenet", "--text", "it was", "-o", "c.csv"], "transcript is not used"),
        (["say", "", "-o", "s.wav"], "text to speak is empty"),
        (["say", "hi", "-o", "s.mp3"], "the output must be .wav, not .mp3"),
    ],
)
def test_bad_input(tmp_path, monkeypatch, capsys, speech_path, argv, message):
    monkeypatch.chdir(tmp_path)
    code = main([a.format(speech=speech_path) for a in argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_visemes_tells_a_supervising_program_its_steps(tmp_path, speech_path):
    # What the web service hears on its progress channel: each step, then the files written one by one.
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    outputs = ["-o", str(tmp_path / "c.json"), "-o", str(tmp_path / "cues.tsv"), "--plot", str(tmp_path / "p.png")]
    process = subprocess.Popen(
        [sys.executable, "-m", "talkingface", "visemes", str(speech_path), *outputs],
        env={**os.environ, "TALKINGFACE_PROGRESS_FD": str(write_end)},
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    with os.fdopen(read_end) as channel:
        events = [json.loads(line) for line in channel]
    assert process.wait(timeout=300) == 0
    stages = list(dict.fromkeys(e["stage"] for e in events))
    assert stages[:2] == ["reading the speech", "making the curves"] and stages[-1] == "writing the files"
    written = [e for e in events if e["stage"] == "writing the files"]
    assert written[0]["done"] == 0 and written[-1]["done"] == written[-1]["total"] == 3


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_transcripts_and_textgrids_in_unicode_with_a_byte_order_mark_are_read(tmp_path, encoding):
    import codecs

    from talkingface.cli._common import read_transcript

    mark = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    mark |= {"utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}
    text = "Grüße: it was the best of times."
    (tmp_path / "t.txt").write_bytes(mark[encoding] + text.encode(encoding))
    assert read_transcript(tmp_path / "t.txt") == text  # was "not a text file" for UTF-16
    timings = PhonemeSequence.from_dict({"phonemes": [{"phone": "AH", "start": 0.1, "end": 0.3}], "duration": 1.0})
    timings.save_textgrid(tmp_path / "p.TextGrid")  # Praat writes its TextGrids in UTF-16 with a mark
    grid = (tmp_path / "p.TextGrid").read_text(encoding="utf-8")
    (tmp_path / "w.TextGrid").write_bytes(mark[encoding] + grid.encode(encoding))
    assert PhonemeSequence.load(tmp_path / "w.TextGrid").arpabet() == timings.arpabet()


def test_say_tells_how_to_speak_text_that_starts_with_a_dash_and_refuses_a_book(tmp_path, capsys):
    from tests.conftest import status

    wav = tmp_path / "s.wav"
    assert status(["say", "-hello", "-o", str(wav)]) == 2
    err = capsys.readouterr().err
    assert "goes after '--'" in err and "-- -hello" in err and err.count("\n") == 1
    assert main(["say", "-o", str(wav), "--", "-hello"]) == 0 and wav.is_file()
    assert main(["say", "word " * 5000, "-o", str(tmp_path / "book.wav")]) == 2  # 25,000 characters
    assert "at most 20000" in capsys.readouterr().err and not (tmp_path / "book.wav").exists()


def test_a_stream_from_a_pipe_nobody_writes_or_a_closed_stdin_ends_in_one_line(tmp_path):
    import os
    import subprocess
    import sys
    import time

    fifo = tmp_path / "speech.pipe"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "talkingface", "visemes"]
    started = time.monotonic()
    run = subprocess.run(
        [*command, str(fifo), "--stream", "--idle", "0.5", "-o", str(tmp_path / "c.jsonl")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "no audio" in run.stderr and time.monotonic() - started < 30  # no hang in open
    closed = subprocess.run(
        [*command, "-", "--stream", "-o", str(tmp_path / "d.jsonl")],
        stdin=None, capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert closed.returncode == 2 and "standard input is closed" in closed.stderr, closed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.pipe"]


def test_a_german_transcript_is_aligned_with_its_language(tmp_path, capsys):
    text = "Guten Morgen, heute möchte ich über Gesichter sprechen."
    speech, phones = tmp_path / "de.wav", tmp_path / "p.json"
    assert main(["say", text, "--voice", "de+m3", "--rate", "150", "-o", str(speech)]) == 0
    argv = ["visemes", str(speech), "--text", text, "-o", str(tmp_path / "c.json"), "--phonemes", str(phones)]
    assert main([*argv, "--language", "de"]) == 0
    aligned = PhonemeSequence.load(phones)
    assert aligned.source == "alignment" and [w.text for w in aligned.words][:2] == ["Guten", "Morgen"]
    capsys.readouterr()
    assert main([*argv, "--language", "xx-klingon"]) == 2
    error = capsys.readouterr().err.strip()
    assert "not one espeak-ng speaks" in error and "\n" not in error
    assert main(argv) == 2  # English by default: the German words are said to be another language
    assert "--language" in capsys.readouterr().err
