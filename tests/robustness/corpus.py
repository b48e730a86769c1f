"""A corpus of bad and unusual inputs, generated (nothing binary is committed).

``build_corpus(folder, photo, speech)`` writes every case into ``folder`` from a real face photo
``(H, W, 3) uint8`` and real speech (16 kHz float samples) and returns them by the role they play on
a command line. Each :class:`Case` says what a command must do with it:

- ``"ok"``: a usable input, perhaps unusual (8 kHz, 6 channels, a CMYK or EXIF-rotated photo, a
  29.97 fps video): the command succeeds;
- ``"error"``: an input no command can use (truncated, empty, text named as media, no face): the
  command refuses it in one line;
- ``"either"``: a command may use it or refuse it (silence, a face cut by the border), never crash.

Run ``python -m tests.robustness.corpus OUT`` to write the corpus into OUT and list it.
"""

from __future__ import annotations

import io
import json
import struct
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: str  # "ok", "error" or "either"


def build_corpus(folder: Path, photo: np.ndarray, speech: np.ndarray) -> dict[str, list[Case]]:
    """Every case, by role: ``audio``, ``image``, ``video``, ``transcript``, ``mesh``, ``checkpoint``."""
    folder.mkdir(parents=True, exist_ok=True)
    odd = folder / "ünï cödé dir.with.dots"  # non-ASCII, spaces and dots in the folder and file names
    odd.mkdir(exist_ok=True)
    return {
        "audio": _audio_cases(folder, odd, speech),
        "image": _image_cases(folder, odd, photo),
        "video": _video_cases(folder, photo, speech),
        "transcript": _transcript_cases(folder),
        "mesh": _mesh_cases(folder),
        "checkpoint": _checkpoint_cases(folder),
    }


def _flip_bits(data: bytes, start: int, end: int, count: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    for position in rng.integers(start, min(end, len(out)), count):
        out[position] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


# -- audio ---------------------------------------------------------------------------------------
def _audio_cases(folder: Path, odd: Path, speech: np.ndarray) -> list[Case]:
    import soundfile

    from talkingface.media import resample

    clip = speech[16000 : 16000 + 24000].astype(np.float32)  # 1.5 s of real speech
    cases = []

    def wav(name: str, samples: np.ndarray, rate: int, expect: str, subtype: str | None = None, where=folder):
        path = where / name
        soundfile.write(path, samples, rate, subtype=subtype)
        cases.append(Case(name, path, expect))

    wav("speech 16k.wav", clip, 16000, "ok", where=odd)
    wav("speech_8k.wav", resample(clip, 16000, 8000), 8000, "ok")
    wav("speech_44k1.wav", resample(clip, 16000, 44100), 44100, "ok")
    wav("speech_96k.wav", resample(clip, 16000, 96000), 96000, "ok", subtype="FLOAT")
    wav("speech_6ch.wav", np.repeat(clip[:, None], 6, axis=1) * np.linspace(1, 0.2, 6), 16000, "ok")
    # Layouts FFmpeg names only by their count (WAVE_FORMAT_EXTENSIBLE with no channel mask).
    for count in (3, 8, 16):
        wav(f"speech_{count}ch.wav", np.repeat(clip[:, None], count, axis=1) * 0.5, 16000, "ok", subtype="PCM_16")
    wav("phase_cancelled.wav", np.stack([clip, -clip], axis=1), 16000, "ok")  # mixed, it is silence
    wav("speech_clipped.wav", np.clip(clip * 20, -1, 1), 16000, "ok")
    wav("speech_quiet.wav", clip * 0.002, 16000, "ok")
    wav("silence.wav", np.zeros(24000, np.float32), 16000, "either")
    wav("dc.wav", np.full(24000, 0.5, np.float32), 16000, "either")
    wav("speech_0.05s.wav", clip[:800], 16000, "either")
    nan = clip.copy()
    nan[1000:1400] = np.nan
    wav("nan_samples.wav", nan, 16000, "error", subtype="FLOAT")
    inf = clip.copy()
    inf[500] = np.inf
    wav("inf_samples.wav", inf, 16000, "error", subtype="FLOAT")
    # Containers and corruption.
    full = (folder / "speech_8k.wav").read_bytes()
    for name, data in (
        ("zero_bytes.wav", b""),
        ("text_named.wav", b"this is not audio, just words in a file\n" * 40),
        ("truncated.wav", full[:30]),
        ("zero_channels.wav", full[:22] + struct.pack("<H", 0) + full[24:]),
        # A header that lies about its rate: 1 Hz would make 12,000 samples hours long.
        ("rate_1hz.wav", full[:24] + struct.pack("<II", 1, 2) + full[32:]),
    ):
        (folder / name).write_bytes(data)
        cases.append(Case(name, folder / name, "error"))
    cases.append(Case("missing.wav", folder / "missing.wav", "error"))
    cases.append(Case("a_folder.wav", _folder(folder / "a_folder.wav"), "error"))
    _write_audio_mp4(folder / "audio_only.mp4", clip, 16000)
    cases.append(Case("audio_only.mp4", folder / "audio_only.mp4", "ok"))
    cut = (folder / "audio_only.mp4").read_bytes()
    (folder / "audio_only_cut.mp4").write_bytes(cut[: len(cut) // 2])
    cases.append(Case("audio_only_cut.mp4", folder / "audio_only_cut.mp4", "either"))
    (folder / "audio_bitflip.mp4").write_bytes(_flip_bits(cut, 0, 64, 12, 1))
    cases.append(Case("audio_bitflip.mp4", folder / "audio_bitflip.mp4", "either"))
    return cases


def _folder(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def _write_audio_mp4(path: Path, samples: np.ndarray, rate: int) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# -- images --------------------------------------------------------------------------------------
def _image_cases(folder: Path, odd: Path, photo: np.ndarray) -> list[Case]:
    from PIL import Image

    face = Image.fromarray(photo).resize((256, 256))
    cases = []

    def save(name: str, image, expect: str, where=folder, **options):
        path = where / name
        image.save(path, **options)
        cases.append(Case(name, path, expect))

    save("face photo.png", face, "ok", where=odd)
    save("face.jpg", face, "ok", quality=90)
    save("face_rgba.png", face.convert("RGBA"), "ok")
    save("face_grey.png", face.convert("L"), "ok")
    save("face_palette.png", face.convert("P", palette=Image.Palette.ADAPTIVE), "ok")
    save("face_cmyk.jpg", face.convert("CMYK"), "ok")
    wide = np.asarray(face.convert("RGB")).astype(np.uint16) * 257
    save("face_16bit.png", Image.fromarray(wide[..., 0]), "ok")  # 16-bit greyscale
    # EXIF orientation 6: the pixels are stored turned a quarter, the tag says how to show them.
    exif = Image.Exif()
    exif[0x0112] = 6
    save("face_exif_rotated.jpg", face.transpose(Image.Transpose.ROTATE_90), "ok", exif=exif)
    big = Image.new("RGB", (7680, 4320), (120, 130, 140))
    big.paste(face.resize((1600, 1600)), (3000, 1300))
    save("face_8k.jpg", big, "ok", quality=80)
    two = Image.new("RGB", (512, 256))
    two.paste(face, (0, 0))
    two.paste(face.resize((200, 200)), (290, 28))
    save("two_faces.png", two, "ok")
    cut = Image.new("RGB", (256, 256))
    cut.paste(face, (-100, 0))
    save("face_cut_by_border.png", cut, "either")
    save("one_pixel.png", Image.new("RGB", (1, 1), (200, 150, 120)), "error")
    save("17x9.png", Image.new("RGB", (17, 9), (200, 150, 120)), "error")
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    save("no_face.png", Image.fromarray(noise), "error")
    buffer = io.BytesIO()
    face.save(buffer, format="JPEG", quality=90)
    data = buffer.getvalue()
    for name, raw in (
        ("face_half.jpg", data[: len(data) // 2]),
        ("face_bitflip.jpg", _flip_bits(data, 0, 200, 20, 2)),
        ("zero_bytes.png", b""),
        ("text_named.png", b"not an image\n" * 50),
    ):
        (folder / name).write_bytes(raw)
        cases.append(Case(name, folder / name, "either" if name == "face_bitflip.jpg" else "error"))
    return cases


# -- videos --------------------------------------------------------------------------------------
def _video_cases(folder: Path, photo: np.ndarray, speech: np.ndarray) -> list[Case]:
    import cv2

    from talkingface.media import write_video

    face = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    frames = [np.roll(face, k // 3, axis=1) for k in range(30)]
    audio = speech[16000 : 16000 + 19200].astype(np.float32)
    cases = []

    def video(name: str, fps, expect: str, count: int = 30, sound: bool = True):
        path = folder / name
        n = int(round(count * float(fps) / 25))
        picks = [frames[k % 30] for k in range(n)]
        length = int(round(n / float(fps) * 16000))
        options = {"audio": np.resize(audio, length), "sample_rate": 16000} if sound else {}
        write_video(path, picks, fps, **options)
        cases.append(Case(name, path, expect))

    video("talk_25fps.mp4", 25, "ok")
    video("talk_60fps.mp4", 60, "ok")
    video("talk_29.97fps.mp4", Fraction(30000, 1001), "ok")
    video("no_audio.mp4", 25, "either", sound=False)
    video("one_frame.mp4", 25, "either", count=1)
    _write_vfr(folder / "variable_rate.mp4", frames, audio)
    cases.append(Case("variable_rate.mp4", folder / "variable_rate.mp4", "ok"))
    _write_rotated(folder / "rotated.mp4", frames)
    cases.append(Case("rotated.mp4", folder / "rotated.mp4", "either"))
    data = (folder / "talk_25fps.mp4").read_bytes()
    for name, raw, expect in (
        ("cut_in_half.mp4", data[: len(data) // 2], "error"),
        ("header_bitflip.mp4", _flip_bits(data, 0, 400, 16, 3), "either"),
        ("zero_bytes.mp4", b"", "error"),
        ("text_named.mp4", b"not a video\n" * 80, "error"),
    ):
        (folder / name).write_bytes(raw)
        cases.append(Case(name, folder / name, expect))
    _write_audio_mp4(folder / "sound_only.mp4", audio, 16000)
    cases.append(Case("sound_only.mp4", folder / "sound_only.mp4", "error"))
    return cases


def _write_vfr(path: Path, frames: list[np.ndarray], audio: np.ndarray) -> None:
    """Frames at irregular times (20-50 ms apart), with sound."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1000)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.time_base = Fraction(1, 1000)
        sound = container.add_stream("aac", rate=16000, layout="mono")
        t = 0
        for k, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            t += 20 + (k * 7) % 31
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        pcm = (np.resize(audio, t * 16)[None] * 32767).astype(np.int16)
        chunk = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        chunk.sample_rate = 16000
        for packet in sound.encode(chunk):
            container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)


def _write_rotated(path: Path, frames: list[np.ndarray]) -> None:
    """A phone video: pixels stored sideways with a display rotation of 90 degrees."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        turned = [np.ascontiguousarray(np.rot90(f, -1)) for f in frames]
        stream.width, stream.height, stream.pix_fmt = turned[0].shape[1], turned[0].shape[0], "yuv420p"
        stream.metadata["rotate"] = "90"
        for image in turned:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# -- transcripts ---------------------------------------------------------------------------------
def _transcript_cases(folder: Path) -> list[Case]:
    cases = []
    for name, data, expect in (
        ("plain.txt", b"it was the best of times", "ok"),
        ("latin1.txt", "« it was the best of times »".encode("latin-1"), "ok"),
        ("empty.txt", b"", "either"),
        ("one_megabyte.txt", ("it was the best of times " * 42000).encode(), "error"),
        ("binary.txt", np.random.default_rng(4).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "error"),
    ):
        (folder / name).write_bytes(data)
        cases.append(Case(name, folder / name, expect))
    cases.append(Case("missing.txt", folder / "missing.txt", "error"))
    return cases


# -- meshes --------------------------------------------------------------------------------------
def _mesh_cases(folder: Path) -> list[Case]:
    from talkingface.animation.mesh import face_template

    template = face_template()
    vertices, faces = template.vertices, template.faces
    cases = []

    def obj(name: str, v: np.ndarray, f: np.ndarray, expect: str, extra: str = ""):
        lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v] + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in f]
        (folder / name).write_text("\n".join(lines) + "\n" + extra)
        cases.append(Case(name, folder / name, expect))

    obj("face.obj", vertices, faces, "ok")
    obj("face_scaled_cm.obj", vertices * 100, faces, "ok")
    z_up = vertices[:, [0, 2, 1]] * np.array([1, -1, 1])
    obj("face_z_up.obj", z_up, faces, "error")
    obj("huge_index.obj", vertices, faces, "error", extra="f 1 2 99999999999999999999\n")
    bad = vertices.copy()
    bad[5, 1] = np.nan
    obj("nan_vertex.obj", bad, faces, "error")
    obj("no_faces.obj", vertices, faces[:0], "error")
    obj("three_vertices.obj", vertices[:3], faces[:1] * 0 + [0, 1, 2], "error")

    def ply(name: str, text: str, expect: str):
        (folder / name).write_text(text)
        cases.append(Case(name, folder / name, expect))

    body = "".join(f"{x} {y} {z}\n" for x, y, z in vertices) + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces)
    header = (
        f"ply\nformat ascii 1.0\nelement vertex {len(vertices)}\nproperty float x\nproperty float y\n"
        f"property float z\nelement face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    ply("face.ply", header + body, "ok")
    ply("no_vertex_element.ply", header.replace(f"element vertex {len(vertices)}\n", "") + body, "error")
    ply("no_format_line.ply", header.replace("format ascii 1.0\n", "") + body, "error")
    ply("too_few_lines.ply", header + body[:200], "error")
    ply("float128.ply", header.replace("property float x", "property float128 x") + body, "error")
    ply("inf_vertex.ply", header + body.replace(body.split("\n")[3], "inf 0 0", 1), "error")
    for name, raw in (("zero_bytes.obj", b""), ("binary.obj", bytes(range(256)) * 8)):
        (folder / name).write_bytes(raw)
        cases.append(Case(name, folder / name, "error"))
    return cases


# -- checkpoints ---------------------------------------------------------------------------------
def _checkpoint_cases(folder: Path) -> list[Case]:
    """Model files: ours with damaged metadata, a crafted .pth, a pickle that would run code, junk."""
    import pickle

    import torch
    from safetensors.torch import load_file, save_file

    from talkingface.models import create_model, save_model

    torch.manual_seed(0)
    good = save_model(create_model("wav2lip", channel_divisor=8), folder / "wav2lip_tiny.safetensors")
    cases = [Case("wav2lip_tiny.safetensors", good, "ok")]
    tensors = load_file(good)
    from safetensors import safe_open

    with safe_open(str(good), "pt") as handle:
        metadata = dict(handle.metadata() or {})
    for name, change, expect in (
        ("bad_json", lambda m: {**m, "config": "{not json"}, "error"),
        ("config_not_a_dict", lambda m: {**m, "config": "[1, 2]"}, "error"),
        ("unknown_key", lambda m: {**m, "config": _with_unknown_key(m["config"])}, "error"),
        ("no_variant", lambda m: {k: v for k, v in m.items() if k != "variant"}, "error"),
        ("unknown_variant", lambda m: {**m, "variant": "wav2lip.v9"}, "error"),
        ("no_metadata", lambda m: {}, "either"),
    ):
        path = folder / f"{name}.safetensors"
        save_file(tensors, path, metadata=change(metadata))
        cases.append(Case(path.name, path, expect))
    for name, value in (("nan_weights", float("nan")), ("inf_weights", float("inf"))):  # damaged or diverged
        broken = dict(tensors)
        first = next(k for k, v in broken.items() if v.is_floating_point() and v.numel() > 1)
        broken[first] = broken[first].clone()
        broken[first].view(-1)[::2] = value
        save_file(broken, folder / f"{name}.safetensors", metadata=metadata)
        cases.append(Case(f"{name}.safetensors", folder / f"{name}.safetensors", "error"))
    data = good.read_bytes()
    for name, raw in (
        ("cut.safetensors", data[: len(data) // 3]),
        ("zero_bytes.pth", b""),
        ("text_named.pth", b"not a checkpoint\n" * 30),
    ):
        (folder / name).write_bytes(raw)
        cases.append(Case(name, folder / name, "error"))

    class _RunsCode:
        def __reduce__(self):
            return (print, ("this checkpoint ran code",))

    with open(folder / "runs_code.pth", "wb") as handle:
        pickle.dump({"state_dict": _RunsCode()}, handle)
    cases.append(Case("runs_code.pth", folder / "runs_code.pth", "error"))
    torch.save(
        {"state_dict": {"module.face_encoder_blocks.0.0.conv_block.0.weight": torch.zeros(1)}}, folder / "crafted.pth"
    )
    cases.append(Case("crafted.pth", folder / "crafted.pth", "error"))
    return cases


def _with_unknown_key(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        value["no_such_option"] = 3
    return json.dumps(value)


if __name__ == "__main__":
    from talkingface.media import load_audio, read_image

    inputs = Path(__file__).resolve().parents[2] / ".cache" / "inputs"
    corpus = build_corpus(
        Path(sys.argv[1]), read_image(inputs / "astronaut.png"), load_audio(inputs / "two_cities.wav")
    )
    for role, cases in corpus.items():
        for case in cases:
            print(f"{role:10s} {case.expect:6s} {case.name}")
    print(f"{sum(map(len, corpus.values()))} cases")
