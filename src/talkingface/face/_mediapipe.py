"""Lazy access to mediapipe's bundled face models, with their start-up chatter silenced."""

from __future__ import annotations

from ..native import quiet_stderr
from ..optional import needs


def solutions():
    """``mediapipe.solutions``, or a MissingDependencyError naming the extra to install."""
    with needs("face", "face analysis"), quiet_stderr():
        from mediapipe.python import solutions
    return solutions
