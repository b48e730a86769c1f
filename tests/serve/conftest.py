"""A real ``talkingface serve`` on loopback for the API, schema and browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
GRID_CLIP = DATA / "clips" / "rizkiarm__LipNet__bbaf2n.mpg"  # 3 s of GRID: a face speaking, with its sound
PORTRAIT = DATA / "faces" / "liveportrait__s0.jpg"


#: The access token the test services are started with (``--token``).
TOKEN = "test-token-0123456789abcdef"


class Server:
    """A running service: ``url``, ``jobs_dir``, its ``token`` and an HTTP client that carries it, with
    helpers."""

    def __init__(self, url: str, jobs_dir: Path, process: subprocess.Popen, token: str | None = TOKEN):
        self.url, self.jobs_dir, self.process, self.token = url, jobs_dir, process, token
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=url, timeout=60, headers=self.auth)

    def submit(self, method: str, files: dict[str, Path] | None = None, **fields) -> httpx.Response:
        opened = {role: (path.name, path.read_bytes()) for role, path in (files or {}).items()}
        return self.client.post("/api/jobs", data={"method": method, **fields}, files=opened)

    def wait(self, job_id: str, until=("done", "failed", "cancelled"), timeout: float = 240.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.client.get(f"/api/jobs/{job_id}").json()
            if job["status"] in until:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, *args: str) -> Server:
    """``talkingface serve ARGS`` on a free port of loopback, with :data:`TOKEN` unless ARGS say
    ``--no-auth`` or give a ``--token``."""
    port = free_port()
    jobs_dir = folder / "jobs"
    token = None if "--no-auth" in args else args[args.index("--token") + 1] if "--token" in args else TOKEN
    given = ("--token", TOKEN) if token == TOKEN and "--token" not in args else ()
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "talkingface",
                "serve",
                "--port",
                str(port),
                "--jobs-dir",
                str(jobs_dir),
                *given,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return Server(url, jobs_dir, process, token)
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the service did not start: " + (folder / "server.log").read_text())


@contextlib.contextmanager
def serving(folder: Path, *args: str) -> Iterator[Server]:
    """:func:`start_server` for a ``with`` block, stopped at its end."""
    running = start_server(folder, *args)
    try:
        yield running
    finally:
        stop_server(running)


def stop_server(server: Server) -> None:
    server.client.close()
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise


@pytest.fixture(scope="session")
def checkpoint_folder(tmp_path_factory) -> Path:
    """A folder the operator allows: a tiny Wav2Lip (random weights: the job's work, not its look)."""
    from talkingface.models import create_model, save_model

    folder = tmp_path_factory.mktemp("checkpoints")
    save_model(create_model("wav2lip", channel_divisor=8), folder / "wav2lip_tiny.safetensors")
    return folder


@pytest.fixture(scope="session")
def short_speech(tmp_path_factory, speech16k) -> Path:
    """2.4 s of the bundled recording."""
    from talkingface.media import write_wav

    return write_wav(tmp_path_factory.mktemp("speech") / "short.wav", np.asarray(speech16k[: int(2.4 * 16000)]), 16000)


@pytest.fixture(scope="module")
def server(tmp_path_factory, checkpoint_folder):
    running = start_server(tmp_path_factory.mktemp("serve"), "--checkpoints", str(checkpoint_folder), "--queue", "6")
    yield running
    stop_server(running)
