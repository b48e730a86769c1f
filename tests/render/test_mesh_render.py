import numpy as np
import pytest

from talkingface.animation.blendshapes import face_basis
from talkingface.errors import InputError
from talkingface.render.mesh import MeshRenderer, frame_camera


@pytest.fixture(scope="module")
def basis():
    return face_basis()


@pytest.mark.parametrize("backend", ["egl", "numpy"])
def test_neutral_face_renders_centred(basis, backend):
    with MeshRenderer(basis.mesh.faces, 256, 256, backend=backend) as renderer:
        assert renderer.backend == backend
        image = renderer.render(basis.mesh.vertices)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    face = np.abs(image.astype(int) - renderer.background).sum(axis=2) > 30
    assert 0.3 < face.mean() < 0.8  # the face fills much of the frame
    ys, xs = np.nonzero(face)
    assert abs(xs.mean() - 128) < 12 and abs(ys.mean() - 128) < 20
    assert image[face].mean() > 100  # lit, not black


def test_backends_agree_roughly(basis):
    with (
        MeshRenderer(basis.mesh.faces, 128, 128, backend="egl") as gl,
        MeshRenderer(basis.mesh.faces, 128, 128, backend="numpy") as cpu,
    ):
        a, b = gl.render(basis.mesh.vertices), cpu.render(basis.mesh.vertices)
    mask_a = np.abs(a.astype(int) - 30).sum(2) > 30
    mask_b = np.abs(b.astype(int) - 30).sum(2) > 30
    assert (mask_a == mask_b).mean() > 0.97


def test_open_jaw_shows_in_the_picture(basis):
    weights = np.zeros(len(basis.names), np.float32)
    weights[0] = 1.0
    with MeshRenderer(basis.mesh.faces, 256, 256) as renderer:
        renderer.camera = frame_camera(basis.evaluate(np.stack([weights * 0, weights])))
        closed = renderer.render(basis.mesh.vertices)
        opened = renderer.render(basis.evaluate(weights))
    lower = slice(150, 256)
    assert np.abs(opened[lower].astype(int) - closed[lower]).mean() > 5
    assert (opened[:90] == closed[:90]).mean() > 0.98  # the upper face stays


def test_without_egl_it_falls_back_and_says_so(basis, monkeypatch):
    import moderngl

    def broken(*args, **kwargs):
        raise Exception("eglGetDisplay failed: no EGL display")

    monkeypatch.setattr(moderngl, "create_standalone_context", broken)
    renderer = MeshRenderer(basis.mesh.faces, 64, 64)
    assert renderer.backend == "numpy" and "EGL unavailable" in renderer.fallback_reason
    assert renderer.render(basis.mesh.vertices).shape == (64, 64, 3)
    with pytest.raises(InputError, match="EGL rendering is not available"):
        MeshRenderer(basis.mesh.faces, 64, 64, backend="egl")
