"""VOCASET and BIWI in the layout FaceFormer's data loader reads, and a writer of that layout.

Layout under ``root``::

    wav/<subject>_<sentence>.wav            speech (any rate; loaded as 16 kHz mono float32)
    vertices_npy/<subject>_<sentence>.npy   float (T, V*3) vertex positions per frame
    templates.pkl                           pickle of {subject: (V, 3) neutral face}

As in FaceFormer (``data_loader.py``): the subject is the file stem without its last ``_`` part
(``FaceTalk_170728_03272_TA_sentence01`` -> ``FaceTalk_170728_03272_TA``, BIWI ``F2_e01`` -> ``F2``), the
sentence id is the integer of the stem's last two characters, a wav without its npy is skipped, and a
sequence belongs to a split when its subject is one of the split's subjects and its sentence id is in the
split's range. VOCASET vertices are stored at 60 fps and used every second frame (30 fps); BIWI's are
25 fps as stored.

``templates.pkl`` is read with an unpickler that only builds numpy arrays (the original files were
written by Python 2, hence ``latin1``); anything else in the file is refused. The npy files are read
without pickle support. Opening a set reads only the npy headers; vertices and audio are read when a
sequence's :attr:`MeshSequence.vertices` / :attr:`MeshSequence.audio` is first used, then kept.
"""

from __future__ import annotations

import codecs
import importlib
import io
import os
import pickle
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import choices
from ..errors import InputError
from ..files import atomic_output
from ..geometry import vertex_array

SAMPLE_RATE = 16000
SPLITS = ("train", "val", "test")


# -- layouts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeshLayout:
    """How a set is split and at which rate its vertices are used.

    Attributes:
        name: label for messages.
        fps: frame rate of the sequences as loaded (frames per second).
        step: keep every ``step``-th stored frame (VOCASET 2: stored at 60 fps, used at 30).
        train_subjects: training speakers; their order defines the speaker one-hot index.
        val_subjects, test_subjects: speakers of the validation and test splits.
        train_sentences, val_sentences, test_sentences: sentence ids of each split.
    """

    name: str
    fps: float
    step: int = 1
    train_subjects: tuple[str, ...] = ()
    val_subjects: tuple[str, ...] = ()
    test_subjects: tuple[str, ...] = ()
    train_sentences: range = range(1, 100)
    val_sentences: range = range(1, 100)
    test_sentences: range = range(1, 100)

    def __post_init__(self):
        if not (isinstance(self.step, int) and self.step >= 1):
            raise InputError(f"layout {self.name!r}: step must be an int >= 1, got {self.step!r}")
        if not self.fps > 0:
            raise InputError(f"layout {self.name!r}: fps must be positive, got {self.fps!r}")
        for split in SPLITS:
            subjects = getattr(self, f"{split}_subjects")
            if isinstance(subjects, str) or not all(isinstance(s, str) and s for s in subjects):
                raise InputError(f"layout {self.name!r}: {split}_subjects must be a tuple of names, got {subjects!r}")
            object.__setattr__(self, f"{split}_subjects", tuple(subjects))

    @property
    def source_fps(self) -> float:
        """Frame rate of the stored npy files (``fps * step``)."""
        return self.fps * self.step

    def subjects(self, split: str) -> tuple[str, ...]:
        return getattr(self, f"{_split(split)}_subjects")

    def sentences(self, split: str) -> range:
        return getattr(self, f"{_split(split)}_sentences")


VOCASET = MeshLayout(
    name="vocaset",
    fps=30,
    step=2,
    train_subjects=choices.VOCASET_SPEAKERS,
    val_subjects=("FaceTalk_170811_03275_TA", "FaceTalk_170908_03277_TA"),
    test_subjects=("FaceTalk_170809_00138_TA", "FaceTalk_170731_00024_TA"),
    train_sentences=range(1, 41),
    val_sentences=range(21, 41),
    test_sentences=range(21, 41),
)
"""FaceFormer's VOCASET split: 8 / 2 / 2 subjects; sentences 1-40 train, 21-40 val and test; 60 -> 30 fps."""

BIWI = MeshLayout(
    name="biwi",
    fps=25,
    step=1,
    train_subjects=choices.BIWI_SPEAKERS,
    val_subjects=choices.BIWI_SPEAKERS,
    test_subjects=choices.BIWI_SPEAKERS,
    train_sentences=range(1, 33),
    val_sentences=range(33, 37),
    test_sentences=range(37, 41),
)
"""FaceFormer's BIWI split (BIWI-Test-A): the same six subjects, sentences 1-32 / 33-36 / 37-40; 25 fps."""


def train_subjects(layout: MeshLayout) -> list[str]:
    """The training speakers in order: speaker ``k`` is one-hot index ``k`` (FaceFormer's ``obj_vector``)."""
    return list(layout.train_subjects)


def speaker_one_hot(layout: MeshLayout, subject: str) -> np.ndarray:
    """``(len(train_subjects),) float32`` one-hot of a training speaker."""
    subjects = train_subjects(layout)
    if subject not in subjects:
        raise InputError(
            f"{subject!r} is not a training subject of layout {layout.name!r} "
            f"(expected one of: {', '.join(subjects) or 'none'})"
        )
    one_hot = np.zeros(len(subjects), np.float32)
    one_hot[subjects.index(subject)] = 1.0
    return one_hot


def _split(split: str) -> str:
    if split not in SPLITS:
        raise InputError(f"split must be one of {', '.join(SPLITS)} (or None for all), got {split!r}")
    return split


# -- sequences ------------------------------------------------------------------------------
@dataclass(eq=False)
class MeshSequence:
    """One sentence of one speaker. ``vertices`` and ``audio`` are read on first use and kept.

    Attributes:
        name: file stem, e.g. ``"FaceTalk_170728_03272_TA_sentence01"``.
        subject: speaker (the stem without its last ``_`` part).
        sentence: sentence id (the stem's last two characters).
        fps: vertex frames per second of :attr:`vertices`.
        template: ``(V*3,) float32`` the speaker's neutral face.
        num_frames: frames of :attr:`vertices` (known without reading them).
        wav_path, npy_path: the files.
        step: stored frames kept (every ``step``-th).
    """

    name: str
    subject: str
    sentence: int
    fps: float
    template: np.ndarray = field(repr=False)
    num_frames: int
    wav_path: Path
    npy_path: Path
    step: int = 1

    @property
    def num_vertices(self) -> int:
        return len(self.template) // 3

    @cached_property
    def vertices(self) -> np.ndarray:
        """``(T, V*3) float32`` positions at :attr:`fps` (raw, not offsets from the template)."""
        try:
            stored = np.load(self.npy_path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise InputError(f"{self.npy_path}: unreadable npy file ({_one_line(error)})") from None
        vertices = np.ascontiguousarray(stored[:: self.step], dtype=np.float32)
        if vertices.shape != (self.num_frames, len(self.template)):
            raise InputError(
                f"{self.npy_path}: expected ({self.num_frames}, {len(self.template)}) after "
                f"keeping every {self.step}. frame, found {vertices.shape} (file changed?)"
            )
        if not np.isfinite(vertices).all():
            raise InputError(f"{self.npy_path}: contains NaN or infinite vertex positions")
        return vertices

    @cached_property
    def audio(self) -> np.ndarray:
        """``(N,) float32`` mono samples at 16 kHz, as decoded (not normalised)."""
        from ..media import load_audio

        return load_audio(self.wav_path, SAMPLE_RATE)


INCOMPLETE = ".incomplete"  # in a set's folder while it is being made (holds the maker's process id)


def load_mesh_set(
    root: str | os.PathLike,
    layout: MeshLayout = VOCASET,
    split: str | None = None,
    subjects: Iterable[str] | None = None,
    sentences: Container[int] | None = None,
) -> list[MeshSequence]:
    """The sequences of a set in the VOCASET/BIWI layout, sorted by name.

    Args:
        root: folder holding ``wav/``, ``vertices_npy/`` and ``templates.pkl``.
        layout: :data:`VOCASET`, :data:`BIWI` or a :class:`MeshLayout` of your own (its frame step and
            fps apply; its subjects and sentences define the splits).
        split: ``"train"``, ``"val"``, ``"test"``, or None for every sequence found.
        subjects: speakers to keep instead of the split's (with ``split=None``: only these).
        sentences: sentence ids to keep instead of the split's, e.g. ``range(1, 41)``.

    Returns:
        :class:`MeshSequence` list; only npy headers and the templates have been read.

    Raises:
        InputError: missing folders or templates.pkl; a refused or malformed pickle; a file name that is
            not ``<subject>_<sentence>`` ending in two digits; a subject missing from templates.pkl; an
            npy that is not ``(T, V*3)`` numbers matching its template; nothing selected.
    """
    root = Path(root)
    wav_dir, npy_dir, template_file = _set_folders(root)
    if split is not None:
        _split(split)
    wanted_subjects = (
        set(subjects) if subjects is not None else (set(layout.subjects(split)) if split is not None else None)
    )
    wanted_sentences = sentences if sentences is not None else (layout.sentences(split) if split is not None else None)

    templates = load_templates(template_file)
    found, sequences = set(), []
    for wav in sorted(wav_dir.glob("*.wav")):
        npy = npy_dir / f"{wav.stem}.npy"
        if not npy.is_file():
            continue  # as the reference: speech without vertices is not a sequence
        subject, sentence = parse_name(wav.stem)
        found.add(subject)
        if wanted_subjects is not None and subject not in wanted_subjects:
            continue
        if wanted_sentences is not None and sentence not in wanted_sentences:
            continue
        if subject not in templates:
            known = sorted(templates)
            raise InputError(
                f"{template_file}: no template for subject {subject!r} of {wav.name} (it holds "
                f"{len(known)}: {', '.join(known[:6])}{', ...' if len(known) > 6 else ''})"
            )
        template = templates[subject]
        num_frames = _check_npy(npy, len(template), layout.step)
        sequences.append(
            MeshSequence(
                name=wav.stem,
                subject=subject,
                sentence=sentence,
                fps=layout.fps,
                template=template,
                num_frames=num_frames,
                wav_path=wav,
                npy_path=npy,
                step=layout.step,
            )
        )
    if not sequences:
        raise InputError(_nothing_selected(root, layout, split, wanted_subjects, wanted_sentences, found))
    return sequences


def _set_folders(root: Path) -> tuple[Path, Path, Path]:
    """A set's ``wav/`` and ``vertices_npy/`` folders and its ``templates.pkl``, checked."""
    if (root / INCOMPLETE).exists():
        raise InputError(
            f"{root}: the set is incomplete ({INCOMPLETE}: its making is under way or was interrupted); "
            "make it again with make-dataset --overwrite"
        )
    wav_dir, npy_dir, template_file = root / "wav", root / "vertices_npy", root / "templates.pkl"
    for folder in (wav_dir, npy_dir):
        if not folder.is_dir():
            raise InputError(f"{root}: no {folder.name}/ folder (expected wav/, vertices_npy/ and templates.pkl)")
    if not template_file.is_file():
        raise InputError(f"{root}: no templates.pkl (expected wav/, vertices_npy/ and templates.pkl)")
    return wav_dir, npy_dir, template_file


def _nothing_selected(root: Path, layout: MeshLayout, split, subjects, sentences, found: set[str]) -> str:
    """Why a set gave no sequences: what was asked for and which subjects it has."""
    wanted = [f"split {split!r} of layout {layout.name!r}"] if split is not None else []
    if subjects is not None:
        wanted.append(f"subjects {', '.join(sorted(subjects)) or 'none'}")
    if sentences is not None:
        wanted.append(f"sentences {_describe(sentences)}")
    return (
        f"{root}: no sequences{' of ' + ', '.join(wanted) if wanted else ''}; the wav files "
        f"that have an npy are of subjects: {', '.join(sorted(found)) or 'none'}"
    )


def _describe(sentences) -> str:
    if isinstance(sentences, range) and sentences.step == 1 and len(sentences):
        return f"{sentences.start}-{sentences.stop - 1}"
    return repr(sentences)


def parse_name(stem: str) -> tuple[str, int]:
    """``(subject, sentence id)`` of a file stem ``<subject>_<sentence>``: ``"F2_e01"`` -> ``("F2", 1)``."""
    subject, _, last = stem.rpartition("_")
    if not subject or not last or not stem[-2:].isdigit() or not stem[-2:].isascii():
        raise InputError(
            f"{stem}: expected a file name <subject>_<sentence> whose last two characters are "
            "the sentence number (e.g. FaceTalk_170728_03272_TA_sentence01, F2_e01)"
        )
    return subject, int(stem[-2:])


def _check_npy(path: Path, width: int, step: int) -> int:
    """Frames kept from ``path`` after checking its header: ``(T, width)`` numbers, ``T >= 1``."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
    except (OSError, ValueError, EOFError) as error:
        raise InputError(f"{path}: not a readable npy file ({_one_line(error)})") from None
    if dtype.kind not in "fiu" or len(shape) != 2 or shape[1] != width or shape[0] < 1:
        raise InputError(
            f"{path}: expected (T, {width}) numbers (T >= 1 frames of the subject's {width // 3} "
            f"template vertices x 3), found shape {shape} dtype {dtype}"
        )
    return len(range(0, shape[0], step))


# -- templates.pkl ---------------------------------------------------------------------------
_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
}


_MAX_TEMPLATE_VALUES = 50_000_000  # 200 MB of float32: far more than any head mesh


class _BoundedArray(np.ndarray):
    """``numpy.ndarray`` as a pickle may call it, refusing shapes larger than a template could be."""

    def __new__(cls, shape=(), dtype=float, *args, **kwargs):
        dims = shape if isinstance(shape, tuple) else (shape,)
        try:
            size = int(np.prod([int(d) for d in dims], dtype=object))
            itemsize = np.dtype(dtype).itemsize
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"an array with shape {str(shape)[:60]} is not a template") from None
        if size < 0 or size > _MAX_TEMPLATE_VALUES or size * itemsize > 8 * _MAX_TEMPLATE_VALUES:
            raise InputError(f"an array of {size} values is larger than any template")
        return np.ndarray.__new__(np.ndarray, shape, dtype, *args, **kwargs)


class _ArrayUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings, numbers and numpy arrays/scalars; refuses every other global, and
    arrays larger than a template could be (a few bytes of pickle can ask for gigabytes)."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):  # bytes in protocol-2 pickles written by Python 3
            return codecs.encode
        target = _NUMPY_GLOBALS.get((module, name))
        if target is None:
            raise InputError(
                f"{self.path}: refusing to unpickle {module}.{name} (templates.pkl may only hold "
                "a dict of numpy arrays)"
            )
        where, attribute = target
        if (where, attribute) == ("numpy", "ndarray"):
            return _BoundedArray
        if where == "numpy":
            return getattr(np, attribute)
        for candidate in (f"numpy._core.{where}", f"numpy.core.{where}"):  # numpy 2 names, then numpy 1
            try:
                return getattr(importlib.import_module(candidate), attribute)
            except (ImportError, AttributeError):
                continue
        raise InputError(f"{self.path}: cannot unpickle {module}.{name} with numpy {np.__version__}")


def load_templates(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``{subject: (V*3,) float32}`` from a ``templates.pkl`` of ``{subject: (V, 3) array}``.

    Raises:
        InputError: missing or unreadable file, a global other than numpy's array machinery, or content
            that is not a dict of finite numeric arrays with a multiple of 3 values.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read templates ({_one_line(error)})") from None
    try:
        templates = _ArrayUnpickler(io.BytesIO(data), path).load()
    except InputError:
        raise
    except Exception as error:  # a damaged pickle raises anything from EOFError to KeyError
        raise InputError(f"{path}: not a readable pickle ({type(error).__name__}: {_one_line(error)})") from None
    if not isinstance(templates, Mapping) or not templates:
        raise InputError(
            f"{path}: expected a non-empty dict {{subject: (V, 3) array}}, found {type(templates).__name__}"
        )
    result = {}
    for subject, array in templates.items():
        if (
            not isinstance(subject, str)
            or not isinstance(array, np.ndarray)
            or array.dtype.kind not in "fiu"
            or array.size == 0
            or array.size % 3
        ):
            shape = getattr(array, "shape", None)
            raise InputError(
                f"{path}: expected {{subject name: (V, 3) numeric array}}, found {subject!r}: "
                f"{'ndarray' if isinstance(array, np.ndarray) else type(array).__name__}{f' of shape {shape}' if shape is not None else ''}"
            )
        flat = np.ascontiguousarray(array, dtype=np.float32).reshape(-1)
        if not np.isfinite(flat).all():
            raise InputError(f"{path}: template of {subject!r} contains NaN or infinite values")
        result[subject] = flat
    return result


# -- writing ---------------------------------------------------------------------------------
def write_templates(root: str | os.PathLike, templates: Mapping[str, np.ndarray]) -> Path:
    """Write ``root/templates.pkl``: a plain pickle of ``{subject: (V, 3) float32}``.

    Args:
        root: the set's folder (created if missing).
        templates: neutral face per subject, ``(V, 3)`` or ``(V*3,)`` each.

    Returns:
        The path written (atomically; an existing file is replaced as a whole).
    """

    if not isinstance(templates, Mapping) or not templates:
        raise InputError("templates must be a non-empty dict {subject: (V, 3) array}")
    clean = {}
    for subject, array in templates.items():
        _check_subject(subject)
        clean[subject] = vertex_array(array, f"template of {subject!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "templates.pkl"
    with atomic_output(path) as tmp:
        tmp.write_bytes(pickle.dumps(clean, protocol=4))
    return path


def write_mesh_set_item(
    root: str | os.PathLike, subject: str, sentence_name: str, audio16k: np.ndarray, vertices: np.ndarray
) -> tuple[Path, Path]:
    """Write one sequence: ``vertices_npy/<subject>_<sentence_name>.npy``, then ``wav/<same>.wav``.

    Each file appears whole or not at all, and the npy is written first, so an interrupted writer never
    leaves a wav that the loader would take for a sequence with damaged vertices.

    Args:
        root: the set's folder (``wav/`` and ``vertices_npy/`` are created as needed).
        subject: speaker name; letters, digits, ``_``, ``-`` and ``.`` (it must match a key of
            templates.pkl, see :func:`write_templates`).
        sentence_name: last part of the stem, without ``_`` and ending in the two-digit sentence id
            (``"sentence01"``, ``"e37"``).
        audio16k: ``(N,)`` mono samples at 16 kHz in [-1, 1]; stored as 16-bit PCM.
        vertices: ``(T, V*3)`` or ``(T, V, 3)`` positions at the layout's stored rate (``fps * step``:
            60 fps for :data:`VOCASET`); stored as float32 ``(T, V*3)``.

    Returns:
        ``(wav path, npy path)``.
    """
    from ..media import write_wav

    _check_subject(subject)
    if not isinstance(sentence_name, str) or not re.fullmatch(r"[A-Za-z0-9.-]*[0-9]{2}", sentence_name):
        raise InputError(
            f"sentence_name must be letters/digits without '_' ending in a two-digit sentence "
            f"id (e.g. 'sentence01', 'e37'), got {sentence_name!r}"
        )
    samples = np.asarray(audio16k)
    if samples.ndim != 1 or samples.size == 0 or samples.dtype.kind not in "fiu":
        raise InputError(
            f"audio16k must be (N,) mono samples with N >= 1, got shape {samples.shape} dtype {samples.dtype}"
        )
    samples = samples.astype(np.float32)
    if not np.isfinite(samples).all() or np.abs(samples).max() > 1.0:
        raise InputError(
            f"audio16k must hold finite samples in [-1, 1] (16-bit PCM), got peak {np.nanmax(np.abs(samples)):.3g}"
        )
    frames = np.asarray(vertices)
    if frames.ndim == 3 and frames.shape[2] == 3:
        frames = frames.reshape(len(frames), -1)
    if (
        frames.ndim != 2
        or frames.shape[0] < 1
        or frames.shape[1] < 3
        or frames.shape[1] % 3
        or frames.dtype.kind not in "fiu"
    ):
        raise InputError(
            f"vertices must be (T, V*3) or (T, V, 3) numbers with T >= 1, got shape "
            f"{np.shape(vertices)} dtype {frames.dtype}"
        )
    if not np.isfinite(frames).all():
        raise InputError("vertices contain NaN or infinite values")
    root = Path(root)
    stem = f"{subject}_{sentence_name}"
    wav_path, npy_path = root / "wav" / f"{stem}.wav", root / "vertices_npy" / f"{stem}.npy"
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    npy_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(npy_path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(frames, dtype=np.float32), allow_pickle=False)
    write_wav(wav_path, samples, SAMPLE_RATE)
    return wav_path, npy_path


def valid_subject(name) -> bool:
    """Whether ``name`` can be a subject: letters, digits, ``_``, ``-`` and ``.``, starting with a letter
    or digit and not ending in ``_`` (the stem's last ``_`` separates subject and sentence)."""
    return (
        isinstance(name, str)
        and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) is not None
        and not name.endswith("_")
    )


def _check_subject(subject) -> None:
    if not valid_subject(subject):
        raise InputError(
            f"subject names are letters, digits, '_', '-' and '.' (starting with a letter or digit), got {subject!r}"
        )


def _one_line(error) -> str:
    return " ".join(str(error).split())


SPLIT_FILE = "split.json"


@dataclass(frozen=True)
class SetSplit:
    """The split a set proposes for itself (``split.json`` beside ``wav/``): its layout, the speakers to
    train on (their order is the speaker one-hot) and to hold out, and the sentence ids of each part.
    ``talkingface make-dataset`` writes one, so that ``talkingface train`` needs no split flags."""

    layout: str
    train_subjects: tuple[str, ...]
    val_subjects: tuple[str, ...]
    train_sentences: tuple[int, ...] | None = None
    val_sentences: tuple[int, ...] | None = None


def write_split(root: str | os.PathLike, split: SetSplit) -> Path:
    """Write ``root/split.json`` (atomically)."""
    import dataclasses
    import json

    path = Path(root) / SPLIT_FILE
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(dataclasses.asdict(split), indent=1) + "\n")
    return path


def read_split(root: str | os.PathLike) -> SetSplit | None:
    """The set's own split from ``root/split.json``, or None when it has none."""
    import json

    path = Path(root) / SPLIT_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())

        def ids(key: str) -> tuple[int, ...] | None:
            return tuple(int(i) for i in data[key]) if data.get(key) is not None else None

        split = SetSplit(
            str(data["layout"]),
            tuple(str(s) for s in data["train_subjects"]),
            tuple(str(s) for s in data["val_subjects"]),
            ids("train_sentences"),
            ids("val_sentences"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path}: not a split file (layout, train_subjects, val_subjects, ...)") from None
    if split.layout not in choices.MESH_LAYOUTS or not split.train_subjects:
        raise InputError(f"{path}: needs a layout (vocaset or biwi) and at least one training subject")
    return split
