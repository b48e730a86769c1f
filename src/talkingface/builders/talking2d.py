"""Synthetic 2D talking faces for volume: portraits made to speak espeak-ng sentences, written in the
preprocessed training layout (:mod:`.lrs2`) exactly as real clips are.

For each portrait and each of its clips: a sentence spoken by espeak-ng in a voice (English accents,
male and female variants), rate and pitch drawn from the seed, with its exact phoneme timings (no recognition); the JALI animator and the
talking photo make the face speak it at 25 fps; the frames are then augmented - a slow head motion
(rotation, scale and position drifting along the clip), colour (per-channel gain, gamma), blur, sensor
noise and H.264 compression at a drawn quality - and the video goes through
:func:`~talkingface.builders.preprocess.preprocess` like any real video (the tracker finds the face, the
crops and landmarks are cut from it), each portrait its own speaker. Every draw comes from ``seed`` and
is written beside each rendered video (``videos/<clip>.json``): the same arguments draw the same clips
(espeak-ng itself varies its samples slightly from call to call).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..animation import JaliAnimator, JaliConfig
from ..data.sources import IMAGE_SUFFIXES, listed_files
from ..errors import InputError, TalkingFaceError
from ..optional import needs
from ..speech.espeak import synthesize
from ..speech.phonemes import PhonemeSequence
from ..speech.sentences import SENTENCES
from .preprocess import PreprocessConfig, preprocess

#: espeak-ng voices drawn for the clips: English accents with male and female voice variants. (Voices of
#: other languages emit phonemes our inventory does not map yet.)
VOICES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us+f1",
    "en-us+f2",
    "en-us+f3",
    "en-us+f4",
    "en-us+f5",
    "en-us+m1",
    "en-us+m3",
    "en-us+m5",
    "en-us+m2",
    "en-us+m4",
    "en-us+m6",
    "en-us+klatt",
)
FPS = 25


@dataclass(frozen=True)
class TalkingFacesConfig:
    """Attributes:
    clips_per_face: clips made from each portrait.
    seed: every draw (sentence, voice, rate, pitch, augmentation).
    photo_size: longer side the portrait is animated at, pixels.
    size: side of the saved crops (as ``preprocess --size``).
    voices: espeak-ng voices to draw from.
    augment: apply the head motion, colour, blur, noise and compression.
    workers: videos preprocessed at once.
    """

    clips_per_face: int = 3
    seed: int = 0
    photo_size: int = 320
    size: int = 96
    voices: tuple[str, ...] = VOICES
    augment: bool = True
    workers: int = 1
    sentences: tuple[str, ...] = field(default=SENTENCES)

    def __post_init__(self) -> None:
        if self.clips_per_face < 1:
            raise InputError(f"clips_per_face must be >= 1, got {self.clips_per_face}")
        if not 64 <= self.photo_size <= 2048:
            raise InputError(f"photo_size must be 64-2048 pixels, got {self.photo_size}")
        if not self.voices or not self.sentences:
            raise InputError("need at least one voice and one sentence")


@dataclass(frozen=True)
class Augmentation:
    """One clip's augmentation, drawn from its seed."""

    angle: float  # degrees, mean head roll
    sway: float  # degrees, amplitude of the roll's slow change
    scale: float
    drift: tuple[float, float]  # the face's slow travel over the clip, as a share of the frame
    gains: tuple[float, float, float]
    gamma: float
    blur: float  # Gaussian sigma, pixels
    noise: float  # Gaussian sigma, 8-bit levels
    crf: int  # H.264 quality of the written video

    @classmethod
    def draw(cls, rng: np.random.Generator, enabled: bool = True) -> Augmentation:
        if not enabled:
            return cls(0.0, 0.0, 1.0, (0.0, 0.0), (1.0, 1.0, 1.0), 1.0, 0.0, 0.0, 18)
        return cls(
            angle=float(rng.uniform(-8, 8)),
            sway=float(rng.uniform(0, 4)),
            scale=float(rng.uniform(0.85, 1.15)),
            drift=(float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04))),
            gains=tuple(float(g) for g in rng.uniform(0.85, 1.15, 3)),  # type: ignore[arg-type]
            gamma=float(rng.uniform(0.8, 1.25)),
            blur=float(rng.choice([0.0, 0.0, rng.uniform(0.5, 1.8)])),
            noise=float(rng.uniform(0, 6)),
            crf=int(rng.integers(18, 36)),
        )

    def apply(self, frame: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
        """``frame`` (RGB uint8) at ``t`` in [0, 1] along the clip, augmented."""
        with needs("face"):
            import cv2

        h, w = frame.shape[:2]
        angle = self.angle + self.sway * np.sin(2 * np.pi * t)
        matrix = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), angle, self.scale), np.float64)
        matrix[:, 2] += (self.drift[0] * w * t, self.drift[1] * h * t)
        out = cv2.warpAffine(frame, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        values = out.astype(np.float32) / 255.0
        values = np.clip(values * np.asarray(self.gains, np.float32), 0, 1) ** self.gamma
        if self.blur > 0:
            values = np.asarray(cv2.GaussianBlur(values, (0, 0), self.blur), np.float32)
        if self.noise > 0:
            values = values + rng.normal(0, self.noise / 255.0, values.shape).astype(np.float32)
        return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)


def portraits(sources: Sequence[str | os.PathLike]) -> list[Path]:
    """The image files among ``sources`` (files, or folders of them)."""

    return listed_files(sources, lambda p: p.suffix.lower() in IMAGE_SUFFIXES, "no portrait images found")


def make_talking_faces(
    faces: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: TalkingFacesConfig = TalkingFacesConfig(),
    log: Callable[[str], None] | None = print,
):
    """Write the synthetic clips of ``faces`` (images or folders of them) to ``out_dir`` in the
    preprocessed layout; returns :func:`~talkingface.builders.preprocess.preprocess`'s result. Portraits in
    which no face is found are reported and skipped. The rendered videos stay in ``out_dir/videos``."""

    images = portraits(faces)
    out = Path(out_dir)
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    videos_dir = out / "videos"
    videos_dir.mkdir(parents=True, exist_ok=True)
    videos: list[Path] = []
    speakers: list[str] = []
    for k, image in enumerate(images):
        speaker = "synth_" + "".join(c if c.isalnum() else "_" for c in image.stem)
        for j in range(config.clips_per_face):
            path = videos_dir / f"{speaker}_{j:02d}.mp4"
            if not path.exists():
                try:
                    _render_clip(image, path, np.random.default_rng([config.seed, k, j]), config)
                except TalkingFaceError as error:
                    if log:
                        log(f"skipped {path.name}: {error}")
                    continue
            videos.append(path)
            speakers.append(speaker)
    if not videos:
        raise InputError("no portrait could be animated")
    return preprocess(
        videos, out, PreprocessConfig(size=config.size, seed=config.seed), workers=config.workers, speakers=speakers
    )


def _render_clip(image: Path, output: Path, rng: np.random.Generator, config: TalkingFacesConfig) -> dict:
    """Render one clip of ``image`` to ``output``; returns what was drawn (also written beside it as
    ``<output>.json``). The draws repeat exactly from the same ``rng``; espeak-ng's samples may differ
    by a few at the end of a sentence from one call to the next."""
    import dataclasses
    import json

    from ..media import VideoWriter
    from ..pipelines.talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline

    sentence = config.sentences[int(rng.integers(len(config.sentences)))]
    voice = config.voices[int(rng.integers(len(config.voices)))]
    settings = {
        "rate": int(rng.integers(130, 230)),
        "pitch": int(rng.integers(20, 80)),
        "pitch_range": int(rng.integers(30, 90)),
    }
    speech = synthesize(sentence, voice, **settings)
    # Silence around the sentence: real clips have pauses, and closed lips in silence are part of sync.
    pauses = [float(rng.uniform(0.1, 0.6)) for _ in range(2)]
    lead, tail = (np.zeros(int(p * speech.sample_rate), np.float32) for p in pauses)
    audio = np.concatenate([lead, speech.audio, tail])
    phonemes = _delayed(speech.phonemes, len(lead) / speech.sample_rate, len(audio) / speech.sample_rate)
    curves = JaliAnimator(JaliConfig()).animate(phonemes, FPS, audio, speech.sample_rate)
    pipeline = TalkingPhotoPipeline(TalkingPhotoConfig(fps=FPS, size=config.photo_size))
    augmentation = Augmentation.draw(rng, config.augment)
    noise = np.random.default_rng(rng.integers(2**32))
    tmp = output.with_name(output.stem + ".partial.mp4")
    with VideoWriter(tmp, FPS, audio=audio, sample_rate=speech.sample_rate, crf=augmentation.crf) as writer:
        n = max(1, curves.num_frames - 1)
        for i, frame in enumerate(pipeline.render_frames(image, curves)):
            writer.write(augmentation.apply(frame, i / n, noise))
    os.replace(tmp, output)
    drawn = {
        "image": str(image),
        "sentence": sentence,
        "voice": voice,
        **settings,
        "pauses": pauses,
        "augmentation": dataclasses.asdict(augmentation),
    }
    output.with_suffix(".json").write_text(json.dumps(drawn, indent=1))
    return drawn


def _delayed(sequence, seconds: float, duration: float):
    """``sequence`` (a PhonemeSequence) ``seconds`` later, lasting ``duration``."""
    from dataclasses import replace

    return PhonemeSequence(
        [replace(p, start=p.start + seconds, end=p.end + seconds) for p in sequence.phonemes],
        [replace(w, start=w.start + seconds, end=w.end + seconds) for w in sequence.words],
        duration,
        sequence.source,
    )
