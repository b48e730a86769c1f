"""Settings declared once: a config's fields make its command-line options, and bound its values."""

import argparse
import dataclasses
import subprocess
import sys
from dataclasses import dataclass

import pytest

from talkingface.cli import build_parser
from talkingface.cli.train import FAMILIES, family_options
from talkingface.errors import InputError
from talkingface.settings import add_options, check, from_options, setting


@dataclass(frozen=True, kw_only=True)
class _Base:
    steps: int = setting(100, "steps between evaluations", low=1)
    rate: float | None = setting(None, "a rate", above=0, none="none at all")
    resume: bool = setting(True, "continue where it stopped", flag="--restart")

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True, kw_only=True)
class _Config(_Base):
    paths: tuple[str, ...] = setting(help="inputs", metavar="PATH")
    mode: str = setting("fast", "how", choices=("fast", "slow"))
    weights: tuple[float, ...] = setting((0.5, 1.0), "weights", low=0, high=1)
    quiet: bool = setting(False, "say nothing")
    steps: int = 7  # another default; help and bounds stay the base's


def _parse(argv):
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser, _Config)
    return parser, parser.parse_args(argv)


def test_options_are_made_from_the_fields_and_read_back():
    parser, args = _parse(["--paths", "a", "b"])
    config = from_options(_Config, args)
    assert config == _Config(paths=("a", "b"))
    assert config.steps == 7 and config.weights == (0.5, 1.0) and config.resume and not config.quiet
    _, args = _parse(["--paths", "a", "--steps", "3", "--rate", "0.5", "--restart", "--quiet", "--weights", "0.1"])
    config = from_options(_Config, args)
    assert (config.steps, config.rate, config.resume, config.quiet, config.weights) == (3, 0.5, False, True, (0.1,))
    shown = parser.format_help()
    assert "steps between evaluations (default 7)" in shown  # the subclass's default, the base's help
    assert "a rate (default none at all)" in shown and "--restart" in shown and "{fast,slow}" in shown
    with pytest.raises(argparse.ArgumentError):
        parser.parse_args(["--paths", "a", "--mode", "medium"])


def test_bounds_are_checked_in_one_line_for_every_element():
    for settings, message in (
        ({"steps": 0}, "steps must be >= 1, got 0"),
        ({"rate": 0.0}, "rate must be > 0, got 0.0"),
        ({"rate": float("nan")}, "rate must be > 0, got nan"),
        ({"weights": (0.5, 1.5)}, "weights must be <= 1, got 1.5"),
        ({"mode": "medium"}, "mode must be one of fast, slow, got 'medium'"),
    ):
        with pytest.raises(InputError, match=message):
            _Config(paths=("a",), **settings)


def _dests(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if a.dest != "help"}


def test_each_train_command_takes_exactly_its_configs_fields_with_their_defaults():
    root = build_parser()
    train = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    commands = next(a for a in train._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == set(FAMILIES)
    for name, family in FAMILIES.items():
        actions = _dests(commands[name])
        fields = {f.name: f for f in dataclasses.fields(family.config)}
        fixed = {k for k, _ in family.fixed}
        expected = (
            {n for n, f in fields.items() if f.metadata.get("cli", True) is not False} - fixed - set(family.hidden)
        )
        assert set(actions) == expected == set(family_options(name)), name
        for dest, action in actions.items():
            field = fields[dest]
            if field.default is not dataclasses.MISSING and not isinstance(action, argparse._StoreFalseAction):
                assert action.default == field.default or (action.const is True and field.default is False), (
                    name,
                    dest,
                )
            assert action.help, (name, dest)


def test_a_train_command_builds_the_config_its_fields_declare(tmp_path):
    from talkingface.train.configs import OpennessTrainConfig, VisemeNetTrainConfig

    args = build_parser().parse_args(["train", "openness", "--data", "a.mp4", "--out", str(tmp_path / "run")])
    config = from_options(OpennessTrainConfig, args, family_options("openness"))
    assert config == OpennessTrainConfig(data=("a.mp4",), out_dir=str(tmp_path / "run"))
    argv = ["train", "visemenet", "--out", str(tmp_path / "run"), "--batch-size", "4", "--languages", "en", "de"]
    config = from_options(VisemeNetTrainConfig, build_parser().parse_args(argv), family_options("visemenet"))
    assert config.batch == 4 and config.languages == ("en", "de") and config.data == ()


def test_the_train_configs_need_neither_torch_nor_numpy():
    code = "import sys, talkingface.cli.train; print(','.join(m for m in ('torch', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_choice_lists_are_named_once():
    """Every command-line or service choice list refers to a named tuple, and the rig's shapes are ARKit's."""
    import re
    from pathlib import Path

    from talkingface import choices
    from talkingface.animation.blendshapes import RIG_SHAPES
    from talkingface.animation.jali import STYLES
    from talkingface.speech.visemes import ARKIT_52

    source = Path(choices.__file__).parent
    literal = re.compile(r"choices=[\[(]\s*['\"]")
    found = [
        f"{p.relative_to(source)}:{n}"
        for p in source.rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []
    assert set(RIG_SHAPES) <= set(ARKIT_52) and len(set(RIG_SHAPES)) == len(RIG_SHAPES)
    assert tuple(STYLES) == choices.STYLES
