"""What talkingface finds on this machine: versions of its components and whether each works.

Every check is a real use of the component (an encoder is opened, a library is initialised), run
on demand only; ``talkingface info`` prints the result.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import MissingDependencyError
from .optional import needs


@dataclass(frozen=True)
class Component:
    """One component: its version (None if absent), whether it works, and what was seen."""

    name: str
    version: str | None
    ok: bool
    detail: str
    needed_for: str


def _package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _check_pyav() -> tuple[str | None, bool, str]:
    import av

    missing = []
    for codec in ("libx264", "aac"):
        try:
            av.codec.Codec(codec, "w")
        except Exception:
            missing.append(codec)
    ffmpeg = getattr(av, "ffmpeg_version_info", "?")
    if missing:
        return av.__version__, False, f"FFmpeg {ffmpeg}; encoders missing: {', '.join(missing)}"
    return av.__version__, True, f"FFmpeg {ffmpeg}; encoders libx264, aac"


def _check_torch() -> tuple[str | None, bool, str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append(f"cuda x{torch.cuda.device_count()}")
    return torch.__version__, True, f"devices: {', '.join(devices)}; {torch.get_num_threads()} threads"


def _check_soundfile() -> tuple[str | None, bool, str]:
    import soundfile

    return (
        soundfile.__version__,
        True,
        soundfile.__libsndfile_version__ and f"libsndfile {soundfile.__libsndfile_version__}",
    )


def _check_espeak() -> tuple[str | None, bool, str]:
    from .speech.espeak import engine_version, synthesize  # numpy: loaded only for this check

    try:
        version = engine_version()
        speech = synthesize("ok")
    except MissingDependencyError as error:
        return None, False, str(error)
    if not speech.phonemes.speech:
        return version, False, "synthesis gave no phoneme events"
    return version, True, f"C API, {speech.sample_rate} Hz, phoneme events"


def _check_egl() -> tuple[str | None, bool, str]:
    try:
        egl = ctypes.CDLL("libEGL.so.1")
    except OSError:
        return None, False, "libEGL.so.1 not found (Debian packages libegl1 libegl-mesa0)"
    egl.eglGetProcAddress.restype = ctypes.c_void_p
    egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
    address = egl.eglGetProcAddress(b"eglGetPlatformDisplayEXT")
    if not address:
        return None, False, "eglGetPlatformDisplayEXT unavailable"
    get_display = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p)(address)
    display = get_display(0x31DD, None, None)  # EGL_PLATFORM_SURFACELESS_MESA: no window system
    major, minor = ctypes.c_int(), ctypes.c_int()
    egl.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    if not display or not egl.eglInitialize(display, ctypes.byref(major), ctypes.byref(minor)):
        return None, False, "no surfaceless EGL display (Debian package libgl1-mesa-dri)"
    egl.eglQueryString.restype = ctypes.c_char_p
    egl.eglQueryString.argtypes = [ctypes.c_void_p, ctypes.c_int]
    vendor = (egl.eglQueryString(display, 0x3053) or b"?").decode()  # EGL_VENDOR
    egl.eglTerminate.argtypes = [ctypes.c_void_p]
    egl.eglTerminate(display)
    return f"{major.value}.{minor.value}", True, f"surfaceless, {vendor}"


def _check_mediapipe() -> tuple[str | None, bool, str]:
    version = _package_version("mediapipe")
    if version is None:
        return None, False, "not installed (pip install 'talkingface[face]')"
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or spec.origin is None:
        return version, False, "installed but not importable"
    root = Path(spec.origin).parent
    models = [
        "modules/face_detection/face_detection_full_range_sparse.tflite",
        "modules/face_landmark/face_landmark_with_attention.tflite",
    ]
    missing = [m for m in models if not (root / m).exists()]
    if missing:
        return version, False, f"bundled models missing: {', '.join(missing)}"
    return version, True, "bundled face detection and 478-point landmark models"


def _check_opencv() -> tuple[str | None, bool, str]:
    try:
        cv2 = importlib.import_module("cv2")
    except ImportError:
        return None, False, "not installed (pip install 'talkingface[face]')"
    return cv2.__version__, True, "cv2"


def _check_bfloat16() -> tuple[str | None, bool, str]:
    """Whether this CPU has bfloat16 units: which of lip-sync's precisions are fast here."""
    from .cpu import bfloat16_units, vector_features

    units = bfloat16_units()
    if units is None:
        return None, False, "unknown (the system does not list the CPU's features): fast precisions: fp32"
    if not units:
        return None, False, f"{vector_features()}: fast precisions: fp32 (--precision bf16 falls back to fp32)"
    return None, True, f"{', '.join(units)}: fast precisions: fp32, bf16 (the generator several times faster)"


def _check_transformers() -> tuple[str | None, bool, str]:
    version = _package_version("transformers")
    if version is None:
        return None, False, "not installed (pip install 'talkingface[faceformer]')"

    with needs("faceformer", "FaceFormer's wav2vec 2.0 encoder"):
        from transformers import Wav2Vec2Config, Wav2Vec2Model
    Wav2Vec2Model(
        Wav2Vec2Config(
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=1,
            intermediate_size=8,
            conv_dim=(8,) * 7,
            num_conv_pos_embeddings=4,
            num_conv_pos_embedding_groups=1,
        )
    )
    return version, True, "wav2vec 2.0 built from a config (weights from files only)"


# The built-in models (every registry variant whose weights ship): the name info gives each, what needs
# it, and a small input it must run on (its output's expected shape).
_BUILTIN_USES = {
    "syncnet.lips": ("sync model", "sync scores and offsets without a checkpoint"),
    "visemenet": ("visemenet", "speech animation without a transcript"),
    "openness": ("openness model", "the jaw of speech animation (--method auto)"),
    "upscaler.mouth": ("mouth upscaler", "--enhance upscaler"),
}
_SMOKE = {"openness": ((1, 100, 24), (1, 100)), "upscaler.mouth": ((1, 3, 30, 48), (1, 3, 60, 96))}


def _check_builtin(name: str) -> tuple[str | None, bool, str]:
    """A built-in model loads from the package (and runs on a small input, where it has one)."""
    import torch

    from .models.registry import builtin_path, load_builtin

    model = load_builtin(name)
    ok = True
    if name in _SMOKE:
        shape, expected = _SMOKE[name]
        with torch.no_grad():
            out = model(torch.full(shape, 0.5))
        ok = bool(out.shape == expected and torch.isfinite(out).all())
    path = builtin_path(name)
    return None, ok, f"{name}, {path.stat().st_size / 1e6:.1f} MB (card: {path.with_suffix('.md').name})"


_Check = tuple[str, Callable[[], tuple[str | None, bool, str]], str]


def _builtin_checks() -> list[_Check]:
    from .models.registry import builtins

    checks: list[_Check] = []
    for variant in builtins():
        shown, needed_for = _BUILTIN_USES.get(variant.name, (variant.name, variant.description))
        checks.append((shown, functools.partial(_check_builtin, variant.name), needed_for))
    return checks


_CHECKS: list[_Check] = [
    ("PyAV", _check_pyav, "all media input and output"),
    ("torch", _check_torch, "neural models and features"),
    ("soundfile", _check_soundfile, "audio formats FFmpeg lacks"),
    ("espeak-ng", _check_espeak, "synthetic speech with phoneme timings"),
    ("EGL", _check_egl, "offscreen 3D rendering"),
    ("mediapipe", _check_mediapipe, "face detection and landmarks"),
    ("opencv", _check_opencv, "image warping"),
    ("transformers", _check_transformers, "FaceFormer's wav2vec 2.0 encoder"),
    ("bfloat16", _check_bfloat16, "fast opt-in generator arithmetic"),
]


def check_components() -> list[Component]:
    """Run every component check; a check that raises reports the component as not working."""
    results = [Component("python", platform.python_version(), True, platform.platform(), "everything")]
    for name, check, needed_for in [*_CHECKS, *_builtin_checks()]:
        try:
            version, ok, detail = check()
        except Exception as error:  # a broken install must be reported, not crash the report
            version, ok, detail = None, False, f"{type(error).__name__}: {' '.join(str(error).split())}"
        results.append(Component(name, version, ok, detail, needed_for))
    return results
