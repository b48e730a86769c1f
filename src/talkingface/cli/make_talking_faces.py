"""``talkingface make-talking-faces FACES... OUT``: synthetic 2D talking-face clips for training: the
portraits (images, or folders of them) made to speak espeak-ng sentences in many voices, rates and
pitches, augmented (head motion, colour, blur, noise, compression), and written in the preprocessed
layout (``talkingface preprocess``'s), each portrait its own speaker. Deterministic from ``--seed``.
"""

from __future__ import annotations

import argparse

from ._common import SEED, WORKERS, Bounded


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "make-talking-faces",
        help="make synthetic 2D talking-face clips (preprocessed layout)",
        description=__doc__.split(":", 1)[1].strip(),
    )
    parser.add_argument("faces", nargs="+", metavar="FACE", help="portrait images, or folders of them")
    parser.add_argument("out", help="the set's folder (created; its parent must exist)")
    parser.add_argument("--clips", type=Bounded(int, 1, 1000), default=3, help="clips per portrait (default 3)")
    parser.add_argument("--size", type=Bounded(int, 16, 1024), default=96, help="crop side in pixels (default 96)")
    parser.add_argument(
        "--photo-size", type=Bounded(int, 64, 8192), default=320, help="longer side the portraits are animated at"
    )
    parser.add_argument("--no-augment", action="store_true", help="no head motion, colour, blur, noise")
    parser.add_argument("--workers", type=WORKERS, default=1, help="videos preprocessed at once (default 1)")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..builders.talking2d import TalkingFacesConfig, make_talking_faces

    config = TalkingFacesConfig(
        clips_per_face=args.clips,
        seed=args.seed,
        photo_size=args.photo_size,
        size=args.size,
        augment=not args.no_augment,
        workers=args.workers,
    )
    result = make_talking_faces(args.faces, args.out, config)
    print(f"{result.clips} clips ({result.frames} frames) written to {args.out}")
    return 0
