"""A picture of animation curves over the waveform, with the phonemes labelled, to look at."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..files import atomic_output
from ..optional import needs
from ..speech.phonemes import PhonemeSequence
from .curves import AnimationCurves

DEFAULT_CHANNELS = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthStretchLeft", "mouthRollLower")
_COLOURS = [(40, 90, 230), (30, 160, 40), (200, 120, 0), (180, 40, 160), (0, 170, 200), (90, 90, 90)]  # BGR


def plot_curves(
    path: str | os.PathLike,
    curves: AnimationCurves,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    phonemes: PhonemeSequence | None = None,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    px_per_second: int = 250,
) -> Path:
    """Draw ``channels`` of ``curves`` (and the waveform, and phoneme labels) into a PNG file."""
    with needs("face", "plotting"):
        import cv2
    duration = max(curves.duration, 1e-3)
    width = int(np.clip(duration * px_per_second, 600, 8000))
    left, wave_h, label_h, curve_h, legend_h = 10, 110, 34, 300, 30
    height = wave_h + label_h + curve_h + legend_h + 20
    image = np.full((height, width + 2 * left, 3), 255, np.uint8)

    def x_of(seconds):
        return (left + np.asarray(seconds) / duration * width).astype(np.int32)

    # Waveform: min/max per pixel column.
    if audio is not None and sample_rate:
        a = np.asarray(audio, np.float32)[: int(duration * sample_rate)]
        a = a / max(float(np.abs(a).max(initial=0.0)), 1e-6)  # drawn at full height
        cols = np.array_split(a, width) if a.size >= width else [a]
        mid = 10 + wave_h // 2
        for k, col in enumerate(cols):
            if col.size:
                lo, hi = float(col.min()), float(col.max())
                x = left + int(k * width / len(cols))
                cv2.line(image, (x, int(mid - hi * wave_h / 2)), (x, int(mid - lo * wave_h / 2)), (150, 150, 150), 1)
    # Phoneme labels between tick marks.
    top = 10 + wave_h
    if phonemes is not None:
        for p in phonemes.speech:
            x0 = x_of(p.start)
            cv2.line(image, (int(x0), top), (int(x0), top + label_h), (200, 200, 200), 1)
            cv2.putText(
                image, p.phone, (int(x0) + 2, top + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (60, 60, 60), 1, cv2.LINE_AA
            )
    # Curves in [0, 1].
    base = top + label_h + curve_h
    cv2.rectangle(image, (left, top + label_h), (left + width, base), (220, 220, 220), 1)
    t = np.arange(curves.num_frames) / float(curves.fps)
    xs = x_of(t)
    for colour, name in zip(_COLOURS, channels):
        ys = (base - curves.channel(name) * curve_h).astype(np.int32)
        cv2.polylines(image, [np.stack([xs, ys], 1)], False, colour, 2, cv2.LINE_AA)
    x = left
    for colour, name in zip(_COLOURS, channels):
        cv2.putText(image, name, (x, base + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
        x += 12 + 9 * len(name)
    _ok, encoded = cv2.imencode(".png", image)
    with atomic_output(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return Path(path)
