"""The packages stand in layers (docs/architecture.md): each imports only from its own layer or those
below, and no two packages import each other, directly or round a circle. Imports inside functions
count as much as those at the top of a module."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import talkingface

SOURCE = Path(talkingface.__file__).parent

# Bottom to top. A name is a package of talkingface or a module at its top level.
LAYERS = (
    (
        "__init__",
        "errors",
        "optional",
        "choices",
        "settings",
        "geometry",
        "native",
        "cpu",
        "progress",
        "timebase",
        "files",
    ),
    ("media", "speech"),
    ("face",),
    ("features",),
    ("models",),
    ("animation", "enhance", "system"),
    ("export", "render"),
    ("metrics",),
    ("data",),
    ("pipelines",),
    ("builders", "train"),
    ("serve",),
    ("cli", "__main__"),
)
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}


def _unit(module: str) -> str:
    """talkingface.x.y -> x; talkingface itself -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> dict[str, set[tuple[str, str]]]:
    """Each unit's imports of other units: ``{unit: {(imported unit, "file:line")}}``."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        package = parts if parts[-1] == "__init__" else parts[:-1]
        package = package[:-1] if package[-1] == "__init__" else package
        here = _unit(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                target = ".".join(p for p in (base, node.module or "") if p)
                if target == "talkingface":
                    targets = [f"talkingface.{a.name}" for a in node.names]
                elif target.startswith("talkingface."):
                    targets = [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("talkingface.")]
            for target in targets:
                unit = _unit(target)
                unit = unit if unit in LAYER else "__init__"  # a name the package itself holds (__version__)
                if unit != here:
                    found[here].add((unit, f"{path.relative_to(SOURCE)}:{node.lineno}"))
    return found


def test_every_package_has_a_layer():
    units = {
        p.stem if p.is_file() else p.name
        for p in SOURCE.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    assert units - set(LAYER) == set()
    assert set(LAYER) - units - {"__main__"} == set()


def test_no_import_runs_up_a_layer():
    upward = [
        f"{where}: {unit} imports {target}"
        for unit, edges in _imports().items()
        for target, where in edges
        if LAYER[target] > LAYER[unit]
    ]
    assert upward == []


def test_no_two_packages_import_each_other():
    graph = {unit: {t for t, _ in edges} - {unit} for unit, edges in _imports().items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt] if nxt in path else [unit, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[unit] = 2

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [unit])
    assert circles == []


def test_no_function_is_over_80_lines():
    """A function that long holds several steps that want names of their own."""
    long = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 80:
                long.append(
                    f"{path.relative_to(SOURCE)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
                )
    assert not long, "functions over 80 lines: " + ", ".join(long)
