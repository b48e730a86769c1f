"""Lip-sync a video (or a photo) to new speech with a Wav2Lip-format generator, streaming.

Frames are read, their tracked face cut out (Wav2Lip's box: the face plus pads), the lower half of
each crop regenerated in batches from the speech's mel windows, and pasted back with a feathered
lower-face mask and colour matching (or the reference's hard box paste), then written - never
holding more than a batch of frames. The mel window of each frame is placed by time, so any frame
rate works. Speech longer than the video plays the video back and forth; shorter speech ends the
output (unless the video's length is kept). Frames without a face pass through unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..enhance.video import generated_detail, make_enhancer
from ..errors import InputError, MediaError
from ..face import FaceTracker, TrackerConfig, detect_faces
from ..face.blend import paste_back
from ..face.crops import crop_box, wav2lip_box
from ..face.detection import landmark_centre
from ..face.topology import NUM_LANDMARKS, face_topology
from ..face.tracking import TargetFace, check_trackable
from ..files import AtomicFile, immediate_outputs
from ..media.tags import SYNTHETIC_TAGS
from ..progress import Progress
from ..timebase import num_frames_for_duration, to_fps
from ._base import Pipeline, check_device
from ._frames import looped_frames
from .lipsync_config import LipSyncConfig

if TYPE_CHECKING:
    from ..enhance.video import VideoEnhancer


@dataclass
class LipSyncResult:
    path: Path
    num_frames: int
    fps: Fraction
    frames_with_face: int
    offset: int = 0  # mel-window offset used, in frames
    measured_offset: int | None = None  # AV offset SyncNet found in a first pass (offset correction)
    offset_confidence: float | None = None  # the LSE-C of that measurement
    offset_applied: bool = False  # whether the measured offset was used (it is not when unsure)
    #: Where the dubbed face first is: the centre (x, y) of its landmarks, in pixels (None: unknown).
    face_centre: tuple[float, float] | None = None

    def __repr__(self) -> str:
        measured = ""
        if self.measured_offset is not None:
            measured = f", measured {self.measured_offset}" + ("" if self.offset_applied else " (not applied)")
        return (
            f"LipSyncResult({self.path.name}: {self.num_frames} frames at {float(self.fps):g} fps, "
            f"{self.frames_with_face} with a face, offset {self.offset}{measured})"
        )


class DubbingPipeline(Pipeline):
    """What the two ways of dubbing a video share: ``self(face, audio, output, progress, offset)`` and
    the offset correction that runs it twice."""

    device = torch.device("cpu")
    config: LipSyncConfig
    timings: dict[str, float]  # seconds per stage of the last call

    def _timed(self, stage: str, start: float) -> None:
        import time

        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start

    def check(self, face, audio, output) -> tuple:  # pragma: no cover - each pipeline checks its inputs
        raise NotImplementedError

    def __call__(self, face, audio, output, progress: bool = False, offset: int | None = None) -> LipSyncResult:
        raise NotImplementedError  # pragma: no cover

    def corrected(
        self,
        face,
        audio,
        output,
        syncnet: torch.nn.Module | None = None,
        progress: bool = False,
        min_confidence: float | None = None,
        **inputs,
    ) -> LipSyncResult:
        """Dub (``inputs``: what the pipeline's call takes beyond the face and the speech, e.g. a
        transcript), measure the result's AV offset with ``syncnet`` (a SyncNetV2; None: the built-in
        sync model), and if it is off with a confidence (LSE-C) of at least ``min_confidence`` (None:
        the model's own threshold, :attr:`SyncScorePipeline.min_confidence`), dub again with the
        mel windows moved by it. An offset measured with less confidence is reported, not applied."""
        import dataclasses

        from .sync_score import SyncScorePipeline

        self.check(face, audio, output)
        scorer = SyncScorePipeline(syncnet).to(self.device)
        threshold = scorer.min_confidence if min_confidence is None else min_confidence
        first = AtomicFile(output)  # a temporary file beside the output, removed unless kept
        try:
            with immediate_outputs():  # the first pass is read back before it becomes the output
                result = self(face, audio, first.tmp, progress=progress, **inputs)
            try:
                scores = scorer(first.tmp)
            except InputError:  # no face seen for a window: nothing measured, the first pass stands
                first.finish()
                return dataclasses.replace(result, path=Path(output))
            best = max(scores.tracks, key=lambda t: t.num_frames).scores
            measured = dataclasses.replace(
                result, path=Path(output), measured_offset=best.offset, offset_confidence=best.lse_c
            )
            if best.offset == 0 or best.lse_c < threshold:
                first.finish()
                return measured
        finally:
            first.discard()
        final = self(face, audio, output, progress=progress, offset=self.config.offset + best.offset, **inputs)
        return dataclasses.replace(
            final, measured_offset=best.offset, offset_confidence=best.lse_c, offset_applied=True
        )


class LipSyncPipeline(DubbingPipeline):
    """``LipSyncPipeline(model, config)(face, audio, output) -> LipSyncResult``.

    Args:
        model: a Wav2Lip generator (``load_model("wav2lip_gan.pth")``); its spec gives the crop size, the
            audio features and the default pads.
        config: options.
    """

    def __init__(self, model: torch.nn.Module, config: LipSyncConfig = LipSyncConfig()):
        from ..models.registry import check_model

        self.spec = check_model(model, family="wav2lip", role="generator", what="a Wav2Lip generator")
        self.config = config
        self.size = int(self.spec.image_size or 96)
        self.device = torch.device("cpu")
        self._source = model.eval()
        self.precision: str = config.precision  # what runs here
        self.precision_note: str | None = None  # why it is not the config's
        self.model = self._prepare(self._source)
        self.timings: dict[str, float] = {}  # seconds per stage of the last call
        self._enhancer: VideoEnhancer | None = None

    @classmethod
    def from_config(
        cls,
        config: LipSyncConfig | None = None,
        checkpoint: str | os.PathLike | None = None,
        variant: str | None = None,
    ) -> LipSyncPipeline:
        """The pipeline with the Wav2Lip generator of ``checkpoint`` (wav2lip.pth, wav2lip_gan.pth or ours;
        ``variant`` names its kind where the file cannot, e.g. "wav2lip.288")."""
        from ..models import load_model

        if checkpoint is None:
            raise InputError("lip-sync needs a Wav2Lip checkpoint (wav2lip.pth, wav2lip_gan.pth or our .safetensors)")
        config = config or LipSyncConfig()
        config.enhancement().check()  # before the generator loads
        model = load_model(checkpoint, variant, family="wav2lip", role="generator")
        return cls(model, config)

    def _prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        from ..models.inference import optimize_for_inference, usable_precision

        model = model.to(self.device)
        self.precision, self.precision_note = usable_precision(self.config.precision, self.device)
        return optimize_for_inference(model, precision=self.precision) if self.config.fast else model

    def to(self, device) -> LipSyncPipeline:
        """Run the generator on ``device``."""
        self.device = check_device(device)
        self.model = self._prepare(self._source)
        return self

    @property
    def pads(self) -> tuple[int, int, int, int]:
        pads = self.config.pads if self.config.pads is not None else self.spec.face_pads
        return (int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3]))

    def check(self, face, audio, output) -> tuple:
        """Fail before any work: the face must be a readable video or image, the audio must have sound,
        the output a writable video path that is neither input. Returns (video info, audio info)."""
        from ..media import audio_info, check_video_output, probe_video

        extra = (self.config.enhance_checkpoint,) if self.config.enhance_checkpoint else ()
        check_video_output(output, audio=True, inputs=(face, audio, *extra))
        info = probe_video(face)
        if not (info.is_image or self.config.static or self.config.box is not None):
            check_trackable(info, face)
        if self.config.crop is not None:
            factor = max(1, self.config.resize_factor)
            h, w = max(2, info.height // factor), max(2, info.width // factor)
            top, bottom, left, right = _crop_bounds(self.config.crop, h, w)
            if not (top >= 0 and left >= 0 and bottom - top >= 16 and right - left >= 16):
                raise InputError(
                    f"--crop {' '.join(map(str, self.config.crop))} leaves {max(0, right - left)}x{max(0, bottom - top)} "
                    f"pixels of the {w}x{h} frame (top bottom left right, -1 for an edge)"
                )
        self.config.enhancement().check()
        return info, audio_info(audio)

    def __call__(
        self,
        face: str | os.PathLike,
        audio: str | os.PathLike,
        output: str | os.PathLike,
        progress: bool = False,
        offset: int | None = None,
    ) -> LipSyncResult:
        """Lip-sync ``face`` to ``audio`` into ``output``; ``offset`` overrides the config's (frames)."""
        import time

        from ..features import mel_windows, wav2lip_mel
        from ..media import VideoWriter, load_audio, prefetch

        cfg, spec = self.config, self.spec
        self.timings = {}
        begin = time.perf_counter()
        info, sound = self.check(face, audio, output)
        self._enhancer = make_enhancer(cfg.enhancement(str(self.device)))  # a bad file fails before the work
        fps = to_fps(cfg.fps) if info.is_image or not info.fps else info.fps
        speech = load_audio(audio, spec.sample_rate)
        duration = len(speech) / spec.sample_rate
        start = time.perf_counter()
        target = self._target(face, info)
        self._timed("track", start)
        num_video = 1 if (info.is_image or cfg.static) else len(target.has_face)
        num_out = num_video if cfg.keep_video_length else num_frames_for_duration(duration, fps)
        if num_out == 0:
            raise InputError(f"{audio}: the speech is too short for a single frame")
        offset = cfg.offset if offset is None else offset
        columns = int(round(offset * spec.audio_rate / float(fps)))
        windows = mel_windows(wav2lip_mel(speech), num_out, fps, size=spec.audio_window, offset=columns)
        rate = sound.sample_rate
        track = _sound_track(audio, rate, num_out / float(fps))
        overlap = self.device.type != "cpu" if cfg.overlap is None else cfg.overlap
        if self._enhancer is not None:  # a mouth upscaler cuts the mouth at the generator's scale
            self._enhancer.set_detail(generated_detail(target.landmarks, self.size))
        frames = self._frames(face, info, num_video, num_out)
        batches = self._batches(frames, target, windows)
        if overlap:
            batches = prefetch(batches, depth=1)
        with_face = self._write(
            batches,
            overlap,
            VideoWriter(output, fps, audio=track, sample_rate=rate, metadata=SYNTHETIC_TAGS),
            Progress(num_out, "lip-sync", enabled=progress),
        )
        self.timings["total"] = time.perf_counter() - begin
        return LipSyncResult(Path(output), num_out, fps, with_face, offset=offset, face_centre=first_centre(target))

    def _write(self, batches: Generator, overlap: bool, writer, bar) -> int:
        """Generate each batch's mouths, paste them back and write the frames (then what the enhancer
        still holds); the number of frames with a face. With the generator on an accelerator three stages
        overlap (``overlap``): a thread decodes frames and cuts the crops of the next batch, this thread
        runs the generator, another pastes the mouths back and encodes, in order. On the CPU they would
        only compete for the same cores: one after another."""
        import time
        from concurrent.futures import ThreadPoolExecutor

        with writer, bar, ThreadPoolExecutor(1, thread_name_prefix="paste") as paster:
            outstanding: list = []
            with_face = 0
            try:
                for batch in batches:
                    with_face += len(batch.jobs)
                    predicted = self._generate(batch)
                    if not overlap:
                        self._paste_and_write(batch, predicted, writer, bar)
                        continue
                    outstanding.append(paster.submit(self._paste_and_write, batch, predicted, writer, bar))
                    while len(outstanding) > 1:
                        outstanding.pop(0).result()  # also raises what went wrong there
                for future in outstanding:
                    future.result()
                if self._enhancer is not None:
                    start = time.perf_counter()
                    held = self._enhancer.flush()
                    self._timed("enhance", start)
                    for out in held:
                        writer.write(out)
                        bar.update()
            finally:
                batches.close()
        return with_face

    # -- pieces --------------------------------------------------------------------------------
    def _frames(self, face, info, num_video, num_out):
        """(source index, RGB frame) per output frame, after --static / --resize_factor / --crop."""
        from ..media import read_image

        cfg = self.config
        if info.is_image or cfg.static:
            still = self._prepare_frame(read_image(face))
            for _ in range(num_out):
                yield 0, still.copy()  # the mouth is pasted into each frame in place
            return
        for index, frame in looped_frames(face, num_video, num_out, info):
            yield index, self._prepare_frame(frame)

    def _prepare_frame(self, frame: np.ndarray) -> np.ndarray:
        from ..media import resize_image

        cfg = self.config
        if cfg.resize_factor > 1:
            h, w = frame.shape[:2]
            frame = resize_image(frame, max(2, w // cfg.resize_factor), max(2, h // cfg.resize_factor))
        if cfg.crop is not None:
            top, bottom, left, right = _crop_bounds(cfg.crop, *frame.shape[:2])
            frame = np.ascontiguousarray(frame[top:bottom, left:right])
        return frame

    def _target(self, face, info):
        """Landmarks of the face to lip-sync in every source frame (NaN where none)."""
        from ..media import read_image

        cfg = self.config
        if cfg.box is not None:
            return _box_target(cfg.box, 1 if (info.is_image or cfg.static) else (info.num_frames or 0), face, info)
        if info.is_image or cfg.static:
            image = self._prepare_frame(read_image(face))
            faces = detect_faces(image, max_faces=4)
            if not faces:
                raise InputError(f"{face}: no face found")
            chosen = faces[cfg.face_index or 0] if (cfg.face_index or 0) < len(faces) else faces[0]
            return TargetFace(chosen.landmarks[None], np.array([True]), np.array([0]))
        tracker = FaceTracker(TrackerConfig(smoothing=None) if not cfg.smooth else TrackerConfig())
        frames = (self._prepare_frame(f) for f in _read(face))
        result = tracker.track_frames(frames, fps=info.fps)
        return chosen_face(face, result, cfg)

    def _batches(
        self, frames: Iterable[tuple[int, np.ndarray]], target: TargetFace, windows: np.ndarray
    ) -> Generator[_Batch, None, None]:
        """Batches of up to ``batch_size`` frames with a face (face-less frames ride along in order)."""
        pending: list = []
        count = 0
        for j, (index, frame) in enumerate(frames):
            landmarks = target.landmarks[index] if target.has_face[index] else None
            pending.append((frame, landmarks, windows[j]))
            count += landmarks is not None
            if count >= self.config.batch_size:
                yield self._batch(pending)
                pending, count = [], 0
        if pending:
            yield self._batch(pending)

    def _batch(self, pending: list) -> _Batch:
        """Crops and generator inputs for the frames of ``pending`` that have a face."""

        jobs = []
        for k, (frame, landmarks, window) in enumerate(pending):
            if landmarks is None:
                continue
            box = wav2lip_box(landmarks, (frame.shape[1], frame.shape[0]), self.pads)
            jobs.append((k, crop_box(frame, box, self.size), window))
        if not jobs:
            return _Batch(pending, jobs, None, None)
        # (B, H, W, 3) BGR: the models see BGR (only the crops are flipped, not whole frames)
        crops = np.stack([c.image[..., ::-1] for _, c, _ in jobs]).astype(np.float32) / 255.0
        masked = crops.copy()
        masked[:, self.size // 2 :] = 0  # the lower half is what the generator fills in
        face = torch.from_numpy(np.concatenate([masked, crops], axis=3)).permute(0, 3, 1, 2)
        mel = torch.from_numpy(np.stack([w for _, _, w in jobs])[:, None].astype(np.float32))
        return _Batch(pending, jobs, face.contiguous(memory_format=torch.channels_last), mel)

    def _generate(self, batch: _Batch) -> np.ndarray | None:
        """``(B, H, W, 3)`` uint8 BGR mouths for the batch's crops."""
        import time

        if not batch.jobs:
            return None
        assert batch.mel is not None and batch.face is not None  # set whenever there are jobs
        start = time.perf_counter()
        with torch.inference_mode():
            predicted = self.model(batch.mel.to(self.device), batch.face.to(self.device))
        predicted = (predicted.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
        self._timed("generate", start)
        return predicted

    def _paste_and_write(self, batch: _Batch, predicted, writer, bar) -> None:
        import time

        cfg = self.config
        start = time.perf_counter()
        outputs = [p[0] for p in batch.pending]
        for (k, crop, _), patch in zip(batch.jobs, predicted if predicted is not None else []):
            frame, landmarks, _ = batch.pending[k]
            rgb_patch = np.ascontiguousarray(patch[..., ::-1])
            outputs[k] = paste_back(
                frame,
                rgb_patch,
                crop,
                landmarks=landmarks if cfg.paste == "soft" else None,
                mode=cfg.paste,
                color_match=cfg.color_match and cfg.paste == "soft",
                inplace=True,
            )
        self._timed("paste", start)
        if self._enhancer is not None:
            start = time.perf_counter()
            finished = []
            for out, (_, landmarks, _) in zip(outputs, batch.pending):
                finished += self._enhancer.push(out, landmarks)
            self._timed("enhance", start)
            outputs = finished
        for out in outputs:
            writer.write(out)
            bar.update()


@dataclass
class _Batch:
    pending: list  # (frame, landmarks or None, mel window) in output order
    jobs: list  # (index into pending, crop, mel window) of the frames with a face
    face: torch.Tensor | None  # (B, 6, H, W) channels-last, masked + reference, BGR in [0, 1]
    mel: torch.Tensor | None  # (B, 1, 80, 16)


def chosen_face(face, tracking, config: LipSyncConfig) -> TargetFace:
    """The face of ``tracking`` (the faces of the video ``face``) to dub in each frame: the track
    ``config.face_index``, the one speaking in the video's own sound (``config.speaking_face``), or the
    largest in each shot."""
    from ..media import audio_info
    from .sync_score import SyncScorePipeline

    choice: int | str | dict[int, int] = config.face_index if config.face_index is not None else "largest"
    if config.speaking_face and config.face_index is None:
        try:
            audio_info(face)
        except MediaError:
            raise InputError(f"{face}: the speaking face is found from the video's own sound; it has none") from None
        choice = SyncScorePipeline().speaking_faces(face, tracking) or "largest"
    target = tracking.target(choice)
    if not target.has_face.any():
        raise InputError(f"{face}: no face found in any frame")
    return target


def first_centre(target: TargetFace) -> tuple[float, float] | None:
    """The centre (x, y) of ``target``'s landmarks in the first frame with its face (None: no face)."""
    found = np.flatnonzero(target.has_face)
    if not found.size:
        return None
    return landmark_centre(target.landmarks[found[0]])


def _sound_track(audio: str | os.PathLike, rate: int, seconds: float) -> np.ndarray:
    """The output's sound: ``audio`` at ``rate``, cut to ``seconds`` or padded with silence (the video
    is longer than the speech)."""
    from ..media import load_audio

    length = int(round(seconds * rate))
    track = load_audio(audio, rate)[:length]
    return np.pad(track, (0, length - len(track))) if len(track) < length else track


def _read(path):
    from ..media import VideoReader, prefetch

    return prefetch(VideoReader(path))


def _box_target(box, count, face, info):
    """A fixed box (top, bottom, left, right) as landmarks whose face oval spans it."""

    top, bottom, left, right = box
    if count == 0:
        from ..media import VideoReader

        count = sum(1 for _ in VideoReader(face))
    landmarks = np.zeros((NUM_LANDMARKS, 3), np.float32)
    landmarks[:, 0], landmarks[:, 1] = (left + right) / 2, (top + bottom) / 2
    oval = face_topology().group("face_oval")
    angles = np.linspace(0, 2 * np.pi, len(oval), endpoint=False)
    landmarks[oval, 0] = (left + right) / 2 + (right - left) / 2 * np.cos(angles)
    landmarks[oval, 1] = (top + bottom) / 2 + (bottom - top) / 2 * np.sin(angles)
    return TargetFace(np.repeat(landmarks[None], count, 0), np.ones(count, bool), np.zeros(count, np.int64))


def _crop_bounds(crop: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """``--crop`` (top, bottom, left, right; -1 for the frame's edge) as bounds within a frame."""
    top, bottom, left, right = crop
    return top, height if bottom == -1 else min(bottom, height), left, width if right == -1 else min(right, width)
