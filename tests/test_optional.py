"""The optional dependencies pass one gate: every import of one is inside ``with needs(...)``, and a missing
one is a one-line error that names the extra to install."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from talkingface.errors import MissingDependencyError
from talkingface.optional import EXTRAS, MODULES, needs

SOURCE = Path(__file__).resolve().parents[1] / "src" / "talkingface"
#: Modules reached only through a gate of their own: the web service's, imported by ``serve`` after
#: ``needs("serve")``.
GATED_ELSEWHERE = {"serve/app.py", "serve/uploads.py", "serve/jobs.py"}


def _optional_imports(tree: ast.AST) -> list[tuple[ast.stmt, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            if name.split(".")[0] in MODULES:
                found.append((node, name))
    return found


def _gated(tree: ast.AST) -> set[int]:
    """ids of the import statements inside ``with needs(...)`` or ``if TYPE_CHECKING:``."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        gate = False
        if isinstance(node, ast.With):
            gate = any(
                isinstance(item.context_expr, ast.Call) and getattr(item.context_expr.func, "id", "") == "needs"
                for item in node.items
            )
        elif isinstance(node, ast.If):
            gate = getattr(node.test, "id", "") == "TYPE_CHECKING"
        if gate:
            inside |= {id(n) for statement in node.body for n in ast.walk(statement)}
    return inside


def test_every_optional_import_is_behind_the_gate():
    loose = []
    for path in sorted(SOURCE.rglob("*.py")):
        name = path.relative_to(SOURCE).as_posix()
        if name in GATED_ELSEWHERE or name == "optional.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        gated = _gated(tree)
        loose += [f"{name}:{node.lineno} {module}" for node, module in _optional_imports(tree) if id(node) not in gated]
    assert not loose, "optional imports outside `with needs(...)`: " + ", ".join(loose)


def test_each_module_belongs_to_a_declared_extra():
    assert set(MODULES.values()) <= set(EXTRAS)
    pyproject = (SOURCE.parents[1] / "pyproject.toml").read_text()
    for extra in EXTRAS:
        assert f"\n{extra} = [" in pyproject


def test_a_missing_module_is_one_line_naming_its_extra():
    missing = r"^plotting needs cv2: pip install 'talkingface\[face\]'$"
    with pytest.raises(MissingDependencyError, match=missing), needs("face", "plotting"):
        raise ModuleNotFoundError("No module named 'cv2'", name="cv2")
    with pytest.raises(ValueError, match="unknown extra"), needs("nothing"):
        pass


def test_the_command_line_says_which_extra_is_missing(tmp_path):
    speech = tmp_path / "speech.wav"
    rng = np.random.default_rng(0)
    soundfile.write(speech, (0.1 * rng.standard_normal(16000)).astype(np.float32), 16000)
    code = (
        "import sys; sys.modules['cv2'] = None; from talkingface.cli import main; "
        f"sys.exit(main(['visemes', {str(speech)!r}, '-o', {str(tmp_path / 'c.json')!r}, "
        f"'--plot', {str(tmp_path / 'c.png')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("needs cv2: pip install 'talkingface[face]'"), done.stderr
