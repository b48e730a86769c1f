"""What talkingface finds on this machine: versions of its components and whether each works.

Every check is a real use of the component (an encoder is opened, a library is initialised), run
on demand only; ``talkingface info`` prints the result.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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
    from .errors import MissingDependencyError
    from .speech.espeak import engine_version, synthesize

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
    """Whether this CPU has bfloat16 units (lip-sync's --precision bf16 is then much faster)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return None, False, "unknown (no /proc/cpuinfo)"
    units = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    if not units:
        return None, False, "no bfloat16 units: --precision bf16 would be emulated (slower); fp32 is used"
    return None, True, f"{', '.join(units)}: --precision bf16 runs the generator several times faster"


def _check_transformers() -> tuple[str | None, bool, str]:
    version = _package_version("transformers")
    if version is None:
        return None, False, "not installed (pip install 'talkingface[faceformer]')"
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


def _check_sync_model() -> tuple[str | None, bool, str]:
    """The built-in sync model loads from the package."""
    from .models.syncnet_lips import builtin_sync_model, builtin_weights

    model = builtin_sync_model()
    size = builtin_weights().stat().st_size / 1e6
    return None, True, f"{model.variant}, {size:.1f} MB (card: {builtin_weights().with_suffix('.md').name})"


def _check_visemenet() -> tuple[str | None, bool, str]:
    """The built-in VisemeNet loads from the package."""
    from .models.visemenet import builtin_visemenet, builtin_weights

    model = builtin_visemenet()
    size = builtin_weights().stat().st_size / 1e6
    card = builtin_weights().with_suffix(".md").name
    return None, True, f"hidden {model.config.hidden}, {size:.1f} MB (card: {card})"


def _check_openness() -> tuple[str | None, bool, str]:
    """The built-in mouth-openness model loads from the package and runs on a second of features."""
    import torch

    from .models.openness import builtin_weights, load_openness

    model = load_openness()
    with torch.no_grad():
        out = model(torch.zeros(1, 100, 24))
    size = builtin_weights().stat().st_size / 1e6
    card = builtin_weights().with_suffix(".md").name
    ok = bool(out.shape == (1, 100) and torch.isfinite(out).all())
    return None, ok, f"{model.config.members} networks, {size:.1f} MB (card: {card})"


def _check_upscaler() -> tuple[str | None, bool, str]:
    """The built-in mouth upscaler loads from the package and restores a canvas."""
    import torch

    from .models.upscaler import builtin_weights, load_upscaler

    model = load_upscaler()
    with torch.no_grad():
        out = model(torch.full((1, 3, 30, 48), 0.5))
    size = builtin_weights().stat().st_size / 1e6
    card = builtin_weights().with_suffix(".md").name
    return None, bool(out.shape == (1, 3, 60, 96)), f"width {model.config.width}, {size:.1f} MB (card: {card})"


_CHECKS: list[tuple[str, Callable[[], tuple[str | None, bool, str]], str]] = [
    ("PyAV", _check_pyav, "all media input and output"),
    ("torch", _check_torch, "neural models and features"),
    ("soundfile", _check_soundfile, "audio formats FFmpeg lacks"),
    ("espeak-ng", _check_espeak, "synthetic speech with phoneme timings"),
    ("EGL", _check_egl, "offscreen 3D rendering"),
    ("mediapipe", _check_mediapipe, "face detection and landmarks"),
    ("opencv", _check_opencv, "image warping"),
    ("transformers", _check_transformers, "FaceFormer's wav2vec 2.0 encoder"),
    ("bfloat16", _check_bfloat16, "fast opt-in generator arithmetic"),
    ("sync model", _check_sync_model, "sync scores and offsets without a checkpoint"),
    ("visemenet", _check_visemenet, "speech animation without a transcript"),
    ("openness model", _check_openness, "the jaw of speech animation (--method auto)"),
    ("mouth upscaler", _check_upscaler, "--enhance upscaler"),
]


def check_components() -> list[Component]:
    """Run every component check; a check that raises reports the component as not working."""
    results = [Component("python", platform.python_version(), True, platform.platform(), "everything")]
    for name, check, needed_for in _CHECKS:
        try:
            version, ok, detail = check()
        except Exception as error:  # a broken install must be reported, not crash the report
            version, ok, detail = None, False, f"{type(error).__name__}: {' '.join(str(error).split())}"
        results.append(Component(name, version, ok, detail, needed_for))
    return results
