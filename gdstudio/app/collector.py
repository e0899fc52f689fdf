"""Garbage collection on the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate. When it frees a Qt object
there (a widget left in a reference cycle) while the GUI thread is deleting widgets, the two threads
deadlock on Qt's object mutex and the GIL — seen with a SymPy derivation thread against a QMenu
being deleted. So while the studio runs, automatic collection is off and the GUI thread collects on
a short timer (`GuiCollector`).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QTimer

# The threads that derive losses leave tens of thousands of young objects a second for the GUI thread to collect:
# every 250 ms (pyqtgraph's collector) one collection met up to 74,000 of them and took up to 60 ms; every 50 ms
# each is a fifth of that.
INTERVAL_MS = 50
FULL_EVERY_S = 30.0  # a full collection (every object not frozen) at most this often: young ones are collected often

_collector: GuiCollector | None = None
_frozen = False
_importing = 0
_counting = threading.Lock()


class GuiCollector:
    """Python's generational thresholds (as pyqtgraph's GarbageCollector keeps them), checked on a timer, one
    collection per check; the oldest generation at most every FULL_EVERY_S (CPython too skips most full
    collections, by a rule Python code cannot see)."""

    def __init__(self) -> None:
        self.threshold = gc.get_threshold()
        self._full = time.monotonic()
        gc.disable()
        self.timer = QTimer(QCoreApplication.instance(), interval=INTERVAL_MS, objectName="gc")  # stopped and deleted with the app
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        young, middle, old = gc.get_count()
        if young <= self.threshold[0] or _importing:  # (the engine's modules, half made: frozen once made)
            return
        if middle <= self.threshold[1]:
            gc.collect(0)
        elif old <= self.threshold[2] or time.monotonic() - self._full < FULL_EVERY_S:
            gc.collect(1)
        else:
            gc.collect(2)
            self._full = time.monotonic()


@contextmanager
def importing() -> Iterator[None]:
    """(a helper thread) An import of the engine's under way: what it makes is the modules' own and lives on, so the
    GUI thread collects nothing meanwhile (a young collection met SymPy's import half made: 20-32 ms of a launch
    turn); the engine freezes it once made."""
    global _importing
    with _counting:
        _importing += 1
    try:
        yield
    finally:
        with _counting:
            _importing -= 1


def collect_on_gui_thread() -> None:
    """Idempotent; call from the GUI thread once a QApplication exists."""
    global _collector
    if _collector is None:
        _collector = GuiCollector()


def freeze_what_is_loaded() -> None:
    """Once the engine has loaded (GUI thread): every object alive now — SymPy's and Numba's, some 150,000 — moves
    out of the collector's reach (gc.freeze), so a full collection on the GUI thread takes microseconds instead
    of ~35 ms, a stall every few seconds. Once per process: what is frozen is never collected. The young generations
    are collected first (~13 ms); a full collection before freezing took ~85 ms of the GUI thread to find some
    25 unreachable objects, which are now frozen with the rest."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect(1)
        gc.freeze()


def collect_anywhere() -> None:
    """Back to Python's automatic collection (tests that leave the studio behind)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
    gc.enable()
