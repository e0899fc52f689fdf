"""Shared steps of the studio tests."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer

from gdstudio.app.document import Change
from gdstudio.app.presets import example_files
from gdstudio.core.scenario import StopRules

HANG = 60.0  # seconds after which work counts as hung: a bound on hangs, never a speed (benchmarks/ measure speed)


def run_to_end(qtbot, win, timeout: int = 20000) -> None:
    win.menus.set_speed(math.inf)
    win.session.run()
    qtbot.waitUntil(lambda: win.session.state == "finished", timeout=timeout)


def run_unending(win) -> None:
    """Run at full speed with stop rules that never end the runs (the test stops or resets them)."""
    win.document.update(Change.STOP, stop=StopRules(max_steps=100_000_000, grad_tol=None))
    win.menus.set_speed(math.inf)
    win.menus.run.trigger()


def type_loss(qtbot, win, text: str) -> None:
    editor = win.editor.editor
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)
    qtbot.waitUntil(lambda: not win.editor.busy and not win.editor.verdict.text().startswith("checking"), timeout=10000)
    wait_drawn(qtbot, win)


def open_example(qtbot, win, prefix: str):
    resource = next(r for title, r in example_files() if r.name.startswith(prefix))
    win.files.open_example(resource)
    loss = win.document.scenario.loss
    qtbot.waitUntil(lambda: win.session.objective is not None and win.session.objective.text == loss, timeout=10000)
    wait_drawn(qtbot, win)
    return win.document.scenario


def wait_idle(qtbot, insight, name: str, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: not insight.tasks.busy(name), timeout=timeout)


def wait_drawn(qtbot, win, timeout: int = 30000) -> None:
    """Until the landscape's background (computed off the GUI thread) is drawn in full, and the views that follow a
    change in turns of their own (stagger.py) have followed it."""
    qtbot.waitUntil(lambda: not win.landscape.computing and not win.session.stagger.pending(), timeout=timeout)


def open_file(qtbot, win, path, timeout: int = 30000) -> bool:
    """File ▸ Open, waited for (files are read in a background thread): True when the document is now that file."""
    from pathlib import Path

    win.files.open_path(str(path))
    qtbot.waitUntil(lambda: not win.files.opening, timeout=timeout)
    return win.document.path == Path(path).resolve()


def refresh_insight(qtbot, win) -> None:
    """The live insight panels, redrawn now and waited for (their numbers are computed in the insight pool)."""
    win.insight.refresh_panels(force=True)
    wait_idle(qtbot, win.insight, "panels")


def passes_go_by(qtbot, passes: int = 3) -> None:
    """`passes` passes of the event loop go by (a zero timer, each queuing the next)."""
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(1)
        if len(ticks) < passes:
            QTimer.singleShot(0, tick)

    QTimer.singleShot(0, tick)
    qtbot.waitUntil(lambda: len(ticks) == passes)


def until_quiet(qtbot, seen: Callable[[], int]) -> None:
    """Until three passes of the event loop go by without `seen()` (a count of paints, or of paint requests) growing:
    none is on its way any more."""
    deadline = time.monotonic() + HANG
    while True:
        assert time.monotonic() < deadline, "the window never went quiet"
        before = seen()
        passes_go_by(qtbot)
        if seen() == before:
            return
