"""``talkingface mesh``: speech -> an animated 3D face, rendered and/or exported.

Outputs by extension (repeat -o for several): a video (.mp4/.mov/.mkv, rendered offscreen with the
speech track), .glb (glTF 2.0 with ARKit morph targets and their animation), .csv (ARKit-52 in the
Live Link Face layout), .json (curves), .npy (vertices, VOCASET layout), a folder (one OBJ per frame), or
an animator's file with the default options (.tsv .xml .rhubarb.json .dat .pgo .anim .tres .vrma
.motion3.json .vmd .a2f.json .srt .vtt: see ``talkingface visemes --help``).
Methods: auto (the default: jali with a transcript, else visemenet, the jaw from the mouth-openness
model), jali (procedural: timed phonemes
through the JALI animator), visemenet (the built-in VisemeNet, from the audio alone) or faceformer
(--checkpoint vocaset.pth / biwi.pth / our .safetensors; --template is the neutral face it animates).
"""

from __future__ import annotations

import argparse

from .. import choices
from ._common import (
    Bounded,
    fps_argument,
    motion_arguments,
    print_notes,
    read_text_argument,
    transcript_arguments,
    transcript_language,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mesh", help="animate a 3D face from speech; render and export it", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("--audio", required=True, help="speech: any audio or video file with sound")
    transcript_arguments(parser)
    motion_arguments(parser, choices.MESH_METHODS, style=False)
    parser.add_argument("--checkpoint", metavar="FILE", help="faceformer: vocaset.pth, biwi.pth or our .safetensors")
    parser.add_argument(
        "--wav2vec2",
        metavar="DIR",
        help="faceformer: a local wav2vec2 folder replacing the encoder weights in the checkpoint",
    )
    parser.add_argument("--templates", metavar="PKL", help="faceformer: a templates.pkl of the subjects' neutral faces")
    parser.add_argument(
        "--subject",
        help="faceformer: whose neutral face from --templates (--template gives the triangles, e.g. FLAME_sample.ply)",
    )
    parser.add_argument(
        "--style", type=Bounded(int, 0, 1000), default=0, help="faceformer: training speaker whose style to use"
    )
    parser.add_argument("--device", default="cpu", help="faceformer: torch device (default cpu)")
    parser.add_argument("--template", metavar="MESH", help="an OBJ/PLY face or head to animate (FLAME, BIWI, ...)")
    parser.add_argument(
        "--fps", type=fps_argument, help="frames per second (default 30; faceformer: the model's own rate)"
    )
    parser.add_argument("--still", action="store_true", help="only the mouth moves (default: blinks, brows)")
    parser.add_argument("--size", type=Bounded(int, 16, 8192), default=512, help="video size in pixels (default 512)")
    parser.add_argument("--wireframe", action="store_true", help="draw the mesh edges in the video")
    parser.add_argument("--backend", default="auto", choices=choices.RENDER_BACKENDS, help="renderer")
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        required=True,
        metavar="OUT",
        help="output file or folder (repeat for several)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


#: The options that are :class:`~talkingface.pipelines.MeshAnimationConfig` fields of the same name.
_CONFIG_OPTIONS = (
    "fps", "method", "template", "size", "wireframe", "still", "backend", "checkpoint", "wav2vec2", "style",
    "templates", "subject",
)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..pipelines import MeshAnimationConfig, MeshAnimationPipeline
    from ..pipelines.mesh_animation import output_kind

    if not 64 <= args.size <= 4096:
        raise InputError(f"--size must be 64-4096 pixels, got {args.size}")
    text = read_text_argument(args.text, args.transcript)
    for out in args.output:
        if output_kind(out) == "animation":
            from ..export.formats import animation_format, check_needs

            fmt = animation_format(out)
            assert fmt is not None
            check_needs(fmt, text is not None)
    outputs = list(args.output)
    if args.method == "faceformer" and not args.checkpoint:
        raise InputError("--method faceformer needs --checkpoint (vocaset.pth, biwi.pth or our .safetensors)")
    config = MeshAnimationConfig(
        **{name: getattr(args, name) for name in _CONFIG_OPTIONS}, language=transcript_language(args)
    )
    pipeline = MeshAnimationPipeline.from_config(config).to(args.device)
    pipeline.check(args.audio, outputs)
    result = pipeline(args.audio, outputs, text=text, progress=not args.quiet)
    print_notes(result.phonemes)
    for path in result.outputs:
        print(f"wrote {path}")
    print(
        f"{result.num_frames} frames at {float(result.fps):g} fps, {result.num_vertices} vertices"
        + (f", rendered with {result.renderer}" if result.renderer else "")
    )
    return 0
