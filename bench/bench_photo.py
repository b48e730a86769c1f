"""Talking photo end to end: 512x512 photo + 60 s of real speech -> 25 fps H.264 video with audio.

Goal >= 2x real time on 2 cores (alignment, animation, warping and encoding all included). The
real-time baseline is the speech's own duration.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import INPUTS


def main() -> bool:
    import soundfile
    from bench_speech import sixty_seconds

    from talkingface.pipelines import TalkingPhotoPipeline

    audio, text = sixty_seconds()
    seconds = len(audio) / 16000
    with tempfile.TemporaryDirectory() as tmp:
        speech = Path(tmp) / "speech.wav"
        soundfile.write(speech, audio, 16000)
        start = time.perf_counter()
        result = TalkingPhotoPipeline()(INPUTS / "astronaut.png", speech, Path(tmp) / "talk.mp4", text=text)
        elapsed = time.perf_counter() - start
    ratio = seconds / elapsed
    ok = ratio >= 2
    print(
        f"{'talking photo 512px, 60 s speech':<34} {elapsed:6.1f} s for {seconds:.0f} s   {ratio:5.2f}x real time "
        f"({result.num_frames / elapsed:.0f} fps; goal >= 2x) {'ok' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    main()
