"""One launch, in a fresh process, for benchmarks/journey.py: prints `MARK <name> <seconds>` lines and exits.

`bare`: a PySide6 + pyqtgraph window showing one image plot (the baseline). `studio`: gdstudio.app.main.launch().
An event filter on the QApplication (installed before either builds its window) sees the first UpdateRequest of a
top-level window; a zero-timer queued then fires once that paint is processed and the loop answers again:
`painted`. Seconds count from JOURNEY_T0 (time.monotonic() in the parent just before it started this process).

studio, `--run-at ready`: once the engine is loaded and the default loss derived, Run is pressed (warm).
`--run-at paint`: Run is pressed as soon as the window responds (the cold first launch). `first_steps`: the runs
table, the landscape's path and the loss curve all show a step >= 1 (what the redraw timer drew, not the worker).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

T0 = float(os.environ.get("JOURNEY_T0", time.monotonic()))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

LIMIT_S = 120.0


def mark(name: str, at: float | None = None) -> None:
    print(f"MARK {name} {(time.monotonic() if at is None else at) - T0:.4f}", flush=True)


class FirstPaint(QObject):
    """Calls `then` from a zero-timer posted as the first widget paints (it runs once that paint is done). Not at
    the window's first UpdateRequest: the studio puts that request off by one pass (app/paint_later.py). Installed
    on the application, it then takes itself off: every event of the studio went through it, and through Python,
    for the whole journey (until the sixteenth session)."""

    def __init__(self, then) -> None:
        super().__init__()
        self.then, self.done = then, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            self.done = True
            QTimer.singleShot(0, self.then)
            QApplication.instance().removeEventFilter(self)
        return False


def bare():
    """The baseline window (returned: kept alive while the loop runs)."""
    import numpy as np
    import pyqtgraph as pg

    plot = pg.PlotWidget()
    plot.addItem(pg.ImageItem(np.random.default_rng(0).random((180, 180))))
    plot.resize(1400, 900)
    plot.show()
    return plot


def first_steps_drawn(window) -> bool:
    """Step >= 1 in the runs table, on the landscape (its path's items were fed) and on the loss curve."""
    item = window.runs_panel.table.topLevelItem(0)
    try:
        if item is None or int(item.text(1).replace(",", "")) < 1:
            return False
    except ValueError:
        return False
    tracks, curves = window.landscape.marks._tracks, window.loss_curve.curves
    if not tracks or tracks[0] is None or tracks[0].last_step < 1 or not curves:
        return False
    x, _ = curves[0].getData()
    return x is not None and len(x) > 0 and float(x.max()) >= 1


class StudioWatch:
    """After the first paint: marks the engine's readiness, presses Run when asked, and waits for the first steps."""

    def __init__(self, app: QApplication, run_at: str) -> None:
        self.app, self.run_at = app, run_at
        self.window = None
        self.engine_at: float | None = None
        self.pressed_at: float | None = None
        self.poll = QTimer(interval=1)
        self.poll.timeout.connect(self.check)

    def painted(self) -> None:
        mark("painted")
        self.window = next(w for w in self.app.topLevelWidgets() if w.objectName() == "studio")
        self.window.ask_unsaved = lambda: "discard"
        self.window.engine.ready.connect(self.engine_ready)
        if self.run_at == "paint":
            self.press()
        self.poll.start()

    def engine_ready(self, _seconds: float) -> None:
        self.engine_at = time.monotonic()
        mark("engine")

    def press(self) -> None:
        self.pressed_at = time.monotonic()
        mark("run_pressed")
        self.window.menus.run.trigger()

    def check(self) -> None:
        window, now = self.window, time.monotonic()
        if self.pressed_at is None and self.run_at == "ready" and self.engine_at is not None and window.session.objective is not None:
            self.press()
        done = self.pressed_at is not None and first_steps_drawn(window)
        if done:
            mark("first_steps")
        if (done and self.engine_at is not None) or now - T0 > LIMIT_S:
            self.leave()

    def leave(self) -> None:
        """Exit at once, leaving nothing running: a cold launch's first compile, in a child process, outlived it (10-20 s
        of CPU) and slowed the journey's next phases, the helper process's work most (it shares its priority)."""
        from gdstudio.app.helper import HELPER

        if self.window is not None:
            self.window.engine.stop()
        HELPER.close()
        os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("bare", "studio"))
    parser.add_argument("--run-at", choices=("ready", "paint", "none"), default="none")
    options = parser.parse_args()
    mark("python")
    app = QApplication(sys.argv[:1])
    if options.what == "bare":
        first = FirstPaint(lambda: (mark("painted"), os._exit(0)))
        app.installEventFilter(first)
        window = bare()
        app.exec()
        del window
        return
    watch = StudioWatch(app, options.run_at)
    first = FirstPaint(watch.painted)
    app.installEventFilter(first)
    if options.run_at == "none":
        watch.poll.timeout.connect(lambda: watch.engine_at is not None and watch.leave())
    from gdstudio.app.main import launch

    launch()


if __name__ == "__main__":
    main()
