"""How well ``features.identity.unlike`` tells different people apart, on the real clips of ``lips_set.py``.

Each clip's first ``--frames`` frames are tracked; its face shape and skin tone are measured on each
half of them. Pairs of the same person (the two halves of a clip, and clips of one speaker recorded
apart) must pass; pairs of different speakers should be flagged. Printed: the largest shape and tone
differences within one person, the spread of those between people, and the share of different-people
pairs flagged at the limits in ``features/identity.py``, against the share a single measure flags.

``python bench/bench_identity.py [--frames N] [--footage DIR]``
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
from lips_set import all_clips


def measure(path, frames: int) -> list[tuple] | None:
    """The face shape and skin tone of each half of the clip's first ``frames`` frames."""
    from talkingface.face import FaceTracker, TrackerConfig
    from talkingface.features.identity import face_shape, skin_tone
    from talkingface.media import VideoReader, probe_video

    images = []
    for k, frame in enumerate(VideoReader(path)):
        if k >= frames:
            break
        images.append(frame)
    tracking = FaceTracker(TrackerConfig(smoothing=None)).track_frames(images, probe_video(path).fps)
    if not tracking.tracks:
        return None
    target = tracking.target("largest")
    halves = []
    for part in (slice(0, len(images) // 2), slice(len(images) // 2, len(images))):
        seen = [k for k in range(len(images))[part] if target.has_face[k]]
        if len(seen) < 5:
            return None
        tones = [skin_tone(images[k], target.landmarks[k]) for k in seen]
        halves.append((face_shape(target.landmarks[seen]), np.median(tones, axis=0)))
    return halves


def main(argv=None) -> bool:
    from talkingface.features import identity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--footage", help="more clips (lips_set.py's footage folder)")
    args = parser.parse_args(argv)
    measured = {}
    for clip in all_clips(args.footage):
        halves = measure(clip.path, args.frames)
        if halves is not None:
            measured[clip.name] = (clip.speaker, halves)
    rows = []  # (same person, shape distance, tone difference, flagged)
    for _, (a, b) in measured.values():
        rows.append((True, *_compare(a, b)))
    for (s1, h1), (s2, h2) in itertools.combinations(measured.values(), 2):
        rows.append((s1 == s2, *_compare(h1[0], h2[1])))
    same = np.array([r[1:] for r in rows if r[0]])
    other = np.array([r[1:] for r in rows if not r[0]])
    print(f"{len(measured)} clips, {len(same)} same-person pairs, {len(other)} pairs of different people")
    print(
        f"same person: largest shape {same[:, 0].max():.4f}, tone {same[:, 1].max():.1f}; flagged {same[:, 2].mean():.0%}"
    )
    print(
        f"different people: shape 5/25/50th percentile {np.round(np.percentile(other[:, 0], [5, 25, 50]), 4)}, "
        f"tone {np.round(np.percentile(other[:, 1], [5, 25, 50]), 1)}"
    )
    print(
        f"flagged at the limits (shape {identity.SHAPE_LIMIT}, tone {identity.TONE_LIMIT}): "
        f"{other[:, 2].mean():.0%} of different-people pairs; shape alone {np.mean(other[:, 0] > identity.SHAPE_LIMIT):.0%},"
        f" tone alone {np.mean(other[:, 1] > identity.TONE_LIMIT):.0%}"
    )
    return bool(same[:, 2].sum() == 0)


def _compare(a: tuple, b: tuple) -> tuple[float, float, bool]:
    from talkingface.features.identity import shape_distance, tone_difference, unlike

    return shape_distance(a[0], b[0]), tone_difference(a[1], b[1]), unlike(a[0], a[1], b[0], b[1]) is not None


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
