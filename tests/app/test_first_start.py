"""A first start (an empty Numba cache): the kernels' first compile (ten seconds each) happens in a child process,
which the studio's own interpreter never waits for — runs step in Python meanwhile, and closing stops the child at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HANG = 120  # seconds: a bound on a hang, not a speed claim
SCRIPT = """
import json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gdstudio.app import engine
from gdstudio.app.main_window import MainWindow
from gdstudio.core import kernel_cached

window = MainWindow()
window.ask_unsaved = lambda: "discard"
seen = {}

def poll():
    if not engine._children:
        return
    if sys.argv[1] == "close" and "closing" not in seen:
        seen["closing"] = True
        window.shutdown()  # (joins every thread: it returns only once nothing waits for the compile)
        window.close()
        seen.update(child=engine._children[0].returncode, alive=window.engine._thread.is_alive())
        app.quit()
    elif sys.argv[1] == "finish" and engine._KERNEL.done.is_set() and all(c.poll() is not None for c in engine._children):
        from gdstudio.core import kernel
        seen.update(child=[c.returncode for c in engine._children], loaded=kernel.compiled_ready(), cached=kernel_cached())
        window.shutdown()
        window.close()
        app.quit()

timer = QTimer(interval=5)
timer.timeout.connect(poll)
timer.start()
window.show()
app.exec()
print(json.dumps(seen))
"""


def first_start(what: str, tmp_path: Path) -> tuple[dict, str]:
    env = {"QT_QPA_PLATFORM": "offscreen", "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, what], capture_output=True, text=True, timeout=HANG,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    noise = "This plugin does not support propagateSizeHints()"
    return json.loads(done.stdout.strip().splitlines()[-1]), "\n".join(l for l in done.stderr.splitlines() if l != noise)


def test_closing_during_the_first_compile_stops_it(tmp_path: Path) -> None:
    seen, errors = first_start("close", tmp_path)
    assert seen["child"] is not None and seen["child"] < 0  # killed, not waited for
    assert not seen["alive"] and errors == ""


@pytest.mark.slow
def test_the_first_compile_in_a_child_leaves_the_kernels_in_the_cache(tmp_path: Path) -> None:
    seen, errors = first_start("finish", tmp_path)
    assert seen == {"child": [0, 0], "loaded": True, "cached": True} and errors == ""


def test_a_studio_opened_after_another_closed_loads_what_it_needs(qtbot, monkeypatch) -> None:
    # closing stops a first compile (EngineLoader.stop); the next studio in the same process (tests) must not inherit it
    from gdstudio.app import engine

    monkeypatch.setattr(engine, "_BATCHES", engine._Part(engine._batch_kernel))  # (not loaded yet)
    engine.EngineLoader().stop()
    loader = engine.EngineLoader()
    loader.start()
    engine.load_batches()  # (EngineClosed, were the first studio's close still in force)
    loader.join()
    assert engine._BATCHES.done.is_set()
