"""Settings declared once. A dataclass field made by :func:`setting` carries its help, bounds and choices;
the command line's options are made from the fields, and the bounds are checked from the same place::

    @dataclass(frozen=True, kw_only=True)
    class Config:
        steps: int = setting(100, "steps between evaluations", low=1)

- :func:`check` refuses a value outside its field's bounds or choices in one line (call it from
  ``__post_init__``);
- :func:`add_options` adds one ``--option`` per field to an argparse parser or group, its type, default,
  choices and help taken from the field;
- :func:`from_options` builds the dataclass back from the parsed options.

A subclass may give a field another default by declaring it again without :func:`setting`
(``epochs: int = 15``); its help and bounds stay those of the class that declared it first.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .errors import InputError

_MISSING: Any = dataclasses.MISSING


def setting(
    default: Any = _MISSING,
    help: str = "",
    *,
    low: float | None = None,
    above: float | None = None,
    high: float | None = None,
    below: float | None = None,
    choices: Sequence[Any] | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    parse: Callable[[str], Any] | None = None,
    none: str | None = None,
    cli: bool = True,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field with what the command line and checks need.

    ``low``/``high`` bound the value inclusively, ``above``/``below`` strictly (each element of a tuple;
    None values pass). ``choices`` lists the allowed values. ``flag`` renames the option (a bool that is
    True by default turns off with it, ``--no-NAME`` unless given), ``parse`` reads its text, ``none``
    says what a default of None means, and ``cli=False`` keeps the field off the command line. ``factory``
    makes a mutable default, as ``dataclasses.field``'s ``default_factory``.
    """
    metadata = {
        "help": help,
        "low": low,
        "above": above,
        "high": high,
        "below": below,
        "choices": tuple(choices) if choices is not None else None,
        "flag": flag,
        "metavar": metavar,
        "parse": parse,
        "none": none,
        "cli": cli,
    }
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def described(cls: type, name: str) -> Mapping[str, Any]:
    """The metadata :func:`setting` gave field ``name``, from the first class in ``cls``'s MRO that
    declared it so (empty when none did)."""
    for klass in cls.__mro__:
        found = getattr(klass, "__dataclass_fields__", {}).get(name)
        if found is not None and "help" in found.metadata:
            return found.metadata
    return {}


def check(config: Any) -> None:
    """Refuse, in one line, a field of ``config`` outside the bounds or choices its :func:`setting` gives."""
    for item in dataclasses.fields(config):
        meta = described(type(config), item.name)
        if not meta:
            continue
        value = getattr(config, item.name)
        for v in value if isinstance(value, tuple) else (value,):
            if v is None or (isinstance(v, str | os.PathLike) and meta["choices"] is None):
                continue
            _check_one(item.name, v, meta)


def _check_one(name: str, v: Any, meta: Mapping[str, Any]) -> None:
    choices = meta["choices"]
    if choices is not None:
        if v not in choices:
            raise InputError(f"{name} must be one of {', '.join(map(str, choices))}, got {v!r}")
        return
    for key, holds, words in (
        ("low", lambda b: v >= b, ">="),
        ("above", lambda b: v > b, ">"),
        ("high", lambda b: v <= b, "<="),
        ("below", lambda b: v < b, "<"),
    ):
        bound = meta[key]
        if bound is not None and not holds(bound):
            raise InputError(f"{name} must be {words} {bound:g}, got {v}")


def _kind(hint: Any) -> tuple[type, bool]:
    """``(element type, is a tuple)`` of a field's annotation (None aside; a path is read as text)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        hint = str if str in members else members[0] if len(members) == 1 else members
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0], True
    if not isinstance(hint, type):
        raise TypeError(f"no command-line form for {hint!r}")
    return hint, False


def _shown(default: Any) -> str:
    if isinstance(default, tuple):
        return " ".join(_shown(v) for v in default)
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def _with_default(help_text: str, said: str) -> str:
    if not help_text:
        return f"default {said}"
    if help_text.endswith(")"):
        return f"{help_text[:-1]}; default {said})"
    return f"{help_text} (default {said})"


class Bounded:
    """An option's value type with its bounds: ``Bounded(int, 1, 64)("8") -> 8``; anything else (not a
    number, NaN, infinity, out of bounds) is an argparse error in one line, so every numeric option is
    refused as it is parsed, before any work."""

    def __init__(self, kind: type, low: float, high: float):
        self.kind, self.low, self.high = kind, low, high
        self.__name__ = "whole number" if kind is int else "number"  # argparse's word for the type

    def __call__(self, text: str) -> Any:
        import argparse
        import math

        try:
            value = self.kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected a {self.__name__}, got {text[:40]!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text[:40]!r}")
        if not self.low <= value <= self.high:
            raise argparse.ArgumentTypeError(f"expected {self.low} to {self.high}, got {text[:40]}")
        return value


def _finite(kind: type) -> Any:
    """``kind`` as an option's type, a float refusing NaN and infinity as it is parsed (the field's own
    bounds are checked when its config is made)."""
    import math

    return Bounded(float, -math.inf, math.inf) if kind is float else kind


def _text_reader(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    import argparse

    def read(text: str) -> Any:
        try:
            return parse(text)
        except (ValueError, InputError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    read.__name__ = getattr(parse, "__name__", "value")
    return read


def options(cls: type, names: Iterable[str] | None = None) -> list[str]:
    """The names of ``cls``'s fields that are command-line options (of ``names`` only, in their order,
    where given)."""
    wanted = list(names) if names is not None else [f.name for f in dataclasses.fields(cls)]
    return [n for n in wanted if described(cls, n).get("cli", True)]


def add_options(parser: Any, cls: type, names: Iterable[str] | None = None) -> None:
    """Add an ``--option`` to ``parser`` (an argparse parser or group) for each field of ``cls`` (those in
    ``names`` where given), made from the field: its type, default, bounds' choices and help."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in options(cls, names):
        meta = described(cls, name)
        item = fields[name]
        factory: Any = item.default_factory
        default = item.default if factory is _MISSING else factory()
        kind, many = _kind(hints[name])
        flag = meta.get("flag") or "--" + name.replace("_", "-")
        help_text = meta.get("help", "")
        if kind is bool and not many:
            if default is True:
                flag = meta.get("flag") or "--no-" + name.replace("_", "-")
                help_text = f"turn off: {help_text}"
            parser.add_argument(
                flag, dest=name, action="store_false" if default is True else "store_true", help=help_text
            )
            continue
        kwargs: dict[str, Any] = {"dest": name, "help": help_text}
        if default is _MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default
            said = _shown(default) if default not in (None, ()) else meta.get("none")
            if said:
                kwargs["help"] = _with_default(help_text, said)
        kwargs["type"] = _text_reader(meta["parse"]) if meta.get("parse") else _finite(kind)
        if meta.get("choices") is not None:
            kwargs["choices"] = meta["choices"]
        else:
            kwargs["metavar"] = meta.get("metavar") or {int: "N", float: "X"}.get(kind, name.upper())
        if many and not meta.get("parse"):
            kwargs["nargs"] = "+" if default is _MISSING or default is None else "*"
        parser.add_argument(flag, **kwargs)


def from_options(cls: type, values: Any, names: Iterable[str] | None = None, **fixed: Any) -> Any:
    """``cls`` made from parsed options ``values`` (an argparse namespace): each option field (of ``names``
    where given) that ``values`` holds, lists read as tuples, and the ``fixed`` fields."""
    given = {}
    for name in options(cls, names):
        if hasattr(values, name):
            value = getattr(values, name)
            given[name] = tuple(value) if isinstance(value, list) else value
    return cls(**given, **fixed)
