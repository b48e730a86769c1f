"""Lazy access to mediapipe's bundled face models, with their start-up chatter silenced."""

from __future__ import annotations

import importlib
import sys
import threading

from ..native import quiet_stderr
from ..optional import needs


def solutions():
    """``mediapipe.solutions``, or a MissingDependencyError naming the extra to install."""
    with needs("face", "face analysis"), quiet_stderr():
        import_aside("mediapipe.python.solutions")
        from mediapipe.python import solutions
    return solutions


def import_aside(name: str) -> None:
    """Import module ``name`` on a thread of its own.

    mediapipe keeps an exception raised while it is imported (sounddevice's, where PortAudio is
    missing). Its traceback's frames reach, through their callers, every frame that was running when
    the import happened: imported inside a tracking run, it would keep that run's locals, and a long
    video's landmarks with them, for as long as the process lives. A thread's stack holds nothing."""
    if name in sys.modules:
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            importlib.import_module(name)
        except BaseException as error:  # raised again in the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, name=f"import {name}")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
