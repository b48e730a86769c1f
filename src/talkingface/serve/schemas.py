"""The shapes of the API's answers, for its OpenAPI schema (``/openapi.json``) and for FastAPI to check
every answer against before it leaves."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Every refusal: a one-line reason naming what is wrong."""

    detail: str = Field(description="one line: what is wrong, and where it helps, what to do")


class Output(BaseModel):
    name: str = Field(description="the file's name, e.g. video.mp4")
    kind: str = Field(description="video, image, glb, json, tsv, ...")
    url: str = Field(description="where to download it")


class JobState(BaseModel):
    """A job as the API shows it."""

    id: str
    method: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    position: int | None = Field(description="place in the queue while waiting (0: next)")
    stage: str = Field(description="what the job is doing now")
    progress: float | None = Field(description="0 to 1 where known")
    error: str | None = Field(description="one line, for a failed job")
    options: dict[str, Any]
    outputs: list[Output]
    created: float = Field(description="seconds since the epoch")
    started: float | None
    first_progress: float | None
    finished: float | None


class Removed(BaseModel):
    id: str
    removed: bool


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    jobs: dict[str, int] = Field(description="jobs by status")
    workers: int


class Checkpoint(BaseModel):
    name: str = Field(description="the name a lipsync job gives as its checkpoint")
    bytes: int


class Examples(BaseModel):
    """Inputs the page offers to try: a sentence to type, and the operator's example photo and speech."""

    sentence: str = Field(description="a sentence for typed text")
    photo: str | None = Field(description="where to fetch the example photo (none: the service has none)")
    speech: str | None = Field(description="where to fetch the example speech (none: the service has none)")


#: The refusals every API route may give, besides its own: a missing token, a foreign Host, a page of
#: another origin.
ACCESS_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no access token, or a wrong one"},
    421: {"model": Problem, "description": "a Host that is not this service's"},
}
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ACCESS_ERRORS,
    403: {"model": Problem, "description": "sent by a page of another origin"},
}
JOB_ERRORS: dict[int | str, dict[str, Any]] = {
    **ACCESS_ERRORS,
    404: {"model": Problem, "description": "no such job (finished jobs expire)"},
}
