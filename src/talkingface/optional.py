"""One gate for the optional dependencies. Each is imported where it is used, inside ``needs``::

    with needs("face"):
        import cv2

so that a missing one is a one-line :class:`~talkingface.errors.MissingDependencyError` naming the extra
that installs it, never an "internal error" (``tests/test_optional.py`` holds every such import to it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .errors import MissingDependencyError

#: The extras of ``pyproject.toml`` and what each brings.
EXTRAS = {
    "face": "mediapipe and OpenCV",
    "speech": "pocketsphinx",
    "render": "moderngl",
    "faceformer": "transformers",
    "serve": "fastapi, uvicorn and python-multipart",
}
#: The top-level modules each extra provides.
MODULES = {
    "cv2": "face",
    "mediapipe": "face",
    "pocketsphinx": "speech",
    "moderngl": "render",
    "transformers": "faceformer",
    "fastapi": "serve",
    "uvicorn": "serve",
    "multipart": "serve",
}


@contextlib.contextmanager
def needs(extra: str, what: str = "") -> Iterator[None]:
    """Run the imports of the block; a module of ``extra`` that is missing (or fails to load) becomes a
    one-line error: ``"<what> needs <module>: pip install 'talkingface[<extra>]'"``."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    try:
        yield
    except ImportError as error:
        module = (error.name or "").split(".")[0] or EXTRAS[extra]
        if module in MODULES and MODULES[module] != extra:
            extra = MODULES[module]
        said = what or f"this ({EXTRAS[extra]})"
        raise MissingDependencyError(f"{said} needs {module}: pip install 'talkingface[{extra}]'") from None
