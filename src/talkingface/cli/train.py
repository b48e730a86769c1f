"""``talkingface train MODEL``: train a model family on a data set (checkpoints resume exactly;
``torchrun --nproc_per_node N -m talkingface train ...`` trains data-parallel).

``talkingface train faceformer --data DIR --out DIR`` trains FaceFormer on a VOCASET/BIWI-layout set
(the real ones, or one made by ``talkingface make-dataset``), writing best/last .safetensors that
``talkingface mesh --method faceformer --checkpoint`` uses. ``talkingface train syncnet --data DIR
--out DIR`` trains Wav2Lip's lip-sync expert on a set made by ``talkingface preprocess``; ``train
sync-lips`` the built-in sync model (lip landmarks against speech) on such sets. ``train visemenet
--out DIR [--data DIR ...]`` trains VisemeNet on espeak-ng speech in every language, made on the spot,
and on the real lips of preprocessed sets. ``train upscaler --data PATH ... --out DIR`` trains the
mouth upscaler (``--enhance upscaler --enhance-checkpoint``) on real videos and photos.
"""

from __future__ import annotations

import argparse

from ._common import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model on a data set", description=__doc__.split(":", 1)[1].strip()
    )
    families = parser.add_subparsers(dest="family", metavar="MODEL", required=True)
    ff = families.add_parser("faceformer", help="FaceFormer on a VOCASET/BIWI-layout set")
    ff.add_argument("--data", required=True, help="data set folder (wav/, vertices_npy/, templates.pkl)")
    ff.add_argument("--out", required=True, help="folder for checkpoints and the log")
    ff.add_argument(
        "--layout", choices=["vocaset", "biwi"], help="data layout (default: the set's split.json, else vocaset)"
    )
    ff.add_argument("--train-subjects", nargs="+", metavar="SUBJECT", help="override the layout's training subjects")
    ff.add_argument("--val-subjects", nargs="+", metavar="SUBJECT", help="override the layout's held-out subjects")
    ff.add_argument("--train-sentences", type=_ids, metavar="A-B", help="sentence ids to train on, e.g. 1-32")
    ff.add_argument("--val-sentences", type=_ids, metavar="A-B", help="sentence ids held out, e.g. 33-40")
    ff.add_argument(
        "--model",
        default="faceformer.mel",
        choices=["faceformer.mel", "faceformer.vocaset", "faceformer.biwi"],
        help="variant (default faceformer.mel: no downloaded weights needed)",
    )
    ff.add_argument("--init", metavar="FILE", help="start from this checkpoint (vocaset.pth, biwi.pth, ours)")
    ff.add_argument("--wav2vec2", metavar="DIR", help="local wav2vec 2.0 folder for the wav2vec2 variants")
    ff.add_argument("--teacher-forcing", action="store_true", help="feed true previous frames (faster)")
    ff.add_argument("--lips", metavar="FILE", help="lip vertex indices for LVE (default: the built-in face's)")
    ff.add_argument("--feature-dim", type=positive_int, help="decoder width (default: the variant's)")
    loop = _loop_arguments(ff)
    loop.add_argument("--accumulate", type=int, default=1, help="sequences per optimizer update (default 1)")
    sn = families.add_parser("syncnet", help="Wav2Lip's lip-sync expert on a preprocessed set")
    sn.add_argument("--data", required=True, help="a set made by talkingface preprocess")
    sn.add_argument("--out", required=True, help="folder for checkpoints and the log")
    sn.add_argument("--batch-size", type=int, default=64, help="pairs per step (default 64)")
    sn.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    sn.add_argument("--val-pairs", type=int, default=256, help="held-out pairs evaluated (default 256)")
    sn.add_argument("--channel-divisor", type=int, default=1, help="1: the published expert; 2-16: smaller")
    sn.add_argument("--init", metavar="FILE", help="start from this checkpoint (lipsync_expert.pth or ours)")
    sn.add_argument(
        "--stall-epochs", type=int, default=5, help="report a loss stuck at ln 2 after this many epochs (0: never)"
    )
    _loop_arguments(sn)
    v2 = families.add_parser("syncnet-v2", help="syncnet_python's model, contrastive loss, on a preprocessed set")
    v2.add_argument("--data", required=True, help="a set made by talkingface preprocess (--size 224)")
    v2.add_argument("--out", required=True, help="folder for checkpoints and the log")
    v2.add_argument("--batch-size", type=int, default=32, help="pairs per step (default 32)")
    v2.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    v2.add_argument("--val-pairs", type=int, default=128, help="held-out pairs evaluated (default 128)")
    v2.add_argument("--margin", type=float, default=20.0, help="contrastive margin on the distance (default 20)")
    v2.add_argument("--channel-divisor", type=int, default=1, help="1: syncnet_python's network; 2-16: smaller")
    v2.add_argument("--init", metavar="FILE", help="start from this checkpoint (syncnet_v2.model or ours)")
    _loop_arguments(v2)
    lg = families.add_parser("lipgan", help="LipGAN's generator and contrastive discriminator on a preprocessed set")
    lg.add_argument("--data", required=True, help="a set made by talkingface preprocess (96 px)")
    lg.add_argument("--out", required=True, help="folder for checkpoints and the log")
    lg.add_argument("--batch-size", type=int, default=32, help="faces per step (default 32)")
    lg.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    lg.add_argument("--val-samples", type=int, default=32, help="held-out faces evaluated (default 32)")
    lg.add_argument("--width", type=int, default=32, help="first-stage channels (default 32, the paper's)")
    lg.add_argument("--disc-weight", type=float, default=0.01, help="the discriminator's weight (default 0.01)")
    lg.add_argument("--disc-lr", type=float, default=1e-4, help="the discriminator's learning rate (1e-4)")
    _loop_arguments(lg)
    sl = families.add_parser("sync-lips", help="the built-in sync model (lip landmarks vs speech) on preprocessed sets")
    sl.add_argument("--data", required=True, nargs="+", metavar="DIR", help="sets made by talkingface preprocess")
    sl.add_argument("--out", required=True, help="folder for checkpoints and the log")
    sl.add_argument(
        "--shares", type=float, nargs="+", metavar="SHARE", help="share of the samples from each --data set"
    )
    sl.add_argument("--runs", type=int, default=8, help="runs of frames per step (default 8)")
    sl.add_argument("--run-frames", type=int, default=24, help="lip windows per run (default 24)")
    sl.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    sl.add_argument(
        "--speeds", type=float, nargs="*", default=[0.9, 1.1], help="speed variants of each clip (default 0.9 1.1)"
    )
    sl.add_argument("--dropout", type=float, default=0.3, help="default 0.3")
    sl.add_argument(
        "--frame", default="frontal", choices=["frontal", "eye_line"], help="lips seen from the front (default)"
    )
    _loop_arguments(sl, epochs=15, lr=1e-3, schedule="cosine", warmup_epochs=1, grad_clip=5.0)
    vn = families.add_parser("visemenet", help="VisemeNet on synthetic speech in every language and real lips")
    vn.add_argument("--out", required=True, help="folder for checkpoints, the log and the synthetic data")
    vn.add_argument("--data", nargs="*", default=[], metavar="DIR", help="sets made by talkingface preprocess")
    vn.add_argument("--transcripts", metavar="FILE", help="lines <video name><TAB><what is said> for clips of --data")
    vn.add_argument("--synthetic", type=int, default=3000, help="synthetic training utterances (default 3000)")
    vn.add_argument("--val-synthetic", type=int, default=200, help="held-out synthetic utterances (default 200)")
    vn.add_argument("--languages", nargs="+", metavar="LANG", help="espeak-ng languages (default: all)")
    vn.add_argument("--augment", type=float, default=1.0, help="audio degradation strength, 0-2 (default 1)")
    vn.add_argument("--batch-size", type=int, default=16, help="windows per step (default 16)")
    vn.add_argument("--window", type=int, default=300, help="10 ms steps per window (default 300)")
    vn.add_argument("--real-share", type=float, default=0.3, help="share of real clips in a batch (default 0.3)")
    vn.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    vn.add_argument("--hidden", type=int, default=128, help="LSTM width (default 128; the paper's 256)")
    vn.add_argument("--lookahead", type=int, default=10, help="10 ms steps of look-ahead (default 10)")
    vn.add_argument("--dropout", type=float, default=0.0, help="between stacked LSTM layers (default 0)")
    _loop_arguments(vn, epochs=20, lr=2e-3, schedule="cosine", warmup_epochs=1, grad_clip=1.0)
    up = families.add_parser("upscaler", help="the mouth upscaler on real videos and photos")
    up.add_argument("--data", required=True, nargs="+", metavar="PATH", help="videos, photos or folders of them")
    up.add_argument("--val", nargs="*", default=[], metavar="PATH", help="held-out videos, photos or folders")
    up.add_argument("--out", required=True, help="folder for checkpoints, the log and the cut mouths")
    up.add_argument("--canvas", type=int, default=96, help="width of the real mouth canvases, px (default 96)")
    up.add_argument(
        "--min-ratio",
        type=float,
        default=1.0,
        help="source pixels per canvas pixel at least (default 1: no enlargement)",
    )
    up.add_argument("--batch-size", type=int, default=16, help="runs of canvases per step (default 16)")
    up.add_argument("--run-length", type=int, default=4, help="canvases per run (default 4)")
    up.add_argument("--photo-share", type=float, default=0.3, help="share of runs made of photos (default 0.3)")
    up.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    up.add_argument("--width", type=int, default=32, help="channels (default 32)")
    up.add_argument("--blocks", type=int, default=5, help="residual blocks (default 5)")
    up.add_argument("--temporal-weight", type=float, default=1.0, help="weight of the temporal term (default 1)")
    _loop_arguments(up, epochs=30, lr=1e-3, schedule="cosine", warmup_epochs=1, grad_clip=1.0)
    op = families.add_parser("openness", help="the mouth-openness model on real videos of people speaking")
    op.add_argument("--data", required=True, nargs="+", metavar="PATH", help="videos or folders of them")
    op.add_argument("--val", nargs="*", default=[], metavar="PATH", help="held-out videos or folders (other people)")
    op.add_argument("--out", required=True, help="folder for checkpoints, the log and the measured lips")
    op.add_argument("--batch-size", type=int, default=8, help="clips per step (default 8)")
    op.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    op.add_argument(
        "--augment", type=float, default=0.5, help="share of clips sped up or down and degraded (default 0.5)"
    )
    op.add_argument("--channels", type=int, default=32, help="channels of each member (default 32)")
    op.add_argument("--members", type=int, default=5, help="networks in the ensemble (default 5)")
    op.add_argument("--dropout", type=float, default=0.3, help="dropout between convolutions (default 0.3)")
    _loop_arguments(op, epochs=15, lr=1e-3, schedule="cosine", warmup_epochs=1, grad_clip=1.0)
    for name, gan in (("wav2lip", False), ("wav2lip-gan", True)):
        _wav2lip_parser(families, name, gan)
    parser.set_defaults(run=run)


def _wav2lip_parser(families, name: str, gan: bool) -> None:
    what = (
        "the generator, the frozen expert and the visual-quality discriminator"
        if gan
        else ("the Wav2Lip generator against a frozen lip-sync expert")
    )
    w2l = families.add_parser(name, help=what)
    w2l.add_argument("--data", required=True, help="a set made by talkingface preprocess (96 px)")
    w2l.add_argument("--out", required=True, help="folder for checkpoints and the log")
    w2l.add_argument("--expert", required=True, help="lipsync_expert.pth or one from talkingface train syncnet")
    w2l.add_argument("--batch-size", type=int, default=16, help="windows per step (default 16)")
    w2l.add_argument("--steps-per-epoch", type=int, default=100, help="steps between evaluations (default 100)")
    w2l.add_argument("--val-samples", type=int, default=64, help="held-out windows evaluated (default 64)")
    w2l.add_argument("--channel-divisor", type=int, default=1, help="1: the published generator; 2-16: smaller")
    w2l.add_argument("--init", metavar="FILE", help="start from this generator (wav2lip.pth or ours)")
    w2l.add_argument("--sync-weight", type=float, default=0.01, help="the expert's weight once on (default 0.01)")
    w2l.add_argument(
        "--sync-threshold", type=float, default=0.75, help="held-out sync loss that switches the expert on (0: at once)"
    )
    if gan:
        w2l.add_argument("--perceptual-weight", type=float, default=0.07, help="the discriminator's weight (0.07)")
        w2l.add_argument("--disc-lr", type=float, default=1e-4, help="the discriminator's learning rate (1e-4)")
    w2l.set_defaults(gan=gan)
    _loop_arguments(w2l)


def _loop_arguments(
    parser: argparse.ArgumentParser,
    epochs: int = 100,
    lr: float = 1e-4,
    schedule: str = "constant",
    warmup_epochs: int = 0,
    grad_clip: float | None = None,
) -> argparse._ArgumentGroup:
    loop = parser.add_argument_group("training loop")
    loop.add_argument("--epochs", type=int, default=epochs, help=f"default {epochs}")
    loop.add_argument("--lr", type=float, default=lr, help=f"default {lr:g}")
    loop.add_argument("--seed", type=int, default=0, help="default 0")
    loop.add_argument(
        "--grad-clip",
        type=float,
        default=grad_clip,
        metavar="NORM",
        help=f"clip the gradient norm (default: {grad_clip or 'no clipping'})",
    )
    loop.add_argument("--evaluate-every", type=int, default=1, metavar="EPOCHS", help="0: never (default 1)")
    loop.add_argument(
        "--schedule",
        default=schedule,
        choices=["constant", "cosine", "step"],
        help=f"learning rate (default {schedule})",
    )
    loop.add_argument(
        "--warmup-epochs", type=int, default=warmup_epochs, help=f"linear warm-up epochs (default {warmup_epochs})"
    )
    loop.add_argument("--min-lr-ratio", type=float, default=0.01, help="cosine: last lr / lr (default 0.01)")
    loop.add_argument("--step-epochs", type=int, default=30, help="step: epochs between halvings (default 30)")
    loop.add_argument("--restart", action="store_true", help="start afresh instead of resuming the run in --out")
    loop.add_argument("--device", default="auto", help="auto (CUDA if there is a GPU), cpu, cuda or cuda:N")
    loop.add_argument(
        "--no-mixed-precision", action="store_true", help="on CUDA, train in float32 (default: bfloat16 autocast)"
    )
    return loop


def _ids(text: str) -> tuple[int, ...]:
    """'1-32' or '1,5,7' or '3' -> sentence ids."""
    ids = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            ids += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sentence ids like 1-32 or 1,5,7; got {text!r}") from None
    return tuple(ids)


def _loop_settings(args: argparse.Namespace) -> dict:
    return dict(
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        grad_clip=args.grad_clip,
        evaluate_every=args.evaluate_every,
        schedule=args.schedule,
        warmup_epochs=args.warmup_epochs,
        min_lr_ratio=args.min_lr_ratio,
        step_epochs=args.step_epochs,
        resume=not args.restart,
        device=args.device,
        mixed_precision=not args.no_mixed_precision,
    )


def run(args: argparse.Namespace) -> int:
    import os

    from ..train.loop import finish_processes

    recipes = {
        "syncnet": _syncnet,
        "sync-lips": _sync_lips,
        "syncnet-v2": _syncnet_v2,
        "lipgan": _lipgan,
        "wav2lip": _wav2lip,
        "wav2lip-gan": _wav2lip,
        "faceformer": _faceformer,
        "visemenet": _visemenet,
        "upscaler": _upscaler,
        "openness": _openness,
    }
    try:
        result = recipes[args.family](args)
    except BaseException:
        finish_processes(wait=False)
        raise
    finish_processes()
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: process 0 reports
        return 0
    if result.best:
        print(
            f"best {result.best['metric']} {result.best['value']:.6g} at epoch {result.best['epoch']}: "
            f"{result.out_dir / 'best.safetensors'}"
        )
    print(f"last: {result.out_dir / 'last.safetensors'}")
    return 0


def _syncnet(args: argparse.Namespace):
    from ..train.syncnet import SyncNetTrainConfig, train_syncnet

    config = SyncNetTrainConfig(
        data=args.data,
        out_dir=args.out,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        val_pairs=args.val_pairs,
        channel_divisor=args.channel_divisor,
        init=args.init,
        stall_epochs=args.stall_epochs,
        **_loop_settings(args),
    )
    return train_syncnet(config)


def _syncnet_v2(args: argparse.Namespace):
    from ..train.syncnet_v2 import SyncNetV2TrainConfig, train_syncnet_v2

    config = SyncNetV2TrainConfig(
        data=args.data,
        out_dir=args.out,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        val_pairs=args.val_pairs,
        margin=args.margin,
        channel_divisor=args.channel_divisor,
        init=args.init,
        **_loop_settings(args),
    )
    return train_syncnet_v2(config)


def _lipgan(args: argparse.Namespace):
    from ..train.lipgan import LipGANTrainConfig, train_lipgan

    config = LipGANTrainConfig(
        data=args.data,
        out_dir=args.out,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        val_samples=args.val_samples,
        width=args.width,
        disc_weight=args.disc_weight,
        disc_lr=args.disc_lr,
        **_loop_settings(args),
    )
    return train_lipgan(config)


def _sync_lips(args: argparse.Namespace):
    from ..train.sync_lips import SyncLipsTrainConfig, train_sync_lips

    config = SyncLipsTrainConfig(
        data=tuple(args.data),
        out_dir=args.out,
        shares=tuple(args.shares) if args.shares else None,
        runs=args.runs,
        run_frames=args.run_frames,
        steps_per_epoch=args.steps_per_epoch,
        speeds=tuple(args.speeds),
        dropout=args.dropout,
        frame=args.frame,
        **_loop_settings(args),
    )
    return train_sync_lips(config)


def _wav2lip(args: argparse.Namespace):
    from ..train.wav2lip import Wav2LipTrainConfig, train_wav2lip

    config = Wav2LipTrainConfig(
        data=args.data,
        out_dir=args.out,
        expert=args.expert,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        val_samples=args.val_samples,
        channel_divisor=args.channel_divisor,
        init=args.init,
        sync_weight=args.sync_weight,
        sync_threshold=args.sync_threshold,
        gan=args.gan,
        **({"perceptual_weight": args.perceptual_weight, "disc_lr": args.disc_lr} if args.gan else {}),
        **_loop_settings(args),
    )
    return train_wav2lip(config)


def _faceformer(args: argparse.Namespace):
    from ..train.faceformer import FaceFormerTrainConfig, train_faceformer

    overrides = {"feature_dim": args.feature_dim} if args.feature_dim is not None else {}
    config = FaceFormerTrainConfig(
        data=args.data,
        out_dir=args.out,
        layout=args.layout,
        train_subjects=tuple(args.train_subjects) if args.train_subjects else None,
        val_subjects=tuple(args.val_subjects) if args.val_subjects else None,
        train_sentences=args.train_sentences,
        val_sentences=args.val_sentences,
        model=args.model,
        init=args.init,
        wav2vec2=args.wav2vec2,
        teacher_forcing=args.teacher_forcing,
        lips=args.lips,
        overrides=overrides,
        accumulate=args.accumulate,
        **_loop_settings(args),
    )
    return train_faceformer(config)


def _upscaler(args: argparse.Namespace):
    from ..train.upscaler import UpscalerTrainConfig, train_upscaler

    config = UpscalerTrainConfig(
        data=tuple(args.data),
        val=tuple(args.val),
        out_dir=args.out,
        canvas=args.canvas,
        min_ratio=args.min_ratio,
        batch_size=args.batch_size,
        run_length=args.run_length,
        photo_share=args.photo_share,
        steps_per_epoch=args.steps_per_epoch,
        width=args.width,
        blocks=args.blocks,
        temporal_weight=args.temporal_weight,
        **_loop_settings(args),
    )
    return train_upscaler(config)


def _openness(args: argparse.Namespace):
    from ..train.openness import OpennessTrainConfig, train_openness

    config = OpennessTrainConfig(
        data=tuple(args.data),
        val=tuple(args.val),
        out_dir=args.out,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        augment=args.augment,
        channels=args.channels,
        members=args.members,
        dropout=args.dropout,
        **_loop_settings(args),
    )
    return train_openness(config)


def _visemenet(args: argparse.Namespace):
    from ..train.visemenet import VisemeNetTrainConfig, train_visemenet

    config = VisemeNetTrainConfig(
        out_dir=args.out,
        data=tuple(args.data),
        transcripts=args.transcripts,
        synthetic=args.synthetic,
        val_synthetic=args.val_synthetic,
        languages=tuple(args.languages) if args.languages else None,
        augment=args.augment,
        batch=args.batch_size,
        window=args.window,
        real_share=args.real_share,
        steps_per_epoch=args.steps_per_epoch,
        hidden=args.hidden,
        lookahead=args.lookahead,
        dropout=args.dropout,
        **_loop_settings(args),
    )
    return train_visemenet(config)
