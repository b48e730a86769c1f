"""``talkingface visemes``: speech -> animation curves (ARKit-52, JSON or Live Link Face CSV).

With a transcript (``--text`` or ``--transcript``) forced alignment times its phonemes and the JALI
animator makes the curves; without one the built-in VisemeNet makes them from the audio alone, in any
language, with its phoneme groups; by default (``--method auto``) the jaw comes from the built-in
mouth-openness model, trained on real lips (``--method jali`` or ``visemenet``: each alone; ``jali``
without a transcript uses phoneme recognition). Mouth cues are chosen from the curves. ``--plot`` draws the curves over the waveform with the phonemes labelled.

Outputs (``-o``, repeat for several) are chosen by name: ``.json`` / ``.csv`` curves, Rhubarb mouth cues
(``.tsv``, ``.xml``, ``.rhubarb.json``), Moho ``.dat``, Papagayo ``.pgo``, Unity ``.anim``, Godot ``.tres``,
VRM ``.vrma``, Live2D ``.motion3.json``, MMD ``.vmd``, Audio2Face-style ``.a2f.json``, captions ``.srt`` /
``.vtt``; or by ``--format``. ``--map`` retargets the curve formats onto a rig (a preset or a JSON file;
``--show-map NAME`` prints a preset to copy and edit).

``--stream`` follows speech as it arrives, for live avatars: 16 kHz mono 16-bit PCM (raw, or a WAV) from
standard input (``-``) or from a file that is still being written, and writes the curves as JSON lines
as they are ready (to standard output, or ``-o FILE.jsonl`` when done): a line ``{"fps", "names"}``,
then a line ``{"frame", "time", "values"}`` per frame. It uses the built-in VisemeNet, and its frames
equal what the whole file gives.
"""

from __future__ import annotations

import argparse

from ._common import (
    Bounded,
    fps_argument,
    motion_arguments,
    output_path,
    print_notes,
    read_text_argument,
    transcript_arguments,
    transcript_language,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "visemes", help="animation curves (ARKit-52) from speech", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("audio", nargs="?", help="speech: any audio or video file with sound")
    transcript_arguments(parser)
    parser.add_argument("--fps", type=fps_argument, default=30, help="frames per second of the curves (default 30)")
    motion_arguments(parser)
    parser.add_argument(
        "-o", "--output", action="append", default=[], metavar="FILE", help="an output (repeat for several; see above)"
    )
    parser.add_argument("--format", help="the format of the output(s), whatever their names (e.g. rhubarb-json)")
    parser.add_argument("--map", metavar="NAME|FILE", help="retargeting map of the curve formats (a preset or JSON)")
    parser.add_argument("--show-map", metavar="NAME", help="print a preset map (to copy and edit) and stop")
    parser.add_argument("--stream", action="store_true", help="follow speech as it arrives (see above)")
    parser.add_argument(
        "--idle",
        type=Bounded(float, 0.05, 3600),
        default=2.0,
        help="--stream from a file: stop when it has not grown for this long (s)",
    )
    parser.add_argument(
        "--shapes", default="GHX", help="extended mouth shapes the rig has, some of GHX ('' for A-F only; default GHX)"
    )
    parser.add_argument("--cue-fps", type=fps_argument, default=24, help="frame rate of .dat and .pgo (default 24)")
    parser.add_argument("--preston-blair", action="store_true", help=".dat keys in Preston Blair's names")
    parser.add_argument("--node", default="Face", help="the face mesh's node (Unity path, Godot node; default Face)")
    parser.add_argument("--phonemes", metavar="FILE", help="also write the timed phonemes (.json or .TextGrid)")
    parser.add_argument("--plot", metavar="PNG", help="also draw the curves over the waveform")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..animation import JaliConfig
    from ..animation.speech import resolve_method, speech_curves
    from ..errors import InputError
    from ..export.formats import ExportOptions, write_animation
    from ..media import load_audio
    from ..progress import Progress, stage
    from ..speech import SPEECH_RATE

    if args.show_map:
        import json

        from ..export.rigs import load_preset

        print(json.dumps(load_preset(args.show_map), ensure_ascii=False, indent=1))
        return 0
    if not args.audio:
        raise InputError("give the speech (an audio or video file)")
    if args.stream:
        return _stream(args)
    if not args.output:
        raise InputError("give at least one output (-o FILE)")
    if args.format and len(args.output) > 1:
        raise InputError("--format names the format of one output; with several, let their names choose")
    text = read_text_argument(args.text, args.transcript)
    formats = _checked_outputs(args, text)
    options = ExportOptions(
        map=args.map,
        shapes=args.shapes,
        cue_fps=float(args.cue_fps),
        preston_blair=args.preston_blair,
        node=args.node,
        sound_file=str(args.audio),
        transcript=text,
    )
    from ..export.formats import check_map

    for fmt in formats.values():
        if fmt is not None:
            check_map(fmt, options)  # a bad map fails before the work
    if set(args.shapes) - set("GHX"):
        raise InputError(f"--shapes: some of G, H, X, got {args.shapes!r}")
    resolve_method(args.method, text)
    language = transcript_language(args)
    sample_rate = SPEECH_RATE
    stage("reading the speech")
    audio = load_audio(args.audio, sample_rate)
    stage("making the curves")
    curves, phonemes = speech_curves(
        audio, sample_rate, args.fps, text, args.method, JaliConfig(style=args.style), language=language
    )
    print_notes(phonemes)
    files = Progress(len(formats) + bool(args.phonemes) + bool(args.plot), "writing the files", enabled=False)
    for out, fmt in formats.items():
        if fmt is None:
            curves.save(out)
        else:
            write_animation(out, fmt, curves, phonemes, options)
        print(f"{fmt or 'curves'}: {out}")
        files.update()
    print(
        f"{curves.num_frames} frames at {float(curves.fps):g} fps, {len(phonemes.speech)} phonemes by {phonemes.source}"
    )
    if args.phonemes:
        target = Path(args.phonemes)
        if target.suffix.lower() == ".textgrid":
            phonemes.save_textgrid(target)
        else:
            phonemes.save_json(target)
        print(f"phonemes: {args.phonemes}")
        files.update()
    if args.plot:
        from ..animation.plot import plot_curves

        plot_curves(Path(args.plot), curves, audio, sample_rate, phonemes)
        print(f"plot: {args.plot}")
        files.update()
    return 0


def _stream_source(audio: str) -> tuple[int, bool]:
    """The file descriptor ``--stream`` reads, and whether it is a file that may still grow (standard
    input ends at its end). A named pipe opens at once, writer or not (it would wait for one); --idle
    then applies."""
    import os
    import stat
    import sys

    from ..errors import InputError

    if audio == "-":
        try:
            return sys.stdin.fileno(), False
        except (AttributeError, ValueError, OSError):  # no standard input at all (closed by the caller)
            raise InputError("standard input is closed: pipe the speech in, or give its file") from None
    try:
        fifo = stat.S_ISFIFO(os.stat(audio).st_mode)
        return os.open(audio, os.O_RDONLY | (os.O_NONBLOCK if fifo else 0)), True
    except OSError as error:
        raise InputError(f"{audio}: {error.strerror}") from None


def _stream(args: argparse.Namespace) -> int:
    """``visemes --stream``: JSON lines of curves while the speech arrives."""
    import json
    import os
    import sys
    import time

    import numpy as np

    from ..animation import JaliConfig
    from ..animation.curves import arkit_weights
    from ..animation.stream import NAMES, CurveStream
    from ..errors import InputError
    from ..files import atomic_output

    if args.text or args.transcript or args.method == "jali" or args.phonemes or args.plot or args.format:
        raise InputError("--stream makes curves from the audio alone (VisemeNet): no transcript, --method jali, "
                         "--phonemes, --plot or --format")  # fmt: skip
    if len(args.output) > 1 or (args.output and not args.output[0].endswith(".jsonl")):
        raise InputError("--stream writes one .jsonl file (-o FILE.jsonl), or to standard output")
    if args.output:
        output_path(args.output[0], suffixes=(".jsonl",), inputs=(args.audio,))
    fd, growing = _stream_source(args.audio)
    stream = CurveStream(args.fps, JaliConfig(style=args.style))
    lines: list[str] = []

    def emit(text: str) -> None:
        if args.output:
            lines.append(text)
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def send(indices: np.ndarray, values: np.ndarray) -> None:
        rate = float(stream.fps)
        for i, row in zip(indices, arkit_weights(NAMES, values)):  # as every file holds them
            emit(json.dumps({"frame": int(i), "time": round(i / rate, 5), "values": np.round(row, 5).tolist()}))

    emit(json.dumps({"fps": float(stream.fps), "names": list(NAMES), "weights": "arkit"}))
    pending, header, quiet_since = b"", None, time.monotonic()
    while True:
        try:
            chunk = os.read(fd, 6400)
        except BlockingIOError:  # a named pipe with a writer and nothing written yet
            chunk = b""
        if not chunk:
            if not growing or time.monotonic() - quiet_since > args.idle:
                break
            time.sleep(0.02)
            continue
        quiet_since = time.monotonic()
        pending += chunk
        if header is None:
            if len(pending) < 44 and pending[:4] in (b"RIFF", b"RIFF"[: len(pending)]):
                continue
            header = _wav_header(pending) if pending[:4] == b"RIFF" else 0
            pending = pending[header:]
        usable = len(pending) - len(pending) % 2
        if usable:
            samples = np.frombuffer(pending[:usable], "<i2").astype(np.float32) / 32768.0
            pending = pending[usable:]
            send(*stream.push(samples))
    if growing:
        os.close(fd)
    send(*stream.finish())
    if args.output:
        with atomic_output(args.output[0]) as tmp:
            tmp.write_text("\n".join(lines) + "\n")
        print(f"curves: {args.output[0]} ({len(lines) - 1} frames at {float(stream.fps):g} fps)")
    return 0


def _wav_header(data: bytes) -> int:
    """The length of a 16 kHz mono 16-bit PCM WAV header at the start of ``data`` (else an error)."""
    import struct

    from ..errors import InputError

    at = 12
    while at + 8 <= len(data):
        kind, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        if kind == b"fmt ":
            audio_format, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, at + 8)
            if (audio_format, channels, rate, bits) != (1, 1, 16000, 16):
                raise InputError(
                    f"--stream takes 16 kHz mono 16-bit PCM; this WAV is {rate} Hz, {channels} channel(s), {bits}-bit "
                    "(convert it, e.g. ffmpeg -i IN -f s16le -ac 1 -ar 16000 -)"
                )
        if kind == b"data":
            return at + 8
        at += 8 + size + size % 2
    raise InputError("--stream: the WAV header is longer than expected or damaged")


def _checked_outputs(args: argparse.Namespace, text: str | None) -> dict:
    """Each output's animation format (None: our curves' JSON or CSV), every output checked before the
    work: its format, what the format needs, and none over an input (no output twice: the command
    line's own check)."""
    from pathlib import Path

    from ..errors import InputError
    from ..export.formats import FORMATS, animation_format, check_needs

    inputs = (args.audio, args.transcript, args.map)
    formats = {}
    for out in args.output:
        fmt = animation_format(out, args.format)
        if fmt is None and Path(out).suffix.lower() not in (".json", ".csv"):
            endings = [e for endings, _ in FORMATS.values() for e in endings]
            raise InputError(
                f"{out}: the output must be .json or .csv (our curves) or an animator's format: "
                f"{', '.join(endings)} (or --format; not {Path(out).suffix or 'no extension'})"
            )
        output_path(out, inputs=inputs)
        if fmt is not None:
            check_needs(fmt, text is not None)
        formats[out] = fmt
    if args.phonemes:
        output_path(args.phonemes, suffixes=(".json", ".textgrid"), inputs=inputs)
    if args.plot:
        output_path(args.plot, suffixes=(".png",), inputs=inputs)
    return formats
