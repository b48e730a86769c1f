import numpy as np
import pygltflib
import pytest

from talkingface.animation.blendshapes import face_basis
from talkingface.animation.mesh import load_mesh
from talkingface.errors import InputError
from talkingface.export import write_glb, write_glb_vertex_cache, write_npy, write_obj_sequence


def accessor_array(gltf, index, dtype=np.float32):
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    width = {"SCALAR": 1, "VEC3": 3}[accessor.type]
    data = gltf.binary_blob()[view.byteOffset : view.byteOffset + view.byteLength]
    return np.frombuffer(data, dtype).reshape(accessor.count, width)


def test_glb_with_morph_targets_reads_back(tmp_path):
    basis = face_basis()
    count = 45
    weights = np.random.default_rng(0).random((count, len(basis.names))).astype(np.float32)
    times = np.arange(count) / 30.0
    path = write_glb(
        tmp_path / "face.glb", basis.mesh.vertices, basis.mesh.faces, basis.deltas, list(basis.names), times, weights
    )
    gltf = pygltflib.GLTF2().load(str(path))
    primitive = gltf.meshes[0].primitives[0]
    assert len(primitive.targets) == len(basis.names) == len(gltf.meshes[0].extras["targetNames"])
    np.testing.assert_allclose(accessor_array(gltf, primitive.attributes.POSITION), basis.mesh.vertices)
    jaw = accessor_array(gltf, primitive.targets[0]["POSITION"])
    np.testing.assert_allclose(jaw, basis.deltas[0])
    sampler = gltf.animations[0].samplers[0]
    assert gltf.animations[0].channels[0].target.path == "weights"
    read_times = accessor_array(gltf, sampler.input)[:, 0]
    assert len(read_times) == count and read_times[-1] == pytest.approx(44 / 30)
    np.testing.assert_allclose(accessor_array(gltf, sampler.output).reshape(count, -1), weights)
    assert accessor_array(gltf, primitive.indices, np.uint32).size == basis.mesh.faces.size


def test_vertex_cache_glb(tmp_path, gltf_validate):
    basis = face_basis()
    frames = basis.evaluate(np.linspace(0, 1, 10)[:, None] * np.eye(len(basis.names))[0])
    path = write_glb_vertex_cache(tmp_path / "cache.glb", frames, basis.mesh.faces, 25)
    gltf = pygltflib.GLTF2().load(str(path))
    assert len(gltf.meshes[0].primitives[0].targets) == 10
    assert gltf.animations[0].samplers[0].interpolation == "STEP"
    (report,) = gltf_validate(path)
    assert (report["errors"], report["warnings"]) == (0, 0), report["messages"]


def test_the_validator_finds_a_broken_glb(tmp_path, gltf_validate):
    """The validator check can fail: a .glb whose morph weights are cut short is reported."""
    basis = face_basis()
    weights = np.zeros((4, len(basis.names)), np.float32)
    path = write_glb(
        tmp_path / "f.glb",
        basis.mesh.vertices,
        basis.mesh.faces,
        basis.deltas,
        list(basis.names),
        np.arange(4) / 25.0,
        weights,
    )
    data = bytearray(path.read_bytes())
    broken = tmp_path / "broken.glb"
    broken.write_bytes(bytes(data[: len(data) // 2]))
    (report,) = gltf_validate(broken)
    assert report["errors"] > 0


def test_npy_and_obj_sequence(tmp_path):
    basis = face_basis()
    frames = basis.evaluate(np.zeros((4, len(basis.names))))
    array = np.load(write_npy(tmp_path / "v.npy", frames))
    assert array.shape == (4, 478 * 3) and array.dtype == np.float32
    np.testing.assert_allclose(array[0].reshape(478, 3), basis.mesh.vertices)
    folder = write_obj_sequence(tmp_path / "objs", frames, basis.mesh.faces)
    files = sorted(folder.glob("*.obj"))
    assert [f.name for f in files] == [f"frame_{i:05d}.obj" for i in range(4)]
    np.testing.assert_allclose(load_mesh(files[2]).vertices, frames[2], atol=1e-6)
    with pytest.raises(InputError, match="not empty"):
        write_obj_sequence(folder, frames, basis.mesh.faces)
    with pytest.raises(InputError, match="weights must be"):
        write_glb(
            tmp_path / "bad.glb",
            basis.mesh.vertices,
            basis.mesh.faces,
            basis.deltas,
            list(basis.names),
            np.arange(3.0),
            np.zeros((2, len(basis.names))),
        )
    assert not (tmp_path / "bad.glb").exists()
