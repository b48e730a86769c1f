"""Triangle meshes for 3D face animation: the built-in 478-vertex face, and OBJ/PLY templates.

The built-in template (``face_template()``) has the 478-point topology of the face landmarks, so the
landmark rig drives it directly; its triangles are mediapipe's tessellation plus the two iris discs,
wound counter-clockwise seen from outside. Coordinates are metres with y up and z towards the viewer.
Other templates - a FLAME head (5023 vertices), a BIWI face (23370), any OBJ or PLY - load with
:func:`load_mesh`; the rig reaches them through :mod:`talkingface.animation.transfer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MediaError
from ..face.template import template_points
from ..face.topology import face_topology
from ..files import atomic_output


@dataclass
class Mesh:
    """A triangle mesh.

    Attributes:
        vertices: ``(V, 3) float32``.
        faces: ``(F, 3) int32`` counter-clockwise seen from outside.
        groups: named vertex index arrays (lips, jaw, eyes... for the built-in face).
        name: where it came from.
    """

    vertices: np.ndarray
    faces: np.ndarray
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self):
        self.vertices = np.asarray(self.vertices, np.float32)
        faces = np.asarray(self.faces)
        # Checked before the int32 cast, which would wrap a huge index round into range.
        if faces.size and (faces.min() < 0 or faces.max() >= len(self.vertices)):
            raise InputError("mesh faces index vertices that do not exist")
        self.faces = faces.astype(np.int32)
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3 or len(self.vertices) < 3:
            raise InputError(f"mesh vertices must be (V, 3) with V >= 3, got {self.vertices.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or len(self.faces) == 0:
            raise InputError(f"mesh faces must be (F, 3) triangles, got {self.faces.shape}")
        if not np.isfinite(self.vertices).all():
            raise InputError("mesh vertices are not all finite numbers (NaN or infinity)")

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)


def incidence(faces: np.ndarray, num_vertices: int):
    """Sparse ``(V, F)`` matrix with a 1 where a vertex belongs to a face (sums face values per vertex)."""
    from scipy.sparse import csr_matrix

    faces = np.asarray(faces)
    rows = faces.reshape(-1)
    cols = np.repeat(np.arange(len(faces)), 3)
    return csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(num_vertices, len(faces)))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, vertex_faces=None) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` of one frame ``(V, 3)``.

    ``vertex_faces`` is :func:`incidence` of the faces, precomputed when normals are needed per frame.
    """
    v = np.asarray(vertices, np.float32)
    tri = v[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    matrix = vertex_faces if vertex_faces is not None else incidence(faces, len(v))
    normals = np.asarray(matrix @ face_normals, np.float32)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(length, 1e-12)


def _facing_viewer(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces wound so that most of the surface faces +z (the viewer)."""
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return faces if normals[:, 2].sum() >= 0 else faces[:, ::-1].copy()


@lru_cache(maxsize=1)
def _template_data() -> tuple[np.ndarray, np.ndarray]:
    vertices = np.array(template_points())
    topo = face_topology()
    irises = []
    for name in ("right_iris", "left_iris"):
        centre, *ring = topo.group(name)
        irises += [(centre, ring[k], ring[(k + 1) % len(ring)]) for k in range(len(ring))]
    faces = _facing_viewer(vertices, np.asarray(topo.triangles, np.int64))
    iris_faces = _facing_viewer(vertices, np.asarray(irises, np.int64))
    return vertices, np.concatenate([faces, iris_faces]).astype(np.int32)


def face_template() -> Mesh:
    """The built-in neutral face: 478 vertices (landmark topology), closed mouth, metres."""
    vertices, faces = _template_data()
    groups = {name: np.asarray(idx) for name, idx in face_topology().groups.items()}
    return Mesh(vertices.copy(), faces.copy(), groups, name="talkingface face (478)")


# -- files ----------------------------------------------------------------------------------
def load_mesh(path: str | os.PathLike) -> Mesh:
    """Read an OBJ or PLY (ASCII or binary little-endian) triangle or polygon mesh."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(p, "file not found")
    suffix = p.suffix.lower()
    try:
        if suffix == ".obj":
            vertices, faces = _read_obj(p)
        elif suffix == ".ply":
            vertices, faces = _read_ply(p)
        else:
            raise MediaError(p, f"mesh files must be .obj or .ply, not {suffix or 'no extension'}")
    except (ValueError, IndexError, KeyError, StopIteration, OverflowError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split()) or "it ends too early"
        if isinstance(error, KeyError):
            reason = f"unknown type or element {error}"
        raise MediaError(p, f"unreadable mesh ({reason[:200]})") from None
    if len(faces) == 0:
        raise MediaError(p, "the mesh has no faces")
    try:
        return Mesh(vertices, faces, name=p.name)
    except InputError as error:
        raise MediaError(p, str(error)) from None


def _fan(polygon: list[int]) -> list[tuple[int, int, int]]:
    return [(polygon[0], polygon[k], polygon[k + 1]) for k in range(1, len(polygon) - 1)]


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    vertices, faces = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            vertices.append([float(x) for x in parts[1:4]])
        elif parts[0] == "f":
            polygon = []
            for token in parts[1:]:
                index = int(token.split("/")[0])
                polygon.append(index - 1 if index > 0 else len(vertices) + index)
            faces += _fan(polygon)
    return np.array(vertices, np.float32).reshape(-1, 3), np.array(faces, np.int64).reshape(-1, 3)


_PLY_TYPES = {
    "char": "i1",
    "uchar": "u1",
    "short": "i2",
    "ushort": "u2",
    "int": "i4",
    "uint": "u4",
    "float": "f4",
    "double": "f8",
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}


def _read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = path.read_bytes()
    fmt, elements, end = _ply_header(data)
    if fmt == "ascii":
        return _ply_ascii(data[end:], elements)
    if fmt != "binary_little_endian":
        raise ValueError(f"PLY format {fmt} is not supported (ascii, binary_little_endian)")
    return _ply_binary(data[end:], elements)


def _ply_header(data: bytes) -> tuple[str, list[dict[str, Any]], int]:
    """A PLY's format, its elements (name, count and props, each a split property line) and where its
    body begins."""
    if b"end_header" not in data[:65536]:
        raise ValueError("no 'end_header' in its first 64 KB")
    end = data.index(b"end_header") + len(b"end_header")
    end = data.index(b"\n", end) + 1
    header = data[:end].decode("ascii", "replace").splitlines()
    if not header or header[0].strip() != "ply":
        raise ValueError("no 'ply' header")
    formats = [line.split() for line in header if line.startswith("format")]
    if not formats or len(formats[0]) < 2:
        raise ValueError("no 'format' line in its header")
    fmt = formats[0][1]
    elements: list[dict[str, Any]] = []  # name, count and props (each a split property line)
    current: dict[str, Any] | None = None
    for line in header:
        parts = line.split()
        if parts[:1] == ["element"]:
            count = int(parts[2])
            if not 0 <= count <= 50_000_000:
                raise ValueError(f"element {parts[1]} has {count} entries")
            current = {"name": parts[1], "count": count, "props": []}
            elements.append(current)
        elif parts[:1] == ["property"] and current is not None:
            types = parts[2:4] if parts[1:2] == ["list"] else parts[1:2]
            named = len(parts) >= (5 if parts[1:2] == ["list"] else 3)
            unknown = [t for t in types if t not in _PLY_TYPES] or ([] if named else ["?"])
            if unknown:
                raise ValueError(f"property line {line.strip()[:80]!r} has an unknown type or no name")
            current["props"].append(parts[1:])
    return fmt, elements, end


def _ply_ascii(body: bytes, elements: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    tokens = iter(body.decode("ascii").split())
    values: dict[str, list[list[Any]]] = {}  # per element, its rows of numbers and lists of numbers
    for el in elements:
        rows = []
        for _ in range(el["count"]):
            row: list[Any] = []
            for prop in el["props"]:
                if prop[0] == "list":
                    n = int(next(tokens))
                    row.append([float(next(tokens)) for _ in range(n)])
                else:
                    row.append(float(next(tokens)))
            rows.append(row)
        values[el["name"]] = rows
    if "vertex" not in values:
        raise ValueError("no vertex element")
    vertices = np.array([r[:3] for r in values["vertex"]], np.float32)
    triangles = [t for r in values.get("face", []) for t in _fan([int(i) for i in r[0]])]
    return vertices, np.array(triangles, np.int64).reshape(-1, 3)


def _ply_binary(body: bytes, elements: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    vertices: np.ndarray | None
    faces: np.ndarray | None
    offset = 0
    vertices = faces = None
    for el in elements:
        if all(p[0] != "list" for p in el["props"]):
            dtype = np.dtype([(p[1], "<" + _PLY_TYPES[p[0]]) for p in el["props"]])
            array = np.frombuffer(body, dtype, el["count"], offset)
            offset += dtype.itemsize * el["count"]
            if el["name"] == "vertex":
                vertices = np.stack([array["x"], array["y"], array["z"]], axis=1).astype(np.float32)
            continue
        # Lists (faces): read row by row.
        tris: list[tuple[int, int, int]] = []
        for _ in range(el["count"]):
            row = []
            for prop in el["props"]:
                if prop[0] == "list":
                    count_t, item_t = np.dtype("<" + _PLY_TYPES[prop[1]]), np.dtype("<" + _PLY_TYPES[prop[2]])
                    n = int(np.frombuffer(body, count_t, 1, offset)[0])
                    offset += count_t.itemsize
                    row = np.frombuffer(body, item_t, n, offset).astype(np.int64).tolist()
                    offset += item_t.itemsize * n
                else:
                    offset += np.dtype("<" + _PLY_TYPES[prop[0]]).itemsize
            if el["name"] == "face":
                tris += _fan(row)
        if el["name"] == "face":
            faces = np.array(tris, np.int64).reshape(-1, 3)
    if vertices is None or faces is None:
        raise ValueError("PLY without vertex or face elements")
    return vertices, faces


def save_obj(path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write one OBJ (atomically)."""

    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in np.asarray(vertices, np.float64)]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in np.asarray(faces)]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return Path(path)
