"""Animation from speech: the JALI procedural animator and animation curves with their exports."""

from .curves import AnimationCurves
from .idle import with_idle_motion
from .jali import JaliAnimator, JaliConfig

__all__ = ["AnimationCurves", "JaliAnimator", "JaliConfig", "with_idle_motion"]
