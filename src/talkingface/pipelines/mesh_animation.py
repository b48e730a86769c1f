"""Speech -> animated 3D face: JALI curves drive ARKit blendshapes on a template mesh, which is
rendered to video and/or exported (glTF morph animation, OBJ sequence, VOCASET .npy, ARKit CSV, JSON).

The template is the built-in 478-vertex face, or any OBJ/PLY (FLAME, BIWI, an artist's head) onto
which the rig is transferred. Later methods (VisemeNet, FaceFormer) plug in as other sources of curves
or vertex offsets; the renderer and exporters stay the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..animation import AnimationCurves, JaliAnimator, JaliConfig
from ..errors import InputError
from ..speech.phonemes import PhonemeSequence

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")
FILE_SUFFIXES = VIDEO_SUFFIXES + (".glb", ".csv", ".json", ".npy")
METHODS = ("jali",)


@dataclass(frozen=True)
class MeshAnimationConfig:
    """Attributes:
        fps: frames per second of curves, video and exports.
        method: source of the animation ("jali").
        template: an OBJ/PLY mesh to animate instead of the built-in face.
        size: rendered video size (square, pixels).
        wireframe: draw triangle edges in the video.
        backend: renderer backend ("auto", "egl", "numpy").
        jali: animator settings.
    """

    fps: float | Fraction = 30
    method: str = "jali"
    template: str | None = None
    size: int = 512
    wireframe: bool = False
    backend: str = "auto"
    jali: JaliConfig = field(default_factory=JaliConfig)

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")


@dataclass
class MeshAnimationResult:
    outputs: list[Path]
    curves: AnimationCurves
    phonemes: PhonemeSequence
    num_vertices: int
    renderer: str | None  # backend used for a video, if one was written


def output_kind(path: str | os.PathLike) -> str:
    """"video", "glb", "csv", "json", "npy" or "obj" (a folder) for an output path."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in FILE_SUFFIXES:
        return suffix[1:]
    if suffix == "" or str(path).endswith(os.sep):
        return "obj"
    raise InputError(f"{path}: outputs are .mp4/.mov/.mkv, .glb, .csv, .json, .npy or a folder for OBJs")


class MeshAnimationPipeline:
    """``MeshAnimationPipeline()(audio, ["out.mp4", "out.glb"], text=None)``."""

    def __init__(self, config: MeshAnimationConfig = MeshAnimationConfig()):
        self.config = config

    def basis(self):
        """The blendshape basis on the configured template (built-in face, or transferred)."""
        from ..animation.blendshapes import face_basis
        from ..animation.mesh import load_mesh
        from ..animation.transfer import transfer_basis

        basis = face_basis()
        if self.config.template:
            basis = transfer_basis(basis, load_mesh(self.config.template))
        return basis

    def __call__(self, audio: str | os.PathLike, outputs: list[str | os.PathLike], text: str | None = None,
                 progress: bool = False) -> MeshAnimationResult:
        from ..media import load_audio
        from ..speech import timed_phonemes
        from ..timebase import to_fps

        if not outputs:
            raise InputError("give at least one output")
        kinds = [output_kind(o) for o in outputs]
        basis = self.basis()  # a bad template fails before the audio work
        fps = to_fps(self.config.fps)
        speech = load_audio(audio, 16000)
        phonemes = timed_phonemes(speech, 16000, text)
        curves = JaliAnimator(self.config.jali).animate(phonemes, fps, speech, 16000)
        weights = basis.weights_from(curves)
        renderer = None
        written = []
        for out, kind in zip(outputs, kinds):
            path, backend = self._write(out, kind, basis, weights, curves, audio, progress)
            written.append(path)
            renderer = backend or renderer
        return MeshAnimationResult(written, curves, phonemes, basis.mesh.num_vertices, renderer)

    def _write(self, out, kind, basis, weights, curves, audio, progress) -> tuple[Path, str | None]:
        """Write one output; returns its path and, for a video, the renderer backend used."""
        from ..export import write_glb, write_npy, write_obj_sequence
        from ..render.mesh import render_video

        fps = float(curves.fps)
        if kind == "video":
            frames = (basis.evaluate(w) for w in weights)
            extremes = basis.evaluate(np.stack([np.zeros(len(basis.names)), np.ones(len(basis.names)) * 0.8]))
            backend = render_video(out, [frames], [basis.mesh.faces], curves.fps, [extremes], audio=audio,
                                   size=self.config.size, wireframe=self.config.wireframe,
                                   backend=self.config.backend, progress=progress, total=len(weights))
            return Path(out), backend
        if kind == "glb":
            used = np.abs(basis.deltas).max(axis=(1, 2)) > 0
            return write_glb(out, basis.mesh.vertices, basis.mesh.faces, basis.deltas[used],
                             [n for n, u in zip(basis.names, used) if u], np.arange(len(weights)) / fps,
                             weights[:, used]), None
        if kind in ("csv", "json"):
            return curves.save(out), None
        if kind == "npy":
            return write_npy(out, basis.evaluate(weights)), None
        return write_obj_sequence(out, basis.evaluate(weights), basis.mesh.faces), None
