"""The jobs the web service runs: what each takes, its options, and the command line it becomes.

Each job runs one ``talkingface`` command in its own process, so that it gets the command's checks,
its all-or-nothing outputs and its one-line errors, can be cancelled with a signal, and gives its
memory back when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import choices
from ..errors import InputError


@dataclass(frozen=True)
class Option:
    """One setting of a job: ``kind`` is ``int``, ``float``, ``bool`` or ``choice``."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    flag: str = ""  # the command-line flag; empty: --name with - for _

    def parse(self, value: Any) -> Any:
        """``value`` (from JSON or a form) checked against the option; InputError when it is not fit."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
                return value.lower() in ("true", "1", "on")
            raise InputError(f"option {self.name}: expected true or false, got {value!r}")
        if self.kind == "choice":
            if value not in self.choices:
                raise InputError(f"option {self.name}: expected one of {', '.join(self.choices)}, got {value!r}")
            return value
        number_type = int if self.kind == "int" else float
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"option {self.name}: expected a number, got {value!r}")
        try:
            number = number_type(value)
        except (TypeError, ValueError):
            raise InputError(
                f"option {self.name}: expected {'a whole' if number_type is int else 'a'} number, got {value!r}"
            ) from None
        if (
            number != number
            or (self.low is not None and number < self.low)
            or (self.high is not None and number > self.high)
        ):
            raise InputError(f"option {self.name}: expected {self.low:g} to {self.high:g}, got {value!r}")
        return number

    def argv(self, value: Any) -> list[str]:
        flag = self.flag or "--" + self.name.replace("_", "-")
        if self.kind == "bool":
            return [flag] if value else []
        return [flag, str(value)]

    def describe(self) -> dict:
        info = {"name": self.name, "kind": self.kind, "default": self.default, "help": self.help}
        if self.choices:
            info["choices"] = list(self.choices)
        if self.low is not None:
            info["min"], info["max"] = self.low, self.high
        return info


@dataclass(frozen=True)
class Output:
    """A file a job writes: ``name`` in the job's folder, ``kind`` tells the page how to show it."""

    name: str
    kind: str  # video, image, glb, json
    media_type: str


@dataclass(frozen=True)
class Method:
    """A job the service offers.

    Attributes:
        name: its name in the API.
        command: the ``talkingface`` command it runs.
        title, help: for the page.
        face: what the ``face`` upload must be: ``""`` (none), ``"image or video"``, ``"video"``.
        speech: whether it needs speech (an upload, or text spoken by espeak-ng).
        checkpoint: ``""`` (none), ``"optional"`` or ``"required"``.
        options: its settings.
        outputs: the files it writes.
    """

    name: str
    command: str
    title: str
    help: str
    face: str
    speech: bool
    checkpoint: str
    options: tuple[Option, ...]
    outputs: tuple[Output, ...]
    fixed: tuple[str, ...] = field(default=())  # arguments always given

    def parse_options(self, given: dict) -> dict[str, Any]:
        """The job's settings: ``given`` checked, missing ones at their defaults."""
        if not isinstance(given, dict):
            raise InputError("options must be a JSON object")
        known = {o.name: o for o in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InputError(f"{self.name} has no option {unknown[0]!r} (it has: {', '.join(known) or 'none'})")
        return {
            name: (option.parse(given[name]) if name in given else option.default) for name, option in known.items()
        }

    def argv(
        self, face: str | None, speech: str | None, text: str | None, checkpoint: str | None, options: dict[str, Any]
    ) -> list[str]:
        """The command line of the job, run in its folder."""
        args = [self.command]
        if self.name == "sync-score":
            args += [face or "", "--json", "score.json", "--plot", "plot.png"]
        else:
            if face:
                args += ["--face", face]
            if speech:
                args += [*(["--audio", speech] if self.command != "visemes" else [speech])]
            if text and self.command in ("animate", "mesh", "visemes"):  # what is said, for alignment
                args += [f"--text={text}"]
            for output in self.outputs:
                args += _output_flag(self.command, output.name)
        if checkpoint:
            args += ["--checkpoint", checkpoint]
        for option in self.options:
            args += option.argv(options[option.name])
        return args + list(self.fixed)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "help": self.help,
            "face": self.face,
            "speech": self.speech,
            "checkpoint": self.checkpoint,
            "options": [o.describe() for o in self.options],
            "outputs": [{"name": o.name, "kind": o.kind} for o in self.outputs],
        }


def _output_flag(command: str, name: str) -> list[str]:
    if command == "animate" and name.endswith(".png"):
        return ["--sheet", name]
    if command == "visemes" and name.endswith(".png"):
        return ["--plot", name]
    if command == "visemes" and name == "phonemes.json":
        return ["--phonemes", name]
    return ["-o", name]


_VIDEO = Output("video.mp4", "video", "video/mp4")
_ENHANCE = Option(
    "enhance",
    "choice",
    "none",
    "sharpen the mouth (the built-in mouth upscaler)",
    choices=tuple(m for m in choices.ENHANCE_METHODS if m != "gfpgan"),  # GFPGAN needs the user's own file
)

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "talking-photo",
            "animate",
            "Talking photo",
            "A photo or video of a face speaks the speech; no weights needed.",
            face="image or video",
            speech=True,
            checkpoint="",
            options=(
                Option("size", "int", 512, "longer side of a photo in the output, in pixels", low=128, high=1024),
                Option("fps", "int", 25, "frames per second", low=10, high=60),
                Option("style", "choice", "normal", "how clearly the mouth articulates", choices=choices.STYLES),
                Option("method", "choice", "auto", "speech to mouth motion", choices=choices.SPEECH_METHODS),
                Option("still", "bool", False, "only the mouth moves (no blinks or head motion)"),
                Option("seed", "int", 0, "seed of the blinks and head motion", low=0, high=2**31 - 1),
                _ENHANCE,
            ),
            outputs=(_VIDEO, Output("sheet.png", "image", "image/png")),
            fixed=("--quiet",),
        ),
        Method(
            "lipsync",
            "lipsync",
            "Lip-sync",
            "Wav2Lip lip-sync of a video or photo to the speech, with a checkpoint found on the server.",
            face="image or video",
            speech=True,
            checkpoint="required",
            options=(
                Option("paste", "choice", "soft", "how the mouth is pasted back", choices=choices.PASTE_MODES),
                Option("static", "bool", False, "use only the first frame of the video"),
                Option("keep_video_length", "bool", False, "output as long as the video"),
                Option("face_index", "int", 0, "which face, largest first", low=0, high=16),
                _ENHANCE,
            ),
            outputs=(_VIDEO,),
            fixed=("--quiet",),
        ),
        Method(
            "mesh",
            "mesh",
            "3D face",
            "A 3D face speaks: a .glb with its morph animation, and a rendered video.",
            face="",
            speech=True,
            checkpoint="optional",
            options=(
                Option("method", "choice", "auto", "speech to motion", choices=choices.MESH_METHODS),
                Option("fps", "int", 30, "frames per second", low=10, high=60),
                Option("size", "int", 384, "video size in pixels", low=128, high=1024),
                Option("still", "bool", False, "only the mouth moves (no blinks or brows)"),
            ),
            outputs=(Output("face.glb", "glb", "model/gltf-binary"), _VIDEO),
            fixed=("--quiet",),
        ),
        Method(
            "visemes",
            "visemes",
            "Viseme curves",
            "ARKit-52 blendshape curves of the speech, their plot and the timed phonemes.",
            face="",
            speech=True,
            checkpoint="",
            options=(
                Option("fps", "int", 30, "frames per second of the curves", low=10, high=120),
                Option("style", "choice", "normal", "how clearly the mouth articulates", choices=choices.STYLES),
                Option("method", "choice", "auto", "speech to curves", choices=choices.SPEECH_METHODS),
            ),
            outputs=(
                Output("curves.json", "json", "application/json"),
                Output("curves.png", "image", "image/png"),
                Output("phonemes.json", "json", "application/json"),
            ),
        ),
        Method(
            "sync-score",
            "sync-score",
            "Sync score",
            "LSE-D, LSE-C and the audio-video offset of a video with its own sound.",
            face="video",
            speech=False,
            checkpoint="optional",
            options=(),
            outputs=(Output("score.json", "json", "application/json"), Output("plot.png", "image", "image/png")),
        ),
    )
}
