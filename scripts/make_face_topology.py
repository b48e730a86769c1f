"""Generate ``src/talkingface/face/topology.json`` from mediapipe's face-mesh connection sets.

The file holds the facts of the 478-point topology that talkingface needs without importing
mediapipe: the triangles of the tessellation (consistently oriented), ordered contours of the named
regions (lips, eyes, eyebrows, irises, face oval, jaw) and a few named points.

    python scripts/make_face_topology.py
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import operator
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "talkingface" / "face" / "topology.json"

# Named points of the topology ("left"/"right" are the subject's, as in mediapipe's names).
POINTS = {
    "forehead": 10,
    "nose_tip": 1,
    "subnasale": 2,
    "chin": 152,
    "mouth_right": 61,
    "mouth_left": 291,
    "upper_lip_top": 0,
    "upper_lip_bottom": 13,
    "lower_lip_top": 14,
    "lower_lip_bottom": 17,
    "right_eye_outer": 33,
    "right_eye_inner": 133,
    "left_eye_inner": 362,
    "left_eye_outer": 263,
    "right_iris": 468,
    "left_iris": 473,
    "right_cheek": 234,
    "left_cheek": 454,
}


def chains(edges) -> list[list[int]]:
    """Order an edge set into polylines: closed cycles (first point not repeated) or open paths."""
    adjacency = collections.defaultdict(set)
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    seen: set[int] = set()
    result = []
    # Open paths start at their ends; what remains are cycles.
    starts = sorted(v for v in adjacency if len(adjacency[v]) == 1) + sorted(adjacency)
    for start in starts:
        if start in seen:
            continue
        chain, previous, current = [start], None, start
        seen.add(start)
        while True:
            following = sorted(n for n in adjacency[current] if n != previous and n not in seen)
            if not following:
                break
            previous, current = current, following[0]
            chain.append(current)
            seen.add(current)
        result.append(chain)
    return result


def triangles(edges) -> list[tuple[int, int, int]]:
    """Faces of the tessellation: its 3-cliques, less those whose three edges all border three
    triangles (a triangle split around an inner vertex shows up as a spurious 3-clique)."""
    adjacency = collections.defaultdict(set)
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    cliques = {tuple(sorted((a, b, c))) for a, b in edges for c in adjacency[a] & adjacency[b]}
    uses = collections.Counter(e for t in cliques for e in itertools.combinations(t, 2))
    return sorted(t for t in cliques if not all(uses[e] == 3 for e in itertools.combinations(t, 2)))


def orient(faces: list[tuple[int, int, int]]) -> list[list[int]]:
    """Give all triangles one winding by walking across shared edges (the mesh is a manifold)."""
    by_edge = collections.defaultdict(list)
    for index, face in enumerate(faces):
        for a, b in itertools.combinations(face, 2):
            by_edge[frozenset((a, b))].append(index)
    oriented: dict[int, list[int]] = {}
    for seed in range(len(faces)):
        if seed in oriented:
            continue
        oriented[seed] = list(faces[seed])
        queue = [seed]
        while queue:
            face = oriented[queue.pop()]
            for i in range(3):
                a, b = face[i], face[(i + 1) % 3]
                for other in by_edge[frozenset((a, b))]:
                    if other in oriented:
                        continue
                    (c,) = set(faces[other]) - {a, b}
                    oriented[other] = [b, a, c]  # the shared edge runs the other way in a neighbour
                    queue.append(other)
    return [oriented[i] for i in range(len(faces))]


def main() -> None:
    from mediapipe.python.solutions import face_mesh_connections as fm

    faces = orient(triangles(fm.FACEMESH_TESSELATION))
    lips = sorted(chains(fm.FACEMESH_LIPS), key=lambda c: 61 not in c)
    oval = chains(fm.FACEMESH_FACE_OVAL)[0]
    # The jaw: the oval from the right cheek down through the chin to the left cheek.
    i, j = oval.index(POINTS["right_cheek"]), oval.index(POINTS["left_cheek"])
    rotated = oval[i:] + oval[:i]
    jaw = rotated[: rotated.index(POINTS["left_cheek"]) + 1]
    if POINTS["chin"] not in jaw:
        jaw = list(reversed(rotated[rotated.index(POINTS["left_cheek"]) :] + rotated[:1]))
    assert jaw[0] == POINTS["right_cheek"] and jaw[-1] == POINTS["left_cheek"] and POINTS["chin"] in jaw, j

    def iris(edges, centre):
        return [centre] + chains(edges)[0]

    groups = {
        "lips_outer": lips[0],
        "lips_inner": lips[1],
        "face_oval": oval,
        "jaw": jaw,
        "right_eye": chains(fm.FACEMESH_RIGHT_EYE)[0],
        "left_eye": chains(fm.FACEMESH_LEFT_EYE)[0],
        "right_eyebrow": functools.reduce(operator.iadd, chains(fm.FACEMESH_RIGHT_EYEBROW), []),
        "left_eyebrow": functools.reduce(operator.iadd, chains(fm.FACEMESH_LEFT_EYEBROW), []),
        "right_iris": iris(fm.FACEMESH_RIGHT_IRIS, POINTS["right_iris"]),
        "left_iris": iris(fm.FACEMESH_LEFT_IRIS, POINTS["left_iris"]),
        "nose": sorted({v for edge in fm.FACEMESH_NOSE for v in edge}),
    }
    data = {"num_landmarks": 478, "points": POINTS, "groups": groups, "triangles": faces}
    text = json.dumps(data, separators=(",", ":"))
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(faces)} triangles, {len(groups)} groups)")


if __name__ == "__main__":
    main()
