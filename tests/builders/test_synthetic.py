"""The synthetic talking-face set: layout, shapes, motion during speech only, per-speaker faces,
determinism; the FLAME-size template."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile

from talkingface.animation.blendshapes import face_basis
from talkingface.animation.mesh import face_template
from talkingface.animation.refine import FLAME_VERTICES, flame_size_template
from talkingface.animation.transfer import transfer_basis
from talkingface.builders.synthetic import make_synthetic_set
from talkingface.errors import InputError, MediaError
from talkingface.face.topology import face_topology
from talkingface.speech.sentences import SENTENCES

TEXTS = ["Bob ate a plum.", "We saw five ships."]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "set"
    calls = []
    summary = make_synthetic_set(
        root,
        sentences=TEXTS,
        speakers=2,
        template="template",
        seed=3,
        progress=lambda done, total, stem: calls.append((done, total, stem)),
    )
    return root, summary, calls


def _lips() -> np.ndarray:
    topology = face_topology()
    return np.concatenate([topology.group("lips_outer"), topology.group("lips_inner")])


def _edges(faces: np.ndarray) -> np.ndarray:
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    return edges


def _area_vector(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices.astype(np.float64)[faces]
    return np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]).sum(axis=0) / 2


# -- FLAME-size template --------------------------------------------------------------------------
def test_flame_size_template_refines_the_built_in_face():
    face = face_template()
    mesh = flame_size_template()
    assert mesh.num_vertices == FLAME_VERTICES == 5023
    assert mesh.vertices.dtype == np.float32 and mesh.vertices.shape == (5023, 3)
    np.testing.assert_array_equal(mesh.vertices[:478], face.vertices)
    assert mesh.faces.min() >= 0 and mesh.faces.max() < 5023
    assert len(np.unique(mesh.faces)) == 5023  # every vertex is in a triangle
    assert (mesh.faces[:, 0] != mesh.faces[:, 1]).all() and (mesh.faces[:, 1] != mesh.faces[:, 2]).all()
    _, uses = np.unique(_edges(mesh.faces), axis=0, return_counts=True)
    assert uses.max() <= 2  # conforming: no edge shared by more than two triangles
    # Same surface, same winding: the summed area vectors of the faces agree.
    np.testing.assert_allclose(
        _area_vector(mesh.vertices, mesh.faces), _area_vector(face.vertices, face.faces), rtol=1e-5, atol=1e-9
    )
    np.testing.assert_array_equal(mesh.groups["lips_inner"], face.groups["lips_inner"])
    # The new vertices lie inside the face's bounding box and are spread out (no duplicates).
    assert (mesh.vertices.min(0) >= face.vertices.min(0) - 1e-6).all()
    assert (mesh.vertices.max(0) <= face.vertices.max(0) + 1e-6).all()
    assert len(np.unique(np.round(mesh.vertices, 7), axis=0)) == 5023


def test_flame_size_template_counts_and_seeds():
    assert flame_size_template(600).num_vertices == 600
    assert flame_size_template(478).faces.shape == face_template().faces.shape
    a, b, c = flame_size_template(seed=0), flame_size_template(seed=0), flame_size_template(seed=1)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.faces, b.faces)
    np.testing.assert_array_equal(a.vertices[:478], c.vertices[:478])
    assert not np.array_equal(a.vertices[478:], c.vertices[478:])
    for bad in (dict(num_vertices=100), dict(num_vertices=5023.0), dict(seed=-1)):
        with pytest.raises(InputError):
            flame_size_template(**bad)


def test_flame_size_template_takes_the_rig_by_transfer():
    basis = face_basis()
    mesh = flame_size_template()
    moved = transfer_basis(basis, mesh)
    assert moved.deltas.shape == (len(basis.names), 5023, 3)
    # On the face's own vertices the transferred shapes are the face's shapes.
    np.testing.assert_allclose(moved.deltas[:, :478], basis.deltas, atol=1e-4)
    jaw = moved.deltas[basis.names.index("jawOpen")]
    assert jaw[:, 1].min() < -0.02  # the chin drops by centimetres


# -- the set --------------------------------------------------------------------------------------
def test_set_layout_and_summary(tiny_set):
    root, summary, calls = tiny_set
    stems = [f"{s}_sentence{k:02d}" for s in ("SynthA", "SynthB") for k in (1, 2)]
    assert sorted(p.name for p in (root / "wav").iterdir()) == [f"{s}.wav" for s in stems]
    assert sorted(p.name for p in (root / "vertices_npy").iterdir()) == [f"{s}.npy" for s in stems]
    assert (root / "templates.pkl").is_file()
    assert summary.subjects == ("SynthA", "SynthB") and summary.sequences == 4
    assert summary.fps == 60 and summary.num_vertices == 478
    assert summary.frames == sum(len(np.load(p)) for p in (root / "vertices_npy").iterdir())
    assert [c[0] for c in calls] == [1, 2, 3, 4] and {c[1] for c in calls} == {4}
    assert [c[2] for c in calls] == stems


def test_sequence_shapes_follow_the_audio(tiny_set):
    root, summary, _ = tiny_set
    seconds = 0.0
    for npy in (root / "vertices_npy").iterdir():
        vertices = np.load(npy)
        info = soundfile.info(str(root / "wav" / f"{npy.stem}.wav"))
        assert info.samplerate == 16000 and info.channels == 1
        assert vertices.dtype == np.float32 and vertices.ndim == 2 and vertices.shape[1] == 478 * 3
        assert abs(len(vertices) - info.duration * 60) <= 1
        seconds += info.duration
    assert summary.seconds == pytest.approx(seconds)


def test_templates_are_per_speaker_neutral_faces(tiny_set):
    root, _, _ = tiny_set
    with open(root / "templates.pkl", "rb") as f:
        templates = pickle.load(f)
    assert isinstance(templates, dict) and sorted(templates) == ["SynthA", "SynthB"]
    for subject, template in templates.items():
        assert isinstance(template, np.ndarray) and template.dtype == np.float32 and template.shape == (478, 3)
        first = np.load(root / "vertices_npy" / f"{subject}_sentence01.npy")[0].reshape(478, 3)
        np.testing.assert_allclose(first, template, atol=1e-6)  # silence at zero weights: the template
    difference = np.abs(templates["SynthA"] - templates["SynthB"])
    assert difference.max() > 1e-3  # faces differ by millimetres...
    assert np.abs(templates["SynthA"] - face_template().vertices).max() < 0.02  # ...and stay faces


def test_mouth_moves_during_speech_only(tiny_set):
    root, _, _ = tiny_set
    lips = _lips()
    points = face_topology().points
    with open(root / "templates.pkl", "rb") as f:
        templates = pickle.load(f)
    for npy in (root / "vertices_npy").iterdir():
        vertices = np.load(npy).reshape(-1, 478, 3)
        template = templates[npy.stem.rsplit("_", 1)[0]]
        motion = np.linalg.norm(vertices[:, lips] - template[lips], axis=2).max(axis=1)  # (T,) metres
        audio, rate = soundfile.read(str(root / "wav" / f"{npy.stem}.wav"))
        loud = np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max()) / rate
        t = np.arange(len(motion)) / 60
        speaking = (t >= loud[0]) & (t <= loud[-1])
        silent = (t < loud[0] - 0.25) | (t > loud[-1] + 0.25)  # beyond anticipation and release
        assert silent[:3].all() and silent[-3:].all()  # the pauses around a sentence are 0.3-0.6 s
        assert motion[silent].max() < 1e-4
        assert motion.max() > 3e-3
        assert (motion[speaking] > 3e-4).mean() > 0.8  # lips pressed together for b, p, m move too
        gap = vertices[:, points["upper_lip_bottom"], 1] - vertices[:, points["lower_lip_top"], 1]
        assert gap.min() > -1e-4  # the lips never pass through each other (closures at b, p, m)


def test_the_same_seed_writes_the_same_files(tiny_set, tmp_path):
    root, _, _ = tiny_set
    again = tmp_path / "again"
    make_synthetic_set(again, sentences=TEXTS, speakers=2, template="template", seed=3)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            assert (again / path.relative_to(root)).read_bytes() == path.read_bytes(), path.name
    other = make_synthetic_set(tmp_path / "other", sentences=TEXTS[:1], speakers=1, seed=4)
    with open(other.root / "templates.pkl", "rb") as f, open(root / "templates.pkl", "rb") as g:
        assert not np.array_equal(pickle.load(f)["SynthA"], pickle.load(g)["SynthA"])


def test_flame_size_set_in_biwi_layout(tmp_path):
    summary = make_synthetic_set(tmp_path, sentences=TEXTS[:1], speakers=["F2"], template="flame", layout="biwi")
    vertices = np.load(tmp_path / "vertices_npy" / "F2_sentence01.npy")
    info = soundfile.info(str(tmp_path / "wav" / "F2_sentence01.wav"))
    assert vertices.shape[1] == 5023 * 3 and abs(len(vertices) - info.duration * 25) <= 1
    assert summary.fps == 25 and summary.num_vertices == 5023
    with open(tmp_path / "templates.pkl", "rb") as f:
        template = pickle.load(f)["F2"]
    assert template.shape == (5023, 3)
    motion = np.linalg.norm(vertices.reshape(len(vertices), -1, 3)[:, _lips()] - template[_lips()], axis=2)
    assert motion.max() > 3e-3


def test_real_speech_is_aligned_and_animated(tmp_path):
    from talkingface.speech.espeak import synthesize

    text = "Mary found a blue shoe."
    speech = synthesize(text, voice="en-us+f2", rate=150)  # 22050 Hz, stored at 16 kHz
    wav = tmp_path / "real.wav"
    soundfile.write(str(wav), np.pad(speech.audio, (4000, 4000)), speech.sample_rate, subtype="PCM_16")
    root = tmp_path / "set"
    summary = make_synthetic_set(root, sentences=1, speakers=1, real_speech=[(wav, text)])
    assert summary.sequences == 2
    info = soundfile.info(str(root / "wav" / "SynthA_sentence02.wav"))
    assert info.samplerate == 16000
    assert info.duration == pytest.approx((len(speech.audio) + 8000) / speech.sample_rate, abs=1e-3)
    vertices = np.load(root / "vertices_npy" / "SynthA_sentence02.npy").reshape(-1, 478, 3)
    assert abs(len(vertices) - info.duration * 60) <= 1
    motion = np.abs(vertices[:, _lips()] - vertices[0, _lips()]).max(axis=(1, 2))
    assert motion.max() > 3e-3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sentences=0), "sentences must be 1-40"),
        (dict(sentences=[""]), "text with letters"),
        (dict(sentences="Hello there."), "count or a non-empty list"),
        (dict(speakers=0), "speakers must be"),
        (dict(speakers=["a/b"]), "speaker names"),
        (dict(speakers=["A", "A"]), "distinct"),
        (dict(template="bust"), "template must be"),
        (dict(layout="lrs2"), "layout must be"),
        (dict(fps=0), "fps must be"),
        (dict(seed=-2), "seed must be"),
        (dict(real_speech=[("a.wav",)]), "real_speech items"),
        (dict(real_speech=[("a.wav", " ")]), "real_speech items"),
        (dict(sentences=list(SENTENCES) * 3), "at most 99"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        make_synthetic_set(tmp_path / "set", **{"sentences": TEXTS[:1], "speakers": 1, **kwargs})
    assert not (tmp_path / "set").exists()  # nothing written


def test_existing_sets_and_missing_audio(tiny_set, tmp_path):
    root, _, _ = tiny_set
    with pytest.raises(InputError, match="already holds a set.*--overwrite"):  # the option the user has
        make_synthetic_set(root, sentences=TEXTS[:1], speakers=1)
    with pytest.raises(MediaError):
        make_synthetic_set(
            tmp_path / "set", sentences=TEXTS[:1], speakers=1, real_speech=[(tmp_path / "missing.wav", "hello")]
        )
    assert not (tmp_path / "set").exists()


def test_an_interrupted_set_is_marked_and_made_again(tmp_path, monkeypatch):
    """A set whose making stops half-way keeps its marker: loading it is refused as incomplete, making it
    again needs --overwrite and then completes it; while a live process makes a set, another is refused."""
    import os

    import talkingface.builders.synthetic as synthetic
    from talkingface.data.mesh_sets import INCOMPLETE, load_mesh_set
    from talkingface.errors import InputError

    root = tmp_path / "set"
    real_vertices = synthetic._vertices
    calls = []

    def stop_at_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_vertices(*args, **kwargs)

    monkeypatch.setattr(synthetic, "_vertices", stop_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic_set(root, sentences=2, speakers=1, seed=0, progress=False)
    monkeypatch.setattr(synthetic, "_vertices", real_vertices)
    assert (root / INCOMPLETE).exists()
    with pytest.raises(InputError, match="incomplete"):
        load_mesh_set(root)
    with pytest.raises(InputError, match="already holds a set"):
        make_synthetic_set(root, sentences=2, speakers=1, seed=0, progress=False)
    make_synthetic_set(root, sentences=2, speakers=1, seed=0, overwrite=True, progress=False)
    assert not (root / INCOMPLETE).exists() and len(load_mesh_set(root)) == 2
    # A live maker (this test's parent process stands in for one) keeps others out, even with overwrite.
    (root / INCOMPLETE).write_text(str(os.getppid()))
    with pytest.raises(InputError, match="another make-dataset"):
        make_synthetic_set(root, sentences=2, speakers=1, seed=0, overwrite=True, progress=False)
