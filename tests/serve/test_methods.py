"""The service's options are the pipelines' settings: the same help, choices and defaults as the field
they offer and as the command line the job runs, narrowed only where a server must bound the work."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from talkingface.cli import build_parser
from talkingface.errors import InputError
from talkingface.pipelines import TalkingPhotoConfig
from talkingface.serve.methods import METHODS, offered
from talkingface.settings import described

#: Service defaults that differ from the command's, on purpose: (method, option).
SERVER_DEFAULTS = {("talking-photo", "size")}  # a photo at its own size is unbounded work


def _command_options(command: str) -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {flag: action for action in sub._actions for flag in action.option_strings}


def _field_default(cls: type, name: str):
    item = next(f for f in dataclasses.fields(cls) if f.name == name)
    return item.default_factory() if item.default is dataclasses.MISSING else item.default


OFFERED = [(m, o) for m in METHODS.values() for o in m.options]


@pytest.mark.parametrize("method, option", OFFERED, ids=[f"{m.name}.{o.name}" for m, o in OFFERED])
def test_each_option_is_its_field_and_its_command_line_flag(method, option):
    assert option.origin is not None, "every option offers a pipeline setting"
    cls, name = option.origin
    meta = described(cls, name)
    default = _field_default(cls, name)
    assert option.help == meta["help"]
    assert set(option.choices) <= set(meta["choices"] or ())
    own_low = meta["low"] if meta["low"] is not None else meta["above"]
    own_high = meta["high"] if meta["high"] is not None else meta["below"]
    if option.kind in ("int", "float"):  # bounded both ways, within the field's bounds
        assert option.low is not None and (own_low is None or option.low >= own_low)
        assert option.high is not None and (own_high is None or option.high <= own_high)

    flag = option.flag or "--" + option.name.replace("_", "-")
    action = _command_options(method.command).get(flag)
    assert action is not None, f"{method.command} has no {flag}"
    if option.kind == "bool":
        assert action.const is True and action.default is False is default
    else:
        # The command leaves the field at its default, or at what its input decides where it has None.
        assert action.default in (default, None), f"{method.command} {flag}: {action.default!r} vs {default!r}"
        if (method.name, option.name) not in SERVER_DEFAULTS:
            assert option.default == action.default
        assert action.choices is None or set(option.choices) <= set(action.choices)
    # The value the service gives reaches the command as the same flag.
    parsed = method.parse_options({option.name: option.default} if option.default is not None else {})
    assert option.argv(parsed[option.name])[:1] in ([flag], [])


def test_a_server_may_narrow_a_setting_but_not_widen_it():
    assert offered(TalkingPhotoConfig, "size", low=128, high=1024).low == 128
    with pytest.raises(ValueError, match="only narrow"):
        offered(TalkingPhotoConfig, "size", low=8, high=1024)
    with pytest.raises(ValueError, match="both bounds"):
        offered(TalkingPhotoConfig, "size")  # unbounded above: not for a server
    with pytest.raises(TypeError, match="not a setting"):
        offered(TalkingPhotoConfig, "jali")


def test_an_option_whose_default_is_unset_leaves_the_flag_out_and_still_checks_a_value():
    lipsync = METHODS["lipsync"]
    parsed = lipsync.parse_options({})
    assert parsed["face_index"] is None
    argv = lipsync.argv("face.mp4", "speech.wav", None, "w.pth", parsed)
    assert "--face-index" not in argv
    assert "--face-index" in lipsync.argv(
        "face.mp4", "speech.wav", None, "w.pth", lipsync.parse_options({"face_index": 2})
    )
    with pytest.raises(InputError, match="face_index: expected 0 to 16"):
        lipsync.parse_options({"face_index": 17})
