"""Lip vertex error (LVE) and upper-face dynamics deviation (FDD) of speech-driven 3D faces.

Both follow the evaluation of FaceFormer / CodeTalker (CodeTalker's ``main/cal_metric.py``) exactly:

- **LVE**: per frame, the largest squared L2 distance between predicted and true position over the lip
  vertices; averaged over frames. A test set is scored over all its frames pooled together (the
  reference concatenates the sequences), which is what passing lists of sequences does here.
- **FDD**: per sequence and for the truth and the prediction separately, the motion of each upper-face
  vertex is its squared L2 displacement from the speaker's template, ``||x_t - template||^2``; its
  standard deviation over time (population, ``ddof=0``) is averaged over the upper-face vertices. FDD
  is truth minus prediction (signed: positive when the prediction's upper face moves less), and a test
  set's FDD is the mean of the per-sequence values.

Units are the square of the mesh's (BIWI: mm, so mm^2; VOCASET: m^2). Papers print BIWI-Test-A values
scaled by 1e4 (LVE) and 1e5 (FDD).

Vertex groups are plain text files of vertex indices under ``regions/`` (replaceable by the user's own
through :func:`load_vertex_group`):

- ``template``: the built-in 478-vertex face. Lips: the whole lip surface (outer and inner lip contours
  and the two rings between them, 80 vertices). Upper face: eyes, irises, eyebrows, forehead, temples and
  the top of the nose bridge (every vertex at or above the lowest eye-contour point, 142 vertices).
- BIWI (23370 vertices) and FLAME (VOCASET, 5023 vertices) lists are not shipped: they come with the
  data sets and their licenses. Pass the files the published evaluations use to
  :func:`load_vertex_group` as they are (CodeTalker's comma-separated ``BIWI/regions/lve.txt`` and
  ``fdd.txt`` load unchanged), or write FLAME_masks.pkl's ``"lips"`` to a text file.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import numpy as np

from ..animation.transfer import transfer_vertex_groups
from ..errors import InputError
from ..geometry import vertex_array

REGIONS = Path(__file__).parent / "regions"
BUILT_IN_GROUPS = ("template",)


# -- metrics --------------------------------------------------------------------------------
def lip_vertex_error(pred, gt, lip_indices) -> float:
    """Mean over frames of the maximum squared L2 error over the lip vertices.

    Args:
        pred: predicted vertices ``(T, V, 3)`` or ``(T, V*3)``, numpy or torch; or a list of such
            sequences (each with its own ``T``), scored over all their frames together.
        gt: true vertices, the same shape as ``pred`` (or a list matching ``pred`` one to one). The
            reference cuts each prediction to its ground truth's length first: pass ``pred[:len(gt)]``.
        lip_indices: ``(L,)`` lip vertex indices, e.g. ``vertex_groups("template")[0]``.

    Returns:
        LVE in squared mesh units (mm^2 for BIWI).
    """
    pairs = _sequence_pairs(pred, gt)
    lips = _vertex_indices(lip_indices, pairs[0][0].shape[1], "lip_indices")
    errors = []
    for k, (p, g) in enumerate(pairs):
        p_lips, g_lips = _finite(p[:, lips], "pred", k, len(pairs)), _finite(g[:, lips], "gt", k, len(pairs))
        errors.append(np.square(p_lips - g_lips).sum(axis=-1).max(axis=-1))  # (T,)
    return float(np.concatenate(errors).mean())


def face_dynamics_deviation(pred, gt, template, upper_indices) -> float:
    """Upper-face dynamics deviation: motion std of the truth minus that of the prediction.

    For one sequence ``x`` of frames, ``motion_std(x) = mean_u std_t ||x[t, u] - template[u]||^2`` over
    the upper-face vertices ``u`` (std over time with ``ddof=0``); FDD = ``motion_std(gt) -
    motion_std(pred)``. With lists of sequences the per-sequence FDDs are averaged.

    Args:
        pred: predicted vertices ``(T, V, 3)`` or ``(T, V*3)``, numpy or torch, or a list of sequences.
        gt: true vertices of the same shape (or a list matching ``pred``).
        template: the speaker's neutral face ``(V, 3)`` or ``(V*3,)``; with lists, one template for all
            or a list with one per sequence.
        upper_indices: ``(U,)`` upper-face vertex indices, e.g. ``vertex_groups("template")[1]``.

    Returns:
        FDD in squared mesh units (signed; 0 when prediction and truth move alike).
    """
    pairs = _sequence_pairs(pred, gt)
    num_vertices = pairs[0][0].shape[1]
    upper = _vertex_indices(upper_indices, num_vertices, "upper_indices")
    templates = _templates(template, len(pairs), num_vertices)
    deviations = []
    for k, ((p, g), neutral) in enumerate(zip(pairs, templates)):
        rest = neutral[upper]
        deviations.append(
            _motion_std(_finite(g[:, upper], "gt", k, len(pairs)), rest)
            - _motion_std(_finite(p[:, upper], "pred", k, len(pairs)), rest)
        )
    return float(np.mean(deviations))


def _motion_std(frames: np.ndarray, rest: np.ndarray) -> float:
    """``frames (T, U, 3)``, ``rest (U, 3)`` -> mean over vertices of the std over time of ``||x - rest||^2``."""
    motion = np.square(frames - rest).sum(axis=-1)  # (T, U)
    return float(motion.std(axis=0).mean())


# -- vertex groups ---------------------------------------------------------------------------
def vertex_groups(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The shipped ``(lips, upper_face)`` vertex index arrays ``(L,), (U,) int64`` of a face.

    ``name`` is ``"template"`` (the built-in 478-vertex face). BIWI and FLAME regions are not shipped
    (see the module docstring); load their files with :func:`load_vertex_group`.
    """
    if not isinstance(name, str) or name.lower() not in BUILT_IN_GROUPS:
        hint = (
            " (BIWI and FLAME regions are not shipped: pass their region files, e.g. CodeTalker's "
            "regions/lve.txt or FLAME_masks.pkl's 'lips' written as text, to load_vertex_group(path))"
            if str(name).lower() in ("flame", "vocaset", "biwi")
            else ""
        )
        raise InputError(f"no built-in vertex groups for {name!r}; known: {', '.join(BUILT_IN_GROUPS)}{hint}")
    return _built_in(f"{name.lower()}_lips"), _built_in(f"{name.lower()}_upper")


def vertex_groups_for(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lips, upper_face)`` indices on any face's vertices ``(V, 3)`` (FLAME, BIWI, a scan; y up,
    facing +z): the built-in face's groups, found there by fitting the built-in face onto it. For the
    published numbers use the published region files; this is for meshes that have none."""

    lips, upper = vertex_groups("template")
    found = transfer_vertex_groups({"lips": lips, "upper": upper}, vertices)
    if not len(found["lips"]) or not len(found["upper"]):
        raise InputError("could not find the lips and upper face on this mesh (is it a face, y up, facing +z?)")
    return found["lips"], found["upper"]


@cache
def _built_in(stem: str) -> np.ndarray:
    indices = _read_vertex_group(REGIONS / f"{stem}.txt")
    indices.setflags(write=False)
    return indices


def load_vertex_group(path: str | os.PathLike, num_vertices: int | None = None) -> np.ndarray:
    """Read vertex indices from a text file: integers separated by whitespace, newlines or commas.

    Text after ``#`` on a line is a comment. CodeTalker's comma-separated ``regions/lve.txt`` and
    ``fdd.txt`` load as they are. The name of a shipped list (``"template_lips"``, ``"template_upper"``)
    also works when no file of that name exists. Order and repeats are kept as written.

    Args:
        path: the file.
        num_vertices: when given, every index must be below it.

    Returns:
        ``(N,) int64`` indices.

    Raises:
        InputError: missing file, a token that is not a non-negative integer, no indices, or an index
            out of range.
    """
    p = Path(path)
    if not p.is_file():
        stem = os.fspath(path)
        if os.sep not in stem and "/" not in stem and (REGIONS / f"{stem}.txt").is_file():
            indices = _built_in(stem).copy()
        else:
            shipped = ", ".join(sorted(f.stem for f in REGIONS.glob("*.txt")))
            raise InputError(
                f"{p}: vertex group file not found (expected a text file of vertex indices, "
                f"or a shipped group: {shipped})"
            )
    else:
        indices = _read_vertex_group(p)
    if num_vertices is not None and len(indices) and indices.max() >= num_vertices:
        raise InputError(
            f"{p}: vertex index {int(indices.max())} is out of range for a mesh of "
            f"{num_vertices} vertices (expected 0..{num_vertices - 1})"
        )
    return indices


def _read_vertex_group(path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: unreadable vertex group file ({' '.join(str(error).split())})") from None
    indices = []
    for number, line in enumerate(text.splitlines(), start=1):
        for token in re.split(r"[\s,]+", line.split("#", 1)[0].strip()):
            if not token:
                continue
            if not re.fullmatch(r"[+-]?\d+", token):
                raise InputError(f"{path}: line {number}: expected vertex indices (integers), found {token[:40]!r}")
            value = int(token)
            if value < 0:
                raise InputError(f"{path}: line {number}: vertex index {value} is negative (expected >= 0)")
            indices.append(value)
    if not indices:
        raise InputError(f"{path}: no vertex indices in the file (expected integers separated by whitespace or commas)")
    return np.asarray(indices, dtype=np.int64)


# -- validation -------------------------------------------------------------------------------
def _sequence_pairs(pred, gt) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(pred (T, V, 3), gt (T, V, 3)), ...]`` from one sequence each or two matching lists."""
    if isinstance(pred, (list, tuple)) or isinstance(gt, (list, tuple)):
        if not isinstance(pred, (list, tuple)) or not isinstance(gt, (list, tuple)):
            raise InputError(
                "pred and gt must both be single sequences or both lists of sequences, "
                f"got {type(pred).__name__} and {type(gt).__name__}"
            )
        if len(pred) != len(gt) or not pred:
            raise InputError(f"pred and gt must be non-empty lists of the same length, got {len(pred)} and {len(gt)}")
        pairs = [_pair(p, g, f"sequence {k}: ") for k, (p, g) in enumerate(zip(pred, gt))]
    else:
        pairs = [_pair(pred, gt, "")]
    num_vertices = pairs[0][0].shape[1]
    for k, (p, _) in enumerate(pairs):
        if p.shape[1] != num_vertices:
            raise InputError(
                f"sequence {k} has {p.shape[1]} vertices, sequence 0 has {num_vertices}: "
                "all sequences must share one mesh topology"
            )
    return pairs


def _pair(pred, gt, where: str) -> tuple[np.ndarray, np.ndarray]:
    p, g = _frames(pred, f"{where}pred"), _frames(gt, f"{where}gt")
    if p.shape != g.shape:
        raise InputError(
            f"{where}pred and gt must have the same frames and vertices, got pred {p.shape} "
            f"and gt {g.shape} (the reference cuts the prediction to the truth: pred[:len(gt)])"
        )
    return p, g


def _frames(x, what: str) -> np.ndarray:
    """``(T, V, 3)`` numeric array from ``(T, V, 3)`` or ``(T, V*3)`` numpy / torch input (a view, no copy)."""
    array = _numpy(x)
    if array.dtype.kind not in "fiu":
        raise InputError(f"{what} must be numeric vertex positions, got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] % 3 == 0:
        array = array.reshape(len(array), -1, 3)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"{what} must be (T, V, 3) or (T, V*3) vertex frames, got shape {tuple(array.shape)}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError(f"{what} has no frames or no vertices: shape {tuple(array.shape)}")
    return array


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _templates(template, count: int, num_vertices: int) -> list[np.ndarray]:
    if isinstance(template, (list, tuple)):
        if len(template) != count:
            raise InputError(
                f"got {len(template)} templates for {count} sequences (give one template, or one per sequence)"
            )
        items = list(template)
    else:
        items = [template] * count
    result = []
    for k, item in enumerate(items):
        array = _numpy(item)
        what = "template" if count == 1 or not isinstance(template, (list, tuple)) else f"template {k}"
        result.append(vertex_array(array, what, num_vertices, " to match the meshes", np.float64))
    return result


def _vertex_indices(indices, num_vertices: int, what: str) -> np.ndarray:
    array = _numpy(indices)
    if array.ndim != 1 or array.size == 0:
        raise InputError(f"{what} must be a non-empty 1-D list of vertex indices, got shape {tuple(array.shape)}")
    if array.dtype.kind not in "iu":
        raise InputError(f"{what} must be integers, got dtype {array.dtype}")
    if array.min() < 0 or array.max() >= num_vertices:
        bad = int(array.min()) if array.min() < 0 else int(array.max())
        raise InputError(
            f"{what} holds vertex {bad}, outside 0..{num_vertices - 1} of meshes with "
            f"{num_vertices} vertices (wrong vertex group for this mesh?)"
        )
    return array.astype(np.int64)


def _finite(frames: np.ndarray, what: str, index: int, count: int) -> np.ndarray:
    values = frames.astype(np.float64)
    if not np.isfinite(values).all():
        where = f"sequence {index}: " if count > 1 else ""
        raise InputError(f"{where}{what} contains NaN or infinite values at the evaluated vertices")
    return values
