"""The ``talkingface`` command line: ``talkingface <command> [options]``.

Each command is a module with ``register(subparsers)`` and ``run(args) -> int``. Errors about the
user's input and the file system (a folder that cannot be written, a full disk) print one line and
exit with status 2; anything unexpected prints one line naming it and exits with status 1
(``TALKINGFACE_DEBUG=1`` shows the traceback instead). SIGINT, SIGTERM and SIGHUP stop a run the same
way: its temporary files are removed, no partial output is left, and it exits with 128 + the signal.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from .. import __version__
from ..errors import TalkingFaceError

COMMANDS = (
    "info",
    "animate",
    "lipsync",
    "sync-score",
    "mesh",
    "features",
    "track",
    "visemes",
    "say",
    "train",
    "make-dataset",
    "make-talking-faces",
    "preprocess",
    "evaluate",
    "serve",
)


_KEEPS_PROGRESS = ("train", "make-dataset", "make-talking-faces", "preprocess", "serve")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, ``talkingface <cmd>: error: ...``, with the
    nearest option or command to a mistyped one."""

    #: The words being parsed (set by :func:`main`), for the suggestions.
    words: tuple[str, ...] = ()

    def error(self, message: str):
        hint = self._suggestion(message) or self._dashed_text()
        self.exit(2, f"{self.prog}: error: {message}{hint} (see {self.prog} --help)\n")

    def _dashed_text(self) -> str:
        """For a command that takes text (say): text starting with '-' read as an option says how to give it."""
        if not any(action.dest == "text" and not action.option_strings for action in self._actions):
            return ""
        known = {o for action in self._actions for o in action.option_strings}
        dashed = [w for w in self.words if w.startswith("-") and w.split("=", 1)[0] not in known and w != "--"]
        return f"; text that starts with '-' goes after '--': ... -- {dashed[0]}" if dashed else ""

    def _suggestion(self, message: str) -> str:
        """``"; did you mean X?"`` for the first mistyped command or option, or nothing."""
        import difflib
        import re

        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            known = re.findall(r"'([^']*)'", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), known, n=1)
            return f"; did you mean {close[0]}?" if close else ""
        options = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
        for word in self.words:
            flag = word.split("=", 1)[0]
            if not flag.startswith("--") or any(o.startswith(flag) for o in options):
                continue  # a known option (or an abbreviation of one), or not an option
            close = difflib.get_close_matches(flag, options, n=1)
            if close:
                return f"; did you mean {close[0]}?"
        return ""


def _command_parser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The parser of ``command`` (the top-level one when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return parser


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="talkingface", description="Talking-face generation from speech.")
    parser.add_argument("--version", action="version", version=f"talkingface {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    _threads_that_yield()
    _file_size_limit()
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is shown, escaped, not a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError):
                reconfigure(errors="backslashreplace")
    parser = build_parser()
    _Parser.words = tuple(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # told by the command's own parser, which knows its options
        command = _command_parser(parser, args.command)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return 2
    from ..files import all_or_nothing

    # A run writes all its outputs or none; training and the set builders keep what they finished
    # (checkpoints, samples), as resuming relies on them.
    outputs = contextlib.nullcontext() if args.command in _KEEPS_PROGRESS else all_or_nothing()
    try:
        _working_folder()
        _distinct_outputs(args)
        with _signals_stop_the_run(), outputs:
            return int(args.run(args) or 0)
    except TalkingFaceError as error:
        print(f"talkingface {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Stopped as stop:
        print(f"talkingface {args.command}: stopped by {stop.name}; nothing was written", file=sys.stderr)
        return 128 + stop.signum
    except OSError as error:  # the file system: permissions, a full disk, a vanished folder
        where = f"{error.filename}: " if error.filename else ""
        reason = error.strerror or " ".join(str(error).split())
        print(f"talkingface {args.command}: error: {where}{reason}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            f"talkingface {args.command}: error: out of memory (try a shorter input or a smaller batch)",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # a bug, not the user's input: one line, the traceback on request
        if os.environ.get("TALKINGFACE_DEBUG"):
            raise
        detail = " ".join(str(error).split())[:300]
        print(
            f"talkingface {args.command}: internal error: {type(error).__name__}: {detail} "
            "(run with TALKINGFACE_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"talkingface {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130


#: The options that name a file a run writes (those a command has), with the flag that says so.
_OUTPUT_OPTIONS = {
    "output": "-o",
    "phonemes": "--phonemes",
    "plot": "--plot",
    "sheet": "--sheet",
    "json": "--json",
    "csv": "--csv",
}


def _working_folder() -> None:
    """The folder the command runs in still exists (relative names are read and written there)."""
    import os

    from ..errors import InputError

    try:
        os.getcwd()
    except FileNotFoundError:
        raise InputError("the working folder was deleted: change to an existing folder and run again") from None


def _distinct_outputs(args: argparse.Namespace) -> None:
    """Two outputs of one run never name the same file (one would silently replace the other)."""
    import os

    from ..errors import InputError

    seen: dict[str, str] = {}
    for dest, flag in _OUTPUT_OPTIONS.items():
        value = getattr(args, dest, None)
        for name in value if isinstance(value, list) else [value]:
            if not isinstance(name, str) or name in ("", "-"):
                continue
            key = os.path.realpath(name)
            if key in seen:
                both = f"{flag} names {name} twice" if seen[key] == flag else f"{seen[key]} and {flag} both name {name}"
                raise InputError(f"{both}: each output needs a file of its own")
            seen[key] = flag


def _file_size_limit() -> None:
    """``TALKINGFACE_MAX_FILE_BYTES`` (set by a supervising program, as the web service does) caps
    each file the run writes; writing past it is an error the run reports, like a full disk."""
    value = os.environ.get("TALKINGFACE_MAX_FILE_BYTES", "")
    if not value.isdigit():
        return
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (int(value), int(value)))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _threads_that_yield() -> None:
    """Thread pools that give the cores back (unless the user set these): numpy's BLAS on one thread,
    as its operations here are small and its idle worker spun on ``sched_yield`` (a third of
    ``animate``'s CPU time went to the kernel); OpenMP (torch) spinning only briefly before it sleeps,
    as its default long spin made ``animate`` 13 times slower on a machine whose cores were busy
    (``bench/bench_busy_machine.py``). Takes effect only before numpy and torch are first imported, as
    in a fresh command line process."""
    if "numpy" not in sys.modules:  # torch's own BLAS (MKL) keeps its threads
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "torch" not in sys.modules:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")


#: The signals that end a process unless it handles them, and that it may handle: each stops a run
#: cleanly, its partial outputs removed (SIGINT is Python's KeyboardInterrupt; SIGKILL cannot be caught).
STOPPING = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGXCPU")


class Stopped(BaseException):
    """A run stopped by a signal of :data:`STOPPING`; raised where the run is, so every ``finally`` and atomic
    output cleans up on the way out (as for SIGINT's KeyboardInterrupt)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextlib.contextmanager
def _signals_stop_the_run() -> Iterator[None]:
    """The signals of :data:`STOPPING` raise :class:`Stopped` while the block runs (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise Stopped(signum)

    names = [name for name in STOPPING if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), stop) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


if __name__ == "__main__":
    sys.exit(main())
