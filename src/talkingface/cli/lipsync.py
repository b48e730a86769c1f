"""``talkingface lipsync``: dub a video (or a photo) to new speech: with the speaker's own mouths, or a Wav2Lip checkpoint.

With no checkpoint (``--method mouths``), the mouths come from the video itself (or ``--mouths``
videos of the same person), chosen for the speech and moved onto each frame at the video's own
resolution; a photo is animated as a talking photo instead. With ``--checkpoint``, Wav2Lip's generator
makes them. Streams the video (bounded memory), keeps its frame rate, passes face-less frames through, loops a
short video back and forth under longer speech, pastes the generated mouth back with a feathered mask
and colour matching (``--paste hard`` for the reference's box paste). Options named as Wav2Lip's.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import choices
from ._common import (
    Bounded,
    check_sheet,
    enhance_arguments,
    enhance_settings,
    fps_argument,
    output_path,
    read_text_argument,
    sheet_arguments,
    transcript_arguments,
    transcript_language,
    write_sheet,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lipsync",
        help="lip-sync a video or photo to speech (the speaker's own mouths, or a Wav2Lip checkpoint)",
        description=__doc__.split(":", 1)[1].strip(),
    )
    parser.add_argument("--face", required=True, help="a video or a photo with a face")
    parser.add_argument("--audio", required=True, help="speech: any audio or video file with sound")
    parser.add_argument(
        "--checkpoint", help="wav2lip.pth, wav2lip_gan.pth or our .safetensors (default: the speaker's own mouths)"
    )
    parser.add_argument(
        "--method",
        default="auto",
        choices=choices.LIPSYNC_METHODS,
        help="auto (Wav2Lip with --checkpoint, else mouths), mouths (the speaker's own, no weights) or wav2lip",
    )
    parser.add_argument(
        "--mouths", nargs="+", metavar="VIDEO", help="take the mouths from these videos of the speaker (mouths method)"
    )
    transcript_arguments(parser)
    sheet_arguments(parser, "widest, loudest, quiet, pause")
    parser.add_argument(
        "--model", help="variant of an upstream checkpoint (default: told by its shapes, e.g. wav2lip, wav2lip.288)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="MP4", help="the video to write")
    four = dict(nargs=4, type=Bounded(int, -1, 100000), metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"))
    parser.add_argument("--pads", help="pixels around the face box (default: the model's, 0 10 0 0)", **four)
    parser.add_argument(
        "--resize-factor", type=Bounded(int, 1, 64), default=1, help="divide the video's resolution first"
    )
    parser.add_argument("--crop", help="region of the frame to work in (-1: the edge)", **four)
    parser.add_argument("--box", help="a fixed face box instead of tracking", **four)
    parser.add_argument("--static", action="store_true", help="use only the first frame")
    parser.add_argument("--nosmooth", action="store_true", help="do not smooth the face track")
    parser.add_argument(
        "--batch-size", type=Bounded(int, 1, 1024), default=16, help="crops per generator call (default 16)"
    )
    parser.add_argument(
        "--face-index", type=Bounded(int, 0, 10**6), help="track id of the face to lip-sync (default: largest)"
    )
    parser.add_argument(
        "--speaking-face",
        action="store_true",
        help="in shots with several faces, the one speaking in the video's own sound (built-in sync model)",
    )
    parser.add_argument("--paste", default="soft", choices=choices.PASTE_MODES, help="paste-back mode (default soft)")
    parser.add_argument("--no-color-match", action="store_true", help="do not match the mouth's colours")
    parser.add_argument("--keep-video-length", action="store_true", help="output as long as the video")
    parser.add_argument("--fps", type=fps_argument, default=25, help="frame rate for a photo (default 25)")
    parser.add_argument(
        "--offset",
        default="0",
        help="move the audio windows later by N frames, or 'auto': measure the result's offset and redo it "
        "moved by it (when the measurement is confident)",
    )
    parser.add_argument(
        "--syncnet", metavar="FILE", help="syncnet_v2.model for --offset auto (default: the built-in sync model)"
    )
    parser.add_argument(
        "--precision",
        default="fp32",
        choices=choices.PRECISIONS,
        help="generator arithmetic: fp32 (exact) or bf16 (much faster on CPUs with AMX/AVX512-BF16, where "
        "'talkingface info' lists it as fast; elsewhere fp32 is used, with a note; with trained weights it moves "
        "some mouth pixels by a few 8-bit levels, less than the video codec does)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    enhance_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


#: The farthest --offset moves the sound, in frames.
MAX_OFFSET = 250


def run(args: argparse.Namespace) -> int:
    from ..pipelines import LipSyncConfig, LipSyncPipeline
    from ..pipelines.lipsync import DubbingPipeline
    from ..pipelines.sync_score import load_sync_model

    def four(values):
        return tuple(values) if values is not None else None

    auto, offset = _offset(args)
    method = _method(args)
    text = read_text_argument(args.text, args.transcript)
    config = LipSyncConfig(
        method=method,
        mouths=tuple(args.mouths or ()),
        language=transcript_language(args),
        batch_size=args.batch_size,
        pads=four(args.pads),
        resize_factor=args.resize_factor,
        crop=four(args.crop),
        box=four(args.box),
        static=args.static,
        smooth=not args.nosmooth,
        paste=args.paste,
        color_match=not args.no_color_match,
        keep_video_length=args.keep_video_length,
        face_index=args.face_index,
        speaking_face=args.speaking_face,
        fps=args.fps,
        offset=offset,
        precision=args.precision,
        **enhance_settings(args),
    )
    inputs = (args.face, args.audio, args.checkpoint, args.enhance_checkpoint, *(args.mouths or ()))
    output_path(args.output, video=True, inputs=inputs)
    check_sheet(args, (*inputs, args.output))
    if method == "mouths" and _is_photo(args.face):
        return _talking_photo(args, config, text)
    given: dict[str, Any] = {"text": text} if text else {}
    if method == "mouths":
        from ..pipelines.mouth_dub import MouthDubPipeline

        pipeline: DubbingPipeline = MouthDubPipeline.from_config(config).to(args.device)
    else:
        pipeline = LipSyncPipeline.from_config(config, args.checkpoint, args.model).to(args.device)
        if pipeline.precision_note:
            print(f"note: {pipeline.precision_note}", file=sys.stderr)
    syncnet = load_sync_model(args.syncnet) if auto else None
    if auto:
        result = pipeline.corrected(args.face, args.audio, args.output, syncnet, progress=not args.quiet, **given)
    else:
        result = pipeline(args.face, args.audio, args.output, progress=not args.quiet, **given)
    measured = ""
    if result.measured_offset is not None:
        measured = f", measured {result.measured_offset} (LSE-C {result.offset_confidence:.3f})"
    print(
        f"video: {result.path} ({result.num_frames} frames at {float(result.fps):g} fps, "
        f"{result.frames_with_face} with a face, audio offset {result.offset} frames{measured})"
    )
    if auto and result.measured_offset is None:
        print("offset not measured: no face was seen long enough in the result")
    elif auto and result.measured_offset and not result.offset_applied:
        print(
            f"the measured offset {result.measured_offset} was not applied: its confidence is too low "
            "(below the sync model's threshold); pass --offset N to set it by hand"
        )
    for note in getattr(pipeline, "notes", ()):
        print(note)
    if args.sheet:
        _sheet(args, result, getattr(pipeline, "wanted", None))
    return 0


def _offset(args: argparse.Namespace) -> tuple[bool, int]:
    """Whether ``--offset`` is auto, and the offset in frames otherwise (0 for auto)."""
    from ..errors import InputError

    auto = args.offset == "auto"
    if args.syncnet and not auto:
        raise InputError("--syncnet is for --offset auto")
    try:
        offset = 0 if auto else int(args.offset)
    except ValueError:
        raise InputError(f"--offset must be a whole number of frames or 'auto', got {args.offset[:40]!r}") from None
    if abs(offset) > MAX_OFFSET:
        raise InputError(
            f"--offset {offset}: at most {MAX_OFFSET} frames either way (a sound {MAX_OFFSET // 25} s off)"
        )
    return auto, offset


def _sheet(args: argparse.Namespace, result, wanted) -> None:
    """The contact sheet of the dubbed video: at ``--sheet-at``, or where the speech opens the mouth
    widest, is loudest, quiet, or pauses (the openings the dub aimed at, as a jaw)."""
    import numpy as np

    from ..animation.curves import AnimationCurves

    jaw = np.zeros(result.num_frames) if wanted is None or len(wanted) == 0 else np.asarray(wanted)
    curves = AnimationCurves(result.fps, ("jawOpen",), jaw[:, None])
    write_sheet(args, result.path, result.num_frames / float(result.fps), curves, near=result.face_centre)


def _method(args: argparse.Namespace) -> str:
    """The method ``--method`` names ("auto": Wav2Lip with a checkpoint, else the speaker's own mouths),
    checked against the options given with it."""
    from ..errors import InputError

    method = args.method if args.method != "auto" else ("wav2lip" if args.checkpoint else "mouths")
    if method == "wav2lip" and not args.checkpoint:
        raise InputError("--method wav2lip needs --checkpoint (wav2lip.pth, wav2lip_gan.pth or our .safetensors)")
    if method == "mouths" and (args.checkpoint or args.model):
        raise InputError("--checkpoint and --model are Wav2Lip's; the mouths method uses the speaker's own mouths")
    if method == "wav2lip" and (args.text or args.transcript):
        raise InputError("Wav2Lip dubs from the sound alone; --text and --transcript are for the mouths method")
    return method


def _is_photo(face: str) -> bool:
    from ..media import probe_video

    return probe_video(face).is_image


def _talking_photo(args: argparse.Namespace, config, text: str | None) -> int:
    """A photo has one mouth: it is animated as a talking photo (``animate``), saying so."""
    from ..choices import PHOTO_SIZE
    from ..errors import InputError
    from ..pipelines.talking_photo import TalkingPhotoConfig, TalkingPhotoPipeline

    if args.mouths:
        raise InputError(f"{args.face} is a photo: --mouths dubs a video; without it the photo becomes a talking photo")
    print(f"{args.face} is a photo, with one mouth: animating it as a talking photo (talkingface animate)")
    photo = TalkingPhotoConfig(
        fps=config.fps, size=PHOTO_SIZE, face_index=config.face_index, language=config.language, **_enhancement(config)
    )
    pipeline = TalkingPhotoPipeline.from_config(photo).to(args.device)
    result = pipeline(args.face, args.audio, args.output, text=text, progress=not args.quiet)
    print(f"video: {result.path} ({result.num_frames} frames at {float(result.fps):g} fps)")
    if args.sheet:
        write_sheet(args, result.path, result.duration, result.curves, result.phonemes, face_index=result.face_index)
    return 0


def _enhancement(config) -> dict:
    from dataclasses import fields

    from ..enhance.video import EnhanceSettings

    return {f.name: getattr(config, f.name) for f in fields(EnhanceSettings)}
