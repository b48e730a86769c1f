"""``talkingface track``: find and follow the faces of a video; write the tracks as JSON.

With ``--preview``, also writes a video with each face's box, id and landmarks drawn (grey where a
short loss was interpolated, "no face" where none was found).
"""

from __future__ import annotations

import argparse

from ._common import Bounded, output_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "track", help="track faces through a video (JSON, preview video)", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("video", help="a video (or a photo)")
    parser.add_argument("-o", "--output", metavar="JSON", help="write the tracks here (default VIDEO.tracks.json)")
    parser.add_argument("--preview", metavar="MP4", help="write a video with the tracks drawn")
    parser.add_argument("--max-faces", type=Bounded(int, 1, 64), default=4, help="faces followed at once (default 4)")
    parser.add_argument(
        "--max-gap",
        type=Bounded(int, 0, 10000),
        default=12,
        help="longest loss in frames that is filled by interpolation (default 12)",
    )
    parser.add_argument(
        "--detect-every", type=Bounded(int, 1, 100000), default=15, help="frames between detector runs (default 15)"
    )
    parser.add_argument("--no-smoothing", action="store_true", help="keep the raw landmarks")
    parser.add_argument("--boxes-only", action="store_true", help="leave the landmarks out of the JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    from ..face import FaceTracker, TrackerConfig
    from ..media import probe_video

    info = probe_video(args.video)  # fails early, with a clear message, on a bad file
    json_path = output_path(
        args.output or str(Path(args.video).with_suffix(".tracks.json")), suffixes=(".json",), inputs=(args.video,)
    )
    if args.preview:
        output_path(args.preview, video=True, inputs=(args.video, json_path))
    config = TrackerConfig(max_faces=args.max_faces, max_gap=args.max_gap, detect_every=args.detect_every)
    if args.no_smoothing:
        config = dataclasses.replace(config, smoothing=None)
    result = FaceTracker(config).track_video(args.video)
    result.save_json(json_path, landmarks=not args.boxes_only)
    faceless = result.target().faceless_spans
    print(
        f"tracks: {json_path} ({len(result.tracks)} track(s) over {result.num_frames} frames, "
        f"{len(result.scene_cuts)} scene cut(s), {sum(b - a for a, b in faceless)} frame(s) without a face)"
    )
    if args.preview:
        write_preview(args.video, result, args.preview, info.fps or 25)
        print(f"preview: {args.preview}")
    return 0


def write_preview(video, result, path, fps) -> None:
    import numpy as np

    from ..face.draw import draw_face, draw_no_face
    from ..media import VideoReader, VideoWriter, prefetch

    by_frame: dict[int, list] = {}
    for track in result.tracks:
        for k, frame_index in enumerate(track.frames):
            by_frame.setdefault(int(frame_index), []).append((track, k))
    reader = VideoReader(video)
    audio = video if reader.info.has_audio else None
    with VideoWriter(path, fps, audio=audio) as writer:
        for index, frame in enumerate(prefetch(reader)):
            frame = np.array(frame)
            faces = by_frame.get(index, [])
            for track, k in faces:
                draw_face(frame, track.landmarks[k], track.track_id, bool(track.interpolated[k]))
            if not faces:
                draw_no_face(frame)
            writer.write(frame)
