"""Decode + re-encode of a 10 s 1280x720 25 fps clip with audio. Goal >= 60 fps on 2 cores.

Ours: ``VideoReader`` -> ``VideoWriter`` (H.264 veryfast, frame threads, AAC audio, atomic file).
Baseline in the same run: the plain PyAV loop most projects write (no decoder threads, x264 defaults).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import av
import numpy as np
from _common import INPUTS

NUM_FRAMES, FPS, WIDTH, HEIGHT = 250, 25, 1280, 720


def make_clip(path: Path) -> None:
    from talkingface.media import fit_image, load_audio, read_image, write_video

    base = fit_image(read_image(INPUTS / "astronaut.png"), WIDTH, HEIGHT)
    frames = (np.roll(base, int(20 * np.sin(i / 8)), axis=1) for i in range(NUM_FRAMES))
    speech = load_audio(INPUTS / "two_cities.wav", 48000)[: 10 * 48000]
    write_video(path, frames, FPS, audio=speech, sample_rate=48000)


def ours(src: Path, dst: Path) -> None:
    from talkingface.media import VideoReader, VideoWriter

    reader = VideoReader(src)
    with VideoWriter(dst, reader.info.fps, audio=src) as writer:
        writer.write_all(reader)


def plain_pyav(src: Path, dst: Path) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=FPS)
        vout.width, vout.height, vout.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for frame in inp.decode(vin):
            image = frame.to_ndarray(format="rgb24")
            out.mux(vout.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(vout.encode(None))


def main() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "clip.mp4"
        make_clip(src)
        results = {}
        for name, fn in (("ours", ours), ("plain PyAV loop", plain_pyav)):
            start = time.perf_counter()
            fn(src, Path(tmp) / f"{name.replace(' ', '_')}.mp4")
            results[name] = NUM_FRAMES / (time.perf_counter() - start)
    met = results["ours"] >= 60
    print(
        f"{'decode + re-encode 720p25 + audio':<34} ours {results['ours']:6.1f} fps   "
        f"plain PyAV loop {results['plain PyAV loop']:6.1f} fps   "
        f"{results['ours'] / results['plain PyAV loop']:5.2f}x (goal >= 60 fps) {'ok' if met else 'MISSED'}"
    )
    return met


if __name__ == "__main__":
    main()
