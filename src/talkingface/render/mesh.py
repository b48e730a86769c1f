"""Offscreen rendering of animated face meshes, on the CPU, for videos with the speech track.

The EGL backend draws with OpenGL through moderngl on a surfaceless EGL display (Mesa's llvmpipe
works without a GPU): smooth shading, three lights, 4x multisampling, optional wireframe. Where EGL
or moderngl is missing, a NumPy/OpenCV backend paints the triangles back to front with the same
camera and lights (shaded per triangle); ``renderer.backend`` says which one runs and
``renderer.fallback_reason`` why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from .. import choices
from ..animation.mesh import incidence, vertex_normals
from ..errors import InputError
from ..optional import needs
from ..progress import Progress

if TYPE_CHECKING:
    import moderngl

_VERTEX_SHADER = """
#version 330
uniform mat4 mvp;
uniform mat4 model_view;
in vec3 in_position;
in vec3 in_normal;
out vec3 v_normal;
out vec3 v_position;
void main() {
    v_normal = mat3(model_view) * in_normal;
    v_position = (model_view * vec4(in_position, 1.0)).xyz;
    gl_Position = mvp * vec4(in_position, 1.0);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec3 base_colour;
uniform vec3 light_dirs[3];
uniform vec3 light_colours[3];
uniform float wire;
in vec3 v_normal;
in vec3 v_position;
out vec4 colour;
void main() {
    if (wire > 0.5) { colour = vec4(0.15, 0.16, 0.2, 1.0); return; }
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 view = normalize(-v_position);
    vec3 c = base_colour * 0.18;
    for (int i = 0; i < 3; i++) {
        vec3 l = normalize(light_dirs[i]);
        float diffuse = max(dot(n, l), 0.0);
        float specular = pow(max(dot(n, normalize(l + view)), 0.0), 40.0);
        c += light_colours[i] * (base_colour * diffuse + 0.12 * specular);
    }
    colour = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

# Key light from the upper left, fill from the right, rim from behind above (view space).
_LIGHT_DIRS = np.array([[-0.5, 0.6, 0.8], [0.7, 0.1, 0.6], [0.0, 0.8, -0.6]], np.float32)
_LIGHT_COLOURS = np.array([[0.85, 0.82, 0.78], [0.35, 0.37, 0.42], [0.3, 0.3, 0.3]], np.float32)


@dataclass
class Camera:
    """A perspective camera looking down -z at ``target`` from ``distance`` (view space = y up)."""

    target: np.ndarray
    distance: float
    fov_degrees: float = 18.0

    def matrices(self, aspect: float) -> tuple[np.ndarray, np.ndarray]:
        """(model_view, projection) 4x4 float32."""
        view = np.eye(4, dtype=np.float32)
        view[:3, 3] = -np.asarray(self.target, np.float32) + np.array([0, 0, -self.distance], np.float32)
        f = 1.0 / np.tan(np.radians(self.fov_degrees) / 2)
        near, far = self.distance * 0.1, self.distance * 10
        proj = np.zeros((4, 4), np.float32)
        proj[0, 0], proj[1, 1] = f / aspect, f
        proj[2, 2], proj[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
        proj[3, 2] = -1
        return view, proj


def frame_camera(vertices: np.ndarray, aspect: float = 1.0, margin: float = 1.15, fov_degrees: float = 18.0) -> Camera:
    """A camera that shows all of ``vertices`` ``(V, 3)`` or ``(T, V, 3)`` (the whole sequence, so the
    view does not move), centred, filling the frame up to ``margin``."""
    points = np.asarray(vertices, np.float32).reshape(-1, 3)
    lo, hi = points.min(0), points.max(0)
    centre = (lo + hi) / 2
    half = max((hi[1] - lo[1]) / 2, (hi[0] - lo[0]) / 2 / aspect) * margin
    distance = half / np.tan(np.radians(fov_degrees) / 2) + (hi[2] - lo[2]) / 2
    return Camera(centre, float(distance), fov_degrees)


class MeshRenderer:
    """Render ``(V, 3)`` vertices of a mesh with ``faces`` into ``(height, width, 3) uint8`` RGB images.

    Args:
        backend: "auto" (EGL when it works, else NumPy), "egl" or "numpy".
        colour: linear RGB of the skin.
        wireframe: draw the triangle edges over the surface.
    """

    def __init__(
        self,
        faces: np.ndarray,
        width: int = 512,
        height: int = 512,
        backend: str = "auto",
        colour=(0.80, 0.62, 0.52),
        background=(26, 28, 34),
        wireframe: bool = False,
    ):
        if backend not in choices.RENDER_BACKENDS:
            raise InputError(f"backend must be 'auto', 'egl' or 'numpy', got {backend!r}")
        if not (16 <= width <= 8192 and 16 <= height <= 8192):
            raise InputError(f"render size must be 16-8192 pixels, got {width}x{height}")
        self.faces = np.asarray(faces, np.int32)
        self._incidence = None
        self.width, self.height = int(width), int(height)
        self.colour = np.asarray(colour, np.float32)
        self.background = np.asarray(background, np.uint8)
        self.wireframe = wireframe
        self.camera: Camera | None = None
        self.fallback_reason = ""
        self._gl = None
        if backend in ("auto", "egl"):
            try:
                self._gl = _GLState(self)
            except Exception as error:  # no EGL, no moderngl, no display: fall back, and say why
                if backend == "egl":
                    raise InputError(f"EGL rendering is not available: {' '.join(str(error).split())}") from None
                self.fallback_reason = f"EGL unavailable ({type(error).__name__}: {' '.join(str(error).split())})"
        self.backend = "egl" if self._gl is not None else "numpy"

    def render(self, vertices: np.ndarray) -> np.ndarray:
        vertices = np.asarray(vertices, np.float32)
        if vertices.ndim != 2 or vertices.shape[1] != 3:
            raise InputError(f"vertices must be (V, 3), got {vertices.shape}")
        camera = self.camera or frame_camera(vertices, self.width / self.height)
        if self._incidence is None or self._incidence.shape[0] != len(vertices):
            self._incidence = incidence(self.faces, len(vertices))
        normals = vertex_normals(vertices, self.faces, self._incidence)
        if self._gl is not None:
            return self._gl.render(vertices, normals, camera)
        return _render_numpy(self, vertices, normals, camera)

    def close(self) -> None:
        if self._gl is not None:
            self._gl.release()
            self._gl = None

    def __enter__(self) -> MeshRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _GLState:
    def __init__(self, renderer: MeshRenderer):
        with needs("render", "EGL rendering"):
            import moderngl

        self.r = renderer
        # moderngl's stub types each **settings value as a dict; the settings are plain values.
        self.ctx = moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
        self.prog = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._uniform("light_dirs").write(_LIGHT_DIRS.tobytes())
        self._uniform("light_colours").write(_LIGHT_COLOURS.tobytes())
        self._uniform("base_colour").value = tuple(float(c) for c in renderer.colour)
        self.vbo: moderngl.Buffer | None = None
        self.ibo = self.ctx.buffer(renderer.faces.astype(np.uint32).tobytes())
        size = (renderer.width, renderer.height)
        self.msaa = self.ctx.framebuffer(
            color_attachments=[self.ctx.renderbuffer(size, 4, samples=4)],
            depth_attachment=self.ctx.depth_renderbuffer(size, samples=4),
        )
        self.resolved = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer(size, 4)])

    def _uniform(self, name: str) -> moderngl.Uniform:
        # The stubs type a program member as any kind (uniform, block, attribute, varying).
        return cast("moderngl.Uniform", self.prog[name])

    def render(self, vertices: np.ndarray, normals: np.ndarray, camera: Camera) -> np.ndarray:
        with needs("render", "EGL rendering"):
            import moderngl

        r = self.r
        data = np.concatenate([vertices, normals], axis=1).astype(np.float32).tobytes()
        if self.vbo is None or self.vbo.size != len(data):
            self.vbo = self.ctx.buffer(data, dynamic=True)
            self.vao = self.ctx.vertex_array(self.prog, [(self.vbo, "3f 3f", "in_position", "in_normal")], self.ibo)
        else:
            self.vbo.write(data)
        view, proj = camera.matrices(r.width / r.height)
        self._uniform("mvp").write((proj @ view).T.astype(np.float32).tobytes())
        self._uniform("model_view").write(view.T.astype(np.float32).tobytes())
        self.msaa.use()
        bg = r.background / 255.0
        self.ctx.clear(float(bg[0]), float(bg[1]), float(bg[2]), 1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self._uniform("wire").value = 0.0
        self.vao.render(moderngl.TRIANGLES)
        if r.wireframe:
            self.ctx.wireframe = True
            self._uniform("wire").value = 1.0
            self.ctx.polygon_offset = (-1.0, -1.0)
            self.vao.render(moderngl.TRIANGLES)
            self.ctx.wireframe = False
            self.ctx.polygon_offset = (0.0, 0.0)
        self.ctx.copy_framebuffer(self.resolved, self.msaa)
        pixels = np.frombuffer(self.resolved.read(components=3), np.uint8).reshape(r.height, r.width, 3)
        return np.ascontiguousarray(pixels[::-1])

    def release(self) -> None:
        self.ctx.release()


def _render_numpy(r: MeshRenderer, vertices: np.ndarray, normals: np.ndarray, camera: Camera) -> np.ndarray:
    """Painter's algorithm with per-triangle Blinn-Phong shading (OpenCV polygon fills)."""
    with needs("face"):
        import cv2

    view, proj = camera.matrices(r.width / r.height)
    homogeneous = np.concatenate([vertices, np.ones((len(vertices), 1), np.float32)], axis=1)
    eye = homogeneous @ view.T
    clip = eye @ proj.T
    ndc = clip[:, :3] / clip[:, 3:4]
    px = np.stack([(ndc[:, 0] + 1) / 2 * r.width, (1 - ndc[:, 1]) / 2 * r.height], axis=1)
    n_eye = normals @ view[:3, :3].T
    tri_n = n_eye[r.faces].mean(axis=1)
    tri_n /= np.maximum(np.linalg.norm(tri_n, axis=1, keepdims=True), 1e-12)
    centre = eye[r.faces, :3].mean(axis=1)
    to_view = -centre / np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-12)
    tri_n = np.where((tri_n * to_view).sum(1, keepdims=True) < 0, -tri_n, tri_n)
    light = np.full((len(r.faces), 3), 0.18) * r.colour
    for d, c in zip(_LIGHT_DIRS, _LIGHT_COLOURS):
        d = d / np.linalg.norm(d)
        diffuse = np.clip(tri_n @ d, 0, None)[:, None]
        half = d + to_view
        half /= np.linalg.norm(half, axis=1, keepdims=True)
        spec = np.clip((tri_n * half).sum(1), 0, None)[:, None] ** 40
        light += c * (r.colour * diffuse + 0.12 * spec)
    shade = (np.clip(light, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
    image = np.empty((r.height, r.width, 3), np.uint8)
    image[:] = r.background
    order = np.argsort(centre[:, 2])  # far (more negative z) first
    points = np.round(px[r.faces] * 16).astype(np.int32)
    for k in order:
        cv2.fillConvexPoly(image, points[k], tuple(int(v) for v in shade[k]), lineType=cv2.LINE_AA, shift=4)
    if r.wireframe:
        cv2.polylines(image, list(points[order]), True, (38, 41, 51), 1, cv2.LINE_AA, shift=4)
    return image


def render_video(
    path: str | os.PathLike,
    sequences: list[Iterable[np.ndarray]],
    faces: list[np.ndarray],
    fps,
    camera_vertices: list[np.ndarray],
    audio=None,
    size: int = 512,
    wireframe: bool = False,
    backend: str = "auto",
    progress: bool = False,
    total: int = 0,
) -> str:
    """Render one or more vertex sequences side by side into a video with ``audio``.

    Args:
        sequences: per panel, an iterable of ``(V, 3)`` vertices per frame (e.g. prediction, truth).
        faces: per panel, the mesh faces.
        camera_vertices: per panel, vertices to frame the (fixed) camera on.
        total: number of frames (for the progress line).
    Returns the renderer backend used.
    """
    from ..media import VideoWriter

    renderers = [MeshRenderer(f, size, size, backend=backend, wireframe=wireframe) for f in faces]
    for renderer, verts in zip(renderers, camera_vertices):
        renderer.camera = frame_camera(verts)
    try:
        with VideoWriter(path, fps, audio=audio) as writer, Progress(total, "rendering", enabled=progress) as bar:
            for frames in zip(*sequences):
                panels = [renderer.render(v) for renderer, v in zip(renderers, frames)]
                writer.write(np.concatenate(panels, axis=1))
                bar.update()
    finally:
        for renderer in renderers:
            renderer.close()
    return renderers[0].backend
