"""The settings of :class:`~talkingface.pipelines.lipsync.LipSyncPipeline`, apart from the pipeline so that
reading them (the web service's options, a command's help) loads no torch."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .. import choices
from ..enhance.video import EnhanceSettings
from ..errors import InputError
from ..settings import setting
from ..timebase import to_fps

PRECISIONS = choices.PRECISIONS


@dataclass(frozen=True)
class LipSyncConfig(EnhanceSettings):
    """Settings of :class:`LipSyncPipeline` (Wav2Lip's options, same meaning, better defaults) and of
    :class:`~talkingface.pipelines.mouth_dub.MouthDubPipeline` (the speaker's own mouths).

    Attributes:
        method: "auto" (Wav2Lip when a checkpoint is given, else the speaker's own mouths), "mouths" or
            "wav2lip" (:data:`talkingface.choices.LIPSYNC_METHODS`).
        mouths: videos of the speaker to take the mouths from instead of the face video (mouths method).
        language: the transcript's language, an espeak-ng voice ("en", "de", "fr", "es", ...): English is aligned by
            pocketsphinx, every other language by warping espeak-ng's rendering onto the speech.
        batch_size: crops generated per call.
        pads: pixels added to the face box (top, bottom, left, right); None: the model's (0, 10, 0, 0).
        resize_factor: divide the video's resolution by this first (Wav2Lip's ``--resize_factor``).
        crop: (top, bottom, left, right) region of the frame to work in (-1 = the edge), like ``--crop``.
        box: a fixed face box (top, bottom, left, right) instead of tracking, like ``--box``.
        static: use the first frame only (a photo), like ``--static``.
        smooth: smooth the tracked face over time (``--nosmooth`` turns it off).
        paste: "soft" (feathered lower-face mask) or "hard" (the reference's box paste).
        color_match: match the generated mouth's colours to the frame.
        keep_video_length: output as long as the video (speech cut or padded with silence).
        face_index: the track to use (default: the largest face in each shot).
        speaking_face: in shots with several faces, lip-sync the one that speaks in the video's own
            sound (found by the built-in sync model) rather than the largest.
        fps: frame rate for photo input.
        fast: run the generator's inference form (folded batch norms, channels-last).
        precision: "fp32" (the generator's own numbers) or "bf16" (bfloat16: 2.6x the generator's frames/s
            on a 2-core AVX512-BF16 CPU, ``bench/bench_models.py``; not the same numbers: a few 8-bit levels
            on a trained generator's mouths, ``bench/bench_bf16.py``).
        offset: frames by which each frame's mel window is moved later (fixes audio leading the lips).
        overlap: decode, generate and paste in three threads at once (None: when the generator is not
            on the CPU, where they would only compete for the same cores).
        enhance: sharpen the face after the paste: "none", "gfpgan" (GFPGAN on the aligned face, pasted
            in the mouth region, steadied over time) or "upscaler" (the mouth upscaler on the mouth at
            the frame's resolution); :mod:`talkingface.enhance.video`.
        enhance_checkpoint: the GFPGAN file (GFPGANv1.3/1.4.pth), or an upscaler of ours (default: the
            built-in one).
        enhance_every: GFPGAN on every n-th frame only, carried along the optical flow between.
    """

    method: str = setting("auto", "how the new mouth is made", choices=choices.LIPSYNC_METHODS)
    mouths: tuple[str, ...] = ()
    language: str = "en"
    batch_size: int = 16
    pads: tuple[int, int, int, int] | None = None
    resize_factor: int = 1
    crop: tuple[int, int, int, int] | None = None
    box: tuple[int, int, int, int] | None = None
    static: bool = setting(False, "use only the first frame of the video")
    smooth: bool = True
    paste: str = setting("soft", "how the mouth is pasted back", choices=choices.PASTE_MODES)
    color_match: bool = True
    keep_video_length: bool = setting(False, "output as long as the video")
    face_index: int | None = setting(None, "which face, largest first", low=0, none="the largest in each shot")
    speaking_face: bool = False
    fps: float | Fraction = 25
    fast: bool = True
    offset: int = 0
    overlap: bool | None = None
    precision: str = "fp32"

    def __post_init__(self) -> None:
        self.enhancement()
        if self.method not in choices.LIPSYNC_METHODS:
            raise InputError(f"method must be one of {', '.join(choices.LIPSYNC_METHODS)}, got {self.method!r}")
        if self.mouths and self.method == "wav2lip":
            raise InputError("mouths are for the mouths method, not Wav2Lip")
        if self.batch_size < 1 or self.resize_factor < 1:
            raise InputError("batch_size and resize_factor must be >= 1")
        if self.paste not in choices.PASTE_MODES:
            raise InputError(f"paste must be 'soft' or 'hard', got {self.paste!r}")
        if self.precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.precision != "fp32" and not self.fast:
            raise InputError("precision bf16 needs the inference form (fast)")
        for name in ("pads", "crop", "box"):
            value = getattr(self, name)
            if value is not None and (len(value) != 4 or not all(isinstance(v, (int, np.integer)) for v in value)):
                raise InputError(f"{name} must be four whole numbers (top, bottom, left, right), got {value!r}")
        if self.box is not None and (self.box[1] <= self.box[0] or self.box[3] <= self.box[2]):
            raise InputError(f"box must be top bottom left right with top < bottom, left < right; got {self.box}")
        if self.speaking_face and self.face_index is not None:
            raise InputError("speaking_face and face_index both choose the face: give one")
        if self.face_index is not None and self.face_index < 0:
            raise InputError(f"face_index must be >= 0, got {self.face_index}")
        to_fps(self.fps)
