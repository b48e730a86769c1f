"""``talkingface info``: versions of the components found and whether each works."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info", help="show components found and whether each works", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..system import check_components

    components = check_components()
    if args.json:
        print(json.dumps({"talkingface": __version__, "components": [c.__dict__ for c in components]}, indent=2))
        return 0
    print(f"talkingface {__version__}")
    width = max(len(c.name) for c in components)
    for c in components:
        status = "ok     " if c.ok else "MISSING" if c.version is None else "BROKEN "
        print(f"  {c.name:<{width}}  {status}  {c.version or '-':<14} {c.detail}  [{c.needed_for}]")
    return 0
