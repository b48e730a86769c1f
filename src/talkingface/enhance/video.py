"""Enhancing a video's face as it streams: ``--enhance {none,gfpgan,upscaler}``.

An enhancer takes each frame with its face's 478 landmarks (None where there is no face) and hands
back finished frames a few frames later (:meth:`VideoEnhancer.push`, then :meth:`~VideoEnhancer.flush`
at the end): the face's 5 template points are averaged over a centred window of frames within each
run of the face (:func:`~talkingface.enhance.align.steady_points`, here without holding the video),
so a still face is cut out identically in every frame. A run ends where the face is lost or jumps
(a cut); the enhancer's memory of earlier frames ends with it.

- :class:`FaceRestorer`: a restorer of aligned 512 px faces (GFPGAN), steadied as
  :mod:`.temporal` says (motion-compensated blending with its previous output, the mouth region only,
  keyframes).
- :class:`MouthEnhancer`: the mouth upscaler (:mod:`talkingface.models.upscaler`) on the mouth canvas
  (:mod:`.mouth`) at the frame's own resolution: the canvas shrunk to half and restored, given its
  own previous output moved onto the new canvas, and pasted back with a soft mask.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .. import choices
from ..errors import InputError
from ..optional import needs
from ..settings import setting
from .align import face_transform, five_points, paste_face, warp_face
from .mouth import (
    canvas_height,
    canvas_mask,
    cut_canvas,
    halved,
    mouth_transform,
    native_width,
    relative_transform,
    snapped_width,
    warp_canvases,
)
from .temporal import TemporalConfig, flow_warp, region_mask

METHODS = choices.ENHANCE_METHODS
#: A move of the 5 points by more than this share of the eyes' distance between frames is a cut.
JUMP = 0.5


class VideoEnhancer:
    """Steady 5 points over a centred ``window`` of frames; subclasses enhance one frame."""

    def __init__(self, window: int = 5):
        if window < 1 or window % 2 == 0:
            raise InputError(f"window must be an odd number of frames, got {window}")
        self.half = window // 2
        self.pending: deque = deque()  # (frame, points or None, starts a run)
        self.past: deque = deque(maxlen=self.half)
        self._last: np.ndarray | None = None

    def push(self, frame: np.ndarray, landmarks: np.ndarray | None) -> list[np.ndarray]:
        """Take a frame and its face's landmarks (None: no face); return the frames now finished."""

        points = None
        if landmarks is not None:
            landmarks = np.asarray(landmarks)
            if np.isfinite(landmarks[:, :2]).all():
                points = five_points(landmarks)
        new_run = points is not None and (self._last is None or _jumped(self._last, points))
        self._last = points
        self.pending.append((frame, points, new_run))
        done = []
        while len(self.pending) > self.half:
            done.append(self._emit())
        return done

    def flush(self) -> list[np.ndarray]:
        """The frames still held, finished (the end of the video)."""
        done = []
        while self.pending:
            done.append(self._emit())
        return done

    def run(self, frames: Iterable[tuple[np.ndarray, np.ndarray | None]]) -> Iterator[np.ndarray]:
        """Every frame of ``(frame, landmarks)`` pairs, enhanced, in order."""
        for frame, landmarks in frames:
            yield from self.push(frame, landmarks)
        yield from self.flush()

    def _emit(self) -> np.ndarray:
        frame, points, new_run = self.pending.popleft()
        if points is None or new_run:
            self.past.clear()
            self.reset()
        if points is None:
            return frame
        future = []
        for _, later, starts in list(self.pending)[: self.half]:
            if later is None or starts:
                break
            future.append(later)
        window = [*self.past, points, *future]  # the past holds at most ``half`` points of this run
        steady = np.mean(window, axis=0)
        self.past.append(points)
        return self.process(frame, steady)

    def reset(self) -> None:
        """Forget earlier frames (a new run of the face begins)."""

    def set_detail(self, detail: float) -> None:
        """Frame pixels per pixel of the detail the video was made with (a generator's crop): an enhancer
        that works at a scale of detail takes it (:class:`MouthEnhancer`); the others need not."""

    def process(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _jumped(before: np.ndarray, now: np.ndarray) -> bool:
    eyes = float(np.linalg.norm(now[1] - now[0]))
    return bool(np.abs(now - before).max() > JUMP * max(eyes, 1.0))


class FaceRestorer(VideoEnhancer):
    """A per-frame restorer of aligned ``size`` px RGB faces, steadied (:mod:`.temporal`)."""

    def __init__(self, restore: Callable[[np.ndarray], np.ndarray], config=None, size: int = 512):
        config = config or TemporalConfig()
        super().__init__(config.window)
        self.restore, self.config, self.size = restore, config, size
        self.mask = region_mask(config.region, size)
        self.reset()

    def reset(self) -> None:
        self.previous_input: np.ndarray | None = None
        self.previous_output: np.ndarray | None = None
        self.count = 0

    def process(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        config = self.config
        transform = face_transform(points, self.size)
        aligned = warp_face(frame, transform, self.size)
        carried = None
        if self.previous_output is not None and self.previous_input is not None:
            carried = flow_warp(self.previous_output, self.previous_input, aligned)
        if carried is not None and config.every > 1 and self.count % config.every:
            output = carried  # between keyframes: the last restoration, carried along
        else:
            restored = np.asarray(self.restore(aligned))
            if restored.shape != aligned.shape:
                raise InputError(f"the restorer returned {restored.shape}, expected {aligned.shape}")
            output = restored
            if carried is not None and config.keep > 0:
                assert self.previous_input is not None
                moved = flow_warp(self.previous_input, self.previous_input, aligned)
                change = np.abs(aligned.astype(np.float32) - moved.astype(np.float32)).mean(2, keepdims=True)
                weight = config.keep * np.clip(1 - change / config.changed, 0, 1)
                output = np.clip(np.rint(weight * carried + (1 - weight) * restored), 0, 255).astype(np.uint8)
        self.previous_input, self.previous_output = aligned, output
        self.count += 1
        return paste_face(frame, output, transform, self.mask)


class MouthEnhancer(VideoEnhancer):
    """The mouth upscaler on each frame's mouth canvas (see the module).

    ``detail``: frame pixels per pixel of real detail in the mouth (1 for a photo's own pixels; a
    generator's 96 px face pasted into a 288 px box has 3): the network's input is the canvas at the
    scale of the detail (never finer than the frame), its output twice that, brought to the frame's
    scale and pasted with a soft mask. ``largest``: the widest output canvas, pixels. ``keep`` and
    ``changed``: where the input did not change from the frame before (moved onto this one), ``keep``
    of the previous output is kept, fading to none where it changed by ``changed`` grey levels or more
    (as :class:`~talkingface.enhance.temporal.TemporalConfig`)."""

    def __init__(
        self,
        model,
        window: int = 5,
        detail: float = 1.0,
        largest: int = 512,
        keep: float = 0.7,
        changed: float = 12.0,
    ):
        super().__init__(window)
        if not 0 <= keep < 1 or not changed > 0 or not detail > 0:
            raise InputError("keep must be in [0, 1), changed > 0 and detail > 0")
        self.model, self.detail, self.largest, self.keep, self.changed = model, detail, largest, keep, changed
        self.device = next(model.parameters()).device
        self.reset()

    def set_detail(self, detail: float) -> None:
        if not detail > 0:
            raise InputError(f"detail must be > 0, got {detail}")
        self.detail = detail

    def reset(self) -> None:
        self.sizes: tuple[int, int] | None = None  # (the frame's canvas width, the output's)
        self.previous: object | None = None  # the last output, (1, 3, H, W) tensor
        self.previous_small: np.ndarray | None = None
        self.previous_transform: np.ndarray | None = None

    def process(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        with needs("face"):
            import cv2
        import torch

        if self.sizes is None:  # one canvas size per run, chosen at its start
            native = native_width(points, largest=self.largest)
            output = snapped_width(2 * native / max(self.detail, 1.0), largest=self.largest)
            self.sizes = native, output
            self.mask = canvas_mask(min(native, output))
        native, width = self.sizes
        transform = mouth_transform(points, width)  # the output canvas
        height = canvas_height(width)
        small_transform = halved(transform)
        small = cut_canvas(frame, small_transform, width // 2, height // 2)
        device = self.device
        with torch.inference_mode():
            x = torch.from_numpy(small).to(device).permute(2, 0, 1)[None].float() / 255
            carried = None
            if self.previous is not None and self.previous_transform is not None:
                move = relative_transform(transform, self.previous_transform)
                carried = warp_canvases(self.previous, torch.from_numpy(move).float()[None].to(device))
            output = self.model(x, carried)
            if carried is not None and self.keep > 0:
                assert self.previous_small is not None and self.previous_transform is not None
                small_move = relative_transform(small_transform, halved(self.previous_transform))
                before = cv2.warpAffine(
                    self.previous_small,
                    small_move,
                    (width // 2, height // 2),
                    flags=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE,
                )
                change = cv2.GaussianBlur(np.abs(small.astype(np.float32) - before).mean(2), (0, 0), 1.0)
                weight = self.keep * np.clip(1 - change / self.changed, 0, 1)
                w = torch.from_numpy(weight.astype(np.float32)).to(device)[None, None]
                w = torch.nn.functional.interpolate(w, size=output.shape[2:], mode="bilinear", align_corners=False)
                output = w * carried + (1 - w) * output
        self.previous, self.previous_small, self.previous_transform = output, small, transform
        restored = (output[0].permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
        if width > native:  # finer than the frame: brought down with area averaging first
            restored = cv2.resize(restored, (native, canvas_height(native)), interpolation=cv2.INTER_AREA)
            transform = mouth_transform(points, native)
        return paste_face(frame, restored, transform, self.mask)


@dataclass(frozen=True)
class EnhanceConfig:
    """``method``: "none", "gfpgan" or "upscaler"; ``checkpoint``: the GFPGAN file (needed) or an
    upscaler of ours (default: the built-in one); ``every``: GFPGAN on every n-th frame, carried
    along the optical flow between; ``device``: where the network runs."""

    method: str = "none"
    checkpoint: str | None = None
    every: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"enhance must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.every < 1:
            raise InputError(f"enhance-every must be >= 1, got {self.every}")
        if self.method == "gfpgan" and self.checkpoint is None:
            raise InputError("--enhance gfpgan needs --enhance-checkpoint (GFPGANv1.3.pth or GFPGANv1.4.pth)")
        if self.method == "none" and self.checkpoint is not None:
            raise InputError("--enhance-checkpoint needs --enhance gfpgan or upscaler")

    def check(self) -> None:
        """Fail before any work: the checkpoint file must exist."""
        from pathlib import Path

        if self.checkpoint is not None and not Path(self.checkpoint).is_file():
            raise InputError(f"{self.checkpoint}: no such checkpoint file")


@dataclass(frozen=True)
class EnhanceSettings:
    """The enhancement settings of a pipeline that makes faces (its config derives from this class):
    ``enhance`` is :class:`EnhanceConfig`'s method, ``enhance_checkpoint`` its checkpoint and
    ``enhance_every`` its ``every``."""

    enhance: str = setting("none", "sharpen the mouth", choices=choices.ENHANCE_METHODS)
    enhance_checkpoint: str | None = None
    enhance_every: int = 1

    def enhancement(self, device: str = "cpu") -> EnhanceConfig:
        """The :class:`EnhanceConfig` of these settings, its network on ``device`` (checked on creation)."""
        return EnhanceConfig(self.enhance, self.enhance_checkpoint, self.enhance_every, device)


def gfpgan_restore(model) -> Callable[[np.ndarray], np.ndarray]:
    """An aligned 512 px uint8 RGB face -> GFPGAN's restoration of it (uint8 RGB)."""
    import torch

    device = next(model.parameters()).device

    def restore(face: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(face)).to(device).permute(2, 0, 1)[None].float()
            y = model(x / 127.5 - 1.0)
        image = ((y[0].clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).cpu().numpy()
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)

    return restore


def make_enhancer(config: EnhanceConfig, still: bool = False) -> VideoEnhancer | None:
    """The enhancer ``config`` asks for (None for "none"); loads its network. ``still``: for a photo
    enhanced once (GFPGAN's restoration is then pasted over the whole face, not only the mouth)."""
    if config.method == "none":
        return None
    config.check()
    if config.method == "gfpgan":
        from ..models.gfpgan import load_gfpgan

        assert config.checkpoint is not None
        model = load_gfpgan(config.checkpoint).to(config.device).eval()
        return FaceRestorer(
            gfpgan_restore(model), TemporalConfig(region="face" if still else "mouth", every=config.every)
        )
    from ..models.upscaler import load_upscaler

    return MouthEnhancer(load_upscaler(config.checkpoint, device=config.device))


def generated_detail(landmarks: np.ndarray, size: int) -> float:
    """Frame pixels per pixel of a generator's ``size`` px face crop, for faces of ``landmarks``
    ``(T, 478, 2+)`` (NaN where none): the median face width over ``size``, at least 1."""
    landmarks = np.asarray(landmarks)
    present = np.flatnonzero(np.isfinite(landmarks[:, :, :2]).all(axis=(1, 2)))
    if not len(present):
        return 1.0
    widths = [float(np.ptp(landmarks[t, :, 0])) for t in present[:: max(1, len(present) // 50)]]
    return max(1.0, float(np.median(widths)) / size)


def enhance_still(image: np.ndarray, landmarks: np.ndarray, config: EnhanceConfig) -> np.ndarray:
    """A photo's face enhanced once (``config.method`` "none": the photo as it is)."""
    enhancer = make_enhancer(config, still=True)
    if enhancer is None:
        return image
    (enhanced,) = enhancer.run([(image, landmarks)])
    return enhanced


def restore_video(
    frames: Iterable[np.ndarray],
    landmarks: np.ndarray,
    restore: Callable[[np.ndarray], np.ndarray],
    config: TemporalConfig | None = None,
    size: int = 512,
) -> Iterator[np.ndarray]:
    """Frames with their face restored by ``restore`` (an aligned ``size`` px RGB face -> the same),
    steadied as :mod:`.temporal` says (``config``: its default where None). ``landmarks`` ``(T, 478, 2+)``: the tracker's, one per frame (NaN
    where no face: that frame passes through unchanged and the temporal state restarts). Streams
    (:class:`FaceRestorer`)."""
    landmarks = np.asarray(landmarks, np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1] != 478:
        raise InputError(f"landmarks must be (T, 478, 2+), got {landmarks.shape}")
    restorer = FaceRestorer(restore, config or TemporalConfig(), size)
    for t, frame in enumerate(frames):
        if t >= len(landmarks):
            raise InputError(f"more frames than landmarks ({len(landmarks)})")
        yield from restorer.push(frame, landmarks[t])
    yield from restorer.flush()
