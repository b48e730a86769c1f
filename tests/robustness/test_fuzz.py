"""Fuzzing the parsers we own with hypothesis: phoneme timings (JSON, TextGrid), transcripts, OBJ and PLY
meshes, templates.pkl, our safetensors metadata and media probing. Each parser, given anything, returns
a valid result or raises its one-line error (a TalkingFaceError) - never another exception, never a hang
(each example has a deadline) - and what it returns holds only finite numbers.

The suite runs a bounded number of examples per parser; ``make fuzz`` runs many more
(``TALKINGFACE_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talkingface.errors import TalkingFaceError

EXAMPLES = int(os.environ.get("TALKINGFACE_FUZZ_EXAMPLES", "120"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=10_000,  # a hang, not a slow first call, fails
    database=None,
    derandomize="TALKINGFACE_FUZZ_EXAMPLES" not in os.environ,  # the suite's runs are repeatable
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FOLDER = Path(tempfile.mkdtemp(prefix="talkingface-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _imported():
    """The parsers' modules (torch among their imports) are loaded before the first example is timed:
    on a busy machine their first import took 14 s, past the deadline that is there to catch hangs."""
    import talkingface.animation.mesh
    import talkingface.data.mesh_sets
    import talkingface.media
    import talkingface.models  # noqa: F401


def _file(name: str, data: bytes) -> Path:
    path = FOLDER / name
    path.write_bytes(data)
    return path


@st.composite
def mutated(draw, original: bytes, max_edits: int = 8) -> bytes:
    """``original`` with a few random edits: bytes replaced, inserted or removed, or cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        kind = draw(st.sampled_from(["replace", "insert", "delete", "cut", "digits"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "replace":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 32))]
        elif kind == "digits":
            data[at:at] = draw(st.sampled_from([b"nan", b"inf", b"-1", b"1e308", b"99999999999999", b"0", b'"']))
        else:
            del data[at:]
    return bytes(data)


# -- phoneme timings ---------------------------------------------------------------------------------
def _sequence():
    from talkingface.speech.phonemes import Phoneme, PhonemeSequence, Word

    words = [Word("hello", 0.1, 0.5), Word("there", 0.5, 0.9)]
    phones = [("HH", 0.1, 0.2, None, 0), ("AH", 0.2, 0.3, 0, 0), ("L", 0.3, 0.4, None, 0), ("OW", 0.4, 0.5, 1, 0)]
    phonemes = [Phoneme(*p) for p in phones] + [Phoneme("DH", 0.5, 0.6, None, 1), Phoneme("EH", 0.6, 0.9, 1, 1)]
    return PhonemeSequence(phonemes, words, 1.0, "test")


def _check_sequence(result) -> None:
    for item in [*result.phonemes, *result.words]:
        assert np.isfinite([item.start, item.end]).all() and 0 <= item.start <= item.end
    assert np.isfinite(result.duration)


@fuzz
@given(data=st.data())
def test_textgrid(data):
    from talkingface.speech.phonemes import PhonemeSequence

    text = _sequence().to_textgrid().encode()
    raw = data.draw(st.one_of(mutated(text, 12), st.binary(max_size=600).map(lambda b: b"ooTextFile\n" + b)))
    with contextlib.suppress(TalkingFaceError):
        _check_sequence(PhonemeSequence.load(_file("t.TextGrid", raw)))


_json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_field = st.one_of(st.floats(), st.integers(-5, 5), st.booleans(), st.none(), st.text(max_size=4), _json_values)


@fuzz
@given(
    phonemes=st.lists(
        st.fixed_dictionaries(
            {"phone": st.sampled_from(["AH", "B", "SIL", "XX", 3]), "start": _field, "end": _field},
            optional={"stress": _field, "word": _field, "other": _field},
        ),
        max_size=5,
    ),
    extra=st.dictionaries(st.sampled_from(["duration", "words", "source"]), _field),
    raw=st.one_of(st.none(), _json_values),
)
def test_phoneme_json(phonemes, extra, raw):
    from talkingface.speech.phonemes import PhonemeSequence

    document = {"phonemes": phonemes, **extra} if raw is None else raw
    try:
        text = json.dumps(document)
    except (ValueError, TypeError):
        return
    with contextlib.suppress(TalkingFaceError):
        _check_sequence(PhonemeSequence.load(_file("p.json", text.encode())))


# -- transcripts -----------------------------------------------------------------------------------
@fuzz
@given(
    raw=st.one_of(st.binary(max_size=4096), st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")))
)
def test_transcript(raw):
    from talkingface.cli._common import read_transcript
    from talkingface.speech.align import transcript_words

    try:
        text = read_transcript(_file("t.txt", raw))
    except TalkingFaceError:
        return
    assert isinstance(text, str)
    assert all(word.isascii() for word in transcript_words(text))


# -- meshes ----------------------------------------------------------------------------------------
_CUBE_V = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], np.float32)
_CUBE_F = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1]])


def _obj() -> bytes:
    lines = [f"v {x} {y} {z}" for x, y, z in _CUBE_V] + [f"f {a + 1}/1 {b + 1} {c + 1}" for a, b, c in _CUBE_F]
    return ("\n".join(lines) + "\n").encode()


def _ply(binary: bool) -> bytes:
    fmt = "binary_little_endian" if binary else "ascii"
    header = (
        f"ply\nformat {fmt} 1.0\nelement vertex 8\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 6\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode()
    if binary:
        faces = b"".join(np.uint8(3).tobytes() + f.astype("<i4").tobytes() for f in _CUBE_F)
        return header + _CUBE_V.astype("<f4").tobytes() + faces
    body = "".join(f"{x} {y} {z}\n" for x, y, z in _CUBE_V) + "".join(f"3 {a} {b} {c}\n" for a, b, c in _CUBE_F)
    return header + body.encode()


@fuzz
@given(data=st.data())
def test_meshes(data):
    from talkingface.animation.mesh import load_mesh

    name, original = data.draw(st.sampled_from([("m.obj", _obj()), ("m.ply", _ply(False)), ("b.ply", _ply(True))]))
    raw = data.draw(st.one_of(mutated(original, 6), st.binary(max_size=400)))
    try:
        mesh = load_mesh(_file(name, raw))
    except TalkingFaceError:
        return
    assert np.isfinite(mesh.vertices).all()
    assert mesh.faces.min() >= 0 and mesh.faces.max() < mesh.num_vertices


# -- templates.pkl -----------------------------------------------------------------------------------
@pytest.mark.slow
@fuzz
@given(data=st.data())
def test_templates_pickle(data):
    from talkingface.data.mesh_sets import load_templates

    good = pickle.dumps({"FaceTalk_1": _CUBE_V.astype(np.float64), "FaceTalk_2": _CUBE_V * 2}, protocol=2)
    raw = data.draw(st.one_of(mutated(good, 6), st.binary(max_size=300)))
    try:
        templates = load_templates(_file("templates.pkl", raw))
    except TalkingFaceError:
        return
    for array in templates.values():
        assert array.dtype == np.float32 and np.isfinite(array).all() and array.size % 3 == 0


def test_a_tiny_pickle_asking_for_a_huge_array_is_refused_at_once():
    """A few bytes of pickle can call numpy.ndarray with any shape: refused before allocating."""
    from talkingface.data.mesh_sets import load_templates

    class Huge:
        def __reduce__(self):
            return (np.ndarray, ((200_000, 200_000), "f8"))

    raw = pickle.dumps({"subject": Huge()}, protocol=2)
    assert len(raw) < 300
    with pytest.raises(TalkingFaceError, match="larger than any template"):
        load_templates(_file("huge.pkl", raw))


# -- our safetensors metadata ------------------------------------------------------------------------
@fuzz
@given(
    metadata=st.dictionaries(
        st.sampled_from(["format", "variant", "config", "other"]),
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(["talkingface", "wav2lip", "syncnet.v2", "visemenet", "faceformer.vocaset"]),
            st.dictionaries(st.sampled_from(["no_such", "extra", "x"]), _json_values, max_size=3).map(json.dumps),
        ),
    )
)
def test_safetensors_metadata(metadata):
    import torch
    from safetensors.torch import save_file

    from talkingface.models import load_model

    path = FOLDER / "m.safetensors"
    save_file({"weight": torch.zeros(2, 2)}, path, metadata=metadata)
    with pytest.raises(TalkingFaceError):  # no variant has a lone 2x2 'weight'
        load_model(path)


# -- media probing -----------------------------------------------------------------------------------
def _media() -> dict[str, bytes]:
    import soundfile

    from talkingface.media import write_video

    out = {}
    buffer = io.BytesIO()
    soundfile.write(buffer, np.sin(np.arange(4000) / 9).astype(np.float32) * 0.3, 8000, format="WAV")
    out["a.wav"] = buffer.getvalue()
    frames = [np.full((32, 32, 3), 40 * k, np.uint8) for k in range(4)]
    write_video(FOLDER / "v.mp4", frames, 10, audio=np.zeros(3200, np.float32), sample_rate=8000)
    out["v.mp4"] = (FOLDER / "v.mp4").read_bytes()
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frames[2]).save(buffer, format="PNG")
    out["i.png"] = buffer.getvalue()
    return out


MEDIA = _media()


@fuzz
@given(data=st.data())
def test_media_probing(data):
    from talkingface.media import audio_info, load_audio, probe_video, read_image

    name = data.draw(st.sampled_from(sorted(MEDIA)))
    path = _file(name, data.draw(mutated(MEDIA[name], 6)))
    for read in (probe_video, read_image, audio_info, load_audio):
        try:
            result = read(path)
        except TalkingFaceError:
            continue
        if isinstance(result, np.ndarray):
            assert result.size and np.isfinite(result).all()
