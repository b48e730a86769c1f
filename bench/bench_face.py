"""Face tracking (box + 478 landmarks) on a 1280x720 25 fps clip, decoding included.

Goal >= 200 fps on 2 cores. Baseline in the same run: mediapipe's own face mesh run on every full
frame (detection + landmarks, its tracking mode), decoding included. Also reports the jitter of the
landmarks of a still face with sensor-like noise (std over time, pixels), raw and smoothed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from _common import INPUTS

NUM_FRAMES, FPS = 250, 25


def make_clip(path: Path, noise: float = 0.0, still: bool = False) -> None:
    from talkingface.media import fit_image, read_image, write_video

    base = fit_image(read_image(INPUTS / "astronaut.png"), 1280, 720)
    rng = np.random.default_rng(0)

    def frames():
        for i in range(NUM_FRAMES):
            frame = base if still else np.roll(base, int(40 * np.sin(i / 10)), axis=1)
            if noise:
                frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
            yield frame

    write_video(path, frames(), FPS)


def mediapipe_full_frames(path: Path) -> int:
    from talkingface.face._mediapipe import quiet_stderr, solutions
    from talkingface.media import VideoReader

    found = 0
    with quiet_stderr():
        mesh = solutions().face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True)
        for frame in VideoReader(path):
            found += mesh.process(frame).multi_face_landmarks is not None
        mesh.close()
    return found


def main() -> bool:
    from talkingface.face import FaceTracker, TrackerConfig

    with tempfile.TemporaryDirectory() as tmp:
        clip, still = Path(tmp) / "clip.mp4", Path(tmp) / "still.mp4"
        make_clip(clip)
        make_clip(still, noise=8.0, still=True)
        FaceTracker().track_video(clip)  # warm up
        start = time.perf_counter()
        result = FaceTracker().track_video(clip)
        ours = NUM_FRAMES / (time.perf_counter() - start)
        assert len(result.tracks[0].frames) == NUM_FRAMES
        start = time.perf_counter()
        mediapipe_full_frames(clip)
        baseline = NUM_FRAMES / (time.perf_counter() - start)
        jitter = {}
        for name, config in (("raw", TrackerConfig(smoothing=None)), ("smoothed", TrackerConfig())):
            landmarks = FaceTracker(config).track_video(still).tracks[0].landmarks[:, :, :2]
            jitter[name] = float(landmarks.std(axis=0).mean())
    met = ours >= 200
    print(
        f"{'face tracking 720p25 (478 points)':<34} ours {ours:6.1f} fps   mediapipe full-frame mesh "
        f"{baseline:6.1f} fps   {ours / baseline:5.2f}x (goal >= 200 fps) {'ok' if met else 'MISSED'}"
    )
    print(
        f"{'landmark jitter, still noisy face':<34} raw {jitter['raw']:.3f} px   smoothed {jitter['smoothed']:.3f} px   "
        f"{jitter['raw'] / jitter['smoothed']:.2f}x less"
    )
    return met


if __name__ == "__main__":
    main()
