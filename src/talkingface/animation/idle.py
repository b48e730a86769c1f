"""A face that lives while it speaks: blinks, small head motion and brow raises, timed by the speech.

:func:`with_idle_motion` adds to speech curves, without touching the mouth:

- **blinks** (``eyeBlinkLeft/Right``) every 2-5.5 s (about 17 a minute, the rate of people talking),
  each placed at a phrase end when one falls in its window (people blink at pauses), else at random;
  80 ms closing, 30 ms closed, 150 ms opening;
- **head motion** (extra ``head``: yaw and pitch, degrees): a slow sway, a small nod at each pitch
  accent (the voice's pitch and loudness peaking together), and a settle at phrase ends, never more
  than :data:`MAX_DEGREES` either way so the face stays in frame;
- **brow raises** (``browInnerUp``, ``browOuterUpLeft/Right``) on the strongest accents.

Prosody comes from the audio: pitch per frame from the autocorrelation of 40 ms windows (70-400 Hz),
loudness, and pauses (250 ms or more without voice). Everything is deterministic for a seed; without
audio only the blinks and the sway are added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import AnimationCurves

MAX_DEGREES = 4.0
_PAUSE_S = 0.25
_PROSODY_CHUNK = 512  # frames analysed at once
_LIVELY_CHANNELS = ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")


@dataclass
class Prosody:
    """Per frame of the curves: ``voiced`` (bool), ``accent`` strength (>= 0, z-units), and the
    ``accents`` and ``phrase_ends`` as times in seconds."""

    voiced: np.ndarray
    accent: np.ndarray
    accents: np.ndarray
    phrase_ends: np.ndarray


def prosody(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> Prosody:
    """Pitch accents, voicing and phrase ends of ``audio`` at the frames of the curves."""
    from ..media.audio import resample

    x = np.asarray(audio)
    if sample_rate != 16000:
        x = resample(x, sample_rate, 16000)
    window = 640
    centres = (np.arange(num_frames) / fps * 16000).astype(int)
    low, high = 16000 // 400, 16000 // 70
    energy, lag, strength = np.zeros(num_frames), np.zeros(num_frames, int), np.zeros(num_frames)
    taper = np.hanning(window)
    for start in range(0, num_frames, _PROSODY_CHUNK):  # in pieces: the spectra of a long clip are large
        part = slice(start, min(num_frames, start + _PROSODY_CHUNK))
        # The windows start half a window before their centres; outside the speech is silence.
        first, last = centres[part][0] - window // 2, centres[part][-1] + window // 2
        piece = np.zeros(last - first, np.float64)
        inside = x[max(first, 0) : max(min(last, len(x)), 0)]
        piece[max(-first, 0) : max(-first, 0) + len(inside)] = inside
        frames = np.stack([piece[c - first - window // 2 : c - first + window // 2] for c in centres[part]])
        frames = frames - frames.mean(1, keepdims=True)
        energy[part] = np.sqrt(np.mean(frames**2, axis=1)) + 1e-9
        spectrum = np.fft.rfft(frames * taper, n=2048, axis=1)
        acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :window]
        acf /= np.maximum(acf[:, :1], 1e-12)
        lag[part] = low + np.argmax(acf[:, low:high], axis=1)
        strength[part] = acf[np.arange(len(acf)), lag[part]]
    loud = 20 * np.log10(energy)
    floor = np.percentile(loud, 20) if num_frames else 0.0
    voiced = (strength > 0.45) & (loud > floor + 12)
    semitones = 12 * np.log2(16000 / np.maximum(lag, 1) / 100.0)
    accent = np.zeros(num_frames)
    if voiced.sum() > 3:
        pitch_z = (semitones - np.median(semitones[voiced])) / (np.std(semitones[voiced]) + 0.5)
        loud_z = (loud - np.median(loud[voiced])) / (np.std(loud[voiced]) + 1.0)
        accent = np.where(voiced, np.maximum(0.0, 0.6 * pitch_z + 0.4 * loud_z), 0.0)
        accent = np.convolve(accent, np.ones(3) / 3, mode="same")
    gap = max(1, int(round(0.3 * fps)))
    peaks = [
        k
        for k in range(1, num_frames - 1)
        if accent[k] > 0.8 and accent[k] == accent[max(0, k - gap) : k + gap + 1].max()
    ]
    pause = max(1, int(round(_PAUSE_S * fps)))
    ends = [
        k for k in range(1, num_frames) if voiced[k - 1] and not voiced[k : k + pause].any() and k + pause <= num_frames
    ]
    return Prosody(voiced, accent, np.array(peaks) / fps, np.array(ends) / fps)


def _pulse(t: np.ndarray, at: float, rise: float, hold: float, fall: float) -> np.ndarray:
    up = np.clip((t - (at - rise)) / rise, 0, 1)
    down = np.clip(1 - (t - (at + hold)) / fall, 0, 1)
    shape = np.minimum(up, down)
    return shape * shape * (3 - 2 * shape)


def with_idle_motion(
    curves: AnimationCurves, seed: int = 0, audio: np.ndarray | None = None, sample_rate: int | None = None
) -> AnimationCurves:
    """``curves`` with blinks, head motion and brow raises added (see the module); the mouth channels
    are left as they are."""
    rng = np.random.default_rng(seed)
    fps = float(curves.fps)
    n = curves.num_frames
    t = np.arange(n) / fps
    duration = n / fps
    lively = prosody(audio, sample_rate or 16000, n, fps) if audio is not None and len(audio) and n else None
    # Blinks: one per 2-5.5 s window, at a phrase end when the window has one.
    blink = np.zeros(n)
    moment = rng.uniform(0.5, 2.0)
    ends = lively.phrase_ends if lively is not None else np.zeros(0)
    while moment < duration:
        blink = np.maximum(blink, _pulse(t, moment, 0.08, 0.03, 0.15))
        start, stop = moment + 2.0, moment + 5.5
        chosen = ends[(ends >= start) & (ends <= stop)]
        moment = float(chosen[0]) + 0.05 if len(chosen) else rng.uniform(start, stop)
    # Head: a slow sway, nods at accents, a settle at phrase ends.
    phase = rng.uniform(0, 2 * np.pi, 4)
    yaw = 0.9 * np.sin(2 * np.pi * t / 7.3 + phase[0]) + 0.4 * np.sin(2 * np.pi * t / 3.1 + phase[1])
    pitch = 0.6 * np.sin(2 * np.pi * t / 5.9 + phase[2]) + 0.25 * np.sin(2 * np.pi * t / 2.3 + phase[3])
    brows = np.zeros(n)
    if lively is not None:
        for at in lively.accents:
            k = min(n - 1, int(round(at * fps)))
            strength = float(min(lively.accent[k], 2.5))
            pitch += 1.0 * strength * _pulse(t, at, 0.12, 0.05, 0.3)  # a nod: down with the accent
            yaw += rng.uniform(-0.6, 0.6) * strength * _pulse(t, at, 0.15, 0.1, 0.5)
            if strength > 1.2:
                brows = np.maximum(brows, min(0.6, 0.3 + 0.2 * (strength - 1.2)) * _pulse(t, at, 0.1, 0.15, 0.35))
        for at in lively.phrase_ends:
            pitch -= 0.8 * _pulse(t, at + 0.1, 0.2, 0.1, 0.5)
    yaw = np.clip(yaw, -MAX_DEGREES, MAX_DEGREES)
    pitch = np.clip(pitch, -MAX_DEGREES, MAX_DEGREES)
    names = list(curves.names)
    values = curves.values
    missing = [name for name in _LIVELY_CHANNELS if name not in names]
    if missing:
        names += missing
        values = np.concatenate([values, np.zeros((n, len(missing)), np.float32)], axis=1)
    values = values.copy()
    for name, layer in (
        ("eyeBlinkLeft", blink),
        ("eyeBlinkRight", blink),
        ("browInnerUp", brows),
        ("browOuterUpLeft", 0.7 * brows),
        ("browOuterUpRight", 0.7 * brows),
    ):
        column = names.index(name)
        values[:, column] = np.maximum(values[:, column], layer)
    extra = dict(curves.extra, head=np.stack([yaw, pitch], 1).astype(np.float32))
    extra_names = dict(curves.extra_names, head=("yaw_degrees", "pitch_degrees"))
    return AnimationCurves(curves.fps, tuple(names), values, extra, extra_names)
