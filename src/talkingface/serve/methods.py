"""The jobs the web service runs: what each takes, its options, and the command line it becomes.

Each job runs one ``talkingface`` command in its own process, so that it gets the command's checks,
its all-or-nothing outputs and its one-line errors, can be cancelled with a signal, and gives its
memory back when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..animation.jali import JaliConfig
from ..animation.speech import CurveSettings
from ..choices import PHOTO_SIZE
from ..errors import InputError
from ..pipelines.lipsync_config import LipSyncConfig
from ..pipelines.mesh_animation import MeshAnimationConfig
from ..pipelines.talking_photo import TalkingPhotoConfig
from ..settings import described


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
    none: str = ""  # what a default of None means (the flag is then left out)
    origin: tuple[type, str] | None = None  # the pipeline setting it offers: (its class, the field)

    def parse(self, value: Any) -> Any:
        """``value`` (from JSON or a form) checked against the option; InputError when it is not fit."""
        if self.default is None and value in (None, ""):
            return None
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
        if value is None:
            return []
        if self.kind == "bool":
            return [flag] if value else []
        return [flag, str(value)]

    def describe(self) -> dict:
        info = {"name": self.name, "kind": self.kind, "default": self.default, "help": self.help}
        if self.choices:
            info["choices"] = list(self.choices)
        if self.low is not None:
            info["min"], info["max"] = self.low, self.high
        if self.none:
            info["none"] = self.none
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
_SAME: Any = object()


def offered(
    config: type,
    name: str,
    *,
    default: Any = _SAME,
    low: float | None = None,
    high: float | None = None,
    whole: bool = False,
    without: tuple[str, ...] = (),
    none: str | None = None,
) -> Option:
    """The service's option for field ``name`` of the pipeline setting ``config``: its help, choices,
    bounds and default are the field's (:func:`~talkingface.settings.setting`), and its flag the
    command's. A server may only narrow them: ``low``/``high`` within the field's bounds, ``whole`` for a
    number the service takes in whole units, ``without`` choices it cannot run, and another ``default``
    where the field's would make unbounded work (a photo's full size), or None (``none`` says what it
    means) where the command decides by its input."""
    import dataclasses
    import typing

    meta = described(config, name)
    if not meta:
        raise TypeError(f"{config.__name__}.{name} is not a setting")
    item = next(f for f in dataclasses.fields(config) if f.name == name)
    members = set(typing.get_args(typing.get_type_hints(config)[name])) or {typing.get_type_hints(config)[name]}
    if meta["choices"] is not None:
        kind = "choice"
    elif bool in members:
        kind = "bool"
    else:
        kind = "int" if whole or (int in members and float not in members) else "float"
    own_low = meta["low"] if meta["low"] is not None else meta["above"]
    own_high = meta["high"] if meta["high"] is not None else meta["below"]
    for bound, own, tighter in ((low, own_low, lambda a, b: a >= b), (high, own_high, lambda a, b: a <= b)):
        if bound is not None and own is not None and not tighter(bound, own):
            raise ValueError(f"{config.__name__}.{name}: the service may only narrow its bounds")
    low, high = (low if low is not None else own_low), (high if high is not None else own_high)
    if kind in ("int", "float") and (low is None or high is None):
        raise ValueError(f"{config.__name__}.{name}: a number the service takes needs both bounds")
    return Option(
        name,
        kind,
        item.default if default is _SAME else default,
        meta["help"],
        choices=tuple(c for c in meta["choices"] or () if c not in without),
        low=low,
        high=high,
        flag=meta["flag"] or "",
        none=(none if none is not None else meta["none"]) or "",
        origin=(config, name),
    )


def offered_as_they_are(config: type, *names: str) -> tuple[Option, ...]:
    """The service's options for fields ``names`` of ``config``, each as the field declares it."""
    return tuple(offered(config, name) for name in names)


_WITHOUT_GFPGAN = ("gfpgan",)  # GFPGAN needs the user's own file


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
                offered(TalkingPhotoConfig, "size", default=PHOTO_SIZE, low=128, high=1024),  # a photo's work bounded
                offered(
                    TalkingPhotoConfig,
                    "fps",
                    default=None,
                    none="a photo: 25, a video: its own",
                    whole=True,
                    low=10,
                    high=60,
                ),
                offered(JaliConfig, "style"),
                *offered_as_they_are(TalkingPhotoConfig, "method", "still", "seed"),
                offered(TalkingPhotoConfig, "enhance", without=_WITHOUT_GFPGAN),
            ),
            outputs=(_VIDEO, Output("sheet.png", "image", "image/png")),
            fixed=("--quiet",),
        ),
        Method(
            "lipsync",
            "lipsync",
            "Lip-sync",
            "Dub a video to the speech with the speaker's own mouths (a photo becomes a talking photo), or with a "
            "Wav2Lip checkpoint found on the server.",
            face="image or video",
            speech=True,
            checkpoint="optional",
            options=(
                *offered_as_they_are(LipSyncConfig, "paste", "static", "keep_video_length"),
                offered(LipSyncConfig, "face_index", high=16),
                offered(LipSyncConfig, "enhance", without=_WITHOUT_GFPGAN),
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
                *offered_as_they_are(MeshAnimationConfig, "method"),
                offered(MeshAnimationConfig, "fps", whole=True, low=10, high=60),
                offered(MeshAnimationConfig, "size", low=128, high=1024),
                offered(MeshAnimationConfig, "still"),
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
                offered(CurveSettings, "fps", whole=True, low=10, high=120),
                offered(JaliConfig, "style"),
                offered(CurveSettings, "method"),
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
