"""VOCASET/BIWI layout loaders and writer on tiny sets built in tmp_path."""

from __future__ import annotations

import dataclasses
import os
import pickle
from fractions import Fraction

import numpy as np
import pytest
import soundfile

from talkingface.data import (
    BIWI,
    VOCASET,
    MeshLayout,
    load_mesh_set,
    load_templates,
    parse_name,
    speaker_one_hot,
    train_subjects,
    write_mesh_set_item,
    write_templates,
)
from talkingface.errors import InputError

V = 4  # vertices per face in the tiny sets


def _template(k: int) -> np.ndarray:
    return np.arange(V * 3, dtype=np.float32).reshape(V, 3) + k


def _frames(count: int, k: int = 0) -> np.ndarray:
    """``(count, V*3)``: frame i has every coordinate offset by i (so the kept frames are recognisable)."""
    return (_template(k).reshape(1, -1) + np.arange(count, dtype=np.float32)[:, None]).astype(np.float32)


def _wav(path, seconds: float = 0.1, rate: int = 16000):
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, 0.25 * np.sin(2 * np.pi * 220 * t), rate, subtype="PCM_16")


def _item(root, stem, frames, rate=16000, with_npy=True):
    _wav(root / "wav" / f"{stem}.wav", rate=rate)
    if with_npy:
        (root / "vertices_npy").mkdir(parents=True, exist_ok=True)
        np.save(root / "vertices_npy" / f"{stem}.npy", frames)


def _templates(root, subjects):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "templates.pkl", "wb") as f:
        pickle.dump({s: _template(k) for k, s in enumerate(subjects)}, f)


@pytest.fixture
def voca(tmp_path):
    """VOCASET-like: two train subjects, one val, one test; 60 fps npy files."""
    root = tmp_path / "vocaset"
    a, b = VOCASET.train_subjects[:2]
    val, test = VOCASET.val_subjects[0], VOCASET.test_subjects[0]
    _templates(root, [a, b, val, test])
    for k, (subject, sentence) in enumerate([(a, 1), (a, 21), (b, 40), (val, 5), (val, 21), (test, 22)]):
        _item(root, f"{subject}_sentence{sentence:02d}", _frames(7, k % 2))
    _item(root, f"{a}_sentence02", _frames(3), with_npy=False)  # speech without vertices: skipped
    return root


# -- parsing and layouts ----------------------------------------------------------------------
def test_parse_name():
    assert parse_name("FaceTalk_170728_03272_TA_sentence01") == ("FaceTalk_170728_03272_TA", 1)
    assert parse_name("F2_e37") == ("F2", 37)
    assert parse_name("SynthA_sentence40") == ("SynthA", 40)
    for bad in ("sentence01", "F2_eXY", "F2_", "_e01", "F2_e1x"):
        with pytest.raises(InputError, match="<subject>_<sentence>"):
            parse_name(bad)


def test_layouts_are_faceformers():
    assert (VOCASET.fps, VOCASET.step, VOCASET.source_fps) == (30, 2, 60)
    assert len(VOCASET.train_subjects) == 8 and train_subjects(VOCASET)[0] == "FaceTalk_170728_03272_TA"
    assert VOCASET.val_subjects == ("FaceTalk_170811_03275_TA", "FaceTalk_170908_03277_TA")
    assert VOCASET.test_subjects == ("FaceTalk_170809_00138_TA", "FaceTalk_170731_00024_TA")
    assert (VOCASET.sentences("train"), VOCASET.sentences("val"), VOCASET.sentences("test")) == (
        range(1, 41),
        range(21, 41),
        range(21, 41),
    )
    assert (BIWI.fps, BIWI.step) == (25, 1)
    assert BIWI.train_subjects == BIWI.val_subjects == BIWI.test_subjects == ("F2", "F3", "F4", "M3", "M4", "M5")
    assert (BIWI.sentences("train"), BIWI.sentences("val"), BIWI.sentences("test")) == (
        range(1, 33),
        range(33, 37),
        range(37, 41),
    )
    with pytest.raises(InputError, match="split must be one of"):
        VOCASET.subjects("dev")
    with pytest.raises(InputError, match="step must be an int"):
        MeshLayout("bad", fps=30, step=0)
    with pytest.raises(InputError, match="tuple of names"):
        MeshLayout("bad", fps=30, train_subjects="F2")


def test_speaker_one_hot_follows_the_train_subject_order():
    one_hot = speaker_one_hot(BIWI, "M3")
    assert one_hot.dtype == np.float32 and one_hot.tolist() == [0, 0, 0, 1, 0, 0]
    with pytest.raises(InputError, match="'F1' is not a training subject of layout 'biwi'"):
        speaker_one_hot(BIWI, "F1")


# -- loading ----------------------------------------------------------------------------------
def test_vocaset_splits_and_60_to_30_fps(voca):
    a, b = VOCASET.train_subjects[:2]
    train = load_mesh_set(voca, VOCASET, "train")
    assert [s.name for s in train] == [f"{a}_sentence01", f"{a}_sentence21", f"{b}_sentence40"]
    first = train[0]
    assert (first.subject, first.sentence, first.fps, first.num_frames, first.num_vertices) == (a, 1, 30, 4, V)
    assert first.vertices.dtype == np.float32 and first.vertices.shape == (4, V * 3)
    assert np.array_equal(first.vertices, _frames(7)[::2])  # stored frames 0, 2, 4, 6
    assert np.array_equal(first.template, _template(0).reshape(-1)) and first.template.dtype == np.float32
    assert np.array_equal(train[2].template, _template(1).reshape(-1))
    val = load_mesh_set(voca, VOCASET, "val")
    assert [s.name for s in val] == [f"{VOCASET.val_subjects[0]}_sentence21"]  # sentence 5 is not in 21-40
    assert [s.sentence for s in load_mesh_set(voca, VOCASET, "test")] == [22]
    everything = load_mesh_set(voca, VOCASET)
    assert len(everything) == 6 and f"{a}_sentence02" not in [s.name for s in everything]


def test_audio_is_raw_16k_float(tmp_path):
    root = tmp_path / "set"
    _templates(root, ["F2"])
    _item(root, "F2_e01", _frames(3), rate=22050)
    (sequence,) = load_mesh_set(root, BIWI, "train")
    audio = sequence.audio
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 1600) <= 1  # 0.1 s resampled to 16 kHz
    assert 0.2 < np.abs(audio).max() < 0.3  # the stored amplitude, not normalised to unit variance
    assert sequence.audio is audio  # read once


def test_biwi_keeps_every_frame_and_overrides(tmp_path):
    root = tmp_path / "biwi"
    _templates(root, ["F2", "M3", "F1"])
    for stem in ("F2_e01", "F2_e33", "F2_e37", "M3_e32", "F1_e01"):
        _item(root, stem, _frames(5))
    train = load_mesh_set(root, BIWI, "train")
    assert [s.name for s in train] == ["F2_e01", "M3_e32"]  # F1 is not a BIWI-Test-A subject
    assert train[0].fps == 25 and np.array_equal(train[0].vertices, _frames(5))
    assert [s.name for s in load_mesh_set(root, BIWI, "val")] == ["F2_e33"]
    assert [s.name for s in load_mesh_set(root, BIWI, "test")] == ["F2_e37"]
    assert [s.name for s in load_mesh_set(root, BIWI, "train", subjects=["F1"])] == ["F1_e01"]
    assert [s.name for s in load_mesh_set(root, BIWI, "test", sentences=range(1, 41))] == [
        "F2_e01",
        "F2_e33",
        "F2_e37",
        "M3_e32",
    ]
    assert [s.name for s in load_mesh_set(root, BIWI, subjects={"F2"}, sentences={33, 37})] == ["F2_e33", "F2_e37"]


def test_a_layout_of_your_own(tmp_path):
    root = tmp_path / "synthetic"
    layout = MeshLayout(
        "synthetic",
        fps=30,
        train_subjects=("SynthB", "SynthA"),
        val_subjects=("SynthC",),
        train_sentences=range(1, 3),
        val_sentences=range(1, 3),
    )
    write_templates(root, {name: _template(k) for k, name in enumerate(["SynthA", "SynthB", "SynthC"])})
    for name in ("SynthA", "SynthB", "SynthC"):
        for j in (1, 2, 3):
            write_mesh_set_item(root, name, f"sentence{j:02d}", np.zeros(800, np.float32), _frames(3))
    assert [s.name for s in load_mesh_set(root, layout, "train")] == [
        "SynthA_sentence01",
        "SynthA_sentence02",
        "SynthB_sentence01",
        "SynthB_sentence02",
    ]
    assert [s.subject for s in load_mesh_set(root, layout, "val")] == ["SynthC", "SynthC"]
    assert speaker_one_hot(layout, "SynthA").tolist() == [0, 1]  # the layout's order, not sorted
    assert load_mesh_set(root, dataclasses.replace(layout, step=2), "train")[0].num_frames == 2


# -- errors -----------------------------------------------------------------------------------
def test_missing_parts(tmp_path):
    with pytest.raises(InputError, match="no wav/ folder"):
        load_mesh_set(tmp_path, BIWI)
    (tmp_path / "wav").mkdir()
    (tmp_path / "vertices_npy").mkdir()
    with pytest.raises(InputError, match="no templates.pkl"):
        load_mesh_set(tmp_path, BIWI)
    _templates(tmp_path, ["F2"])
    with pytest.raises(InputError, match="no sequences; the wav files that have an npy are of subjects: none"):
        load_mesh_set(tmp_path, BIWI)
    _item(tmp_path, "F2_e01", _frames(2))
    with pytest.raises(InputError, match="no sequences of split 'test' of layout 'biwi', subjects .*sentences 37-40"):
        load_mesh_set(tmp_path, BIWI, "test")


def test_subject_missing_from_templates(voca):
    _item(voca, "Stranger_sentence01", _frames(2))
    with pytest.raises(InputError, match="templates.pkl: no template for subject 'Stranger' of Stranger_sentence01"):
        load_mesh_set(voca, VOCASET)
    assert len(load_mesh_set(voca, VOCASET, "train")) == 3  # not selected, not needed


def test_npy_not_matching_the_template(voca):
    a = VOCASET.train_subjects[0]
    np.save(voca / "vertices_npy" / f"{a}_sentence01.npy", np.zeros((7, (V + 1) * 3), np.float32))
    with pytest.raises(InputError, match=rf"{a}_sentence01.npy: expected \(T, 12\) numbers .* found shape \(7, 15\)"):
        load_mesh_set(voca, VOCASET, "train")
    np.save(voca / "vertices_npy" / f"{a}_sentence01.npy", np.zeros((7, V, 3), np.float32))
    with pytest.raises(InputError, match=r"found shape \(7, 4, 3\)"):
        load_mesh_set(voca, VOCASET, "train")
    np.save(voca / "vertices_npy" / f"{a}_sentence01.npy", np.zeros((0, V * 3), np.float32))
    with pytest.raises(InputError, match=r"T >= 1"):
        load_mesh_set(voca, VOCASET, "train")
    (voca / "vertices_npy" / f"{a}_sentence01.npy").write_bytes(b"not an npy file")
    with pytest.raises(InputError, match="not a readable npy file"):
        load_mesh_set(voca, VOCASET, "train")


def test_npy_of_objects_is_not_unpickled(voca):
    a = VOCASET.train_subjects[0]
    objects = np.empty((7, V * 3), dtype=object)
    np.save(voca / "vertices_npy" / f"{a}_sentence01.npy", objects, allow_pickle=True)
    with pytest.raises(InputError, match="dtype object"):
        load_mesh_set(voca, VOCASET, "train")


def test_nan_vertices_are_reported_when_read(voca):
    a = VOCASET.train_subjects[0]
    frames = _frames(7)
    frames[2, 0] = np.nan
    np.save(voca / "vertices_npy" / f"{a}_sentence01.npy", frames)
    sequence = load_mesh_set(voca, VOCASET, "train")[0]
    with pytest.raises(InputError, match="NaN or infinite"):
        _ = sequence.vertices


def test_bad_name_with_vertices(voca):
    _item(voca, "nosentence", _frames(2))
    with pytest.raises(InputError, match="nosentence: expected a file name <subject>_<sentence>"):
        load_mesh_set(voca, VOCASET)


# -- templates.pkl ----------------------------------------------------------------------------
class _Evil:
    def __reduce__(self):
        return os.system, ("echo pwned > /dev/null",)


def test_a_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "templates.pkl"
    path.write_bytes(pickle.dumps({"F2": _Evil()}))
    calls = []  # should the unpickler call os.system after all, nothing runs
    monkeypatch.setattr(os, "system", calls.append)
    with pytest.raises(InputError, match=r"templates.pkl: refusing to unpickle (posix|os|nt)\.system"):
        load_templates(path)
    assert calls == []
    path.write_bytes(pickle.dumps({"F2": _template(0), "M3": Fraction(1, 3)}))  # harmless, but not an array
    with pytest.raises(InputError, match="refusing to unpickle fractions.Fraction"):
        load_templates(path)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_templates_of_every_pickle_protocol_load(tmp_path, protocol):
    path = tmp_path / "templates.pkl"
    data = {"F2": _template(0).astype(np.float64), "M3": _template(1), "scalar_free": np.ones((1, 3), np.int32)}
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    templates = load_templates(path)
    assert list(templates) == ["F2", "M3", "scalar_free"]
    assert templates["F2"].dtype == np.float32 and templates["F2"].shape == (V * 3,)
    assert np.array_equal(templates["M3"], _template(1).reshape(-1))


def test_python2_style_pickle_loads(tmp_path):
    # What Python 2's cPickle wrote for VOCASET: protocol 2, the array data as a (latin-1) str.
    array = _template(0)
    payload = (
        b"\x80\x02}q\x00U\x02F2q\x01cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03K\x00"
        b"\x85q\x04U\x01b\x87q\x05Rq\x06(K\x01K\x04K\x03\x86q\x07cnumpy\ndtype\nq\x08U\x02f4K\x00K\x01\x87"
        b"q\tRq\n(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbI00\nU0" + array.tobytes() + b"tbs."
    )
    path = tmp_path / "templates.pkl"
    path.write_bytes(payload)
    assert np.array_equal(load_templates(path)["F2"], array.reshape(-1))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"garbage", "not a readable pickle"),
        (pickle.dumps([1, 2]), "expected a non-empty dict"),
        (pickle.dumps({}), "expected a non-empty dict"),
        (pickle.dumps({"F2": [1.0, 2.0, 3.0]}), "found 'F2': list"),
        (pickle.dumps({"F2": np.zeros(4)}), r"found 'F2': ndarray of shape \(4,\)"),
        (pickle.dumps({"F2": np.full((1, 3), np.nan)}), "NaN"),
    ],
)
def test_malformed_templates(tmp_path, content, message):
    path = tmp_path / "templates.pkl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_templates(path)


# -- writing ----------------------------------------------------------------------------------
def test_writer_round_trip(tmp_path):
    root = tmp_path / "new"
    audio = (0.5 * np.sin(np.linspace(0, 200, 3200))).astype(np.float32)
    frames = _frames(6).reshape(6, V, 3)  # (T, V, 3) is stored as (T, V*3)
    wav, npy = write_mesh_set_item(root, "FaceTalk_170728_03272_TA", "sentence03", audio, frames)
    stem = "FaceTalk_170728_03272_TA_sentence03"
    assert (wav.name, npy.name) == (f"{stem}.wav", f"{stem}.npy")
    assert write_templates(root, {"FaceTalk_170728_03272_TA": _template(0)}) == root / "templates.pkl"
    stored = np.load(npy)
    assert stored.dtype == np.float32 and stored.shape == (6, V * 3)
    assert soundfile.info(wav).samplerate == 16000 and soundfile.info(wav).subtype == "PCM_16"
    (sequence,) = load_mesh_set(root, VOCASET, "train")
    assert sequence.sentence == 3 and np.array_equal(sequence.vertices, _frames(6)[::2])
    assert np.allclose(sequence.audio, audio, atol=1 / 32768)
    assert sorted(p.name for p in root.rglob("*")) == sorted(
        [  # nothing but the set (no temporary files)
            "wav",
            "vertices_npy",
            "templates.pkl",
            wav.name,
            npy.name,
        ]
    )
    with open(root / "templates.pkl", "rb") as f:  # a plain pickle any loader reads
        plain = pickle.load(f)
    assert plain["FaceTalk_170728_03272_TA"].shape == (V, 3) and plain["FaceTalk_170728_03272_TA"].dtype == np.float32


def test_writer_refuses_bad_input(tmp_path):
    audio, frames = np.zeros(160, np.float32), _frames(2)
    with pytest.raises(InputError, match="subject names"):
        write_mesh_set_item(tmp_path, "../up", "sentence01", audio, frames)
    with pytest.raises(InputError, match="sentence_name"):
        write_mesh_set_item(tmp_path, "F2", "sentence_01", audio, frames)
    with pytest.raises(InputError, match="sentence_name"):
        write_mesh_set_item(tmp_path, "F2", "e1", audio, frames)
    with pytest.raises(InputError, match=r"in \[-1, 1\]"):
        write_mesh_set_item(tmp_path, "F2", "e01", audio + 2.0, frames)
    with pytest.raises(InputError, match=r"audio16k must be \(N,\) mono"):
        write_mesh_set_item(tmp_path, "F2", "e01", np.zeros((2, 160)), frames)
    with pytest.raises(InputError, match=r"vertices must be \(T, V\*3\) or \(T, V, 3\)"):
        write_mesh_set_item(tmp_path, "F2", "e01", audio, np.zeros((2, 10)))
    with pytest.raises(InputError, match="NaN"):
        write_mesh_set_item(tmp_path, "F2", "e01", audio, np.full((2, 3), np.nan))
    with pytest.raises(InputError, match=r"template of 'F2' must be \(V, 3\)"):
        write_templates(tmp_path, {"F2": np.zeros((2, 2))})
    with pytest.raises(InputError, match="non-empty dict"):
        write_templates(tmp_path, {})
    assert list(tmp_path.iterdir()) == []  # nothing written
