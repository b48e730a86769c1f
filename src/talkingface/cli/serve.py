"""``talkingface serve``: the web page and HTTP API, on this machine only unless told otherwise.

The page (``/``) takes a photo or video and speech (or text to speak), runs a job and shows its result;
the API (``/api``, described at ``/openapi.json`` and ``/docs``) does the same for scripts. Jobs run one
command each, in a bounded pool with a bounded queue; finished jobs are kept for ``--max-age`` seconds.
"""

from __future__ import annotations

import argparse
import re

from ._common import Bounded, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="web page and HTTP API for every job", description=__doc__.split(":", 1)[1].strip()
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    parser.add_argument("--port", type=Bounded(int, 1, 65535), default=7860, help="port (default 7860)")
    parser.add_argument("--workers", type=positive_int, default=1, help="jobs run at once (default 1)")
    parser.add_argument("--queue", type=positive_int, default=8, help="jobs that may wait (default 8)")
    parser.add_argument(
        "--checkpoints",
        metavar="DIR",
        action="append",
        default=[],
        help="a folder whose checkpoints jobs may use (repeat for several); no others are reachable",
    )
    parser.add_argument(
        "--examples",
        metavar="DIR",
        help="offer the first photo and the first speech file of DIR on the page as examples to try "
        "(`make serve` gives the demo's inputs)",
    )
    parser.add_argument("--jobs-dir", metavar="DIR", help="where job folders go (default: a new temporary folder)")
    parser.add_argument("--max-upload-mb", type=positive_int, default=200, help="largest upload (default 200 MB)")
    parser.add_argument("--max-job-seconds", type=positive_int, default=1800, help="longest job (default 1800 s)")
    parser.add_argument("--max-job-mb", type=positive_int, default=2048, help="most a job may write (default 2048 MB)")
    parser.add_argument(
        "--max-age", type=positive_int, default=3600, help="seconds a finished job is kept (default 3600)"
    )
    parser.add_argument(
        "--max-disk-mb",
        type=positive_int,
        default=10240,
        help="most all jobs' files may take together; new jobs are refused while they do (default 10240 MB)",
    )
    parser.add_argument(
        "--token",
        help="the access token API requests and the page must carry (default: a new random one each start; "
        "a token given here is visible to other users of this machine in its process list)",
    )
    parser.add_argument(
        "--allowed-host",
        metavar="NAME",
        action="append",
        default=[],
        help="a host name clients use to reach the service, besides its address and localhost (repeatable)",
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="no access token (only when listening on this machine alone)"
    )
    parser.set_defaults(run=run)


#: A token given with --token: long enough not to be guessed, in characters a URL and a cookie carry as they are.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")


def run(args: argparse.Namespace) -> int:
    import ipaddress
    import logging
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    from ..errors import InputError
    from ..optional import needs

    with needs("serve", "the web service"):
        import fastapi  # noqa: F401
        import uvicorn
    from ..serve.app import Settings, create_app
    from ..serve.connections import LIMIT, shedding_protocol

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected 1 to 65535")
    folders = tuple(Path(f) for f in args.checkpoints)
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"--checkpoints {folder}: not a folder")
    examples = Path(args.examples) if args.examples else None
    if examples is not None and not examples.is_dir():
        raise InputError(f"--examples {examples}: not a folder")
    own_folder = args.jobs_dir is None
    jobs_dir = Path(tempfile.mkdtemp(prefix="talkingface-jobs-")) if own_folder else Path(args.jobs_dir)
    if not own_folder and jobs_dir.exists() and any(jobs_dir.iterdir()):
        raise InputError(f"--jobs-dir {jobs_dir}: not empty (the service removes what it keeps there)")
    try:
        local = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        local = args.host == "localhost"
    token = _token(args, local)
    settings = Settings(
        jobs_dir=jobs_dir,
        workers=args.workers,
        queue_size=args.queue,
        max_upload_bytes=args.max_upload_mb << 20,
        max_seconds=float(args.max_job_seconds),
        max_job_bytes=args.max_job_mb << 20,
        max_age=float(args.max_age),
        max_disk_bytes=args.max_disk_mb << 20,
        checkpoint_dirs=folders,
        token=token,
        allowed_hosts=(args.host, *args.allowed_host),
        examples_dir=examples,
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown}:{args.port}/"
    if token is None:
        print(f"talkingface serve: {address} (API docs at /docs)", file=sys.stderr)
    else:
        print(
            f"talkingface serve: {address}?token={token} (API docs at /docs; scripts send "
            "`Authorization: Bearer TOKEN`)",
            file=sys.stderr,
        )
    from . import Stopped

    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            server_header=False,
            http=shedding_protocol(),  # a new connection closes the longest-waiting idle or unfinished ones
            limit_concurrency=LIMIT + 1,  # beyond (all of them busy with requests): 503 at once
            timeout_keep_alive=5,
        )
    except (Stopped, KeyboardInterrupt):  # the service's way to end: its jobs were stopped first
        pass
    finally:
        shutil.rmtree(jobs_dir, ignore_errors=True)
    return 0


def _token(args: argparse.Namespace, local: bool) -> str | None:
    """The service's access token: the one given, a new random one, or None with --no-auth (which is
    refused unless the service listens on this machine alone)."""
    import secrets
    import sys

    from ..errors import InputError

    if args.no_auth:
        if args.token:
            raise InputError("--no-auth and --token: choose one")
        if not local:
            raise InputError(f"--no-auth on {args.host}: only a service on this machine alone may run without a token")
        print(
            "WARNING: no access token (--no-auth): every program and web page on this machine can run, read and "
            "remove jobs",
            file=sys.stderr,
        )
        return None
    if args.token is None:
        return secrets.token_urlsafe(24)
    if not _TOKEN.fullmatch(args.token):
        raise InputError("--token: 16 to 256 letters, digits, '_' or '-'")
    return str(args.token)
