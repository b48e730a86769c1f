"""``talkingface animate``: a photo (or a video) of a face speaks the given speech - no model weights.

With a transcript (``--text``/``--transcript``), forced alignment times its phonemes and the JALI
animator turns them into mouth motion; without one, the built-in VisemeNet does it from the audio
alone; either way the jaw comes from the built-in mouth-openness model, trained on real lips
(``--method`` chooses: ``auto`` combines, ``jali`` and ``visemenet`` are each alone). A landmark rig applies the motion to the face and the photo is warped
along. The output has the original speech track and is tagged
as synthetic media.
"""

from __future__ import annotations

import argparse

from ..choices import PHOTO_SIZE
from ._common import (
    SEED,
    Bounded,
    check_sheet,
    enhance_arguments,
    enhance_settings,
    fps_argument,
    motion_arguments,
    output_path,
    print_notes,
    read_text_argument,
    sheet_arguments,
    transcript_arguments,
    transcript_language,
    write_sheet,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "animate",
        help="make a photo or video of a face speak (no weights needed)",
        description=__doc__.split(":", 1)[1].strip(),
    )
    parser.add_argument("--face", required=True, help="a photo or a video with a face")
    parser.add_argument("--audio", required=True, help="speech: any audio or video file with sound")
    transcript_arguments(parser)
    parser.add_argument(
        "--fps", type=fps_argument, help="frame rate (default 25 for a photo, the video's own for a video)"
    )
    parser.add_argument(
        "--size",
        type=Bounded(int, 0, 8192),
        help=f"longer side of a photo in the output, in pixels (default {PHOTO_SIZE}, as the web service's; 0: "
        "the photo's own; a video keeps its own)",
    )
    motion_arguments(parser)
    parser.add_argument(
        "--face-index",
        type=Bounded(int, 0, 10**6),
        help="which face: in a photo its index among the faces found, largest first; in a video a track id",
    )
    parser.add_argument(
        "--still", action="store_true", help="only the mouth moves (default: blinks, head motion, brows)"
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the blinks and head motion (default 0)")
    parser.add_argument("-o", "--output", required=True, metavar="MP4", help="the video to write")
    sheet_arguments(parser, "widest, loudest, m/b/p, quiet, pause, blink")
    enhance_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..animation import JaliConfig
    from ..errors import InputError
    from ..pipelines import TalkingPhotoConfig, TalkingPhotoPipeline

    if args.size is not None and args.size != 0 and not 16 <= args.size <= 4096:
        raise InputError(f"--size must be 16-4096 pixels (or 0: the photo's own), got {args.size}")
    size = PHOTO_SIZE if args.size is None else args.size or None
    text = read_text_argument(args.text, args.transcript)
    output = output_path(args.output, video=True, inputs=(args.face, args.audio, args.enhance_checkpoint))
    check_sheet(args, (args.face, args.audio, args.output))
    config = TalkingPhotoConfig(
        fps=args.fps or 25,
        size=size,
        jali=JaliConfig(style=args.style),
        method=args.method,
        language=transcript_language(args),
        face_index=args.face_index,
        still=args.still,
        seed=args.seed,
        force_fps=args.fps is not None,
        **enhance_settings(args),
    )
    result = TalkingPhotoPipeline.from_config(config)(args.face, args.audio, output, text=text, progress=not args.quiet)
    print_notes(result.phonemes)
    print(
        f"faces: {result.faces} found, animating face {result.face_index}"
        + (" (the largest)" if args.face_index is None else "")
    )
    print(
        f"video: {result.path} ({result.num_frames} frames at {float(result.fps):g} fps, "
        f"{result.duration:.2f} s, {len(result.phonemes.speech)} phonemes by {result.phonemes.source})"
    )
    if args.sheet:
        # a photo's faces are counted largest first, as the sheet counts those of the video's first frame;
        # a video's face track is found by its place
        write_sheet(
            args,
            result.path,
            result.duration,
            result.curves,
            result.phonemes,
            face_index=result.face_index if result.face_centre is None else 0,
            near=result.face_centre,
        )
    return 0
