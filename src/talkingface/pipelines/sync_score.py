"""Audio-visual sync of any video: SyncNet (syncnet_python's evaluation model) on tracked faces.

For each face track: crops around the face as syncnet_python cuts them (``face.boxes.syncnet_crops``:
box median-filtered over 13 frames, with the model's crop margin), windows of
``spec.frames_per_window`` frames against MFCC windows of the audio at the same times, offsets
-15..15 -> LSE-D, LSE-C, AV offset and a per-frame confidence curve. The "LRS" variant of the Wav2Lip
paper scores the whole frame resized to the crop size instead of face crops.

Faces are tracked on every ``track_stride``-th frame (2 by default) and their boxes interpolated in
between: the boxes are median-filtered over 13 frames anyway, and tracking is a third of the time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from .. import choices
from ..errors import InputError, TalkingFaceError
from ..face.boxes import box_tracks, boxes_of, iter_syncnet_crops
from ..face.tracking import FaceTracker, check_trackable
from ..metrics.sync import SyncScores, sync_scores
from ._base import Pipeline, check_device

MAX_SHIFT = 15  # offsets searched, frames each way (syncnet_python's)
#: LSE-C of the built-in sync model below which its offsets are not trusted (see its model card).
BUILTIN_MIN_CONFIDENCE = 0.05
#: About this many 5-frame windows of face crops are embedded at once (a multiple of the batch size):
#: a long video's crops stream through, 224 px crops taking some 10 MB, not 150 KB for every frame.
LIP_CHUNK = 64

if TYPE_CHECKING:
    from ..face.tracking import TrackingResult
    from ..media import VideoInfo
    from ..models.syncnet import SyncNetV2
    from ..models.syncnet_lips import SyncNetLips


@dataclass(frozen=True)
class SyncScoreConfig:
    """Settings of :class:`SyncScorePipeline`.

    Attributes:
        whole_frame: score the whole frame resized to the crop size (the Wav2Lip paper's LRS variant).
        padding: "zeros" (syncnet_python's numbers) or "valid" (every offset over the same frames).
        batch_size: windows per network call (None: 4 on a CPU, where the activations stay in cache;
            64 elsewhere).
        fast: run the model's inference form (folded batch norms, channels-last, the lip branch in 2D).
        track_stride: track faces on every n-th frame and interpolate the boxes in between.
        windows: "reference" scores syncnet_python's windows, ``min(frames, samples / 640) - 5`` per face
            run (its numbers); "all" scores one per frame but the last 4, audio past the end padded
            with silence.
        frames: "direct" feeds the decoded crops; "jpeg" passes each crop through FFmpeg's JPEG encoder
            at its default quality first, as syncnet_python's frame extraction does (LSE-D moves by
            about 0.5%).
    """

    whole_frame: bool = False
    padding: str = "zeros"
    batch_size: int | None = None
    fast: bool = True
    track_stride: int = 2
    windows: str = "reference"
    frames: str = "direct"

    def __post_init__(self) -> None:
        if self.windows not in choices.SYNC_WINDOWS:
            raise InputError(f"windows must be 'reference' or 'all', got {self.windows!r}")
        if self.frames not in ("direct", "jpeg"):
            raise InputError(f"frames must be 'direct' or 'jpeg', got {self.frames!r}")
        if self.padding not in ("zeros", "valid"):
            raise InputError(f"padding must be 'zeros' or 'valid', got {self.padding!r}")
        if self.track_stride < 1:
            raise InputError(f"track_stride must be >= 1, got {self.track_stride}")
        if self.batch_size is not None and self.batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {self.batch_size}")


@dataclass
class TrackScore:
    track_id: int
    start: int
    num_frames: int
    scores: SyncScores


@dataclass
class SyncScoreResult:
    path: Path
    tracks: list[TrackScore] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "video": str(self.path),
            "tracks": [
                {"track": t.track_id, "start_frame": t.start, "frames": t.num_frames, **t.scores.to_dict()}
                for t in self.tracks
            ],
        }

    def __repr__(self) -> str:
        scores = ", ".join(
            f"track {t.track_id}: LSE-D {t.scores.lse_d:.3f} LSE-C {t.scores.lse_c:.3f} offset {t.scores.offset}"
            for t in self.tracks
        )
        return f"SyncScoreResult({self.path.name}: {scores or 'no tracks'})"


def load_sync_model(checkpoint: str | os.PathLike | None) -> torch.nn.Module:
    """The SyncNet of ``checkpoint`` (syncnet_v2.model or ours), or the built-in sync model where None."""
    from ..models import load_model
    from ..models.syncnet_lips import builtin_sync_model

    if checkpoint is None:
        return builtin_sync_model()
    return load_model(checkpoint, family="syncnet", role="sync")


@dataclass
class BatchScores:
    """Scores of several videos: ``results`` of those scored, in order, and ``failures`` (video -> the
    one-line reason) of those that could not be."""

    results: list[SyncScoreResult]
    failures: dict[str, str]

    def rows(self) -> list[dict]:
        """One row per scored face track: video, track, start_frame, frames, lse_d, lse_c, offset."""
        keys = ("track", "start_frame", "frames", "lse_d", "lse_c", "offset")
        return [
            {"video": r["video"], **{k: t[k] for k in keys}}
            for r in (result.to_dict() for result in self.results)
            for t in r["tracks"]
        ]


class SyncScorePipeline(Pipeline):
    """``SyncScorePipeline(model, config)(video) -> SyncScoreResult`` (one score per face track).

    Args:
        model: a SyncNet evaluation model (``load_model("syncnet_v2.model")``); its spec gives the crop
            size, margin, window lengths and feature type.
        config: options.
    """

    @classmethod
    def from_config(
        cls, config: SyncScoreConfig | None = None, checkpoint: str | os.PathLike | None = None
    ) -> SyncScorePipeline:
        """The pipeline with the SyncNet of ``checkpoint`` (syncnet_v2.model or ours), or the built-in sync
        model."""
        return cls(load_sync_model(checkpoint), config or SyncScoreConfig())

    def __init__(self, model: torch.nn.Module | None = None, config: SyncScoreConfig = SyncScoreConfig()):
        from ..models.registry import check_model

        if model is None:
            model = load_sync_model(None)
        spec = check_model(model, family="syncnet", role="sync", what="a SyncNet evaluation model")
        self.lips = spec.visual == "lip_landmarks"
        if not self.lips and (spec.audio_features != "syncnet_mfcc" or spec.crop_margin is None):
            raise InputError(
                "sync-score needs syncnet_python's evaluation model (syncnet.v2) or the built-in one "
                f"(syncnet.lips), not {getattr(model, 'variant', '?')}"
            )
        self.spec = spec
        self.config = config
        self.device = torch.device("cpu")
        self._source = model.eval()
        self.model = self._prepare(self._source)

    def _prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        from ..models.inference import optimize_for_inference

        model = model.to(self.device)
        return optimize_for_inference(model) if self.config.fast else model

    def to(self, device: str | torch.device) -> SyncScorePipeline:
        """Run the model on ``device``."""
        self.device = check_device(device)
        self.model = self._prepare(self._source)
        return self

    @property
    def min_confidence(self) -> float:
        """The LSE-C below which a measured offset is not trusted: :data:`BUILTIN_MIN_CONFIDENCE` for the
        built-in model (calibrated on held-out real clips, see its model card); 0 for a SyncNet
        checkpoint (not calibrated here: pass a threshold of your own)."""
        return BUILTIN_MIN_CONFIDENCE if self.lips else 0.0

    @property
    def batch_size(self) -> int:
        # Small batches keep the first layers' activations in cache on a CPU (10% faster at 4 than 32).
        return self.config.batch_size or (4 if self.device.type == "cpu" else 64)

    def check(self, video: str | os.PathLike) -> VideoInfo:
        """Fail before any work if ``video`` cannot be scored: missing, unreadable, a still image, no sound.
        Returns its video info."""
        from ..media import audio_info, probe_video

        info = probe_video(video)
        if info.is_image or not info.fps:
            raise InputError(f"{video}: sync needs a video, not a still image")
        check_trackable(info, video)
        audio_info(video)  # no audio stream: a one-line MediaError
        return info

    def __call__(self, video: str | os.PathLike) -> SyncScoreResult:
        return self.shifted(video, (0,))[0]

    def score_all(self, videos: Sequence[str | os.PathLike]) -> BatchScores:
        """Every video checked before any is scored; then each scored on its own, a bad one noted in
        ``failures`` without stopping the others."""
        failures: dict[str, str] = {}
        for video in videos:
            try:
                self.check(video)
            except TalkingFaceError as error:
                failures[str(video)] = str(error)
        results = []
        for video in videos:
            if str(video) in failures:
                continue
            try:
                results.append(self(video))
            except TalkingFaceError as error:
                failures[str(video)] = str(error)
        return BatchScores(results, failures)

    def shifted(
        self, video: str | os.PathLike, shifts: Sequence[int], tracking: TrackingResult | None = None
    ) -> dict[int, SyncScoreResult]:
        """Scores of ``video`` with its audio moved by each of ``shifts`` video frames, the faces cut and
        embedded once. Shifts are AV offsets: shift ``k > 0`` moves the audio ``k`` frames earlier
        (silence after it), ``k < 0`` later (silence before it), so that an in-sync clip should be
        measured at an offset of ``k``. ``tracking``: the faces of ``video`` tracked on every frame
        already (not tracked again)."""
        from ..features import syncnet_mfcc
        from ..media import load_audio

        info = self.check(video)
        assert info.fps is not None  # check() refuses still images
        if self.lips:
            return self._shifted_lips(video, info, shifts, tracking)
        spec, cfg = self.spec, self.config
        taps = spec.frames_per_window
        audio = load_audio(video, spec.sample_rate)
        per_frame = spec.sample_rate / float(info.fps)
        moved = {int(k): syncnet_mfcc(_shift_audio(audio, -int(round(k * per_frame)))) for k in shifts}
        results = {k: SyncScoreResult(Path(video)) for k in moved}
        if cfg.whole_frame:
            spans: list = [(0, 0, None)]
        else:
            if tracking is not None:
                tracks = boxes_of(tracking, 1, info.num_frames or tracking.num_frames)
            else:
                tracks = box_tracks(video, cfg.track_stride, info.num_frames)
            spans = [(t.track_id, int(t.frames[0]), t) for t in tracks]
        for track_id, start, track in spans:
            every, frames = self._embed_lips(self._crops(video, track))
            first_sample = int(round(start / float(info.fps) * spec.sample_rate))
            count = self._window_count(frames, len(audio) - first_sample, info.fps)
            if frames < taps or count < 1 or (cfg.padding == "valid" and count < 31):
                continue
            lip = every[:count]
            for k, mfcc in moved.items():
                aud = self._embed_audio(mfcc, start, count, info.fps)
                scores = sync_scores(lip, aud, padding=cfg.padding)
                results[k].tracks.append(TrackScore(track_id, start, frames, scores))
        if not results[int(shifts[0])].tracks:
            raise InputError(f"{video}: no face visible for {taps} frames in a row, nothing to score")
        return results

    def speaking_faces(self, video: str | os.PathLike, tracking: TrackingResult) -> dict[int, int]:
        """Per shot (scene id), the track whose lips follow ``video``'s own sound best: the highest
        LSE-C of its face runs whose offset is within 3 frames of 0. Shots with one face, or in which no
        face's lips follow the sound, are left out (callers keep their own choice there)."""
        result = self.shifted(video, (0,), tracking)[0]
        best: dict[int, float] = {}
        for t in result.tracks:
            if abs(t.scores.offset) <= 3:
                best[t.track_id] = max(best.get(t.track_id, 0.0), t.scores.lse_c)
        chosen = {}
        for scene in sorted({t.scene for t in tracking.tracks}):
            tracks = [t.track_id for t in tracking.tracks if t.scene == scene]
            scored = [(best[i], i) for i in tracks if i in best]
            if len(tracks) > 1 and scored:
                chosen[scene] = max(scored)[1]
        return chosen

    def _shifted_lips(
        self, video: str | os.PathLike, info: VideoInfo, shifts: Sequence[int], tracking: TrackingResult | None
    ) -> dict[int, SyncScoreResult]:
        """:meth:`shifted` with the built-in model: every run of 5 frames or more of every face track,
        its lip motion resampled to the model's 25 fps, against the speech around it."""
        from ..features import wav2lip_mel
        from ..features.lips import lip_motion
        from ..media import load_audio

        spec = self.spec
        fps = float(info.fps or spec.fps)
        rate = spec.sample_rate
        audio = load_audio(video, rate)
        if tracking is None:
            tracking = FaceTracker().track_video(video)
        # Speech moved by each shift, with MAX_SHIFT model frames of silence on both sides so that the
        # first and last frames have partners at every offset.
        margin = np.zeros(int(round(MAX_SHIFT * rate / spec.fps)), np.float32)
        mels = {
            int(k): wav2lip_mel(np.concatenate([margin, _shift_audio(audio, -int(round(k * rate / fps))), margin]))
            for k in shifts
        }
        results = {k: SyncScoreResult(Path(video)) for k in mels}
        taps = spec.frames_per_window
        frame = cast("SyncNetLips", self.model).config.frame
        for track in tracking.tracks:
            for start, stop in track.segments:
                rows = slice(*np.searchsorted(track.frames, [start, stop]))  # a view: frames are in order
                lips = _resample(lip_motion(track.landmarks[rows], frame), fps, spec.fps)
                count = len(lips) - taps + 1
                if count < 1:
                    continue
                lip = self._embed_lip_motion(lips, count)
                first = start / fps  # seconds of the run's first frame
                for k, mel in mels.items():
                    aud = self._embed_mel(mel, first, count)
                    scores = sync_scores(lip, aud, MAX_SHIFT, padding="context")
                    if fps != spec.fps:  # offsets in the video's frames
                        scores.offset = round(scores.offset * fps / spec.fps)
                    results[k].tracks.append(TrackScore(track.track_id, start, stop - start, scores))
        if not results[int(shifts[0])].tracks:
            raise InputError(f"{video}: no face visible for {taps} frames in a row, nothing to score")
        return results

    def _embed_lip_motion(self, lips: np.ndarray, count: int) -> torch.Tensor:
        """Embeddings ``(count, D)`` of the 5-frame windows of lip motion ``(N, 80)``."""
        model = cast("SyncNetLips", self.model)
        taps = self.spec.frames_per_window
        windows = np.lib.stride_tricks.sliding_window_view(lips, taps, axis=0)[:count].transpose(0, 2, 1)
        with torch.inference_mode():
            source = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32)).to(self.device)
            return torch.cat([model.forward_lips(source[s : s + 256]).cpu() for s in range(0, count, 256)])

    def _embed_mel(self, mel: np.ndarray, first: float, count: int) -> torch.Tensor:
        """Audio embeddings ``(count + 2 * MAX_SHIFT, D)`` of the mel windows of model frames
        ``-MAX_SHIFT .. count + MAX_SHIFT - 1`` after ``first`` seconds (``mel`` starts MAX_SHIFT frames
        of silence early)."""
        from ..features import WAV2LIP_MEL

        spec = self.spec
        model = cast("SyncNetLips", self.model)
        per_frame = spec.audio_rate / spec.fps
        starts = np.floor(first * spec.audio_rate + np.arange(count + 2 * MAX_SHIFT) * per_frame + 1e-9).astype(int)
        size = spec.audio_window
        need = int(starts[-1]) + size - mel.shape[1]
        if need > 0:
            mel = np.concatenate([mel, np.full((mel.shape[0], need), WAV2LIP_MEL.silence_value, mel.dtype)], axis=1)
        view = np.lib.stride_tricks.sliding_window_view(mel, size, axis=1)  # (C, T', size)
        windows = np.ascontiguousarray(view[:, starts].transpose(1, 0, 2), dtype=np.float32)[:, None]
        with torch.inference_mode():
            source = torch.from_numpy(windows).to(self.device)
            return torch.cat([model.forward_audio(source[s : s + 256]).cpu() for s in range(0, len(source), 256)])

    def _crops(self, video, track) -> Iterator[np.ndarray]:
        """``(S, S, 3)`` BGR crops of the track's consecutive frames (its first run), S the model's size,
        one at a time as the video is read."""
        from ..media import VideoReader, resize_image

        size = int(self.spec.image_size or 224)
        if track is None:
            return (np.ascontiguousarray(resize_image(f, size, size)[..., ::-1]) for f in VideoReader(video))
        return iter_syncnet_crops(video, track, size, float(self.spec.crop_margin or 0.0))

    def _window_count(self, frames: int, samples: int, fps) -> int:
        """Windows scored for a run of ``frames`` crops with ``samples`` of audio from its first frame:
        syncnet_python's ``min(frames, samples // samples_per_frame) - 5`` ("reference"), or every full
        window of frames, audio past the end padded with silence ("all")."""
        taps = self.spec.frames_per_window
        if self.config.windows == "all":
            return frames - taps + 1
        per_frame = self.spec.sample_rate / float(fps)
        return min(frames, int(samples // per_frame)) - taps

    def _embed_lips(self, crops: Iterable[np.ndarray]) -> tuple[torch.Tensor, int]:
        """Lip embeddings ``(N - 4, D)`` of every 5-frame window of ``crops`` (``(S, S, 3)`` uint8 BGR each),
        and ``N``. The crops are embedded as they come, a few batches at a time: a long video's crops
        are never all held."""
        taps = self.spec.frames_per_window
        jpeg = JpegRoundTrip() if self.config.frames == "jpeg" else None
        chunk = self.batch_size * max(1, LIP_CHUNK // self.batch_size)  # windows embedded at once
        held: list[np.ndarray] = []  # the crops from the first window not yet embedded on
        lips: list[torch.Tensor] = []
        frames = 0
        for crop in crops:
            held.append(jpeg(crop) if jpeg is not None else crop)
            frames += 1
            if len(held) == chunk + taps - 1:
                lips += self._embed_windows(np.stack(held))
                held = held[chunk:]
        if len(held) >= taps:
            lips += self._embed_windows(np.stack(held))
        return (torch.cat(lips) if lips else torch.zeros(0)), frames

    def _embed_windows(self, crops: np.ndarray) -> list[torch.Tensor]:
        """Embeddings of every window of ``crops`` ``(M, S, S, 3)`` uint8 BGR, in batches."""
        # check_model admitted syncnet.v2 only; its inference form is a copy of the same class.
        model = cast("SyncNetV2", self.model)
        taps = self.spec.frames_per_window
        size, count = crops.shape[1], len(crops) - taps + 1
        source = torch.from_numpy(crops)
        offsets = torch.arange(taps)
        lips = []
        with torch.inference_mode():
            for s in range(0, count, self.batch_size):
                e = min(count, s + self.batch_size)
                # Window i as channels c * taps + t, laid out channels-last: (B, H, W, 3, taps) -> (B, 3 * taps,
                # H, W), gathered and converted to float in one (multi-threaded) copy.
                windows_of = source[torch.arange(s, e)[:, None] + offsets].permute(0, 2, 3, 4, 1)
                stacked = torch.empty(windows_of.shape, dtype=torch.float32).copy_(windows_of)
                clip = stacked.reshape(e - s, size, size, 3 * taps).permute(0, 3, 1, 2).to(self.device)
                lips.append(model.forward_lips(clip).cpu())
        return lips

    def _embed_audio(self, mfcc: np.ndarray, start: int, count: int, fps) -> torch.Tensor:
        """Audio embeddings ``(count, D)`` of the MFCC windows of frames ``start .. start + count - 1``."""
        from ..features import mfcc_windows

        model = cast("SyncNetV2", self.model)
        windows = mfcc_windows(mfcc, start + count, fps, size=self.spec.audio_window)[start:]
        auds = []
        with torch.inference_mode():
            for s in range(0, count, self.batch_size):
                cc = torch.from_numpy(windows[s : s + self.batch_size, None].astype(np.float32)).to(self.device)
                auds.append(model.forward_audio(cc).cpu())
        return torch.cat(auds)


def through_jpeg(crops: np.ndarray) -> np.ndarray:
    """``(N, S, S, 3)`` uint8 BGR crops after FFmpeg's JPEG encoder at its default settings and its
    decoder (:class:`JpegRoundTrip`)."""
    round_trip = JpegRoundTrip()
    return np.stack([round_trip(crop) for crop in crops]) if len(crops) else crops.copy()


class JpegRoundTrip:
    """One ``(S, S, 3)`` uint8 BGR crop at a time through FFmpeg's JPEG encoder at its default settings
    (mjpeg, yuvj420p, 200 kb/s) and its decoder: the frames syncnet_python reads back from the JPEG files
    ffmpeg extracts. One encoder serves the whole sequence, as one ffmpeg run does."""

    def __init__(self) -> None:
        self._encoder: Any = None
        self._decoder: Any = None

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        from fractions import Fraction

        import av

        if self._encoder is None:
            height, width = crop.shape[:2]
            self._encoder = av.codec.CodecContext.create("mjpeg", "w")
            self._encoder.width, self._encoder.height, self._encoder.pix_fmt = width, height, "yuvj420p"
            self._encoder.time_base = Fraction(1, 25)
            self._decoder = av.codec.CodecContext.create("mjpeg", "r")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="bgr24").reformat(format="yuvj420p")
        decoded = [f for packet in self._encoder.encode(frame) for f in self._decoder.decode(packet)]
        out: np.ndarray = decoded[0].to_ndarray(format="bgr24")
        return out


def _resample(values: np.ndarray, fps: float, to_fps: float) -> np.ndarray:
    """Rows of ``values`` at ``fps`` linearly interpolated at ``to_fps`` over the same time span."""
    if abs(fps - to_fps) < 1e-6 or len(values) < 2:
        return values
    span = (len(values) - 1) / fps
    times = np.arange(int(np.floor(span * to_fps + 1e-9)) + 1) / to_fps * fps
    index = np.arange(len(values))
    return np.stack([np.interp(times, index, values[:, c]) for c in range(values.shape[1])], axis=1).astype(
        values.dtype
    )


def _shift_audio(audio: np.ndarray, samples: int) -> np.ndarray:
    """``audio`` moved later by ``samples`` (silence before it) or earlier (silence after), same length."""
    if samples == 0:
        return audio
    out = np.zeros_like(audio)
    if samples > 0:
        out[samples:] = audio[: max(0, len(audio) - samples)]
    else:
        out[: max(0, len(audio) + samples)] = audio[-samples:]
    return out
