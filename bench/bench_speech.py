"""Speech -> animation curves for 60 s of real speech, forced alignment included.

Goals: whole chain >= 20x real time on 2 cores; the JALI animator alone >= 1000x real time.
The real-time baseline is the audio's own duration. Also reports the alignment error of espeak-ng
speech against its exact phoneme timings (median and 90th percentile of phoneme start errors).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from _common import INPUTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import TWO_CITIES_TEXT

SENTENCES = (
    "It was the best of times, it was the worst of times.",
    "We had everything before us, we had nothing before us.",
    "The duke popped by to see the man about the boat.",
    "She sells five vases in the quiet village shop.",
)


def sixty_seconds() -> tuple[np.ndarray, str]:
    """The 44 s recording followed by its first ~16 s (cut in a pause), with the matching transcript."""
    from talkingface.media import load_audio
    from talkingface.speech.align import align, transcript_words

    speech = load_audio(INPUTS / "two_cities.wav", 16000)
    words = align(speech, TWO_CITIES_TEXT).words
    need = 60.0 - len(speech) / 16000 - 0.2
    cut = max((k for k, w in enumerate(words) if w.end <= need), default=0)
    end = min(len(speech), int((words[cut].end + 0.15) * 16000))
    audio = np.concatenate([speech, speech[:end]])
    text = TWO_CITIES_TEXT + " " + " ".join(transcript_words(TWO_CITIES_TEXT)[: cut + 1])
    return audio, text


def main() -> bool:
    from talkingface.animation import JaliAnimator
    from talkingface.media import resample
    from talkingface.speech import timed_phonemes
    from talkingface.speech.align import align
    from talkingface.speech.espeak import synthesize

    audio, text = sixty_seconds()
    seconds = len(audio) / 16000
    start = time.perf_counter()
    phonemes = timed_phonemes(audio, 16000, text)
    curves = JaliAnimator().animate(phonemes, 30, audio, 16000)
    chain = seconds / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(5):
        JaliAnimator().animate(phonemes, 30, audio, 16000)
    animator = seconds / ((time.perf_counter() - start) / 5)
    errors = []
    for sentence in SENTENCES:
        speech = synthesize(sentence, rate=160)
        aligned = align(resample(speech.audio, speech.sample_rate, 16000), sentence)
        errors += [abs(a.start - b.start) for a, b in zip(aligned.phonemes, speech.phonemes.speech)]
    ok = chain >= 20 and animator >= 1000
    print(
        f"{'speech -> curves, 60 s (alignment)':<34} {chain:6.1f}x real time (goal >= 20x)   "
        f"{curves.num_frames} frames, {len(phonemes.speech)} phonemes"
    )
    print(f"{'JALI animator alone, 60 s':<34} {animator:6.0f}x real time (goal >= 1000x)   {'ok' if ok else 'MISSED'}")
    print(
        f"{'alignment error vs espeak timings':<34} median {np.median(errors) * 1e3:.1f} ms   "
        f"p90 {np.percentile(errors, 90) * 1e3:.1f} ms over {len(errors)} phonemes (goal median <= 30 ms)"
    )
    return ok


if __name__ == "__main__":
    main()
