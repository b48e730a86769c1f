import numpy as np
import pytest

from talkingface.animation.blendshapes import RIG_SHAPES, face_basis
from talkingface.animation.mesh import Mesh, face_template, load_mesh, save_obj, vertex_normals
from talkingface.animation.transfer import transfer_basis
from talkingface.errors import InputError, MediaError


def subdivided(mesh: Mesh) -> Mesh:
    """Each triangle split in four: a different topology of the same surface."""
    vertices, faces, mids = list(mesh.vertices), [], {}

    def mid(a, b):
        key = (min(a, b), max(a, b))
        if key not in mids:
            mids[key] = len(vertices)
            vertices.append((mesh.vertices[a] + mesh.vertices[b]) / 2)
        return mids[key]

    for a, b, c in mesh.faces:
        ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
        faces += [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
    return Mesh(np.array(vertices), np.array(faces))


def test_built_in_template():
    mesh = face_template()
    assert mesh.vertices.shape == (478, 3) and len(mesh.faces) == 852 + 8
    assert 0.13 < np.ptp(mesh.vertices[:, 0]) < 0.15  # metres, 14 cm cheek to cheek
    assert mesh.vertices[10, 1] > mesh.vertices[1, 1] > mesh.vertices[152, 1]  # forehead, nose, chin: y up
    assert mesh.vertices[1, 2] > mesh.vertices[234, 2]  # the nose points at the viewer (+z)
    normals = vertex_normals(mesh.vertices, mesh.faces)
    assert (normals[:, 2] > 0).mean() > 0.95
    assert set(mesh.groups) >= {"lips_outer", "lips_inner", "jaw", "left_eye", "right_eye"}


def test_jaw_open_moves_the_chin_down_and_not_the_forehead():
    basis = face_basis()
    assert basis.names == RIG_SHAPES
    jaw = basis.deltas[basis.names.index("jawOpen")]
    assert jaw[152, 1] < -0.01  # the chin drops more than a centimetre
    assert np.abs(jaw[[10, 151, 9, 8, 168, 33, 263]]).max() == 0  # forehead, brows, eyes still
    close = basis.deltas[basis.names.index("mouthClose")]
    assert close[14, 1] > 0.005  # brings the lower lip back up
    weights = np.zeros((2, len(basis.names)), np.float32)
    weights[1, 0] = 1
    frames = basis.evaluate(weights)
    np.testing.assert_allclose(frames[0], basis.mesh.vertices)
    np.testing.assert_allclose(frames[1] - frames[0], jaw, atol=1e-6)


def test_rig_transfer_to_a_different_mesh():
    basis = face_basis()
    theta = np.radians(10)
    rotation = np.array([[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]])
    fine = subdivided(basis.mesh)
    head = fine.vertices @ rotation.T * 1.2 + np.array([0.01, 1.6, 0.05])
    # A lump behind the face (the back of a head) that must not move.
    back = np.random.default_rng(0).normal(0, 0.02, (200, 3)) + np.array([0.01, 1.6, -0.08])
    target = Mesh(np.concatenate([head, back]), fine.faces)
    moved = transfer_basis(basis, target)
    assert moved.deltas.shape == (len(RIG_SHAPES), len(target.vertices), 3)
    jaw = moved.deltas[RIG_SHAPES.index("jawOpen")]
    expected_chin = basis.deltas[0, 152] @ rotation.T * 1.2
    np.testing.assert_allclose(jaw[152], expected_chin, atol=2e-3)  # vertex 152 is still the chin
    assert jaw[152, 1] < -0.012
    assert np.abs(jaw[10]).max() < 1e-4 and np.abs(jaw[len(head) :]).max() < 1e-3


def test_obj_and_ply_files(tmp_path):
    mesh = face_template()
    back = load_mesh(save_obj(tmp_path / "face.obj", mesh.vertices, mesh.faces))
    np.testing.assert_allclose(back.vertices, mesh.vertices, atol=1e-6)
    assert (back.faces == mesh.faces).all()
    # Binary little-endian PLY with quads.
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
        "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], "<f4").tobytes()
    body += bytes([4]) + np.array([0, 1, 2, 3], "<i4").tobytes()
    (tmp_path / "quad.ply").write_bytes(header.encode() + body)
    quad = load_mesh(tmp_path / "quad.ply")
    assert quad.faces.tolist() == [[0, 1, 2], [0, 2, 3]]
    ascii_ply = (
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    )
    (tmp_path / "tri.ply").write_text(ascii_ply)
    assert load_mesh(tmp_path / "tri.ply").faces.tolist() == [[0, 1, 2]]
    with pytest.raises(MediaError, match="file not found"):
        load_mesh(tmp_path / "none.obj")
    (tmp_path / "bad.stl").write_text("solid")
    with pytest.raises(MediaError, match=".obj or .ply"):
        load_mesh(tmp_path / "bad.stl")
    (tmp_path / "empty.obj").write_text("v 0 0 0\n")
    with pytest.raises(MediaError, match="no faces"):
        load_mesh(tmp_path / "empty.obj")
    with pytest.raises(InputError):
        Mesh(np.zeros((3, 3)), [[0, 1, 5]])


def test_a_bilabial_keeps_the_lips_together():
    """mouthClose 1 with the jaw closed (m, b, p) must not push the lower lip through the upper one."""
    from fractions import Fraction

    from talkingface.animation.curves import AnimationCurves

    basis = face_basis()
    values = np.array([[0.0, 1.0], [0.6, 1.0], [0.6, 0.0]], np.float32)  # (jawOpen, mouthClose) per frame
    frames = basis.evaluate(basis.weights_from(AnimationCurves(Fraction(30), ("jawOpen", "mouthClose"), values)))
    upper, lower = 13, 14  # inner lip midpoints
    gap = frames[:, upper, 1] - frames[:, lower, 1]
    neutral = basis.mesh.vertices[upper, 1] - basis.mesh.vertices[lower, 1]
    assert abs(gap[0] - neutral) < 1e-6  # a closed jaw stays as it is
    assert -1e-4 < gap[1] < gap[2] and gap[1] < 0.3 * gap[2]  # the open jaw's lips come back together
