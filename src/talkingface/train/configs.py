"""Every training recipe's settings, declared once: each is a field with its help and bounds
(:func:`talkingface.settings.setting`), from which ``talkingface train``'s options are made and by which
values are checked. A recipe's config derives from :class:`TrainSettings` (the run folder and the
training loop's settings), and a run saves it flat as its ``config.json``.

This module needs neither torch nor numpy, so that the command line is built quickly; the recipes
(``train/<family>.py``) import their config from here.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..choices import FACEFORMER_VARIANTS, LIP_FRAMES, MESH_LAYOUTS, SCHEDULES
from ..errors import InputError
from ..settings import check, setting

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, kw_only=True)
class TrainSettings:
    """The settings every training recipe has: its run folder and the training loop's. A recipe's config
    derives from it and may give one of them another default by declaring it again (``epochs: int = 15``):
    its help and bounds stay these."""

    out_dir: str | os.PathLike = setting(help="folder for checkpoints and the log", flag="--out", metavar="DIR")
    epochs: int = setting(100, "passes over the training items", low=1)
    lr: float = setting(1e-4, "Adam learning rate (the peak, with a schedule)", above=0)
    accumulate: int = setting(1, "items per optimizer update (gradient accumulation)", low=1)
    seed: int = setting(0, "shuffling and initialisation seed", low=0, high=2**32 - 1)
    evaluate_every: int = setting(1, "epochs between evaluations (0: never)", low=0, metavar="EPOCHS")
    grad_clip: float | None = setting(None, "clip the gradient norm", above=0, metavar="NORM", none="no clipping")
    schedule: str = setting(
        "constant",
        "learning rate over the epochs: constant, cosine (down to min_lr_ratio x lr at the last epoch) or "
        "step (halved every step_epochs)",
        choices=SCHEDULES,
    )
    warmup_epochs: int = setting(0, "epochs of linear warm-up before the schedule", low=0)
    min_lr_ratio: float = setting(0.01, "the cosine schedule's last learning rate over lr", low=0, high=1)
    step_epochs: int = setting(30, "the step schedule's epochs between halvings", low=1)
    resume: bool = setting(True, "continue the run in --out where it has one", flag="--restart")
    device: str = setting(
        "auto", "auto (CUDA when there is a GPU), cpu, cuda or cuda:N; under torchrun, each process its own GPU"
    )
    mixed_precision: bool = setting(True, "on CUDA, run each step under bfloat16 autocast (float32 weights)")

    def __post_init__(self) -> None:
        check(self)
        training_device(self.device)


@dataclass(frozen=True, kw_only=True)
class LoopConfig(TrainSettings):
    """The training loop's settings: :class:`TrainSettings` and those a recipe fixes.

    Attributes:
    monitor: metric of ``evaluate`` that picks ``best.safetensors`` (lower is better).
    betas: Adam's betas (GAN recipes use (0.5, 0.999)).
    find_unused: under torchrun, let parameters go unused in a step (costs a graph traversal).
    """

    monitor: str = "loss"
    betas: tuple[float, float] = (0.9, 0.999)
    find_unused: bool = False

    def learning_rate(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (0-based)."""
        if epoch < self.warmup_epochs:
            return self.lr * (epoch + 1) / (self.warmup_epochs + 1)
        k = epoch - self.warmup_epochs
        if self.schedule == "cosine":
            span = max(1, self.epochs - self.warmup_epochs - 1)
            cosine = 0.5 * (1 + math.cos(math.pi * min(k, span) / span))
            return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * cosine)
        if self.schedule == "step":
            return self.lr * 0.5 ** (k // self.step_epochs)
        return self.lr


def loop_config(settings: TrainSettings, **fixed: Any) -> LoopConfig:
    """The :class:`LoopConfig` of a recipe's config: its :class:`TrainSettings`, and the ones the recipe
    ``fixed`` (``monitor``, ...)."""
    shared = {f.name: getattr(settings, f.name) for f in dataclasses.fields(TrainSettings)}
    return LoopConfig(**shared, **fixed)


def training_device(choice: str) -> torch.device:
    """The device a run trains on: ``choice`` ("auto", "cpu", "cuda", "cuda:N"); under torchrun on CUDA,
    the GPU of the process's local rank."""
    import torch  # here, so that the configs are read without torch

    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(choice)
    except RuntimeError:
        raise InputError(f"device must be auto, cpu, cuda or cuda:N, got {choice!r}") from None
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"training runs on cpu or cuda, not {choice!r}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {choice}: CUDA is not available on this machine")
        if device.index is None and "LOCAL_RANK" in os.environ:
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


_PREPROCESSED = "a set made by talkingface preprocess"
_STEPS = "optimizer steps between evaluations and checkpoints"


def sentence_ids(text: str) -> tuple[int, ...]:
    """'1-32', '1,5,7' or '3' -> sentence ids."""
    ids: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            ids += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise InputError(f"expected sentence ids like 1-32 or 1,5,7; got {text!r}") from None
    return tuple(ids)


@dataclass(frozen=True, kw_only=True)
class _SyncPairsSettings(TrainSettings):
    """What the two SyncNet recipes share: true and shifted pairs of a preprocessed set."""

    data: str | os.PathLike = setting(help=f"{_PREPROCESSED} (96 px for the expert, 224 for syncnet-v2)", metavar="DIR")
    batch_size: int = setting(64, "pairs per step", low=2)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    val_pairs: int = setting(256, "held-out pairs evaluated (half in sync)", low=2)
    channel_divisor: int = setting(1, "1: the published network; 2-16: a smaller one", low=1)
    init: str | os.PathLike | None = setting(
        None, "start from this checkpoint (the published one or ours)", metavar="FILE"
    )

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="loss")


@dataclass(frozen=True, kw_only=True)
class SyncNetTrainConfig(_SyncPairsSettings):
    """Wav2Lip's lip-sync expert (``talkingface train syncnet``; the reference's batch of 64)."""

    stall_epochs: int = setting(5, "report a loss stuck at ln 2 after this many epochs (0: never)", low=0)


@dataclass(frozen=True, kw_only=True)
class SyncNetV2TrainConfig(_SyncPairsSettings):
    """syncnet_python's model with its contrastive loss (``talkingface train syncnet-v2``)."""

    margin: float = setting(20.0, "the contrastive loss's margin on the embedding distance", above=0)
    batch_size: int = 32
    val_pairs: int = 128


@dataclass(frozen=True, kw_only=True)
class LipGANTrainConfig(TrainSettings):
    """LipGAN's generator and contrastive discriminator (``talkingface train lipgan``)."""

    data: str | os.PathLike = setting(help=f"{_PREPROCESSED} (96 px)", metavar="DIR")
    batch_size: int = setting(32, "faces per step (the reference's 96)", low=2)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    val_samples: int = setting(32, "held-out faces evaluated", low=1)
    width: int = setting(32, "first-stage channels (as the paper)", low=1)
    embedding: int = setting(256, "the embedding's size", low=1)
    disc_weight: float = setting(0.01, "the discriminator's weight in the generator's loss", low=0, below=1)
    disc_lr: float = setting(1e-4, "the discriminator's learning rate", above=0)
    margin: float = setting(1.0, "the contrastive loss's margin", above=0)

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="l1")


@dataclass(frozen=True, kw_only=True)
class Wav2LipTrainConfig(TrainSettings):
    """The Wav2Lip generator against a frozen lip-sync expert (``talkingface train wav2lip``), and with
    the visual-quality discriminator (``gan``: ``train wav2lip-gan``)."""

    data: str | os.PathLike = setting(help=f"{_PREPROCESSED} (96 px)", metavar="DIR")
    expert: str | os.PathLike = setting(help="lipsync_expert.pth or one from talkingface train syncnet", metavar="FILE")
    batch_size: int = setting(16, "windows per step (as the reference)", low=1)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    val_samples: int = setting(64, "held-out windows evaluated", low=1)
    channel_divisor: int = setting(1, "1: the published generator; 2-16: a smaller one", low=1)
    init: str | os.PathLike | None = setting(None, "start from this generator (wav2lip.pth or ours)", metavar="FILE")
    sync_weight: float = setting(0.01, "the expert's weight once it is on", low=0, below=1)
    sync_threshold: float = setting(0.75, "held-out sync loss that switches the expert on (0: at once)", low=0)
    gan: bool = setting(False, "also train the visual-quality discriminator and use it", cli=False)
    perceptual_weight: float = setting(0.07, "the discriminator's weight in the generator's loss", low=0)
    disc_lr: float = setting(1e-4, "the discriminator's learning rate", above=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gan and not self.sync_weight + self.perceptual_weight < 1:
            raise InputError("need sync_weight + perceptual_weight < 1")

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="loss", betas=(0.5, 0.999) if self.gan else (0.9, 0.999))


@dataclass(frozen=True, kw_only=True)
class SyncLipsTrainConfig(TrainSettings):
    """The built-in sync model, lip landmarks against speech (``talkingface train sync-lips``)."""

    data: tuple[str, ...] = setting(
        help="sets made by talkingface preprocess: their train lists train, their val lists evaluate", metavar="DIR"
    )
    shares: tuple[float, ...] | None = setting(
        None, "share of the runs drawn from each set", above=0, metavar="SHARE", none="the same from each"
    )
    runs: int = setting(8, "runs of consecutive frames per step", low=1)
    run_frames: int = setting(24, "lip windows per run", low=1)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    speeds: tuple[float, ...] = setting((0.9, 1.1), "speed variants of each clip (1 is always used)", low=0.5, high=2)
    embedding: int = setting(128, "the embedding's size", low=1)
    width: int = setting(16, "the speech encoder's channels", low=1)
    lip_width: int = setting(64, "the lip encoder's width", low=1)
    dropout: float = setting(0.3, "dropout in the lip encoder", low=0, below=1)
    frame: str = setting(
        "frontal", "how the lips are seen: frontal turns a turned head's lips to face", choices=LIP_FRAMES
    )
    epochs: int = 15
    lr: float = 1e-3
    grad_clip: float | None = 5.0
    schedule: str = "cosine"
    warmup_epochs: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.data:
            raise InputError("no training set given")
        if self.shares is not None and len(self.shares) != len(self.data):
            raise InputError(f"shares must be one positive number per set ({len(self.data)}), got {self.shares}")

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="offset_error")

    def model_config(self) -> dict:
        return {
            "embedding": self.embedding,
            "width": self.width,
            "lip_width": self.lip_width,
            "dropout": self.dropout,
            "frame": self.frame,
        }


@dataclass(frozen=True, kw_only=True)
class VisemeNetTrainConfig(TrainSettings):
    """VisemeNet on espeak-ng speech in every language and real lips (``talkingface train visemenet``)."""

    data: tuple[str, ...] = setting((), "sets made by talkingface preprocess (their val lists evaluate)", metavar="DIR")
    transcripts: str | None = setting(
        None, "lines <video name><TAB><what is said> for clips of --data (aligned: phoneme targets)", metavar="FILE"
    )
    synthetic: int = setting(3000, "synthetic training utterances", low=0)
    val_synthetic: int = setting(200, "held-out synthetic utterances, in other voices", low=0)
    languages: tuple[str, ...] | None = setting(None, "espeak-ng languages", metavar="LANG", none="all")
    augment: float = setting(1.0, "audio degradation strength (0: clean)", low=0, high=2)
    real_copies: int = setting(3, "degraded copies of each real clip, at 1, 0.9 and 1.1x speed in turn", low=0)
    batch: int = setting(16, "windows per step", low=1, flag="--batch-size")
    window: int = setting(300, "10 ms steps per window", low=10)
    real_share: float = setting(0.3, "share of each batch from real clips (when there are any)", low=0, high=1)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    hidden: int = setting(128, "LSTM width (the paper's 256)", low=4)
    stage1_layers: int = setting(3, "the first stage's LSTM depth", low=1)
    stage2_layers: int = setting(2, "the second stage's LSTM depth", low=1)
    lookahead: int = setting(10, "10 ms steps of look-ahead", low=0, high=50)
    dropout: float = setting(0.0, "between stacked LSTM layers", low=0, below=1)
    lips_weight: float = setting(1.0, "loss weight of the synthetic lips", low=0)
    real_lips_weight: float = setting(2.0, "loss weight of the real lips", low=0)
    motion_weight: float = setting(2.0, "loss weight of the lips' motion", low=0)
    group_weight: float = setting(0.5, "loss weight of the phoneme groups", low=0)
    viseme_weight: float = setting(1.0, "loss weight of the visemes", low=0)
    jali_weight: float = setting(1.0, "loss weight of the JALI jaw and lip values", low=0)
    epochs: int = 20
    lr: float = 2e-3
    grad_clip: float | None = 1.0
    schedule: str = "cosine"
    warmup_epochs: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.synthetic == 0 and not self.data:
            raise InputError("nothing to train on: give synthetic utterances or real clips (data)")
        if self.languages is not None and not self.languages:
            raise InputError("languages is empty (None: all of them)")
        self.model_config()  # the network's sizes are checked too

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="lips_miss" if self.data else "loss")

    def model_config(self) -> dict:
        from ..models.visemenet import VisemeNetConfig

        config = VisemeNetConfig(self.hidden, self.stage1_layers, self.stage2_layers, self.lookahead, self.dropout)
        return dataclasses.asdict(config)


@dataclass(frozen=True, kw_only=True)
class UpscalerTrainConfig(TrainSettings):
    """The mouth upscaler on real videos and photos (``talkingface train upscaler``)."""

    data: tuple[str, ...] = setting(help="videos and photos, or folders of them", metavar="PATH")
    val: tuple[str, ...] = setting((), "held-out videos and photos (other people)", metavar="PATH")
    canvas: int = setting(96, "width of the real mouth canvases, px (the network's input is half)", low=32, high=512)
    min_ratio: float = setting(1.0, "source pixels per canvas pixel at least (1: no enlargement)", above=0)
    max_frames: int = setting(750, "canvases per video at most", low=1)
    photo_runs: int = setting(8, "runs of small moves made of each photo", low=1)
    photo_share: float = setting(0.3, "share of runs made of photos", low=0, high=1)
    run_length: int = setting(4, "canvases per run", low=2)
    batch_size: int = setting(16, "runs per step", low=1)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    val_runs: int = setting(64, "held-out runs evaluated", low=1)
    temporal_weight: float = setting(1.0, "weight of the temporal term", low=0)
    width: int = setting(32, "channels", low=1)
    blocks: int = setting(5, "residual blocks", low=1)
    epochs: int = 30
    lr: float = 1e-3
    grad_clip: float | None = 1.0
    schedule: str = "cosine"
    warmup_epochs: int = 1

    def __post_init__(self) -> None:
        from ..enhance.mouth import WIDTH_STEP

        super().__post_init__()
        if self.canvas % WIDTH_STEP:
            raise InputError(f"canvas must be a multiple of {WIDTH_STEP} in 32-512, got {self.canvas}")

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="l1")


@dataclass(frozen=True, kw_only=True)
class OpennessTrainConfig(TrainSettings):
    """The mouth-openness model on real videos of people speaking (``talkingface train openness``)."""

    data: tuple[str, ...] = setting(help="videos of people speaking with their own voice, or folders", metavar="PATH")
    val: tuple[str, ...] = setting((), "held-out videos or folders (other people)", metavar="PATH")
    batch_size: int = setting(8, "clips per step", low=1)
    steps_per_epoch: int = setting(100, _STEPS, low=1)
    augment: float = setting(0.5, "share of clips played at another speed and degraded", low=0, high=1)
    channels: int = setting(32, "channels of each member", low=1)
    dilations: tuple[int, ...] = setting((1, 2, 4, 2), "dilations of each member's convolutions", low=1)
    kernel: int = setting(5, "the convolutions' width", low=1)
    dropout: float = setting(0.3, "dropout between convolutions", low=0, below=1)
    members: int = setting(5, "networks in the ensemble", low=1)
    epochs: int = 15
    lr: float = 1e-3
    grad_clip: float | None = 1.0
    schedule: str = "cosine"
    warmup_epochs: int = 1

    def __post_init__(self) -> None:
        if not self.data:
            raise InputError("give videos to train on")
        super().__post_init__()
        self.model_config()  # checks the network's settings

    def model_config(self) -> dict:
        from ..models.openness import OpennessConfig

        fields = {f.name for f in dataclasses.fields(OpennessConfig)}
        config = {name: getattr(self, name) for name in fields}
        OpennessConfig(**config)
        return config

    def loop(self) -> LoopConfig:
        return loop_config(self, monitor="lips_miss" if self.val else "loss")


@dataclass(frozen=True, kw_only=True)
class FaceFormerTrainConfig(TrainSettings):
    """FaceFormer on a VOCASET/BIWI-layout set (``talkingface train faceformer``)."""

    data: str | os.PathLike = setting(help="the set's folder (wav/, vertices_npy/, templates.pkl)", metavar="DIR")
    layout: str | None = setting(
        None,
        "vocaset (60 fps files used at 30 fps) or biwi (25 fps)",
        choices=MESH_LAYOUTS,
        none="the set's split.json, else vocaset",
    )
    train_subjects: tuple[str, ...] | None = setting(
        None, "the subjects trained on", metavar="SUBJECT", none="the layout's"
    )
    val_subjects: tuple[str, ...] | None = setting(
        None, "the subjects held out", metavar="SUBJECT", none="the layout's"
    )
    train_sentences: tuple[int, ...] | None = setting(
        None, "sentence ids to train on, e.g. 1-32", parse=sentence_ids, metavar="A-B", none="all"
    )
    val_sentences: tuple[int, ...] | None = setting(
        None, "sentence ids held out, e.g. 33-40", parse=sentence_ids, metavar="A-B", none="all"
    )
    model: str = setting(
        "faceformer.mel", "variant (faceformer.mel needs no downloaded weights)", choices=FACEFORMER_VARIANTS
    )
    init: str | os.PathLike | None = setting(
        None, "start from this checkpoint (vocaset.pth, biwi.pth, ours)", metavar="FILE"
    )
    wav2vec2: str | os.PathLike | None = setting(
        None, "local wav2vec 2.0 folder for the wav2vec2 variants", metavar="DIR"
    )
    teacher_forcing: bool = setting(False, "feed the true previous frames (faster) instead of the model's own")
    lips: str | None = setting(
        None,
        "lip vertex indices for LVE (a file or built-in name)",
        metavar="FILE",
        none="the built-in face's, fitted onto the first speaker's template",
    )
    feature_dim: int | None = setting(None, "decoder width", low=1, none="the variant's")
    overrides: dict = setting(help="further model config fields", factory=dict, cli=False)

    def loop(self, monitor: str, find_unused: bool) -> LoopConfig:
        """The loop's part of this config."""
        return loop_config(self, monitor=monitor, find_unused=find_unused)

    def model_overrides(self) -> dict:
        """The model config fields this run sets: ``overrides`` and ``feature_dim``."""
        return {**self.overrides, **({"feature_dim": self.feature_dim} if self.feature_dim is not None else {})}
