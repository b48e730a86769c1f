"""The ``talkingface`` command line: ``talkingface <command> [options]``.

Each command is a module with ``register(subparsers)`` and ``run(args) -> int``. Errors about the
user's input print one line and exit with status 2; anything unexpected prints one line naming it and
exits with status 1 (``TALKINGFACE_DEBUG=1`` shows the traceback instead).
"""

from __future__ import annotations

import argparse
import os
import sys

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
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``talkingface <cmd>: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except TalkingFaceError as error:
        print(f"talkingface {args.command}: error: {error}", file=sys.stderr)
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
        print(f"talkingface {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
