"""Moving the face rig to another mesh (a FLAME head, a BIWI face, a scan, an artist's model).

The built-in face is fitted to the target by a similarity transform - its scale from the widths, its
pose started from the nose tips (the points nearest the viewer) and refined by trimmed iterative
closest points - and then
each target vertex takes the shapes' displacement at its closest point on the fitted face
(barycentric), fading out with its distance from the face surface, so the back of a head stays still.
The target is expected with y up and the face towards +z, as FLAME, BIWI and most DCC heads are.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError, MediaError
from ..geometry import umeyama
from .blendshapes import BlendshapeBasis
from .mesh import Mesh, face_template, load_mesh

MIN_FACE_VERTICES = 50


def load_face_mesh(path: str | os.PathLike) -> Mesh:
    """A mesh the rig can move onto: read as :func:`~.mesh.load_mesh` does, then checked to look like
    a face or head with y up (one-line :class:`MediaError` otherwise: too few vertices, flat, or
    taller along z than along y - a Z-up export, which would get the jaw's motion on its forehead)."""
    mesh = load_mesh(path)
    extent = np.ptp(mesh.vertices.astype(np.float64), axis=0)
    if mesh.num_vertices < MIN_FACE_VERTICES:
        raise MediaError(path, f"{mesh.num_vertices} vertices do not make a face (at least {MIN_FACE_VERTICES})")
    if extent.min() <= 1e-6 * max(float(extent.max()), 1e-12):
        raise MediaError(path, "the mesh is flat or a single point, not a face")
    if extent[1] < 0.75 * extent[2]:
        raise MediaError(
            path,
            f"the mesh is taller along z ({extent[2]:.3g}) than along y ({extent[1]:.3g}): it looks Z-up; "
            "export it with Y up and the face towards +z",
        )
    return mesh


def fit_face(face: Mesh, target: Mesh, iterations: int = 40) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity ``(s, R, t)`` placing ``face`` on the face of ``target``."""
    from scipy.spatial import cKDTree

    src = face.vertices.astype(np.float64)
    dst = target.vertices.astype(np.float64)
    # The scale comes from the widths and stays fixed: closest-point fitting with a free scale shrinks
    # the face into the target. Start with the nose tips (the points nearest the viewer) together.
    scale = float(np.ptp(dst[:, 0]) / max(np.ptp(src[:, 0]), 1e-9))
    rotation = np.eye(3)
    translation = dst[np.argmax(dst[:, 2])] - scale * src[np.argmax(src[:, 2])]
    tree = cKDTree(dst)
    for _ in range(iterations):
        moved = scale * src @ rotation.T + translation
        distance, index = tree.query(moved)
        keep = distance <= np.percentile(distance, 80)  # trimmed: ignore the worst matches
        scale, rotation, translation = umeyama(src[keep], dst[index[keep]], scale)
    return scale, rotation, translation


def _closest_on_triangles(
    points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point, the closest point among its candidate triangles: (triangle, barycentric, distance)."""
    best_d = np.full(len(points), np.inf)
    best_t = np.zeros(len(points), np.int64)
    best_b = np.zeros((len(points), 3))
    for column in range(candidates.shape[1]):
        tri = candidates[:, column]
        valid = tri >= 0
        a, b, c = (vertices[faces[np.maximum(tri, 0), k]] for k in range(3))
        bary = _barycentric_clamped(points, a, b, c)
        closest = bary[:, :1] * a + bary[:, 1:2] * b + bary[:, 2:] * c
        d = np.linalg.norm(points - closest, axis=1)
        better = valid & (d < best_d)
        best_d[better], best_t[better], best_b[better] = d[better], tri[better], bary[better]
    return best_t, best_b, best_d


def _barycentric_clamped(p, a, b, c):
    """Barycentric coordinates of the closest point of triangle abc to p (clamped to the triangle)."""
    ab, ac, ap = b - a, c - a, p - a
    d00, d01, d11 = (ab * ab).sum(1), (ab * ac).sum(1), (ac * ac).sum(1)
    d20, d21 = (ap * ab).sum(1), (ap * ac).sum(1)
    denom = np.maximum(d00 * d11 - d01 * d01, 1e-18)
    v = (d11 * d20 - d01 * d21) / denom
    w = (d00 * d21 - d01 * d20) / denom
    bary = np.stack([1 - v - w, v, w], axis=1)
    bary = np.clip(bary, 0, None)
    return bary / np.maximum(bary.sum(1, keepdims=True), 1e-12)


def _closest_on_face(face: Mesh, points: np.ndarray, target: Mesh):
    """The built-in ``face`` fitted onto ``target``; for each of ``points``, its closest point on the
    fitted face: (triangle, barycentric, distance, (scale, rotation, translation))."""
    from scipy.spatial import cKDTree

    scale, rotation, translation = fit_face(face, target)
    placed = scale * face.vertices.astype(np.float64) @ rotation.T + translation
    # Triangles around each face vertex, as candidates for the closest point.
    around: list[list[int]] = [[] for _ in range(face.num_vertices)]
    for t, tri in enumerate(face.faces):
        for v in tri:
            around[v].append(t)
    width = max(len(a) for a in around)
    table = np.full((face.num_vertices, width), -1, np.int64)
    for v, tris in enumerate(around):
        table[v, : len(tris)] = tris
    _, nearest = cKDTree(placed).query(points, k=3)
    candidates = np.concatenate([table[nearest[:, k]] for k in range(3)], axis=1)
    tri, bary, distance = _closest_on_triangles(points, placed, face.faces, candidates)
    return tri, bary, distance, (scale, rotation, translation)


def transfer_basis(basis: BlendshapeBasis, target: Mesh, falloff: float = 0.08) -> BlendshapeBasis:
    """The shapes of ``basis`` (on the built-in face) moved onto ``target``.

    Args:
        falloff: distance (in face widths) over which the displacement fades away from the face.
    """
    if target.num_vertices < 3:
        raise InputError("target mesh is empty")
    face = basis.mesh
    tri, bary, distance, (scale, rotation, _) = _closest_on_face(face, target.vertices.astype(np.float64), target)
    face_width = scale * float(np.ptp(face.vertices[:, 0]))
    weight = np.exp(-((distance / (falloff * face_width)) ** 2))
    corners = face.faces[tri]  # (N, 3)
    deltas = (basis.deltas[:, corners, :] * bary[None, :, :, None]).sum(axis=2)  # (K, N, 3)
    deltas = scale * deltas @ rotation.T * weight[None, :, None]
    return BlendshapeBasis(target, basis.names, deltas.astype(np.float32))


def transfer_vertex_groups(
    groups: dict[str, np.ndarray], vertices: np.ndarray, max_distance: float = 0.03
) -> dict[str, np.ndarray]:
    """Vertex groups of the built-in face (e.g. the lips for LVE) found on another face's vertices
    ``(V, 3)`` (FLAME, BIWI, a scan; y up, facing +z; triangles not needed): a vertex belongs to a group
    when the closest point of the fitted built-in face lies mostly in it and within ``max_distance``
    face widths."""

    vertices = np.asarray(vertices, np.float64).reshape(-1, 3)
    if len(vertices) < 3:
        raise InputError("the target face has no vertices")
    face = face_template()
    target = Mesh(vertices, np.array([[0, 1, 2]]))
    tri, bary, distance, (scale, _, _) = _closest_on_face(face, vertices, target)
    near = distance <= max_distance * scale * float(np.ptp(face.vertices[:, 0]))
    corners = face.faces[tri]
    out = {}
    for name, indices in groups.items():
        member = np.zeros(face.num_vertices)
        member[np.asarray(indices, np.int64)] = 1.0
        share = (member[corners] * bary).sum(axis=1)
        out[name] = np.flatnonzero(near & (share >= 0.5))
    return out
