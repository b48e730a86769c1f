"""Dub a video to new speech with the speaker's own mouths: no generator, no downloaded weights, the
video's own resolution.

1. **The library.** The footage (the face video itself, or the ``mouths`` videos) is tracked; every
   frame with a face in a usable pose is a library mouth, described by its lip opening and head pose
   (:mod:`talkingface.animation.mouth_path`).
2. **Targets.** How open the mouth should be at each output frame, from the speech: the openness
   model, adapted to the speaker where the footage has its own sound
   (:mod:`talkingface.animation.mouth_targets`).
3. **The path.** One library mouth per output frame, by dynamic programming over candidates: the
   opening needed, the pose of the frame it goes on, and runs of consecutive footage.
4. **Compositing.** Each chosen lower face is cut from its footage frame at full resolution and moved
   onto the output frame with the head (:mod:`talkingface.render.mouths`); frames without a face pass
   through untouched.

Memory stays bounded: the footage is read three times (tracking, cutting the chosen mouths, writing),
and only the chosen lower faces are kept (beyond a budget, losslessly compressed on disk), each
until its last output frame; they are cut in a background thread while the output is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..animation.mouth_path import MAX_POSE_DISTANCE, MouthShapes, choose_path, describe_mouths, pose_distance
from ..animation.mouth_targets import SpeechFrames, fit_opening, speech_frames, target_opening
from ..errors import InputError, MediaError
from ..face import FaceTracker, OneEuroParams, TrackerConfig
from ..face.tracking import TargetFace, check_trackable, smooth_segments
from ..features.identity import skin_tone
from ..media.tags import SYNTHETIC_TAGS
from ..progress import Progress
from ..render.mouths import MouthPatch, cut_mouth, mouth_box, paste_mouth
from ..timebase import num_frames_for_duration, to_fps
from ._frames import looped_frames, looped_indices
from .lipsync import DubbingPipeline, LipSyncResult, _sound_track, chosen_face, first_centre
from .lipsync_config import LipSyncConfig

#: Smallest face (forehead to chin, pixels) whose mouth goes into the library.
MIN_FACE = 48
#: Frames of footage a library needs, at least.
MIN_MOUTHS = 12
#: Head turns beyond this (the pose descriptor's distance from the footage's median pose, in units of
#: its own spread) leave the library.
MAX_POSE = 3.0
SPEECH_RATE = 16000
#: Bytes of chosen lower faces held in memory; beyond them, each waits PNG-compressed on disk.
PATCH_BYTES = 256 * 2**20
#: The face video's skin tone is measured on every this many frames it dubs.
TONE_EVERY = 10


@dataclass
class _Footage:
    """One video of the library: its landmarks per frame and which of them are library mouths."""

    path: Path
    fps: float
    shapes: MouthShapes  # each frame's mouth as tracked (what it looks like), NaN where no face
    steady: np.ndarray  # (N, 478, 3) smoothed over time (where the face is, to cut and paste)
    usable: np.ndarray  # (N,) bool


class MouthDubPipeline(DubbingPipeline):
    """``MouthDubPipeline(openness_model, config)(face, audio, output) -> LipSyncResult``; the mouths come
    from ``config.mouths`` (videos of the speaker), or from the face video itself."""

    def __init__(self, openness_model, config: LipSyncConfig = LipSyncConfig()):
        self.model = openness_model
        self.config = config
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []  # what the last call said about its footage
        #: The last call's output frames left as they were (turned unlike any frame of the footage).
        self.unmatched = np.zeros(0, bool)
        #: The opening the last call's speech needed at each output frame (lip gap over face height).
        self.wanted = np.zeros(0)
        self._tones: dict[int, list[np.ndarray]] = {}  # skin tones seen: per footage video, -1 the face video

    @classmethod
    def from_config(cls, config: LipSyncConfig | None = None, checkpoint=None) -> MouthDubPipeline:
        """The pipeline with the built-in openness model (``checkpoint``: an openness model of ours)."""
        from ..models.registry import load_builtin

        config = config or LipSyncConfig()
        for name in ("crop", "box", "pads"):
            if getattr(config, name) is not None:
                raise InputError(f"{name} is a Wav2Lip option; dubbing with the speaker's own mouths does not take it")
        if config.static or config.resize_factor != 1:
            raise InputError("static and resize_factor are Wav2Lip options; the mouths method works on the video")
        return cls(load_builtin("openness", checkpoint), config)

    def to(self, device) -> MouthDubPipeline:
        from ._base import check_device

        self.device = check_device(device)
        self.model = self.model.to(self.device)
        return self

    def check(self, face, audio, output) -> tuple:
        """Fail before any work: a face video (not a photo) with frames, speech with sound, footage
        videos that are videos, an output that is none of them."""
        from ..media import audio_info, check_video_output, probe_video

        mouths = self.config.mouths
        check_video_output(output, audio=True, inputs=(face, audio, *mouths))
        info = probe_video(face)
        if info.is_image:
            raise InputError(f"{face}: a photo has one mouth; the mouths method needs a video (use animate)")
        check_trackable(info, face)
        for path in mouths:
            footage = probe_video(path)
            if footage.is_image:
                raise InputError(f"{path}: --mouths takes videos of the speaker, not a photo")
            check_trackable(footage, path)
        self.config.enhancement().check()
        return info, audio_info(audio)

    def __call__(
        self,
        face: str | os.PathLike,
        audio: str | os.PathLike,
        output: str | os.PathLike,
        progress: bool = False,
        offset: int | None = None,
        text: str | None = None,
    ) -> LipSyncResult:
        """Dub ``face`` to ``audio`` into ``output``; ``offset`` overrides the config's (frames by which
        the mouths come later than the speech); ``text``: what the speech says (its phonemes are then
        aligned, and the JALI jaw joins the openness model's)."""
        import time

        from ..media import load_audio

        cfg = self.config
        self.timings, self.notes, self._tones = {}, [], {}
        begin = time.perf_counter()
        info, sound = self.check(face, audio, output)
        mouths = cfg.mouths
        offset = cfg.offset if offset is None else offset
        fps = float(to_fps(info.fps or cfg.fps))
        target = self._target(face, info)
        sources = [Path(m) for m in mouths] or [Path(face)]
        described, steady = describe_mouths(target.landmarks), _steady(target.landmarks, fps)
        own = (target, described, steady)
        footage = [self._footage(p, None if mouths else own) for p in sources]
        self._timed("track", begin)
        speech = load_audio(audio, SPEECH_RATE)
        num_video = len(target.has_face)
        num_out = num_video if cfg.keep_video_length else num_frames_for_duration(len(speech) / SPEECH_RATE, fps)
        if num_out == 0:
            raise InputError(f"{audio}: the speech is too short for a single frame")
        start = time.perf_counter()
        library, where = self._library(footage)
        indices = looped_indices(num_video, num_out, info)
        wanted = _shifted(self._targets(footage, library, speech, num_out, fps, text), offset)
        pose = described.pose[indices]
        self.wanted = wanted
        path = choose_path(wanted, pose, library)
        unmatched = pose_distance(pose, library, path) > MAX_POSE_DISTANCE
        if unmatched.any():
            self.notes.append(
                f"{int(unmatched.sum())} of {len(unmatched)} frames are turned unlike any frame of the footage: "
                "left as they are (more footage of the speaker in those poses, with --mouths, would dub them)"
            )
        self.unmatched = unmatched
        self._timed("choose", start)
        tones = self._tones if mouths else None  # the faces are compared only when the footage is other videos
        patches = _Cutter([where[k] for k, skip in zip(path, unmatched) if not skip], footage, tones)
        with patches:  # cut in the background while the output is written
            with_face = self._write(
                face,
                info,
                audio,
                sound.sample_rate,
                output,
                steady,
                indices,
                path,
                unmatched,
                where,
                patches,
                fps,
                progress,
            )
        self.timings["cut"] = patches.seconds
        if mouths:
            self._identity_notes(steady, footage)
        self.timings["total"] = time.perf_counter() - begin
        return LipSyncResult(
            Path(output), num_out, to_fps(fps), with_face, offset=offset, face_centre=first_centre(target)
        )

    def _identity_notes(self, steady: np.ndarray, footage: list[_Footage]) -> None:
        """A note for each ``--mouths`` video whose face clearly differs from the face video's."""
        from ..features.identity import face_shape, unlike

        shape = face_shape(steady)
        tone = np.median(self._tones[-1], axis=0) if self._tones.get(-1) else None
        for f, item in enumerate(footage):
            tones = self._tones.get(f)
            reason = unlike(
                shape, tone, face_shape(item.steady[item.usable]), np.median(tones, axis=0) if tones else None
            )
            if reason:
                self.notes.append(
                    f"{item.path}: the face looks like another person's ({reason}); the mouths method "
                    "expects footage of the speaker in the face video"
                )

    def _target(self, face, info) -> TargetFace:
        """The tracked face to dub in each frame (the largest, ``face_index`` or the speaking one)."""
        tracking = FaceTracker(RAW).track_video(face)
        if not tracking.tracks:
            raise InputError(f"{face}: no face found in any frame")
        return chosen_face(face, tracking, self.config)

    def _footage(self, path: Path, own: tuple | None) -> _Footage:
        """A library video: its mouths and which are usable (``own``: the face video's tracked face, its
        descriptors and steady landmarks, when it is the footage)."""
        from ..media import probe_video

        info = probe_video(path)
        fps = float(info.fps or 25)
        if own is None:
            tracking = FaceTracker(RAW).track_video(path)
            if not tracking.tracks:
                raise InputError(f"{path}: no face found in the footage for --mouths")
            target = tracking.target("largest")
            own = (target, describe_mouths(target.landmarks), _steady(target.landmarks, fps))
        target, shapes, steady = own
        landmarks = target.landmarks
        height = np.linalg.norm(landmarks[:, 152, :2] - landmarks[:, 10, :2], axis=1)
        usable = target.has_face & (np.nan_to_num(height) >= MIN_FACE)
        pose = shapes.pose
        if usable.sum() >= MIN_MOUTHS:
            centre = np.median(pose[usable], axis=0)
            distance = np.sqrt(((pose - centre) ** 2).sum(1))
            spread = np.median(distance[usable]) + 1e-6
            usable &= np.nan_to_num(distance / spread, nan=np.inf) <= MAX_POSE
        for k in np.flatnonzero(usable):
            try:
                mouth_box(landmarks[k], (info.height, info.width))
            except InputError:
                usable[k] = False
        return _Footage(path, fps, shapes, steady, usable)

    def _library(self, footage: list[_Footage]) -> tuple[MouthShapes, list[tuple[int, int]]]:
        """The library's descriptors, and where each mouth is (footage, frame)."""
        shapes, where, runs = [], [], []
        run = 0
        for f, item in enumerate(footage):
            described = item.shapes
            frames = np.flatnonzero(item.usable)
            breaks = np.concatenate([[True], np.diff(frames) != 1])
            run_of = run + np.cumsum(breaks) - 1
            run = int(run_of[-1]) + 1 if len(frames) else run
            shapes.append((described.opening[frames], described.pose[frames]))
            where += [(f, int(k)) for k in frames]
            runs.append(run_of)
        if len(where) < MIN_MOUTHS:
            names = ", ".join(str(item.path) for item in footage)
            raise InputError(
                f"{names}: only {len(where)} frames with a usable mouth (a face turned to the camera is needed)"
            )
        library = MouthShapes(
            np.concatenate([s[0] for s in shapes]), np.concatenate([s[1] for s in shapes]), np.concatenate(runs)
        )
        return library, where

    def _targets(self, footage, library, speech, num_out, fps, text) -> np.ndarray:
        """The opening each output frame needs, adapted to the speaker on footage with sound."""
        from ..media import load_audio

        wanted_speech = speech_frames(self.model, speech, SPEECH_RATE, num_out, fps)
        speech_only = None
        if text is not None and text.strip():
            from ..animation.speech import speech_curves

            curves, _ = speech_curves(
                speech, SPEECH_RATE, fps, text=text, openness_model=self.model, language=self.config.language
            )
            speech_only = curves.channel("jawOpen")[:num_out]
            speech_only = np.pad(speech_only, (0, num_out - len(speech_only)), mode="edge")
        adapted = None
        pairs = []
        for item in footage:
            try:
                own = load_audio(item.path, SPEECH_RATE)
            except MediaError:
                continue
            if len(own) < SPEECH_RATE // 2:
                continue
            frames = speech_frames(self.model, own, SPEECH_RATE, len(item.usable), item.fps)
            opening = item.shapes.opening
            pairs.append((frames, np.where(item.usable, opening, np.nan)))
        if pairs:
            joined = SpeechFrames(
                np.concatenate([p[0].model for p in pairs]), np.concatenate([p[0].bands for p in pairs])
            )
            adapted = fit_opening(joined, np.concatenate([p[1] for p in pairs]))
        if adapted is None:
            self.notes.append(
                "the footage has too little of its own speech to learn the speaker's mouth from: speech-only targets"
            )
        wanted = target_opening(wanted_speech, library.opening, adapted, speech_only)
        return wanted

    def _write(
        self, face, info, audio, rate, output, steady, indices, path, unmatched, where, patches, fps, progress
    ) -> int:
        """Each output frame with its chosen mouth pasted (frames without a face, or turned unlike any
        footage frame, as they are), and the speech; the number of frames dubbed."""
        import time

        from ..enhance.video import make_enhancer
        from ..media import VideoWriter

        cfg = self.config
        enhancer = make_enhancer(cfg.enhancement())
        track = _sound_track(audio, rate, len(indices) / fps)
        with_face = 0
        writer = VideoWriter(output, to_fps(fps), audio=track, sample_rate=rate, metadata=SYNTHETIC_TAGS)
        with writer, Progress(len(indices), "dub", enabled=progress) as bar:
            for j, (index, frame) in enumerate(looped_frames(face, len(steady), len(indices), info)):
                start = time.perf_counter()
                landmarks = steady[index] if np.isfinite(steady[index]).all() and not unmatched[j] else None
                if landmarks is not None:
                    patch = patches.take(where[path[j]])
                    if cfg.mouths and j % TONE_EVERY == 0:
                        self._tones.setdefault(-1, []).append(skin_tone(frame, landmarks))
                    paste_mouth(frame, landmarks, patch)
                    with_face += 1
                self._timed("paste", start)
                outputs = enhancer.push(frame, landmarks) if enhancer is not None else [frame]
                for out in outputs:
                    writer.write(out)
                    bar.update()
            for out in enhancer.flush() if enhancer is not None else []:
                writer.write(out)
                bar.update()
        return with_face


#: Landmarks as tracked: a mouth is described by what it looked like, not by a smoothed guess.
RAW = TrackerConfig(smoothing=None)


def _steady(landmarks: np.ndarray, fps: float) -> np.ndarray:
    """``landmarks`` (NaN where no face) smoothed over each run of frames with a face (zero-lag one-euro,
    the tracker's own): where the face is, without the tracker's jitter."""
    found = np.flatnonzero(np.isfinite(landmarks).all((1, 2)))
    out = landmarks.copy()
    if len(found):
        out[found] = smooth_segments(found, landmarks[found], fps, OneEuroParams())
    return out


def _shifted(values: np.ndarray, frames: int) -> np.ndarray:
    """Per-frame targets for an audio offset of ``frames``, as Wav2Lip's: frame ``j`` shows what the
    speech needs at frame ``j + frames`` (a positive offset brings the mouth earlier, against speech that
    leads the lips), the ends held."""
    count = len(values)
    moved: np.ndarray = values[np.clip(np.arange(count) + frames, 0, count - 1)]
    return moved


class _Cutter:
    """The chosen footage frames' lower faces, cut by a background thread in footage order while the
    output is written: ``take((footage, frame))`` waits for one not cut yet, and a lower face leaves
    memory once its last output frame has taken it. Up to :data:`PATCH_BYTES` are held in memory as they
    are; beyond them, each is PNG-compressed (lossless) into a temporary folder, so memory stays bounded
    on long videos. The skin tone of each footage frame cut goes into ``tones`` (unless None)."""

    def __init__(self, chosen: list[tuple[int, int]], footage: list[_Footage], tones: dict | None):
        import threading
        from collections import Counter

        self.seconds = 0.0
        self._uses = Counter(chosen)  # output frames still to take each lower face
        self._ready: dict[tuple[int, int], MouthPatch | tuple[str, tuple[int, int], np.ndarray]] = {}
        self._held = 0  # bytes of lower faces in memory
        self._folder: str | None = None
        self._error: BaseException | None = None
        self._done = False
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(set(chosen), footage, tones), daemon=True)

    def __enter__(self) -> _Cutter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        import shutil

        self._stop.set()
        self._thread.join()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def take(self, key: tuple[int, int]) -> MouthPatch:
        """The lower face of footage frame ``key`` for the next output frame that shows it."""
        from ..optional import needs

        with self._changed:
            self._changed.wait_for(lambda: key in self._ready or self._done)
            if key not in self._ready:
                raise self._error or MediaError(Path(str(key[0])), f"frame {key[1]} of the footage could not be read")
            held = self._ready[key]
            self._uses[key] -= 1
            last = self._uses[key] == 0
            if last:
                del self._ready[key]
                if isinstance(held, MouthPatch):
                    self._held -= held.image.nbytes
        if isinstance(held, MouthPatch):
            return held
        name, origin, landmarks = held
        with needs("face"):
            import cv2

        image = cv2.imread(name, cv2.IMREAD_UNCHANGED)
        if last:
            os.unlink(name)
        return MouthPatch(image, origin, landmarks)

    def _keep(self, key: tuple[int, int], patch: MouthPatch) -> None:
        """Hold ``patch`` in memory, or on disk beyond the budget."""
        import tempfile

        from ..optional import needs

        held: MouthPatch | tuple[str, tuple[int, int], np.ndarray] = patch
        if self._held + patch.image.nbytes > PATCH_BYTES:
            with needs("face"):
                import cv2

            self._folder = self._folder or tempfile.mkdtemp(prefix="talkingface-mouths-")
            name = os.path.join(self._folder, f"{key[0]}_{key[1]}.png")
            cv2.imwrite(name, patch.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            held = (name, patch.origin, patch.landmarks)
        with self._changed:
            if isinstance(held, MouthPatch):
                self._held += patch.image.nbytes
            self._ready[key] = held
            self._changed.notify_all()

    def _run(self, wanted: set[tuple[int, int]], footage: list[_Footage], tones: dict | None) -> None:
        import time

        begin = time.perf_counter()
        try:
            for f, item in enumerate(footage):
                frames = {k for g, k in wanted if g == f}
                for k, frame in _frames_up_to(item.path, max(frames, default=-1)):
                    if self._stop.is_set():
                        return
                    if k in frames:
                        if tones is not None:
                            tones.setdefault(f, []).append(skin_tone(frame, item.steady[k]))
                        self._keep((f, k), cut_mouth(frame, item.steady[k]))
        except BaseException as error:  # told to the writer when it asks for a patch
            self._error = error
        finally:
            self.seconds = time.perf_counter() - begin
            with self._changed:
                self._done = True
                self._changed.notify_all()


def _frames_up_to(path: Path, last: int):
    """``(index, frame)`` of the video at ``path`` up to frame ``last``."""
    from ..media import VideoReader

    if last < 0:
        return
    for k, frame in enumerate(VideoReader(path)):
        yield k, frame
        if k >= last:
            return
