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

Each family's options are its config's fields (``talkingface.train.configs``), declared there once.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import NamedTuple

from ..settings import add_options, from_options, options
from ..train import configs


class Family(NamedTuple):
    help: str
    config: type
    module: str  # talkingface.train.<module>.train_<module> runs it
    fixed: tuple[tuple[str, object], ...] = ()  # fields the family sets itself
    hidden: tuple[str, ...] = ()  # fields it does not use


FAMILIES = {
    "faceformer": Family("FaceFormer on a VOCASET/BIWI-layout set", configs.FaceFormerTrainConfig, "faceformer"),
    "syncnet": Family("Wav2Lip's lip-sync expert on a preprocessed set", configs.SyncNetTrainConfig, "syncnet"),
    "syncnet-v2": Family(
        "syncnet_python's model, contrastive loss, on a preprocessed set", configs.SyncNetV2TrainConfig, "syncnet_v2"
    ),
    "lipgan": Family(
        "LipGAN's generator and contrastive discriminator on a preprocessed set", configs.LipGANTrainConfig, "lipgan"
    ),
    "sync-lips": Family(
        "the built-in sync model (lip landmarks vs speech) on preprocessed sets",
        configs.SyncLipsTrainConfig,
        "sync_lips",
    ),
    "visemenet": Family(
        "VisemeNet on synthetic speech in every language and real lips", configs.VisemeNetTrainConfig, "visemenet"
    ),
    "upscaler": Family("the mouth upscaler on real videos and photos", configs.UpscalerTrainConfig, "upscaler"),
    "openness": Family(
        "the mouth-openness model on real videos of people speaking", configs.OpennessTrainConfig, "openness"
    ),
    "wav2lip": Family(
        "the Wav2Lip generator against a frozen lip-sync expert",
        configs.Wav2LipTrainConfig,
        "wav2lip",
        (("gan", False),),
        ("perceptual_weight", "disc_lr"),
    ),
    "wav2lip-gan": Family(
        "the generator, the frozen expert and the visual-quality discriminator",
        configs.Wav2LipTrainConfig,
        "wav2lip",
        (("gan", True),),
    ),
}
_LOOP = [f.name for f in dataclasses.fields(configs.TrainSettings) if f.name != "out_dir"]


def family_options(name: str) -> list[str]:
    """The config fields ``train NAME`` takes as options: every one but those the family fixes."""
    family = FAMILIES[name]
    fixed = dict(family.fixed)
    return [n for n in options(family.config) if n not in fixed and n not in family.hidden]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model on a data set", description=__doc__.split(":", 1)[1].strip()
    )
    families = parser.add_subparsers(dest="family", metavar="MODEL", required=True)
    for name, family in FAMILIES.items():
        sub = families.add_parser(name, help=family.help, description=f"Train {family.help}.")
        names = family_options(name)
        add_options(sub, family.config, [n for n in names if n not in _LOOP])
        add_options(sub.add_argument_group("training loop"), family.config, [n for n in names if n in _LOOP])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import importlib
    import os

    from ..train.loop import finish_processes

    family = FAMILIES[args.family]
    config = from_options(family.config, args, family_options(args.family), **dict(family.fixed))
    recipe = getattr(importlib.import_module(f"talkingface.train.{family.module}"), f"train_{family.module}")
    try:
        result = recipe(config)
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
