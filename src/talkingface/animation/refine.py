"""A finer version of the built-in face: longest-edge bisection up to any vertex count (5023, as FLAME
has), with the rig's blendshapes carried over exactly."""

from __future__ import annotations

import heapq
from functools import lru_cache

import numpy as np

from ..errors import InputError
from .blendshapes import BlendshapeBasis, face_basis
from .mesh import Mesh, face_template

FLAME_VERTICES = 5023
_SPLIT_JITTER = 0.1  # edge split points lie in 0.5 +- this


def flame_size_template(num_vertices: int = FLAME_VERTICES, seed: int = 0) -> Mesh:
    """The built-in face refined to ``num_vertices`` vertices (5023, as FLAME has).

    The 478 vertices of :func:`~talkingface.animation.mesh.face_template` come first, unchanged
    (metres, y up, z towards the viewer; its landmark groups still apply). The others are added by
    longest-edge bisection: the longest edge of the mesh is split at a point near its middle (0.5 +-
    0.1, drawn from ``seed``) and each of its one or two triangles is split in two through it. Every
    split adds exactly one vertex, so any count is reached exactly; the result stays conforming
    (no T-junctions), keeps the winding and the surface of the original, and - as the split edge is
    the longest of both its triangles - its angles stay bounded away from zero while the edge lengths
    even out over the face. Uniform barycentric samples re-triangulated per parent triangle would
    instead leave the long parent edges in place and make slivers along them.

    Args:
        num_vertices: at least 478.
        seed: picks the split points; the same seed gives the same mesh.

    Returns:
        Mesh with ``(num_vertices, 3) float32`` vertices and faces wound as the template's.
    """

    template = face_template()
    vertices, faces, _, _ = _refined(_count(num_vertices, template.num_vertices), check_seed(seed))
    return Mesh(
        vertices.astype(np.float32),
        faces.copy(),
        dict(template.groups),
        name=f"talkingface face ({num_vertices}, refined)",
    )


def _count(num_vertices, minimum: int) -> int:
    if isinstance(num_vertices, bool) or not isinstance(num_vertices, (int, np.integer)) or num_vertices < minimum:
        raise InputError(f"num_vertices must be an int >= {minimum} (the built-in face's), got {num_vertices!r}")
    return int(num_vertices)


def check_seed(seed) -> int:
    """``seed`` as an int >= 0, or a one-line error."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be an int >= 0, got {seed!r}")
    return int(seed)


@lru_cache(maxsize=4)
def _refined(num_vertices: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Longest-edge bisection of the built-in face.

    Returns:
        vertices ``(num_vertices, 3) float64``, faces ``(F, 3) int32``, and for each added vertex
        ``478 + i`` its two parents ``(N, 2) int64`` and its place between them ``(N,)`` (0 = first).
    """

    template = face_template()
    start = template.num_vertices
    added = num_vertices - start
    fractions = 0.5 + np.random.default_rng(seed).uniform(-_SPLIT_JITTER, _SPLIT_JITTER, added)
    points = np.empty((num_vertices, 3), np.float64)
    points[:start] = template.vertices
    parents = np.empty((added, 2), np.int64)
    triangles = [[int(v) for v in tri] for tri in template.faces]
    edge_faces: dict[tuple[int, int], list[int]] = {}
    for f, tri in enumerate(triangles):
        for k in range(3):
            edge_faces.setdefault(_edge(tri[k], tri[(k + 1) % 3]), []).append(f)
    heap = [(-_length(points, edge), edge) for edge in edge_faces]
    heapq.heapify(heap)
    for i in range(added):
        while True:  # entries of edges split earlier are stale
            _, edge = heapq.heappop(heap)
            if edge in edge_faces:
                break
        a, b = edge
        m = start + i
        points[m] = (1.0 - fractions[i]) * points[a] + fractions[i] * points[b]
        parents[i] = a, b
        new_edges = [_edge(a, m), _edge(m, b)]
        for f in edge_faces.pop(edge):
            p, q, r = _opposite_last(triangles[f], a, b)
            g = len(triangles)
            triangles[f] = [p, m, r]  # (p, q, r) -> (p, m, r) + (m, q, r): same winding
            triangles.append([m, q, r])
            around = edge_faces[_edge(q, r)]
            around[around.index(f)] = g
            edge_faces.setdefault(_edge(p, m), []).append(f)
            edge_faces.setdefault(_edge(m, q), []).append(g)
            edge_faces[_edge(m, r)] = [f, g]
            new_edges.append(_edge(m, r))
        for new in new_edges:
            heapq.heappush(heap, (-_length(points, new), new))
    return points, np.asarray(triangles, np.int32), parents, fractions


def _edge(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _length(points: np.ndarray, edge: tuple[int, int]) -> float:
    return float(np.linalg.norm(points[edge[0]] - points[edge[1]]))


def _opposite_last(tri: list[int], a: int, b: int) -> tuple[int, int, int]:
    """``tri`` rotated so that its edge ``{a, b}`` comes first (in winding order), the opposite corner last."""
    for k in range(3):
        if {tri[k], tri[(k + 1) % 3]} == {a, b}:
            return tri[k], tri[(k + 1) % 3], tri[(k + 2) % 3]
    raise AssertionError("edge not in triangle")  # the adjacency is built from the triangles


def flame_size_basis(num_vertices: int = FLAME_VERTICES) -> BlendshapeBasis:
    """The rig's shapes on :func:`flame_size_template`, exact: each added vertex moves as the point of
    the edge it was split from (no fitting, unlike :func:`~talkingface.animation.transfer.transfer_basis`)."""

    basis = face_basis()
    mesh = flame_size_template(num_vertices)
    _, _, parents, fractions = _refined(num_vertices, 0)
    deltas = np.empty((num_vertices, len(basis.names), 3), np.float64)
    deltas[: basis.mesh.num_vertices] = basis.deltas.transpose(1, 0, 2)
    start = basis.mesh.num_vertices
    for i, ((a, b), t) in enumerate(zip(parents, fractions)):
        deltas[start + i] = (1.0 - t) * deltas[a] + t * deltas[b]
    return BlendshapeBasis(mesh, basis.names, deltas.transpose(1, 0, 2))
