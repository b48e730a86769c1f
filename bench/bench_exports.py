"""Animator exports and streaming: 60 s of curves to every format at once, and how soon a streamed
frame comes out.

Makes 60 s of curves and phonemes from the bundled recording (aligned to its transcript, with blinks
and head motion), then writes all 13 animator formats (Rhubarb TSV/XML/JSON, Moho, Papagayo, Unity,
Godot, VRM, Live2D, MMD, Audio2Face-style, SRT, VTT) with their default maps, three times; the median
total is compared with the goal (1 s) and with the baseline of writing the curves once as our own JSON.
Then streams the speech through ``CurveStream`` in 20 ms chunks: the time each chunk takes and the lag
between the audio heard and the newest frame out.

    python bench/bench_exports.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import INPUTS


def main(argv: list[str] | None = None) -> bool:
    from talkingface.animation import JaliAnimator, JaliConfig
    from talkingface.animation.idle import with_idle_motion
    from talkingface.animation.stream import CurveStream
    from talkingface.export.formats import FORMATS, write_animation
    from talkingface.media import load_audio
    from talkingface.speech.align import align

    speech = load_audio(INPUTS / "two_cities.wav", 16000)
    phonemes = align(speech, (INPUTS / "two_cities.txt").read_text())
    # 60 s: the recording's 44 s and its first 16 s again, phonemes and words shifted along.
    from talkingface.speech.phonemes import Phoneme, PhonemeSequence, Word

    length = len(speech) / 16000
    extra = 60.0 - length
    phones = list(phonemes.phonemes) + [
        Phoneme(
            p.phone,
            p.start + length,
            p.end + length,
            p.stress,
            None if p.word is None else p.word + len(phonemes.words),
        )
        for p in phonemes.phonemes
        if p.end <= extra and (p.word is None or phonemes.words[p.word].end <= extra)
    ]
    words = list(phonemes.words) + [
        Word(w.text, w.start + length, w.end + length) for w in phonemes.words if w.end <= extra
    ]
    sixty = PhonemeSequence(phones, words, duration=60.0, source="alignment")
    audio = np.resize(speech, 60 * 16000)
    curves = with_idle_motion(JaliAnimator(JaliConfig()).animate(sixty, 30, audio, 16000), 0, audio, 16000)
    folder = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    names = {
        "rhubarb-tsv": "c.tsv", "rhubarb-xml": "c.xml", "rhubarb-json": "c.rhubarb.json", "moho": "c.dat",
        "papagayo": "c.pgo", "unity": "c.anim", "godot": "c.tres", "vrma": "c.vrma", "live2d": "c.motion3.json",
        "mmd": "c.vmd", "a2f": "c.a2f.json", "srt": "c.srt", "vtt": "c.vtt",
    }  # fmt: skip
    assert set(names) == set(FORMATS)
    totals, each = [], {}
    for k in range(3):
        start = time.perf_counter()
        for fmt, name in names.items():
            t = time.perf_counter()
            write_animation(folder / f"{k}{name}", fmt, curves, sixty)
            each.setdefault(fmt, []).append(time.perf_counter() - t)
        totals.append(time.perf_counter() - start)
    baseline = []
    for k in range(3):
        t = time.perf_counter()
        curves.save_json(folder / f"{k}curves.json")
        baseline.append(time.perf_counter() - t)
    total, base = statistics.median(totals), statistics.median(baseline)
    print(f"60 s of curves ({curves.num_frames} frames, 52 channels) to all {len(names)} formats")
    for fmt, times in each.items():
        size = (folder / f"0{names[fmt]}").stat().st_size
        print(f"  {fmt:<13} {statistics.median(times) * 1e3:7.1f} ms   {size / 1024:8.1f} KB")
    print(
        f"all formats {total:.3f} s (goal < 1 s: {'ok' if total < 1 else 'MISSED'}); "
        f"our curves JSON alone {base:.3f} s: {total / base:.1f}x its time for 13 files"
    )
    # Streaming: 20 ms chunks.
    stream = CurveStream(30)
    chunk = 320
    costs, lags = [], []
    for at in range(0, 16000 * 20, chunk):
        t = time.perf_counter()
        frames, _ = stream.push(audio[at : at + chunk])
        costs.append(time.perf_counter() - t)
        if len(frames):
            lags.append((at + chunk) / 16000 - frames[-1] / 30)
    stream.finish()
    print(
        f"streaming, 20 ms chunks: {statistics.median(costs) * 1e3:.1f} ms of work a chunk (median; "
        f"{np.percentile(costs, 99) * 1e3:.1f} ms at the 99th percentile), {20 / statistics.median(costs) / 1e3:.0f}x "
        f"faster than real time; newest frame {statistics.median(lags) * 1e3:.0f} ms behind the audio "
        f"(most {max(lags) * 1e3:.0f} ms)"
    )
    return total < 1.0


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
