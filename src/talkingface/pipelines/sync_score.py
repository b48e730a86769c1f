"""Audio-visual sync of any video: SyncNet (syncnet_python's evaluation model) on tracked faces.

For each face track: 224x224 colour crops around the face (box median-filtered over 13 frames,
with 40% margin, as syncnet_python crops), 5-frame windows against MFCC windows of the audio at the
same times, offsets -15..15 -> LSE-D, LSE-C, AV offset and a per-frame confidence curve. The "LRS"
variant of the Wav2Lip paper scores the whole frame resized to 224 instead of face crops.
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
        return {"video": str(self.path), "tracks": [
            {"track": t.track_id, "start_frame": t.start, "frames": t.num_frames, **t.scores.to_dict()}
            for t in self.tracks]}


class SyncScorePipeline:
    """``SyncScorePipeline(model)(video) -> SyncScoreResult`` (one score per face track)."""

    def __init__(self, model: torch.nn.Module, whole_frame: bool = False, device: str = "cpu", batch_size: int = 32,
                 padding: str = "zeros"):
        self.padding = padding
        self.model = model.eval().to(device)
        self.device = torch.device(device)
        self.whole_frame = whole_frame
        self.batch_size = batch_size

    def __call__(self, video: str | os.PathLike) -> SyncScoreResult:
        from ..face import FaceTracker
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
            tracks = FaceTracker().track_video(video)
            spans = [(t.track_id, int(t.frames[0]), t) for t in tracks.tracks]
        for track_id, start, track in spans:
            crops = self._crops(video, track, info)
            if len(crops) < 5:
                continue
            count = len(crops) - 4
            windows = mfcc_windows(mfcc, start + count, info.fps)[start:start + count]
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
            padded = np.pad(frame, ((int(half) + 1,) * 2, (int(half) + 1,) * 2, (0, 0)), constant_values=110)
            shift = int(half) + 1
            box = np.array([cx[k] - half + shift, cy[k] - half + shift, cx[k] + half + shift, cy[k] + half + shift])
            box = np.clip(np.round(box), 0, [padded.shape[1], padded.shape[0]] * 2).astype(int)
            crops.append(crop_box(padded, box, 224).image)
        return np.stack(crops)

    def _embed(self, crops: np.ndarray, windows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        count = len(crops) - 4
        frames = torch.from_numpy(crops.astype(np.float32)).permute(3, 0, 1, 2)  # (3, N, 224, 224), 0-255 BGR
        lips, auds = [], []
        with torch.inference_mode():
            for s in range(0, count, self.batch_size):
                e = min(count, s + self.batch_size)
                clip = torch.stack([frames[:, i:i + 5] for i in range(s, e)]).to(self.device)
                cc = torch.from_numpy(windows[s:e, None].astype(np.float32)).to(self.device)
                lips.append(self.model.forward_lips(clip).cpu())
                auds.append(self.model.forward_audio(cc).cpu())
        return torch.cat(lips), torch.cat(auds)
