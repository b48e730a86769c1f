"""Errors that talkingface raises for problems with its inputs.

Every error renders as one line that names what was wrong, so the CLI can print it as is.
"""

from __future__ import annotations

import os


class TalkingFaceError(Exception):
    """Base class of all errors about user input, files and environment."""


class InputError(TalkingFaceError, ValueError):
    """An argument has the wrong shape, type or value."""


class _FileError(TalkingFaceError):
    """A problem with one file: the message is ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = _one_line(problem)
        super().__init__(f"{self.path}: {self.problem}")


class MediaError(_FileError):
    """An input file (video, audio, image, mesh, phoneme timings, transcript) is missing, unreadable,
    truncated, or lacks what is needed (a stream, a header).

    The message is ``"<path>: <problem>"``.
    """


class CheckpointError(_FileError):
    """A model file is missing, unreadable, would run code, or does not fit the model.

    The message is ``"<path>: <problem>"``.
    """


class EngineError(TalkingFaceError):
    """An external engine (espeak-ng, pocketsphinx, mediapipe, a worker process) failed while working."""


class MissingDependencyError(TalkingFaceError, ImportError):
    """An optional component is not installed; the message names how to get it."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
