"""Transcripts in other languages: how close the warp of espeak-ng's rendering puts phonemes and words.

- **espeak-ng speech of another voice** in German, Spanish, French and English: each sentence spoken
  by a variant voice, slower and with pauses between words, then degraded (room, band limit, noise;
  ``data.visemenet.degrade``), with 0.3 s of silence around it. Its exact phoneme starts are the truth;
  the transcript is aligned through the language's default voice. Median and 90th-percentile error.
- **Real English speech** (the bundled 44 s reading, and the GRID clips of ``../shared/data/clips``,
  whose words their names spell): the warp (told the language is English, but using no English model)
  against pocketsphinx's English forced alignment, word starts matched by their text. There is no real
  non-English speech with known timings here; English stands in as real speech the warp knows nothing
  particular about. The baseline is pocketsphinx itself, which is also the reference.

``python bench/bench_transcripts.py``
"""

from __future__ import annotations

import difflib
import re
import time
from pathlib import Path

import numpy as np
from _common import REPO

SENTENCES = {
    "de": [
        "Guten Morgen, heute möchte ich über Gesichter sprechen und wie sie sich bewegen.",
        "Der Hund läuft schnell über die grüne Wiese zum alten Haus am Fluss.",
    ],
    "es": [
        "Buenos días, hoy quiero hablar de las caras y de cómo se mueven al hablar.",
        "El perro corre rápido por el campo verde hasta la vieja casa del río.",
    ],
    "fr": [
        "Bonjour, aujourd'hui je voudrais parler des visages et de leur mouvement.",
        "Le chien court vite dans le pré vert jusqu'à la vieille maison près du fleuve.",
    ],
    "en": [
        "Good morning, today I would like to talk about faces and how they move.",
        "The dog runs quickly across the green field to the old house by the river.",
    ],
}
#: GRID's words, by the letters of a clip's name (command, colour, preposition, letter, digit, adverb).
_GRID = (
    {"b": "bin", "l": "lay", "p": "place", "s": "set"},
    {"b": "blue", "g": "green", "r": "red", "w": "white"},
    {"a": "at", "b": "by", "i": "in", "w": "with"},
    None,
    {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven"}
    | {"8": "eight", "9": "nine"},
    {"a": "again", "n": "now", "p": "please", "s": "soon"},
)


def grid_text(code: str) -> str:
    return " ".join(code[k] if words is None else words[code[k]] for k, words in enumerate(_GRID))


def made_speech(model) -> None:
    from talkingface.animation.warp import warp_align
    from talkingface.data.visemenet import degrade
    from talkingface.media.audio import speech_at
    from talkingface.speech.espeak import synthesize

    for language, texts in SENTENCES.items():
        errors, seconds = [], 0.0
        for k, text in enumerate(texts):
            for variant, rate, gap in (("+f3", 140, 3), ("+m3", 200, 0)):
                spoken = synthesize(text, language + variant, rate=rate, word_gap=gap)
                lead = np.zeros(int(0.3 * 16000), np.float32)
                audio = np.concatenate([lead, speech_at(spoken.audio, spoken.sample_rate, 16000), lead])
                audio = degrade(audio, np.random.default_rng(k * 1000 + rate), 1.5)
                start = time.perf_counter()
                aligned = warp_align(audio, 16000, text, language, model)
                seconds += time.perf_counter() - start
                want = np.array([p.start + 0.3 for p in spoken.phonemes.phonemes])
                have = np.array([p.start for p in aligned.phonemes])
                errors += list(np.abs(want - have)) if len(want) == len(have) else [np.inf]
        print(
            f"  {language}: median {1000 * np.median(errors):.1f} ms, 90th percentile "
            f"{1000 * np.percentile(errors, 90):.1f} ms over {len(errors)} boundaries; {seconds:.2f} s"
        )


def _word_gaps(reference, warped) -> list[float]:
    def words(sequence):
        return [re.sub(r"[^a-z']", "", w.text.lower()) for w in sequence.words]

    matcher = difflib.SequenceMatcher(a=words(reference), b=words(warped), autojunk=False)
    return [
        abs(reference.words[block.a + k].start - warped.words[block.b + k].start)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]


def real_speech(model) -> None:
    from talkingface.animation.warp import warp_align
    from talkingface.media import load_audio
    from talkingface.speech.align import align

    inputs = REPO / ".cache" / "inputs"
    clips = []
    if (inputs / "two_cities.wav").exists():
        clips.append((inputs / "two_cities.wav", (inputs / "two_cities.txt").read_text()))
    for path in sorted((REPO.parent / "shared" / "data" / "clips").glob("*.mpg")):
        code = path.stem.split("__")[-1]
        if re.fullmatch(r"[blps][bgrw][abiw][a-z][z1-9][anps]", code):  # a GRID sentence, spelled by its name
            clips.append((path, grid_text(code)))
    grid: list[float] = []
    for path, text in clips:
        audio = load_audio(path, 16000)
        start = time.perf_counter()
        warped = warp_align(audio, 16000, text, "en-us", model)
        seconds = time.perf_counter() - start
        gaps = _word_gaps(align(audio, text), warped)
        if path.suffix == ".mpg":
            grid += gaps
        print(
            f"  {path.name}: {len(audio) / 16000:.1f} s, words {1000 * np.median(gaps):.1f} ms from pocketsphinx's "
            f"(median; 90th percentile {1000 * np.percentile(gaps, 90):.1f} ms; {len(gaps)} words); warp {seconds:.2f} s"
        )
    if grid:
        print(f"  GRID clips together: median {1000 * np.median(grid):.1f} ms over {len(grid)} words")


def main() -> None:
    from talkingface.models.registry import load_builtin

    model = load_builtin("visemenet")
    print("espeak-ng speech of another voice, degraded: phoneme starts against the exact ones")
    made_speech(model)
    print("real English speech: word starts against pocketsphinx's English forced alignment")
    real_speech(model)


if __name__ == "__main__":
    if not Path(REPO).exists():
        raise SystemExit("run from the repository")
    main()
