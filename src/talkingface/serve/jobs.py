"""Jobs of the web service: a bounded queue, a bounded pool of workers, a folder per job.

A job runs its ``talkingface`` command in a child process, in the job's folder, and hears its
progress on a pipe (:mod:`talkingface.progress`). Cancelling a running job sends the command SIGTERM,
on which it stops and leaves no output. A job that fails keeps its error, read from the command's
one-line error. Finished jobs are removed after ``max_age`` seconds, with their folders.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .methods import Method

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
STATES = ("queued", "running", "done", "failed", "cancelled")
#: The command's log in a job's folder: what a failed job keeps (for its error line) until FAILED_AGE.
LOG = "log.txt"
#: Seconds a failed or cancelled job is kept at most (``max_age`` when shorter).
FAILED_AGE = 300.0


class QueueFull(Exception):
    """The queue holds as many waiting jobs as it may."""


@dataclass
class Job:
    """One job; ``face``, ``speech`` are file names in ``folder``; ``checkpoint`` a server path."""

    id: str
    method: Method
    folder: Path
    options: dict[str, Any]
    face: str | None = None
    speech: str | None = None
    text: str | None = None
    voice: str | None = None
    checkpoint: str | None = None
    status: str = "queued"
    stage: str = ""
    done: int = 0
    total: int = 0
    error: str | None = None
    outputs: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    first_progress: float | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)
    cancel_requested: bool = False

    def to_dict(self, position: int | None = None) -> dict:
        fraction = None
        if self.status == "done":
            fraction = 1.0
        elif self.total:
            fraction = round(min(1.0, self.done / self.total), 4)
        return {
            "id": self.id,
            "method": self.method.name,
            "status": self.status,
            "position": position,
            "stage": self.stage,
            "progress": fraction,
            "error": self.error,
            "options": self.options,
            "outputs": [
                {"name": name, "kind": self._kind(name), "url": f"/api/jobs/{self.id}/outputs/{name}"}
                for name in self.outputs
            ],
            "created": self.created,
            "started": self.started,
            "first_progress": self.first_progress,
            "finished": self.finished,
        }

    def _kind(self, name: str) -> str:
        return next((o.kind for o in self.method.outputs if o.name == name), "file")


class JobManager:
    """Runs jobs in ``workers`` threads, each driving one child process at a time.

    Args:
        root: the folder holding one folder per job.
        workers: jobs run at once.
        queue_size: jobs that may wait; more are refused with :class:`QueueFull`.
        max_seconds: a running job taking longer is stopped and fails.
        max_bytes: the most a job's outputs may take (each file and all together).
        max_age: seconds a finished job (and its folder) is kept.
        threads: CPU threads each job's command may use.
    """

    def __init__(
        self,
        root: Path,
        workers: int = 1,
        queue_size: int = 8,
        max_seconds: float = 1800.0,
        max_bytes: int = 2 << 30,
        max_age: float = 3600.0,
        threads: int | None = None,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.workers, self.queue_size = int(workers), int(queue_size)
        self.max_seconds, self.max_bytes, self.max_age = float(max_seconds), int(max_bytes), float(max_age)
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.workers)
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[Job] = collections.deque()
        self._lock = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"job-worker-{k}", daemon=True) for k in range(self.workers)
        ]
        self._threads.append(threading.Thread(target=self._expire_loop, name="job-janitor", daemon=True))
        for thread in self._threads:
            thread.start()

    # -- the API's side ---------------------------------------------------------------------------
    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its empty folder."""
        job_id = secrets.token_hex(8)
        folder = self.root / job_id
        folder.mkdir()
        return job_id, folder

    def submit(self, job: Job) -> int:
        """Queue ``job``; its place in the queue (0: next). :class:`QueueFull` when full."""
        with self._lock:
            if self._closed:
                raise QueueFull("the service is stopping")
            if len(self._waiting) >= self.queue_size:
                raise QueueFull(f"the queue is full ({self.queue_size} jobs waiting); try again later")
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._lock.notify_all()  # the janitor waits on it too
            return len(self._waiting) - 1

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if JOB_ID.match(job_id) else None

    def position(self, job: Job) -> int | None:
        with self._lock:
            return self._waiting.index(job) if job in self._waiting else None

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def counts(self) -> dict[str, int]:
        with self._lock:
            counts = dict.fromkeys(STATES, 0)
            for job in self._jobs.values():
                counts[job.status] += 1
            return counts

    def cancel(self, job: Job) -> None:
        """Stop ``job``: a waiting one leaves the queue, a running one is sent SIGTERM (it stops
        and leaves no output). A finished job is left as it is."""
        with self._lock:
            if job.status == "queued":
                self._waiting.remove(job)
                self._finish(job, "cancelled")
                self._tidy(job)
            elif job.status == "running":
                job.cancel_requested = True
                if job.process is not None and job.process.poll() is None:
                    _signal(job.process, signal.SIGTERM)

    def remove(self, job: Job) -> None:
        """Forget a finished job and remove its folder."""
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def close(self) -> None:
        """Stop taking jobs, stop the running ones, and wait for the workers."""
        with self._lock:
            self._closed = True
            for job in list(self._waiting):
                self._finish(job, "cancelled")
            self._waiting.clear()
            running = [j for j in self._jobs.values() if j.status == "running"]
            self._lock.notify_all()
        for job in running:
            self.cancel(job)
        for thread in self._threads:
            thread.join(timeout=30)

    # -- the workers' side ------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.status, job.started = "running", time.time()
            try:
                self._run(job)
            except Exception as error:  # the job fails; the worker goes on
                with self._lock:
                    self._finish(job, "failed", f"internal error: {type(error).__name__}")
                self._tidy(job)

    def _run(self, job: Job) -> None:
        steps = []
        if job.text is not None and job.speech is None:
            job.speech = "speech.wav"
            say = ["say", "-o", "speech.wav", "--voice", job.voice or "en-us", "--", job.text]
            steps.append((say, "speaking the text"))
        # Forced alignment knows English; speech in other languages is followed without its text.
        english = job.text is not None and (job.voice or "en").split("-")[0] == "en"
        argv = job.method.argv(job.face, job.speech, job.text if english else None, job.checkpoint, job.options)
        steps.append((argv, f"starting {job.method.command}"))
        for argv, label in steps:
            with self._lock:
                if job.cancel_requested:
                    self._finish(job, "cancelled")
                    return
                job.stage, job.done, job.total = label, 0, 0
            failure = self._step(job, argv)
            if failure is not None:
                with self._lock:
                    if job.cancel_requested:
                        self._finish(job, "cancelled")
                    else:
                        self._finish(job, "failed", failure)
                self._tidy(job)
                return
        outputs = [o.name for o in job.method.outputs if (job.folder / o.name).is_file()]
        size = sum(p.stat().st_size for p in job.folder.rglob("*") if p.is_file())
        with self._lock:
            if not outputs:
                self._finish(job, "failed", "the command wrote no output")
            elif size > self.max_bytes:
                self._finish(job, "failed", f"the job's files take {size} bytes, over the limit of {self.max_bytes}")
            else:
                job.outputs = outputs
                self._finish(job, "done")
        self._tidy(job)

    def _step(self, job: Job, argv: list[str]) -> str | None:
        """Run one command of ``job``; None when it succeeded, else why it failed."""
        read_end, write_end = os.pipe()
        env = {
            **os.environ,
            "TALKINGFACE_PROGRESS_FD": str(write_end),
            "OMP_NUM_THREADS": str(self.threads),
            "PYTHONUNBUFFERED": "1",
            "TALKINGFACE_MAX_FILE_BYTES": str(self.max_bytes),
        }
        try:
            with open(job.folder / LOG, "ab") as log, self._lock:
                if job.cancel_requested:
                    return "cancelled"
                job.process = subprocess.Popen(
                    [sys.executable, "-m", "talkingface", *argv],
                    cwd=job.folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=(write_end,),
                    start_new_session=True,
                )
            os.close(write_end)
            write_end = -1
            self._follow(job, read_end)
            code = job.process.wait()
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        if code == 0:
            return None
        if job.error is not None:  # set by _follow: too long
            return job.error
        return _error_line(job.folder, argv[0]) or f"{argv[0]} failed (exit status {code})"

    def _follow(self, job: Job, read_end: int) -> None:
        """Read progress events until the command ends, stopping it when it runs too long."""
        assert job.process is not None
        deadline = time.monotonic() + self.max_seconds
        pending = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                job.error = f"stopped after {self.max_seconds:g} s, the limit of a job"
                _signal(job.process, signal.SIGTERM)
                try:
                    job.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _signal(job.process, signal.SIGKILL)
                return
            ready, _, _ = select.select([read_end], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._progress(job, line)

    def _progress(self, job: Job, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        with self._lock:
            if job.first_progress is None:
                job.first_progress = time.time()
            if isinstance(event.get("stage"), str):
                job.stage = event["stage"][:80]
            done, total = event.get("done"), event.get("total")
            if isinstance(done, int) and isinstance(total, int) and total > 0:
                job.done, job.total = done, total
            elif "stage" in event:
                job.done = job.total = 0

    def _finish(self, job: Job, status: str, error: str | None = None) -> None:
        job.status, job.finished, job.process = status, time.time(), None
        if error is not None:
            job.error = error
        if status != "done":
            job.outputs = []

    def _tidy(self, job: Job) -> None:
        """A finished job keeps its outputs (none unless it is done) and its log only: its uploads, a
        failed run's partial outputs and the files its command made on the way go as soon as it ends."""
        kept = {*job.outputs, LOG}
        for path in list(job.folder.iterdir()) if job.folder.is_dir() else []:
            if path.name in kept:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def disk_usage(self) -> int:
        """Bytes the jobs' folders take now."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file() and not p.is_symlink())

    def _expire_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._lock.wait(timeout=min(30.0, self.max_age / 4, FAILED_AGE / 4))
            self.expire()

    def expire(self, now: float | None = None) -> int:
        """Remove finished jobs older than ``max_age``, and failed or cancelled ones (their log alone)
        older than :data:`FAILED_AGE` at most; how many were removed."""
        now = time.time() if now is None else now

        def age_limit(job: Job) -> float:
            return self.max_age if job.status == "done" else min(self.max_age, FAILED_AGE)

        with self._lock:
            old = [j for j in self._jobs.values() if j.finished is not None and now - j.finished > age_limit(j)]
        for job in old:
            self.remove(job)
        return len(old)


def _signal(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _error_line(folder: Path, command: str) -> str | None:
    """The command's one-line error from the log in its job ``folder``, without the ``talkingface CMD:
    error:`` prefix, and naming the job's files by their names alone (the server's folders are its own)."""
    try:
        lines = (folder / LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    prefix = f"talkingface {command}: "
    for line in reversed(lines):
        if line.startswith(prefix):
            message = line[len(prefix) :]
            message = message[len("error: ") :] if message.startswith("error: ") else message
            for shown in {str(folder), str(folder.resolve())}:
                message = message.replace(shown + os.sep, "").replace(shown, "the job's folder")
            return message
    return None
