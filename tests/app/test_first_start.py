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
    loader = engine.EngineLoader()  # (it starts loading after its window's first paint: a tool may ask before that)
    engine.load_batches()  # (EngineClosed, were the first studio's close still in force: a sweep said so, at times)
    loader.start()
    loader.join()
    assert engine._BATCHES.done.is_set()


def show_until_built(qtbot, win) -> None:
    """Show a window made by the test and wait for its Data and Help docks; then close it, its threads joined."""
    from gdstudio.app.panels.math_view import join_drawing

    qtbot.addWidget(win)
    try:
        win.show()
        qtbot.waitUntil(lambda: win.help is not None and win.data_actions is not None, timeout=30000)
    finally:
        win.shutdown()
        join_drawing()
        win.close()


def test_the_data_and_help_docks_are_built_after_the_first_paint(qtbot):
    """The window's first UpdateRequest comes before it is exposed and paints nothing: taken for the first paint, it
    had the Data and Help docks (~30 ms) built before the window appeared."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    from gdstudio.app.main_window import MainWindow

    win = MainWindow()
    built_at_first_paint: list[bool] = []

    class FirstPaint(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) and not built_at_first_paint:
                built_at_first_paint.append(win.help is not None or win.data_actions is not None)
            return False

    first = FirstPaint()
    QApplication.instance().installEventFilter(first)
    try:
        show_until_built(qtbot, win)
    finally:
        QApplication.instance().removeEventFilter(first)
    assert built_at_first_paint == [False]


def test_a_window_that_never_paints_is_built_all_the_same(qtbot, monkeypatch):
    """Started minimised (say), the window is shown but not painted: its Data and Help docks come all the same."""
    from gdstudio.app import main_window
    from gdstudio.app.main_window import MainWindow

    monkeypatch.setattr(main_window, "UNPAINTED_MS", 50)
    win = MainWindow()
    win.removeEventFilter(win)  # (as if no paint ever came)
    show_until_built(qtbot, win)
