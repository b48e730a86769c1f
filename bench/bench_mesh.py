"""3D face rendering and the whole `talkingface mesh` run.

Goals (2 cores): 512x512 renders of the 478-vertex face >= 100 fps with EGL; of a FLAME-size mesh
(>= 5023 vertices) >= 60 fps. Baseline in the same run: the NumPy/OpenCV fallback renderer. Then the
mesh pipeline (alignment, curves, render to video, glTF export) on 60 s of speech, as a multiple of
real time.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def flame_size_head():
    """An ellipsoid head with FLAME's size: 5040 vertices (FLAME: 5023), 9940 triangles (FLAME: 9976)."""
    from talkingface.animation.mesh import Mesh

    rings, segments = 70, 72
    theta = np.linspace(0.05, np.pi - 0.05, rings)[:, None]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)[None, :]
    x = 0.078 * np.sin(theta) * np.sin(phi)
    y = 0.11 * np.cos(theta) + 0.01 + 0 * phi
    z = 0.095 * np.sin(theta) * np.cos(phi) - 0.07
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    faces = []
    for i in range(rings - 1):
        for j in range(segments):
            a, b = i * segments + j, i * segments + (j + 1) % segments
            c, d = a + segments, b + segments
            faces += [(a, c, b), (b, c, d)]
    return Mesh(vertices, np.array(faces))


def render_fps(basis, backend: str, frames: int = 120) -> float:
    from talkingface.render.mesh import MeshRenderer, frame_camera

    weights = np.abs(np.sin(np.arange(frames)[:, None] / 7.0 + np.arange(len(basis.names))[None] / 3)) * 0.6
    sequence = basis.evaluate(weights.astype(np.float32))
    with MeshRenderer(basis.mesh.faces, 512, 512, backend=backend) as renderer:
        renderer.camera = frame_camera(sequence)
        renderer.render(sequence[0])
        start = time.perf_counter()
        for vertices in sequence:
            renderer.render(vertices)
        return frames / (time.perf_counter() - start)


def main() -> bool:
    import soundfile
    from bench_speech import sixty_seconds

    from talkingface.animation.blendshapes import face_basis
    from talkingface.animation.transfer import transfer_basis
    from talkingface.pipelines import MeshAnimationPipeline

    small = face_basis()
    big = transfer_basis(small, flame_size_head())
    results = {}
    for name, basis in (("478", small), (str(big.mesh.num_vertices), big)):
        results[name] = (render_fps(basis, "egl"), render_fps(basis, "numpy"))
    ok = results["478"][0] >= 100 and results[str(big.mesh.num_vertices)][0] >= 60
    for name, (egl, cpu) in results.items():
        goal = 100 if name == "478" else 60
        print(
            f"{'render 512px, ' + name + '-vertex mesh':<34} EGL {egl:6.1f} fps   NumPy fallback {cpu:6.1f} fps   "
            f"(goal >= {goal} fps)"
        )
    audio, text = sixty_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        speech = Path(tmp) / "speech.wav"
        soundfile.write(speech, audio, 16000)
        start = time.perf_counter()
        result = MeshAnimationPipeline()(speech, [Path(tmp) / "face.mp4", Path(tmp) / "face.glb"], text=text)
        elapsed = time.perf_counter() - start
    print(
        f"{'talkingface mesh, 60 s (mp4 + glb)':<34} {elapsed:6.1f} s   {len(audio) / 16000 / elapsed:5.2f}x real time "
        f"({result.curves.num_frames} frames, renderer {result.renderer})   {'ok' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    main()
