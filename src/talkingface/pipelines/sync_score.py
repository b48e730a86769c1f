"""Audio-visual sync of any video: SyncNet (syncnet_python's evaluation model) on tracked faces.

For each face track: 224x224 colour crops around the face (box median-filtered over 13 frames,
with 40% margin, as syncnet_python crops), 5-frame windows against MFCC windows of the audio at the
same times, offsets -15..15 -> LSE-D, LSE-C, AV offset and a per-frame confidence curve. The "LRS"
variant of the Wav2Lip paper scores the whole frame resized to 224 instead of face crops.

Faces are tracked on every ``track_stride``-th frame (2 by default) and their boxes interpolated in
between: the boxes are median-filtered over 13 frames anyway, and tracking is a third of the time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..metrics.sync import SyncScores, sync_scores

CROP_MARGIN = 0.4


@dataclass
class BoxTrack:
    """A face track as boxes on every frame: ``frames`` ``(n,)`` consecutive runs, ``boxes`` ``(n, 4)``."""

    track_id: int
    frames: np.ndarray
    boxes: np.ndarray

    @property
    def segments(self) -> list[tuple[int, int]]:
        from ..face.tracking import frame_runs

        return frame_runs(self.frames)


def box_tracks(video: str | os.PathLike, stride: int = 1, num_frames: int | None = None) -> list[BoxTrack]:
    """Face boxes of every track of ``video``, tracked on every ``stride``-th frame and interpolated
    linearly in between (held for the last ``stride - 1`` frames of a run)."""
    from itertools import islice

    from ..face import FaceTracker
    from ..media import VideoReader, prefetch

    reader = VideoReader(video)
    info = reader.info
    fps = info.fps / stride if info.fps else None
    result = FaceTracker().track_frames(
        prefetch(islice(reader, 0, None, stride)), fps=fps, size=(info.width, info.height)
    )
    total = num_frames or info.num_frames
    tracks = []
    for track in result.tracks:
        frames, boxes = [], []
        track_boxes = track.boxes  # computed from the landmarks on each access
        for start, stop in track.segments:  # in strided frames
            keep = (track.frames >= start) & (track.frames < stop)
            known, known_boxes = track.frames[keep] * stride, track_boxes[keep]
            full = np.arange(known[0], known[-1] + stride)
            if total:
                full = full[full < total]
            frames.append(full)
            boxes.append(np.stack([np.interp(full, known, known_boxes[:, c]) for c in range(4)], axis=1))
        tracks.append(BoxTrack(track.track_id, np.concatenate(frames), np.concatenate(boxes)))
    return tracks


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


class SyncScorePipeline:
    """``SyncScorePipeline(model)(video) -> SyncScoreResult`` (one score per face track)."""

    def __init__(
        self,
        model: torch.nn.Module,
        whole_frame: bool = False,
        device: str = "cpu",
        batch_size: int | None = None,
        padding: str = "zeros",
        fast: bool = True,
        track_stride: int = 2,
    ):
        from ..models.inference import optimize_for_inference

        if track_stride < 1:
            raise InputError(f"track_stride must be >= 1, got {track_stride}")
        self.padding = padding
        self.track_stride = track_stride
        model = model.eval().to(device)
        self.model = optimize_for_inference(model) if fast else model
        self.device = torch.device(device)
        self.whole_frame = whole_frame
        # Small batches keep the first layers' activations in cache on a CPU (10% faster at 4 than 32).
        self.batch_size = batch_size or (4 if self.device.type == "cpu" else 64)

    def __call__(self, video: str | os.PathLike) -> SyncScoreResult:
        from ..features import mfcc_windows, syncnet_mfcc
        from ..media import load_audio, probe_video

        info = probe_video(video)
        if info.is_image or not info.fps:
            raise InputError(f"{video}: sync needs a video, not a still image")
        audio = load_audio(video, 16000)
        mfcc = syncnet_mfcc(audio)
        result = SyncScoreResult(Path(video))
        if self.whole_frame:
            spans = [(0, 0, None)]
            tracks = None
        else:
            tracks = box_tracks(video, self.track_stride, info.num_frames)
            spans = [(t.track_id, int(t.frames[0]), t) for t in tracks]
        for track_id, start, track in spans:
            crops = self._crops(video, track, info)
            if len(crops) < 5:
                continue
            count = len(crops) - 4
            windows = mfcc_windows(mfcc, start + count, info.fps)[start : start + count]
            lip, aud = self._embed(crops, windows)
            if self.padding == "valid" and count < 31:
                continue
            result.tracks.append(TrackScore(track_id, start, len(crops), sync_scores(lip, aud, padding=self.padding)))
        if not result.tracks:
            raise InputError(f"{video}: no face visible for 5 frames in a row, nothing to score")
        return result

    def _crops(self, video, track, info) -> np.ndarray:
        """``(N, 224, 224, 3)`` BGR crops of the track's consecutive frames (its first segment)."""
        from scipy.signal import medfilt

        from ..face.crops import crop_box
        from ..media import VideoReader, resize_image

        if track is None:
            return np.stack([resize_image(f, 224, 224)[..., ::-1] for f in VideoReader(video)])
        start, stop = track.segments[0]
        boxes = track.boxes[: stop - start]
        size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        if len(boxes) >= 13:
            size, cx, cy = (medfilt(v, kernel_size=13) for v in (size, cx, cy))
        crops = []
        for index, frame in enumerate(VideoReader(video, order="bgr")):
            if index < start:
                continue
            if index >= stop:
                break
            k = index - start
            half = size[k] * (1 + CROP_MARGIN)
            h, w = frame.shape[:2]
            # syncnet_python pads the frame with grey 110 and cuts the box out of the padded frame; the
            # same pixels come from pasting the box's part inside the frame onto a grey canvas.
            shift = int(half) + 1
            box = np.array([cx[k] - half + shift, cy[k] - half + shift, cx[k] + half + shift, cy[k] + half + shift])
            x1, y1, x2, y2 = np.clip(np.round(box), 0, [w + 2 * shift, h + 2 * shift] * 2).astype(int) - shift
            canvas = np.full((y2 - y1, x2 - x1, 3), 110, np.uint8)
            fx1, fy1, fx2, fy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
            if fx1 < fx2 and fy1 < fy2:
                canvas[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1] = frame[fy1:fy2, fx1:fx2]
            crops.append(crop_box(canvas, (0, 0, x2 - x1, y2 - y1), 224).image)
        return np.stack(crops)

    def _embed(self, crops: np.ndarray, windows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        count = len(crops) - 4
        source = torch.from_numpy(crops)  # (N, 224, 224, 3) uint8 BGR
        taps = torch.arange(5)
        lips, auds = [], []
        with torch.inference_mode():
            for s in range(0, count, self.batch_size):
                e = min(count, s + self.batch_size)
                # Window i as 15 channels c * 5 + t, laid out channels-last: (B, H, W, 3, 5) -> (B, 15, H, W),
                # gathered and converted to float in one (multi-threaded) copy.
                windows_of = source[torch.arange(s, e)[:, None] + taps].permute(0, 2, 3, 4, 1)
                stacked = torch.empty(windows_of.shape, dtype=torch.float32).copy_(windows_of)
                clip = stacked.reshape(e - s, 224, 224, 15).permute(0, 3, 1, 2).to(self.device)
                cc = torch.from_numpy(windows[s:e, None].astype(np.float32)).to(self.device)
                lips.append(self.model.forward_lips(clip).cpu())
                auds.append(self.model.forward_audio(cc).cpu())
        return torch.cat(lips), torch.cat(auds)
