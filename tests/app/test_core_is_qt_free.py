"""The engine must stay importable without Qt (CLI, headless CI, other faces)."""

import subprocess
import sys


def test_core_never_imports_qt():
    code = ("import gdstudio.core.runner, gdstudio.core.scenario, gdstudio.core.expression, gdstudio.core.export, sys; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken6'))]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_modules_imported_after_qt_are_not_read_for_pyside_features():
    # PySide6's import hook used to read the source of every later module (0.2 s over SymPy, Numba, matplotlib)
    code = ("import inspect, sys, gdstudio.app.main; read = []; original = inspect.getsource; "
            "inspect.getsource = lambda obj: read.append(obj) or original(obj); "
            "import fractions, json.decoder, email.parser; "
            "assert not read, read")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
