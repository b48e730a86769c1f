"""``talkingface features``: compute the audio features of a speech file, save them, show them.

Writes the Wav2Lip mel spectrogram, the SyncNet MFCC and their per-video-frame windows to an .npz
(``--save``), and/or a video of the features each frame sees, with the speech track (``-o``).
"""

from __future__ import annotations

import argparse

from ._common import Bounded, fps_argument, output_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "features", help="compute, save and show audio features", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("--audio", required=True, help="speech: any audio or video file with sound")
    parser.add_argument("--face", help="an image or video whose first frame is shown beside the features")
    parser.add_argument(
        "--fps", type=fps_argument, default="25", help="video frame rate for the per-frame windows (default 25)"
    )
    parser.add_argument("--duration", type=Bounded(float, 0.01, 86400), help="use only the first SECONDS of the audio")
    parser.add_argument("--save", metavar="NPZ", help="write the features and windows to this .npz file")
    parser.add_argument("-o", "--output", metavar="MP4", help="write a video showing the features")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import math

    import numpy as np

    from ..errors import InputError
    from ..features import WAV2LIP_MEL, mel_windows, mfcc_windows, syncnet_mfcc, wav2lip_mel
    from ..files import atomic_output
    from ..media import load_audio, read_image, write_video
    from ..render.features import feature_view_frames
    from ..timebase import num_frames_for_duration, to_fps

    if not args.save and not args.output:
        raise InputError("nothing to do: give -o VIDEO and/or --save NPZ")
    fps = to_fps(args.fps)
    if args.save:
        output_path(args.save, suffixes=(".npz",), inputs=(args.audio, args.face))
    if args.output:
        output_path(args.output, video=True, inputs=(args.audio, args.face))
    sample_rate = WAV2LIP_MEL.sample_rate  # the features' own rate (SyncNet's MFCC shares it)
    wav = load_audio(args.audio, sample_rate)
    if args.duration is not None:
        if not math.isfinite(args.duration) or args.duration <= 0:
            raise InputError(f"--duration must be positive, got {args.duration}")
        wav = wav[: int(round(args.duration * sample_rate))]
    num_frames = num_frames_for_duration(len(wav) / sample_rate, fps)
    mel = wav2lip_mel(wav)
    if args.save:
        mfcc = syncnet_mfcc(wav)
        with atomic_output(args.save) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                mel=mel,
                mfcc=mfcc,
                mel_windows=mel_windows(mel, num_frames, fps),
                mfcc_windows=mfcc_windows(mfcc, num_frames, fps),
                fps=float(fps),
                sample_rate=sample_rate,
            )
        print(f"features: {args.save} (mel {mel.shape}, mfcc {mfcc.shape}, {num_frames} frames at {float(fps):g} fps)")
    if args.output:
        face = read_image(args.face) if args.face else None
        frames = feature_view_frames(mel, num_frames, fps, face)
        write_video(
            args.output,
            frames,
            fps,
            audio=wav,
            sample_rate=sample_rate,
            metadata={"comment": "talkingface feature view"},
        )
        print(f"video: {args.output} ({num_frames} frames at {float(fps):g} fps, {len(wav) / sample_rate:.2f} s)")
    return 0
