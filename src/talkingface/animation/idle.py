"""Idle motion for a face that would otherwise hold still between words: blinks and a slight head sway."""

from __future__ import annotations

import numpy as np

from .curves import AnimationCurves


def with_idle_motion(curves: AnimationCurves, seed: int = 0) -> AnimationCurves:
    """Curves with natural blinks (every 2-6 s, 150 ms) and a slow, slight head sway added."""
    rng = np.random.default_rng(seed)
    fps = float(curves.fps)
    t = np.arange(curves.num_frames) / fps
    blink = np.zeros(curves.num_frames)
    moment = rng.uniform(0.8, 2.5)
    while moment < t[-1] if len(t) else False:
        blink = np.maximum(blink, np.clip(1 - np.abs(t - moment) / 0.075, 0, 1))
        moment += rng.uniform(2.0, 6.0)
    values = curves.values.copy()
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        values[:, curves.names.index(name)] = np.maximum(values[:, curves.names.index(name)], blink)
    phase = rng.uniform(0, 2 * np.pi, 4)
    yaw = 1.2 * np.sin(2 * np.pi * t / 7.3 + phase[0]) + 0.5 * np.sin(2 * np.pi * t / 3.1 + phase[1])
    pitch = 0.8 * np.sin(2 * np.pi * t / 5.9 + phase[2]) + 0.3 * np.sin(2 * np.pi * t / 2.3 + phase[3])
    extra = dict(curves.extra, head=np.stack([yaw, pitch], 1).astype(np.float32))
    names = dict(curves.extra_names, head=("yaw_degrees", "pitch_degrees"))
    return AnimationCurves(curves.fps, curves.names, values, extra, names)
