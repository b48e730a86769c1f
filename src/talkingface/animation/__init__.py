"""Animation from speech: the JALI procedural animator and animation curves with their exports."""

from .curves import AnimationCurves
from .jali import JaliAnimator, JaliConfig

__all__ = ["AnimationCurves", "JaliAnimator", "JaliConfig"]
