"""Guard rails for the layout of the code: the engine never needs Qt, the layers import only downwards
(core <- app <- cli), modules stay small, and ruff finds no real errors."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gdstudio

PACKAGE = Path(gdstudio.__file__).parent
ROOT = PACKAGE.parent
MAX_LINES = 400
HANG = 300  # seconds: a bound on a hang, not a speed test


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it (inside functions too), as absolute names; for
    `from package import name` both the package and package.name (which may be a module)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def last_printed(code: str, *args: str, **env: str):
    """What `code`, run by a new interpreter, printed last (JSON)."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=HANG, cwd=ROOT,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_core_module_imports_without_qt() -> None:
    """The engine runs headless (the CLI, tests, a server): no core module may pull in Qt, even indirectly."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import gdstudio.core as core\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'gdstudio.core.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "print(json.dumps({'modules': names, 'qt': qt}))\n"
    )
    found = last_printed(code)
    assert "gdstudio.core.plan" in found["modules"] and len(found["modules"]) >= 20
    assert found["qt"] == []


ENGINE = ("sympy", "numba", "llvmlite", "matplotlib")  # loaded after the first paint (app/engine.py, panels/math_view.py)


def test_the_window_is_built_without_the_engine() -> None:
    """The studio paints its first window before the engine loads (a second warm, far more on a first start):
    importing and building the main window must not import SymPy, Numba or matplotlib."""
    code = (
        "import json, os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gdstudio.app.main_window import MainWindow\n"
        "window = MainWindow()\n"
        "found = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[1])))\n"
        "window.shutdown()\n"
        "print(json.dumps(found))\n"
    )
    assert last_printed(code, json.dumps(ENGINE)) == []


def test_compiling_a_loss_imports_no_numpy_submodule_it_does_not_use() -> None:
    """SymPy's NumPy namespace for lambdify is `from numpy import *`, which imports f2py, ctypeslib and the
    rest NumPy 2 names (0.1-0.2 s of a first start's first derive): the generated code imports only its names."""
    code = (
        "import json, sys\n"
        "from gdstudio.core.expression import parse_objective\n"
        "objective = parse_objective('(1 - x)^2 + 100*(y - x^2)^2 + sin(x)*exp(y) + max(x, y)').compile()\n"
        "assert objective.loss(0.5, 0.25) == objective.loss(0.5, 0.25)\n"
        "print(json.dumps(sorted(m for m in ('numpy.f2py', 'numpy.ctypeslib', 'numpy.char') if m in sys.modules)))\n"
    )
    assert last_printed(code) == []


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_layers_import_only_downwards(path: Path) -> None:
    """core <- app <- cli: the engine knows nothing of the studio or the command line, the studio nothing
    of the command line, and only the launcher builds the main window."""
    names = imported(path)
    where = relative(path)
    if where.startswith("gdstudio/core/"):
        assert not [n for n in names if within(n, "gdstudio.app") or within(n, "gdstudio.cli") or within(n, "gdstudio.commands")]
    if where.startswith("gdstudio/app/"):
        assert not [n for n in names if within(n, "gdstudio.cli") or within(n, "gdstudio.commands")]
    if where != "gdstudio/app/main.py":
        assert not [n for n in names if within(n, "gdstudio.app.main_window")]


def test_the_import_reader_resolves_relative_imports(tmp_path) -> None:
    """(The guard above is only as good as this.)"""
    assert {"gdstudio.core.scenario", "gdstudio.core.scenario.Scenario", "numpy"} <= imported(PACKAGE / "core" / "runner.py")
    assert "gdstudio.app.main_window" in imported(PACKAGE / "app" / "main.py")
    assert "gdstudio.commands" in imported(PACKAGE / "cli.py")


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative(path)} has {lines} lines; split it along its responsibilities"


def test_ruff_finds_no_errors() -> None:
    """The rules in pyproject.toml ([tool.ruff.lint]: real errors only), over the package, the tests and the benchmarks."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "gdstudio", "tests", "benchmarks"],
                          capture_output=True, text=True, timeout=HANG, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def imported_once_the_engine_has_loaded(setup: str, action: str) -> list[str]:
    """The modules `action` imports, run by a new interpreter once the engine has loaded and `setup` has run."""
    code = ("import json, sys\nfrom gdstudio.app import engine\nengine.load()\n" + setup + "before = set(sys.modules)\n"
            + action + "print(json.dumps(sorted(set(sys.modules) - before)))\n")
    return last_printed(code, QT_QPA_PLATFORM="offscreen")


def test_once_the_engine_has_loaded_a_losss_text_form_imports_nothing() -> None:
    """SymPy's pretty printer imports sympy.physics.units at its first product (0.1-0.2 s): the engine's loading
    imports it, so the first loss's text form does not hold the interpreter while the window draws that loss."""
    setup = ("from gdstudio.app.typeset import text_form\n"
             "from gdstudio.core.expression import parse_objective\n"
             "objective = parse_objective('(1 - x)^2 + 100*(y - x^2)^2')\n")
    action = "text = text_form(objective)\nassert '∇f' in text, text\n"
    assert imported_once_the_engine_has_loaded(setup, action) == []


def test_once_the_engine_has_loaded_a_scenarios_starts_import_nothing() -> None:
    """NumPy imports numpy.random at its first use: a scenario's random starts, which the first loss's landscape frames
    on the GUI thread (16-18 ms of that turn): the engine's loading imports it."""
    setup = ("from gdstudio.core.scenario import RunSpec, Scenario\n"
             "from gdstudio.core.scenario_model import start_point\n"
             "scenario = Scenario(loss='x^2 + y^2', runs=(RunSpec('gd'),))\n")
    action = "point = start_point(scenario.runs[0], scenario, ('x', 'y'))\n"
    assert imported_once_the_engine_has_loaded(setup, action) == []


def test_runs_step_in_python_without_importing_numba() -> None:
    """Numba's import (~0.3 s of the interpreter) was on a first start's way to its first steps, which step in Python
    while the kernel compiles in a child process: the kernel's modules import without it (core/jit.py)."""
    code = (
        "import json, sys\n"
        "from gdstudio.app import engine\n"
        "engine.load_runner()\n"
        "from gdstudio.core.scenario import RunSpec, Scenario, StopRules\n"
        "from gdstudio.core.runner import ScenarioRunner\n"
        "scenario = Scenario(loss='(1 - x)^2 + 100*(y - x^2)^2', runs=(RunSpec('adam', optimizer='adam'),),\n"
        "                    stop=StopRules(max_steps=20))\n"
        "runner = ScenarioRunner(scenario)\n"
        "runner.advance(20, interpret=True)\n"
        "print(json.dumps([runner.runs[0].steps, 'numba' in sys.modules]))\n"
    )
    assert last_printed(code, QT_QPA_PLATFORM="offscreen") == [20, False]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads which libraries are loaded from /proc")
def test_the_engine_opens_llvms_library_before_numba_does() -> None:
    """ctypes.CDLL's dlopen holds the interpreter lock (10-60 ms for llvmlite's library: a gap of the window's); the
    engine opens it first with libc's dlopen, called without the lock, and Numba's import then finds it loaded."""
    code = (
        "import json, sys\n"
        "from gdstudio.app.engine import _open_llvm\n"
        "_open_llvm()\n"
        "opened = 'libllvmlite' in open('/proc/self/maps').read()\n"
        "print(json.dumps([opened, 'llvmlite.binding' in sys.modules]))\n"
    )
    assert last_printed(code, QT_QPA_PLATFORM="offscreen") == [True, False]
