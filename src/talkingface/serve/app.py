"""The web service: an HTTP API (OpenAPI at ``/openapi.json``, docs at ``/docs``) and a page that
uses it (``/``). Built on FastAPI: the API is the product (scripts and other services call it) and
the page is one more client of it, a few static files served from the package, with no build step and
nothing from a CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, Security, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError
from ..speech.espeak import languages
from .access import Access
from .jobs import Job, JobManager, QueueFull
from .methods import METHODS, Method
from .schemas import (
    ACCESS_ERRORS,
    CHANGE_ERRORS,
    JOB_ERRORS,
    Checkpoint,
    Examples,
    Health,
    JobState,
    Problem,
    Removed,
)
from .uploads import place

log = logging.getLogger("talkingface.serve")
STATIC = Path(__file__).with_name("static")
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".safetensors", ".model", ".ckpt")
MAX_TEXT = 2000
MAX_OPTIONS = 10000


@dataclass
class Settings:
    """How the service runs; see ``talkingface serve --help``."""

    jobs_dir: Path
    workers: int = 1
    queue_size: int = 8
    max_upload_bytes: int = 200 << 20
    max_seconds: float = 1800.0
    max_job_bytes: int = 2 << 30
    max_age: float = 3600.0
    #: The most all jobs' folders may take together; new jobs are refused (507) while they do.
    max_disk_bytes: int = 10 << 30
    checkpoint_dirs: tuple[Path, ...] = field(default=())
    #: The access token every API request carries (:mod:`talkingface.serve.access`); None: none needed.
    token: str | None = None
    #: Names a request's Host may give besides IP addresses and localhost: the bound name, and more.
    allowed_hosts: tuple[str, ...] = field(default=())
    #: A folder whose first photo and first speech file the page offers as examples (None: none).
    examples_dir: Path | None = None


def find_checkpoints(folders: tuple[Path, ...]) -> dict[str, Path]:
    """Checkpoint files in the folders the operator allowed (three levels deep at most), by the name
    the API shows: ``<folder name>/<path inside it>``."""
    found: dict[str, Path] = {}
    for folder in folders:
        root = folder.resolve()
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            inside = path.relative_to(root)
            if len(inside.parts) > 3 or not path.is_file() or path.suffix.lower() not in CHECKPOINT_SUFFIXES:
                continue
            if not path.resolve().is_relative_to(root):  # a link leading out of the folder
                continue
            found.setdefault(f"{root.name}/{inside.as_posix()}", path.resolve())
            if len(found) >= 500:
                return found
    return found


def create_app(settings: Settings) -> FastAPI:
    """The ASGI application (FastAPI) with its job manager (``app.state.jobs``)."""
    from .. import __version__

    jobs = JobManager(
        settings.jobs_dir,
        workers=settings.workers,
        queue_size=settings.queue_size,
        max_seconds=settings.max_seconds,
        max_bytes=settings.max_job_bytes,
        max_age=settings.max_age,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()

    app = FastAPI(
        title="talkingface",
        version=__version__,
        description="Talking faces from speech: talking photos, lip-sync, 3D faces, viseme curves, sync scores.",
        lifespan=lifespan,
        docs_url=None,  # /docs is served below from local files: FastAPI's own page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.jobs = jobs
    app.state.settings = settings
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(UploadLimit, limit=settings.max_upload_bytes, paths=("/api/jobs",))
    app.add_middleware(Access, token=settings.token, hosts=settings.allowed_hosts)  # outermost: first to answer
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    assets = _docs_assets()
    if assets is not None:
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
    return app


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"detail": str(error.detail)}, status_code=error.status_code, headers=error.headers)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    return JSONResponse({"detail": message}, status_code=422)


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error (the server's log has the details)"}, status_code=500)


def _jobs(request: Request) -> JobManager:
    manager: JobManager = request.app.state.jobs
    return manager


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Jobs = Annotated[JobManager, Depends(_jobs)]
Configured = Annotated[Settings, Depends(_settings)]
#: Documents the access token in the schema (Swagger UI's "Authorize"); the Access middleware checks it.
_BEARER = HTTPBearer(auto_error=False, description="the token `talkingface serve` printed")
router = APIRouter(dependencies=[Security(_BEARER)])


@router.get("/api/health", summary="Is the service up; jobs by state", response_model=Health)
def health(jobs: Jobs) -> dict:
    from .. import __version__

    return {"status": "ok", "version": __version__, "jobs": jobs.counts(), "workers": jobs.workers}


@router.get("/api/methods", summary="The jobs this service runs, their inputs and options", responses=ACCESS_ERRORS)
def methods() -> list[dict]:
    return [m.describe() for m in METHODS.values()]


@router.get(
    "/api/checkpoints",
    summary="Checkpoints found in the folders the operator allowed",
    response_model=list[Checkpoint],
    responses=ACCESS_ERRORS,
)
def checkpoints(settings: Configured) -> list[dict]:
    found = find_checkpoints(settings.checkpoint_dirs)
    return [{"name": name, "bytes": path.stat().st_size} for name, path in found.items()]


@router.get("/api/voices", summary="Languages espeak-ng speaks, for typed text", responses=ACCESS_ERRORS)
def voices() -> list[str]:
    return languages()


#: The sentence the page offers for typed text.
EXAMPLE_SENTENCE = "Good morning! Today we will talk about how faces move when people speak."
#: The files an examples folder may offer, by role: image and audio suffixes and their media types.
EXAMPLE_KINDS = {
    "photo": {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"},
    "speech": {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"},
}


def example_files(folder: Path | None) -> dict[str, Path]:
    """The first photo and the first speech file (by name) directly in ``folder``, by role."""
    found: dict[str, Path] = {}
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        for role, suffixes in EXAMPLE_KINDS.items():
            if role not in found and path.suffix.lower() in suffixes and path.is_file():
                found[role] = path
    return found


@router.get("/api/examples", summary="Inputs the page offers to try", response_model=Examples, responses=ACCESS_ERRORS)
def examples(settings: Configured) -> dict:
    files = example_files(settings.examples_dir)
    urls = {role: f"/api/examples/{role}" if role in files else None for role in EXAMPLE_KINDS}
    return {"sentence": EXAMPLE_SENTENCE, **urls}


@router.get(
    "/api/examples/{role}",
    summary="The example photo or speech",
    response_model=None,
    responses={
        200: {"description": "the file", "content": {"image/*": {}, "audio/*": {}}},
        404: {"model": Problem, "description": "the service has no such example"},
        **ACCESS_ERRORS,
    },
)
def example_file(role: Literal["photo", "speech"], settings: Configured) -> FileResponse:
    path = example_files(settings.examples_dir).get(role)
    if path is None:
        raise HTTPException(404, f"this service has no example {role} (start it with --examples DIR)")
    return FileResponse(path, media_type=EXAMPLE_KINDS[role][path.suffix.lower()], filename=path.name)


@router.post(
    "/api/jobs",
    status_code=202,
    summary="Create a job (multipart: files and settings)",
    response_model=JobState,
    responses={
        **CHANGE_ERRORS,
        400: {"model": Problem, "description": "a field the method does not take, lacks, or cannot use"},
        413: {"model": Problem, "description": "an upload over the limit"},
        408: {"model": Problem, "description": "an upload that stalled or trickled"},
        415: {"model": Problem, "description": "an upload that is not what the method takes"},
        429: {"model": Problem, "description": "the queue is full (see Retry-After)"},
        507: {"model": Problem, "description": "the disk budget of all jobs is full"},
    },
)
def create_job(
    jobs: Jobs,
    settings: Configured,
    method: Annotated[str, Form(description=f"one of {', '.join(METHODS)}")],
    face: Annotated[UploadFile | None, File(description="a photo or a video (sync-score: the video)")] = None,
    speech: Annotated[UploadFile | None, File(description="speech: audio, or a video with sound")] = None,
    text: Annotated[str | None, Form(description="text to speak with espeak-ng, instead of speech")] = None,
    voice: Annotated[str, Form(description="espeak-ng voice for the text")] = "en-us",
    checkpoint: Annotated[str | None, Form(description="a name from /api/checkpoints")] = None,
    options: Annotated[str, Form(description="the method's options as a JSON object")] = "{}",
) -> JSONResponse:
    chosen = METHODS.get(method)
    if chosen is None:
        raise HTTPException(400, f"unknown method {method!r} (methods: {', '.join(METHODS)})")
    try:
        parsed = chosen.parse_options(_json_options(options))
    except (ValueError, OverflowError) as error:
        raise HTTPException(400, f"options: {error}") from None
    text = text.strip() if text else None
    _check_inputs(chosen, face is not None, speech is not None, text, voice)
    checkpoint_path = _checkpoint(chosen, checkpoint, settings)
    incoming = sum(upload.size or 0 for upload in (face, speech) if upload is not None)
    used = jobs.disk_usage()
    if used + incoming > settings.max_disk_bytes:
        raise HTTPException(
            507,
            f"the service's disk budget is full ({used >> 20} MB of {settings.max_disk_bytes >> 20} MB kept by jobs); "
            "try again when finished jobs expire, or remove yours",
        )
    job_id, folder = jobs.new_folder()
    try:
        names: dict[str, str | None] = {"face": None, "speech": None}
        for role, upload, wanted in (("face", face, chosen.face), ("speech", speech, "audio")):
            if upload is None:
                continue
            target = folder / f"{role}.upload"
            with open(target, "wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            names[role] = _place(target, role, wanted)
        job = Job(
            job_id,
            chosen,
            folder,
            parsed,
            face=names["face"],
            speech=names["speech"],
            text=text,
            voice=voice if text else None,
            checkpoint=str(checkpoint_path) if checkpoint_path else None,
        )
        position = jobs.submit(job)
    except QueueFull as full:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(429, str(full), headers={"Retry-After": "30"}) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return JSONResponse(job.to_dict(position), status_code=202, headers={"Location": f"/api/jobs/{job_id}"})


def _json_options(text: str) -> Any:
    """The options field as JSON, strictly: finite numbers only (no NaN, Infinity or 1e400), and short
    and shallow enough to parse without exhausting anything; a ValueError says what is wrong."""
    if len(text) > MAX_OPTIONS:
        raise ValueError(f"{len(text)} characters, at most {MAX_OPTIONS}")

    def constant(name: str) -> float:
        raise ValueError(f"{name} is not a number JSON allows")

    def finite(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise ValueError(f"{literal[:24]} is too large")
        return value

    try:
        return json.loads(text, parse_constant=constant, parse_float=finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _check_inputs(chosen: Method, face: bool, speech: bool, text: str | None, voice: str) -> None:
    """Refuse (400) inputs the method does not take or lacks."""
    method = chosen.name
    if text is not None and len(text) > MAX_TEXT:
        raise HTTPException(400, f"text: {len(text)} characters, at most {MAX_TEXT}")
    if text is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise HTTPException(400, "text: control characters (such as NUL) are not text to speak")
    if chosen.face and not face:
        raise HTTPException(400, f"{method} needs a face: {chosen.face}")
    if not chosen.face and face:
        raise HTTPException(400, f"{method} takes no face file")
    if chosen.speech and not speech and not text:
        raise HTTPException(400, f"{method} needs speech: an audio file, or text to speak")
    if speech and text:
        raise HTTPException(400, "give speech or text, not both")
    if not chosen.speech and (speech or text):
        raise HTTPException(400, f"{method} takes no speech (it scores the video's own sound)")
    if text and voice not in _voices():
        raise HTTPException(400, f"voice {voice!r} is not one espeak-ng speaks here (see /api/voices)")


def _checkpoint(chosen: Method, name: str | None, settings: Settings) -> Path | None:
    """The checkpoint file a job names, from the folders the operator allowed (400 where it may not)."""
    if not name:
        if chosen.checkpoint == "required":
            raise HTTPException(400, f"{chosen.name} needs a checkpoint (see /api/checkpoints)")
        return None
    if not chosen.checkpoint:
        raise HTTPException(400, f"{chosen.name} takes no checkpoint")
    path = find_checkpoints(settings.checkpoint_dirs).get(name)
    if path is None:
        raise HTTPException(400, f"no checkpoint {name!r} on this server (see /api/checkpoints)")
    return path


def _job(jobs: JobManager, settings: Settings, job_id: str) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r} (finished jobs are kept {settings.max_age:g} s)")
    return job


@router.get("/api/jobs", summary="All jobs, oldest first", response_model=list[JobState], responses=ACCESS_ERRORS)
def list_jobs(jobs: Jobs) -> list[dict]:
    return [j.to_dict(jobs.position(j)) for j in jobs.jobs()]


@router.get(
    "/api/jobs/{job_id}",
    summary="A job's status, progress, error and outputs",
    response_model=JobState,
    responses=JOB_ERRORS,
)
def get_job(job_id: str, jobs: Jobs, settings: Configured) -> dict:
    job = _job(jobs, settings, job_id)
    return job.to_dict(jobs.position(job))


@router.get(
    "/api/jobs/{job_id}/outputs/{name}",
    summary="One output of a finished job",
    response_model=None,
    responses={200: {"description": "the file", "content": {"application/octet-stream": {}}}, **JOB_ERRORS},
)
def get_output(job_id: str, name: str, jobs: Jobs, settings: Configured) -> FileResponse:
    job = _job(jobs, settings, job_id)
    if name not in job.outputs:
        raise HTTPException(404, f"job {job_id} has no output {name!r}")
    kind = next(o for o in job.method.outputs if o.name == name)
    return FileResponse(job.folder / name, media_type=kind.media_type, filename=name)


@router.post(
    "/api/jobs/{job_id}/cancel",
    summary="Cancel a waiting or running job",
    response_model=JobState,
    responses={**JOB_ERRORS, **CHANGE_ERRORS},
)
def cancel_job(job_id: str, jobs: Jobs, settings: Configured) -> dict:
    job = _job(jobs, settings, job_id)
    jobs.cancel(job)
    return job.to_dict(jobs.position(job))


@router.delete(
    "/api/jobs/{job_id}",
    summary="Remove a finished job and its files",
    response_model=Removed,
    responses={
        **JOB_ERRORS,
        **CHANGE_ERRORS,
        409: {"model": Problem, "description": "the job is still waiting or running"},
    },
)
def delete_job(job_id: str, jobs: Jobs, settings: Configured) -> dict:
    job = _job(jobs, settings, job_id)
    if job.status in ("queued", "running"):
        raise HTTPException(409, f"job {job_id} is {job.status}; cancel it first")
    jobs.remove(job)
    return {"id": job_id, "removed": True}


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.get("/docs", include_in_schema=False)
def docs() -> FileResponse:
    if _docs_assets() is None:
        raise HTTPException(404, "the API's documentation page needs the package fastapi-offline (the serve extra)")
    return FileResponse(STATIC / "docs.html", media_type="text/html")


def _docs_assets() -> Path | None:
    """Swagger UI's files, as the PyPI package fastapi-offline ships them (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _place(path: Path, role: str, wanted: str) -> str:
    try:
        return place(path, role, wanted)
    except InputError as error:
        raise HTTPException(415, str(error)) from None


def _voices() -> set[str]:
    return set(languages())


class UploadLimit:
    """ASGI middleware: a request body to ``paths`` larger than ``limit`` bytes is answered 413,
    by its stated length before anything is read, or as soon as the bytes read pass the limit. A body
    that stalls for :data:`STALL` seconds, or comes slower than :data:`MIN_RATE` bytes a second on
    average once :data:`GRACE` seconds have passed, is answered 408: a slow client cannot hold the
    service's connections."""

    STALL, GRACE, MIN_RATE = 10.0, 10.0, 8 << 10

    def __init__(self, app: Any, limit: int, paths: tuple[str, ...]):
        self.app, self.limit, self.paths = app, limit, paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in self.paths or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        stated = headers.get(b"content-length", b"")
        if stated.isdigit() and int(stated) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False
        begun = time.monotonic()

        async def counted():
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), self.STALL)
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
                elapsed = time.monotonic() - begun
                if elapsed > self.GRACE and seen < self.MIN_RATE * elapsed and message.get("more_body"):
                    raise _TooSlow
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except _TooSlow:
            if not started:
                await self._refuse(send, 408, f"upload too slow: under {self.MIN_RATE >> 10} KB a second")

    async def _refuse(self, send, status: int = 413, detail: str = "") -> None:
        body = json.dumps({"detail": detail or f"upload too large: at most {self.limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooSlow(BaseException):
    """Raised from the request's body stream when it stalls or trickles (see :class:`UploadLimit`)."""


class _TooLarge(BaseException):
    """Raised from the request's body stream; not an Exception, so that form parsing passes it on
    instead of answering 400."""
