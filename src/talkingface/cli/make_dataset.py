"""``talkingface make-dataset OUT``: the synthetic 3D talking-face set (espeak-ng speakers animated by
the JALI rig) in the VOCASET or BIWI layout, for training FaceFormer without downloaded data.
"""

from __future__ import annotations

import argparse

from .. import choices
from ._common import SEED, Bounded


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "make-dataset", help="make the synthetic 3D talking-face data set", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("out", help="folder to write (wav/, vertices_npy/, templates.pkl)")
    parser.add_argument(
        "--speakers", type=Bounded(int, 1, 1000), default=8, help="number of synthetic speakers (default 8)"
    )
    parser.add_argument(
        "--sentences",
        type=Bounded(int, 1, 100000),
        default=40,
        help="sentences per speaker (default 40, the built-in list)",
    )
    parser.add_argument(
        "--template",
        default="template",
        help="'template' (built-in 478-vertex face), 'flame' (5023 vertices) or an OBJ/PLY",
    )
    parser.add_argument("--layout", default="vocaset", choices=choices.MESH_LAYOUTS, help="layout (default vocaset)")
    parser.add_argument(
        "--real",
        nargs=2,
        action="append",
        metavar=("WAV", "TRANSCRIPT"),
        help="also animate real speech with its transcript file (repeatable)",
    )
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace a set already in OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..builders.synthetic import make_synthetic_set
    from ._common import read_text_argument

    real = [(wav, read_text_argument(None, text) or "") for wav, text in (args.real or [])]
    result = make_synthetic_set(
        args.out,
        sentences=args.sentences,
        speakers=args.speakers,
        template=args.template,
        layout=args.layout,
        real_speech=real or None,
        seed=args.seed,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print(
        f"wrote {result.sequences} sequences of {len(result.subjects)} speakers to {result.root}: "
        f"{result.frames} frames at {result.fps:g} fps, {result.num_vertices} vertices, {result.seconds:.0f} s of speech"
    )
    print(f"subjects: {' '.join(result.subjects)}")
    return 0
