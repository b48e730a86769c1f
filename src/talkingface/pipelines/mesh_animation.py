"""Speech -> animated 3D face, rendered to video and/or exported (glTF animation, OBJ sequence,
VOCASET .npy, ARKit CSV, JSON).

Methods:
- "jali" (no weights): JALI curves drive ARKit blendshapes on the built-in 478-vertex face, or on any
  OBJ/PLY (FLAME, BIWI, an artist's head) onto which the rig is transferred.
- "visemenet": the built-in VisemeNet's curves (from the audio alone) drive the same blendshapes.
- "auto" (the default): "jali" with forced alignment when a transcript is given, else "visemenet".
- "faceformer": a FaceFormer checkpoint predicts the vertices directly on its template (FLAME for
  vocaset.pth, BIWI for biwi.pth, the built-in face for our own models); ARKit curves for CSV/JSON
  are then fitted to the vertices by bounded least squares.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import choices
from ..animation import AnimationCurves, JaliConfig
from ..animation.blendshapes import face_basis
from ..animation.mesh import face_template, load_mesh
from ..animation.speech import resolve_method, speech_curves
from ..animation.transfer import load_face_mesh, transfer_basis
from ..errors import InputError
from ..export import write_glb, write_glb_vertex_cache, write_npy, write_obj_sequence
from ..export.formats import ExportOptions, animation_format, write_animation
from ..files import check_output
from ..render.mesh import render_video
from ..settings import setting
from ..speech import SPEECH_RATE
from ..speech.phonemes import PhonemeSequence
from ..timebase import to_fps
from ._base import Pipeline, check_device

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm")
FILE_SUFFIXES = (*VIDEO_SUFFIXES, ".glb", ".csv", ".json", ".npy")
METHODS = choices.MESH_METHODS


@dataclass(frozen=True)
class MeshAnimationConfig:
    """Attributes:
    fps: frames per second of curves, video and exports (None: 30, or for "faceformer" the model's own
        rate; its frames are otherwise resampled in time).
    method: source of the animation ("auto", "jali", "visemenet" or "faceformer").
    template: an OBJ/PLY mesh to animate instead of the built-in face (for FaceFormer: its
        neutral face, with the checkpoint's vertex count).
    size: rendered video size (square, pixels).
    wireframe: draw triangle edges in the video.
    backend: renderer backend ("auto", "egl", "numpy").
    jali: animator settings.
    language: the transcript's language, an espeak-ng voice ("en", "de", "fr", "es", ...): English is aligned by
        pocketsphinx, every other language by warping espeak-ng's rendering onto the speech.
    still: only the mouth moves (by default, for "jali" and "visemenet", the eyes blink, the brows
        rise and the head turns with the speech as in the talking photo: in the video, the vertex
        exports, the glTF node's rotation and translation, and the JSON's ``head`` curves).
    seed: the seed of that motion.
    """

    fps: float | Fraction | None = setting(None, "frames per second", above=0, none="30, faceformer: its own rate")
    method: str = setting("auto", "speech to motion", choices=METHODS)
    template: str | None = None
    size: int = setting(512, "video size in pixels", low=16, high=8192)
    wireframe: bool = False
    backend: str = "auto"
    jali: JaliConfig = field(default_factory=JaliConfig)
    language: str = "en"
    still: bool = setting(False, "only the mouth moves (no blinks or brows)")
    seed: int = 0
    checkpoint: str | None = None
    wav2vec2: str | None = None
    style: int = 0
    templates: str | None = None
    subject: str | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.fps is not None:
            from ..timebase import to_fps

            to_fps(self.fps)
        if not 16 <= self.size <= 8192:
            raise InputError(f"size must be 16-8192 pixels, got {self.size}")
        if self.method != "faceformer" and (self.checkpoint or self.wav2vec2 or self.templates or self.subject):
            raise InputError("a checkpoint, wav2vec2 folder or templates.pkl is only used by the faceformer method")
        if (self.templates is None) != (self.subject is None):
            raise InputError("a subject's neutral face needs both templates (a templates.pkl) and subject")
        if self.subject is not None and self.template is None:
            raise InputError(
                "templates.pkl holds vertices only: give the mesh with the triangles as template too "
                "(e.g. FLAME_sample.ply)"
            )


@dataclass
class MeshAnimationResult:
    outputs: list[Path]
    curves: AnimationCurves | None  # ARKit curves (FaceFormer: fitted, and only when CSV/JSON was asked)
    phonemes: PhonemeSequence | None  # JALI: the timed phonemes; VisemeNet: its phoneme groups
    num_vertices: int
    num_frames: int
    fps: Fraction
    renderer: str | None  # backend used for a video, if one was written

    def __repr__(self) -> str:
        names = ", ".join(p.name or str(p) for p in self.outputs)
        return (
            f"MeshAnimationResult({names}: {self.num_frames} frames of {self.num_vertices} vertices "
            f"at {float(self.fps):g} fps)"
        )


def output_kind(path: str | os.PathLike) -> str:
    """ "video", "glb", "csv", "json", "npy", "obj" (a folder) or "animation" (an animator's file, see
    :mod:`talkingface.export.formats`) for an output path."""

    p = Path(path)
    suffix = p.suffix.lower()
    if animation_format(p) is not None:
        return "animation"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in FILE_SUFFIXES:
        return suffix[1:]
    if suffix == "" or str(path).endswith(os.sep):
        return "obj"
    raise InputError(
        f"{path}: outputs are .mp4/.mov/.mkv/.m4v/.webm, .glb, .csv, .json, .npy, a folder for OBJs, or an "
        "animator's file (.tsv .xml .rhubarb.json .dat .pgo .anim .tres .vrma .motion3.json .vmd .a2f.json .srt .vtt)"
    )


class MeshAnimationPipeline(Pipeline):
    """``MeshAnimationPipeline(config, model=None)(audio, ["out.mp4", "out.glb"], text=None)``.

    Args:
        config: options.
        model: for the "faceformer" method, a FaceFormer (``load_model("vocaset.pth")``); None loads
            ``config.checkpoint`` (and ``config.wav2vec2``) here, before any work.
    """

    @classmethod
    def from_config(
        cls, config: MeshAnimationConfig | None = None, checkpoint: str | os.PathLike | None = None
    ) -> MeshAnimationPipeline:
        """The pipeline with the FaceFormer of ``checkpoint`` (or the config's) for the faceformer method;
        the others need none."""
        config = config or MeshAnimationConfig()
        if checkpoint is not None:
            config = dataclasses.replace(config, checkpoint=str(checkpoint))
        return cls(config)

    def __init__(self, config: MeshAnimationConfig = MeshAnimationConfig(), model=None):
        self.config = config
        self.model = None
        if config.method == "faceformer":
            from ..models import load_model
            from ..models.registry import check_model

            if model is None:
                if not config.checkpoint:
                    raise InputError(
                        "the faceformer method needs a model or a checkpoint (vocaset.pth, biwi.pth or our .safetensors)"
                    )
                model = load_model(config.checkpoint, family="faceformer")
            check_model(model, family="faceformer", role="mesh", what="a FaceFormer")
            if config.wav2vec2 is not None:
                model.load_wav2vec2(config.wav2vec2)
            self.model = model.eval()
        elif model is not None:
            raise InputError("a model is only used by the faceformer method")

    def to(self, device) -> MeshAnimationPipeline:
        """Run the model (FaceFormer) on ``device``."""
        chosen = check_device(device)
        if self.model is not None:
            self.model.to(chosen)
        return self

    def check(self, audio, outputs) -> list[str]:
        """Fail before any work: audio with sound, and outputs that can be written (their folders exist,
        known extensions, no output twice, none of them the audio or the template). Returns the kinds."""
        from ..media import audio_info, check_video_output

        if not outputs:
            raise InputError("give at least one output")
        kinds = [output_kind(o) for o in outputs]
        inputs = (audio, self.config.template, self.config.templates, self.config.checkpoint)
        seen: set[Path] = set()
        for out, kind in zip(outputs, kinds):
            resolved = Path(out).resolve()
            if resolved in seen:
                raise InputError(f"{out}: given twice as an output")
            seen.add(resolved)
            if kind == "video":
                check_video_output(out, audio=True, inputs=inputs)
            elif kind == "obj":
                parent = Path(str(out).rstrip(os.sep)).parent
                if not parent.is_dir():
                    raise InputError(f"{out}: folder {parent} does not exist")
            else:
                check_output(out, inputs=inputs, what=f"{kind} file")
            if kind == "animation" and self.config.method == "faceformer":
                from ..export.formats import FORMATS, animation_format

                fmt = animation_format(out)
                assert fmt is not None
                if FORMATS[fmt][1] not in ("curves", "cues"):
                    raise InputError(f"{out}: {fmt} needs timed phonemes, which FaceFormer does not give")
        audio_info(audio)
        return kinds

    def basis(self):
        """The blendshape basis on the configured template (built-in face, or transferred)."""

        basis = face_basis()
        if self.config.template:
            basis = transfer_basis(basis, load_face_mesh(self.config.template))
        return basis

    def __call__(
        self,
        audio: str | os.PathLike,
        outputs: list[str | os.PathLike],
        text: str | None = None,
        progress: bool = False,
    ) -> MeshAnimationResult:
        from ..media import load_audio

        if self.config.method == "faceformer":
            kinds = self.check(audio, outputs)
            if text is not None:
                raise InputError("FaceFormer animates from the audio alone; a transcript is not used")
            return self._faceformer(audio, outputs, kinds, progress)

        resolve_method(self.config.method, text)
        kinds = self.check(audio, outputs)
        basis = self.basis()  # a bad template fails before the audio work
        fps = to_fps(self.config.fps or 30)
        speech = load_audio(audio, SPEECH_RATE)
        curves, phonemes = speech_curves(
            speech, SPEECH_RATE, fps, text, self.config.method, self.config.jali, language=self.config.language
        )
        if not self.config.still:
            from ..animation.idle import with_idle_motion

            curves = with_idle_motion(curves, self.config.seed, speech, SPEECH_RATE)
        weights = basis.weights_from(curves)
        pose = None
        if "head" in curves.extra:
            from ..animation.rig import mesh_head_pose

            pose = mesh_head_pose(basis.mesh.vertices, curves.extra["head"])

        def posed(frames: np.ndarray, at: slice | int) -> np.ndarray:
            if pose is None:
                return frames
            rotation, translation = pose[0][at], pose[1][at]
            return (np.einsum("...ij,...vj->...vi", rotation, frames) + translation[..., None, :]).astype(np.float32)

        def each_frame() -> Iterator[np.ndarray]:  # one frame at a time: a long clip never sits in memory
            return (posed(basis.evaluate(w), t) for t, w in enumerate(weights))

        renderer = None
        written = []
        for out, kind in zip(outputs, kinds):
            if kind == "animation":
                written.append(_write_animation(out, curves, phonemes, audio, text))
                continue
            path, backend = self._write(out, kind, basis, weights, curves, audio, progress, each_frame, posed, pose)
            written.append(path)
            renderer = backend or renderer
        return MeshAnimationResult(
            written, curves, phonemes, basis.mesh.num_vertices, len(weights), curves.fps, renderer
        )

    def _faceformer(self, audio, outputs, kinds, progress) -> MeshAnimationResult:
        from ..media import load_audio
        from ..models.faceformer import as_numpy_vertices

        model = self.model
        assert model is not None  # __init__ sets it for the faceformer method
        v = model.config.num_vertices
        if self.config.template:
            mesh = load_mesh(self.config.template)
            if self.config.subject is not None:
                from ..animation.mesh import Mesh
                from ..data.mesh_sets import load_templates

                assert self.config.templates is not None  # MeshAnimationConfig requires it with a subject
                templates = load_templates(self.config.templates)
                if self.config.subject not in templates:
                    raise InputError(
                        f"{self.config.templates}: no subject {self.config.subject!r} (it holds "
                        f"{', '.join(sorted(templates)[:6])}{', ...' if len(templates) > 6 else ''})"
                    )
                neutral = templates[self.config.subject].reshape(-1, 3)
                if len(neutral) != mesh.num_vertices:
                    raise InputError(
                        f"{self.config.subject}: {len(neutral)} vertices, but {self.config.template} "
                        f"has {mesh.num_vertices}"
                    )
                mesh = Mesh(neutral, mesh.faces, name=self.config.subject)
        elif v == 478:
            mesh = face_template()
        else:
            raise InputError(
                f"this FaceFormer animates meshes of {v} vertices: give its neutral face as the "
                "template (an OBJ/PLY, e.g. the subject's FLAME/BIWI template)"
            )
        if mesh.num_vertices != v:
            raise InputError(f"{self.config.template}: {mesh.num_vertices} vertices, but the checkpoint animates {v}")
        if not 0 <= self.config.style < model.config.num_speakers:
            raise InputError(
                f"style must be 0..{model.config.num_speakers - 1} (a training speaker), got {self.config.style}"
            )
        speech = load_audio(audio, model.spec.sample_rate)
        frames = as_numpy_vertices(model.predict(speech, mesh.vertices, self.config.style))
        fps = to_fps(model.config.fps)
        if self.config.fps is not None and to_fps(self.config.fps) != fps:
            from ..timebase import resample_frames

            frames, fps = resample_frames(frames, fps, self.config.fps), to_fps(self.config.fps)
        curves = None
        if any(kind in ("csv", "json", "animation") for kind in kinds):
            curves = self._fit_curves(mesh, frames, fps)
        written, renderer = [], None
        for out, kind in zip(outputs, kinds):
            if kind == "animation":
                written.append(_write_animation(out, curves, None, audio, None))
                continue
            path, backend = self._write_frames(out, kind, mesh, frames, curves, fps, audio, progress)
            written.append(path)
            renderer = backend or renderer
        return MeshAnimationResult(written, curves, None, v, len(frames), fps, renderer)

    def _fit_curves(self, mesh, frames, fps) -> AnimationCurves:
        """ARKit curves fitted to a vertex animation (the rig moved onto its mesh)."""

        basis = face_basis() if mesh.num_vertices == 478 else transfer_basis(face_basis(), mesh)
        region = np.flatnonzero(np.abs(basis.deltas).max(axis=(0, 2)) > 0)
        weights = basis.fit(frames, region)
        return AnimationCurves(fps, tuple(basis.names), weights)

    def _write_frames(self, out, kind, mesh, frames, curves, fps, audio, progress) -> tuple[Path, str | None]:
        """Write one output of a vertex animation ``frames`` ``(T, V, 3)``."""

        if kind == "video":
            lo, hi = frames.min(axis=(0, 1)), frames.max(axis=(0, 1))
            extremes = np.stack([np.minimum(mesh.vertices, lo), np.maximum(mesh.vertices, hi)])
            return Path(out), self._render(out, iter(frames), mesh.faces, fps, extremes, audio, progress, len(frames))
        if kind == "glb":
            return write_glb_vertex_cache(out, frames, mesh.faces, float(fps), reference=mesh.vertices), None
        return _write_file(out, kind, mesh.faces, lambda: frames, curves, len(frames)), None

    def _render(self, out, frames: Iterator, faces, fps, extremes, audio, progress: bool, total: int) -> str:
        """Render the face's ``frames`` (vertices) to video ``out``, framed by the ``extremes`` of its
        motion; the renderer backend used."""

        return render_video(
            out,
            [frames],
            [faces],
            fps,
            [extremes],
            audio=audio,
            size=self.config.size,
            wireframe=self.config.wireframe,
            backend=self.config.backend,
            progress=progress,
            total=total,
        )

    def _write(
        self, out, kind, basis, weights, curves, audio, progress, each_frame, posed, pose
    ) -> tuple[Path, str | None]:
        """Write one output of blendshape ``weights`` (the head turned by ``posed``/``pose`` when the
        curves move it); returns its path and, for a video, the renderer backend used."""

        fps = float(curves.fps)
        if kind == "video":
            frames = each_frame()
            extremes = basis.evaluate(np.stack([np.zeros(len(basis.names)), np.ones(len(basis.names)) * 0.8]))
            return Path(out), self._render(
                out, frames, basis.mesh.faces, curves.fps, extremes, audio, progress, len(weights)
            )
        if kind == "glb":
            used = np.abs(basis.deltas).max(axis=(1, 2)) > 0
            return write_glb(
                out,
                basis.mesh.vertices,
                basis.mesh.faces,
                basis.deltas[used],
                [n for n, u in zip(basis.names, used) if u],
                np.arange(len(weights)) / fps,
                weights[:, used],
                rotations=_node_motion(*pose)[0] if pose is not None else None,
                translations=pose[1] if pose is not None else None,
            ), None
        return _write_file(out, kind, basis.mesh.faces, each_frame, curves, len(weights)), None


def _write_animation(out, curves, phonemes, audio, text: str | None) -> Path:
    fmt = animation_format(out)
    assert fmt is not None
    return write_animation(out, fmt, curves, phonemes, ExportOptions(sound_file=str(audio), transcript=text))


def _node_motion(rotations: np.ndarray, translations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glTF node rotations (quaternions x, y, z, w) and translations for per-frame ``v' = R v + t``."""
    from scipy.spatial.transform import Rotation

    quaternions: np.ndarray = Rotation.from_matrix(rotations).as_quat()
    return quaternions, translations


def _write_file(out, kind: str, faces: np.ndarray, frames, curves, count: int) -> Path:
    """A .csv/.json of ``curves``, a .npy of the vertices or a folder of OBJs; ``frames()`` gives the
    ``count`` frames' vertices ``(V, 3)`` one after another (or all at once as ``(T, V, 3)``)."""

    if kind in ("csv", "json"):
        return curves.save(out)
    if kind == "npy":
        return write_npy(out, frames(), count)
    return write_obj_sequence(out, frames(), faces)
