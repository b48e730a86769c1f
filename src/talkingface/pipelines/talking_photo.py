"""Talking photo without downloaded weights: speech -> ARKit curves (JALI on timed phonemes, or the
built-in VisemeNet without a transcript) -> landmark rig -> photo warp, frame by frame, straight into
the video file.

For a photo, its face is found once and the rig and warper are built once; every output frame is the
photo warped to the rig's landmarks for that frame's ARKit weights. For a video, faces are tracked
first; each frame's own face is re-animated and frames without one pass through unchanged. The
output has the original speech track, ``ceil(duration * fps)`` frames, and is tagged as synthetic.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import choices
from ..animation import AnimationCurves, JaliConfig
from ..animation.idle import with_idle_motion
from ..animation.rig import LandmarkRig
from ..animation.speech import resolve_method, speech_curves
from ..enhance.video import EnhanceSettings, enhance_still, make_enhancer
from ..errors import InputError
from ..face import FaceTracker, detect_faces
from ..face.detection import landmark_centre
from ..face.tracking import check_trackable
from ..media.tags import SYNTHETIC_TAGS
from ..progress import Progress
from ..render.photo import PhotoWarper
from ..settings import setting
from ..speech import SPEECH_RATE
from ..speech.phonemes import PhonemeSequence
from ..timebase import to_fps
from ._base import Pipeline, check_device
from ._frames import looped_frames

#: Faces of a photo given landmarks (the largest first); ``face_index`` chooses among them.
MAX_FACES = 8


@dataclass(frozen=True)
class TalkingPhotoConfig(EnhanceSettings):
    """Settings of :class:`TalkingPhotoPipeline`.

    Attributes:
        fps: output frame rate for photos (videos keep their own unless ``fps`` is forced).
        size: longer side of a photo in the output, in pixels (None: as it is).
        jali: animator settings (style, timings, fixed JA/LI).
        method: how speech becomes motion (:data:`~talkingface.animation.speech.SPEECH_METHODS`):
            "auto" (JALI with forced alignment when a transcript is given, else VisemeNet), "jali"
            or "visemenet".
        language: the transcript's language, an espeak-ng voice ("en", "de", "fr", "es", ...): English is aligned by
            pocketsphinx, every other language by warping espeak-ng's rendering onto the speech.
        still: only the mouth moves (by default the face also lives: blinks, head motion and brow raises
            timed by the speech, :func:`~talkingface.animation.idle.with_idle_motion`).
        seed: the seed of that motion.
        force_fps: use ``fps`` for video input too.
        face_index: which face to animate: in a photo, the index among its faces, largest first; in a
            video, the face track's id (None: the largest face).
        enhance, enhance_checkpoint, enhance_every: sharpen the face as it is made ("none", "gfpgan" or
            "upscaler"; :mod:`talkingface.enhance.video`), as :class:`~talkingface.pipelines.LipSyncConfig`.
    """

    fps: float | Fraction = setting(25, "frames per second of a photo's video", above=0)
    size: int | None = setting(None, "longer side of a photo in the output, in pixels", low=16, none="as it is")
    jali: JaliConfig = field(default_factory=JaliConfig)
    method: str = setting("auto", "speech to mouth motion", choices=choices.SPEECH_METHODS)
    language: str = "en"
    still: bool = setting(False, "only the mouth moves (no blinks or head motion)")
    seed: int = setting(0, "seed of the blinks and head motion", low=0, high=2**31 - 1)
    force_fps: bool = False
    face_index: int | None = None

    def __post_init__(self) -> None:
        to_fps(self.fps)
        resolve_method(self.method, None)
        if self.face_index is not None and (isinstance(self.face_index, bool) or self.face_index < 0):
            raise InputError(f"face_index must be a whole number >= 0, got {self.face_index!r}")
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 16):
            raise InputError(f"size must be a whole number of pixels >= 16, got {self.size!r}")
        self.enhancement()


@dataclass
class TalkingPhotoResult:
    path: Path
    num_frames: int
    fps: Fraction
    duration: float
    phonemes: PhonemeSequence
    curves: AnimationCurves
    faces: int = 1  # faces found (in a photo) or face tracks (in a video)
    face_index: int = 0  # the one animated
    #: In a video, where the animated face's track begins: the centre (x, y) of its landmarks, in pixels.
    face_centre: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return (
            f"TalkingPhotoResult({self.path.name}: {self.num_frames} frames at {float(self.fps):g} fps, "
            f"{self.duration:.2f} s, {len(self.phonemes.phonemes)} phonemes)"
        )


class TalkingPhotoPipeline(Pipeline):
    """``TalkingPhotoPipeline(config)(face, audio, output, text=None) -> TalkingPhotoResult``.

    Its only network is the enhancer's, where ``config.enhance`` asks for one: ``to(device)`` sets where it
    runs (the motion needs none)."""

    @classmethod
    def from_config(
        cls, config: TalkingPhotoConfig | None = None, checkpoint: str | os.PathLike | None = None
    ) -> TalkingPhotoPipeline:
        """The pipeline with ``config``; its models are the built-in ones (``checkpoint``: an upscaler of ours
        for ``enhance="upscaler"``, as ``config.enhance_checkpoint``)."""
        config = config or TalkingPhotoConfig()
        if checkpoint is not None:
            config = dataclasses.replace(config, enhance_checkpoint=str(checkpoint))
        return cls(config)

    def __init__(self, config: TalkingPhotoConfig = TalkingPhotoConfig()):
        self.config = config
        self.device = "cpu"

    def to(self, device) -> TalkingPhotoPipeline:
        """Run the enhancer's network on ``device``."""
        self.device = str(check_device(device))
        return self

    def check(self, face, audio, output, text: str | None = None):
        """Fail before any work: the method fits the transcript (or its absence), a readable photo or
        video, audio with sound, a writable video output that is neither input. Returns the face's video
        info."""
        from ..media import audio_info, check_video_output, probe_video

        resolve_method(self.config.method, text)
        extra = (self.config.enhance_checkpoint,) if self.config.enhance_checkpoint else ()
        check_video_output(output, audio=True, inputs=(face, audio, *extra))
        self.config.enhancement().check()
        info = probe_video(face)
        if not info.is_image:
            check_trackable(info, face)
        audio_info(audio)
        return info

    def __call__(
        self,
        face: str | os.PathLike,
        audio: str | os.PathLike,
        output: str | os.PathLike,
        text: str | None = None,
        progress: bool = False,
    ) -> TalkingPhotoResult:
        from ..media import load_audio

        info = self.check(face, audio, output, text)
        # A video is enhanced frame by frame (its network loaded now: a bad file fails before the work).
        enhancer = None if info.is_image else make_enhancer(self.config.enhancement(self.device))
        photo = self._prepare_photo(face) if info.is_image else None  # a photo without a face fails here
        tracking = None if photo else self._track(face)
        faces, index = (photo[2], photo[3]) if photo else _chosen_track(face, tracking, self.config.face_index)
        speech = load_audio(audio, SPEECH_RATE)
        fps = to_fps(self.config.fps) if info.is_image or self.config.force_fps or not info.fps else info.fps
        curves, phonemes = speech_curves(
            speech, SPEECH_RATE, fps, text, self.config.method, self.config.jali, language=self.config.language
        )
        if not self.config.still:
            curves = with_idle_motion(curves, self.config.seed, speech, SPEECH_RATE)
        made = self._photo_frames(photo, curves) if photo else self._video_frames(face, curves, info, tracking)
        frames = enhancer.run(made) if enhancer is not None else (frame for frame, _ in made)
        self._write(output, frames, fps, audio, curves.num_frames, progress)
        centre = None
        if tracking is not None:
            centre = landmark_centre(next(t for t in tracking.tracks if t.track_id == index).landmarks[0])
        return TalkingPhotoResult(
            Path(output), curves.num_frames, fps, curves.num_frames / float(fps), phonemes, curves, faces, index, centre
        )

    def render_frames(self, face: str | os.PathLike, curves: AnimationCurves, info=None) -> Iterator[np.ndarray]:
        """The output frames (``(H, W, 3) uint8`` RGB), one per frame of ``curves``, as they are made."""
        from ..media import probe_video

        info = info or probe_video(face)
        if info.is_image:
            made = self._photo_frames(self._prepare_photo(face), curves)
        else:
            made = self._video_frames(face, curves, info)
        return (frame for frame, _ in made)

    # -- sources -------------------------------------------------------------------------------
    def _prepare_photo(self, path):
        """The photo (resized to ``size``), the rig of its face and its warper."""
        from ..media import read_image, resize_image

        original = image = read_image(path)
        if self.config.size:
            h, w = image.shape[:2]
            scale = self.config.size / max(h, w)
            image = resize_image(image, max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
        faces = detect_faces(image, max_faces=MAX_FACES)
        if not faces and image.shape != original.shape:
            # A face too small to find at the output size (a wide, large photo): find it at the
            # photo's own size and bring its landmarks down.
            ratio = np.array([image.shape[1] / original.shape[1], image.shape[0] / original.shape[0]])
            found = detect_faces(original, max_faces=MAX_FACES)
            faces = [dataclasses.replace(f, landmarks=f.landmarks * np.array([*ratio, ratio.mean()])) for f in found]
        if not faces:
            raise InputError(f"{path}: no face found in the photo")
        index = self.config.face_index or 0
        if index >= len(faces):
            raise InputError(
                f"{path}: face index {index} asked, the photo has {len(faces)} face(s) (0-{len(faces) - 1}, largest first)"
            )
        chosen = faces[index].landmarks
        # A photo is enhanced once, before it moves: nothing can flicker.
        image = enhance_still(image, chosen, self.config.enhancement(self.device))
        return LandmarkRig(chosen), PhotoWarper(image, chosen), len(faces), index

    @staticmethod
    def _track(path):
        return FaceTracker().track_video(path)

    @staticmethod
    def _photo_frames(prepared, curves: AnimationCurves) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """(frame, the posed face's landmarks) per output frame."""
        rig, warper = prepared[:2]
        for i in range(curves.num_frames):
            posed = _posed(rig, curves, i)
            yield warper.warp(posed), posed

    def _video_frames(
        self, path, curves: AnimationCurves, info, tracking=None
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        if tracking is None:  # called on its own (render_frames): check the choice here
            tracking = self._track(path)
            _chosen_track(path, tracking, self.config.face_index)
        choice = self.config.face_index if self.config.face_index is not None else "largest"
        target = tracking.target(choice)
        style = None
        for j, (index, frame) in enumerate(looped_frames(path, len(target.has_face), curves.num_frames, info)):
            if not target.has_face[index]:
                yield frame, None
                continue
            landmarks = target.landmarks[index]
            try:
                rig = LandmarkRig(landmarks)
            except InputError:
                yield frame, None
                continue
            warper = PhotoWarper(frame, landmarks, style)
            style = warper.style  # sampled once, so the teeth do not flicker
            posed = _posed(rig, curves, j)
            yield warper.warp(posed), posed

    def _write(self, output, frames, fps, audio, total: int, progress: bool) -> None:
        from ..media import VideoWriter

        with (
            VideoWriter(output, fps, audio=audio, metadata=SYNTHETIC_TAGS) as writer,
            Progress(total, "animating", enabled=progress) as bar,
        ):
            for frame in frames:
                writer.write(frame)
                bar.update()


def _chosen_track(path, tracking, face_index: int | None) -> tuple[int, int]:
    """The number of face tracks of a video and the one to animate (the largest face's by default)."""
    ids = [t.track_id for t in tracking.tracks]
    if not ids:
        raise InputError(f"{path}: no face found in the video")
    if face_index is None:
        largest = tracking.target("largest").track_ids
        return len(ids), int(np.bincount(largest[largest >= 0]).argmax())
    if face_index not in ids:
        raise InputError(f"{path}: no face track {face_index}; the video's tracks are {ids}")
    return len(ids), face_index


def _posed(rig, curves: AnimationCurves, i: int) -> np.ndarray:
    head = curves.extra.get("head")
    return rig(curves.as_dict(i), head=tuple(head[i]) if head is not None else None)
