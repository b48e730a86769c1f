"""Lazy access to mediapipe's bundled face models, with their start-up chatter silenced."""

from __future__ import annotations

from ..errors import MissingDependencyError
from ..native import quiet_stderr


def solutions():
    """``mediapipe.solutions``, or a MissingDependencyError naming the extra to install."""
    try:
        with quiet_stderr():
            from mediapipe.python import solutions
    except ImportError:
        raise MissingDependencyError("face analysis needs mediapipe 0.10.21: pip install 'talkingface[face]'") from None
    return solutions
