"""A mistyped loss or a broken scenario file is refused before the heavy imports (issue 15: a bad-input
error costs about what `import numpy` does): in a fresh process, `gdstudio derive "x +"` and `run` of a
file with a bad loss or bad JSON end with exit code 2 and one error line, SymPy and Numba never imported.
Speed itself is measured by benchmarks/cli_speed.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HANG = 120  # seconds: a bound on a hang, not a speed claim
HEAVY = ("sympy", "numba", "llvmlite", "PySide6", "pyqtgraph")
PROBE = (
    "import json, sys\n"
    "from gdstudio.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print(json.dumps({{'code': code, 'heavy': sorted(set({HEAVY!r}) & set(sys.modules))}}))\n"
)


def gdstudio(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    """Exit code, the heavy modules imported by the end, and stderr, of `gdstudio args` in a fresh process."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=HANG, cwd=cwd)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"], found["heavy"], done.stderr


@pytest.mark.parametrize("args, line", [
    (["derive", "x +"], "error: the expression ends too early at column 4\n"),
    (["critical", "foo(x)"], "error: unknown function 'foo' (to multiply, write foo*(...)) at column 1\n"),
    (["derive", "--at", "x=1", "--", "x^"], "error: the expression ends too early at column 3\n"),
    (["critical", "x[0]", "--view", "x=-1:1"], "error: unexpected character '[' (brackets are not allowed; use parentheses) "
                                               "at column 2\n"),
])
def test_a_mistyped_loss_is_refused_before_sympy(args: list[str], line: str, tmp_path: Path) -> None:
    code, heavy, err = gdstudio(*args, cwd=tmp_path)
    assert (code, err, heavy) == (2, line, [])


SCENARIOS = {
    "bad_loss.json": ('{"format": "gdstudio-scenario", "version": 1, "loss": "(x - 1)^2 + y^", '
                      '"runs": [{"optimizer": {"name": "adam"}}]}', "loss: the expression ends too early at column 15"),
    "bad_json.json": ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2",', "not valid JSON: Expecting"),
    "column_outside.json": ('{"format": "gdstudio-scenario", "version": 1, "loss": "w*x", '
                            '"data": {"columns": {"x": [1, 2], "y": [2, 4]}}}',
                            "loss: data column 'x' must be inside mean(...) or sum(...) at column 3"),
}


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("command", [["run", "--json"], ["sweep"], ["animate", "--out", "never.gif"]],
                         ids=lambda c: " ".join(c))
def test_a_broken_scenario_is_refused_before_sympy(name: str, command: list[str], tmp_path: Path) -> None:
    text, problem = SCENARIOS[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    code, heavy, err = gdstudio(command[0], name, *command[1:], cwd=tmp_path)
    assert code == 2 and err.startswith(f"error: {name}: {problem}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == [tmp_path / name]
    assert heavy == []  # (nor Qt)
