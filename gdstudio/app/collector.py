"""Garbage collection on the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate. When it frees a Qt object
there (a widget left in a reference cycle) while the GUI thread is deleting widgets, the two threads
deadlock on Qt's object mutex and the GIL — seen with a SymPy derivation thread against a QMenu
being deleted. So while the studio runs, automatic collection is off and the GUI thread collects on
a timer (pyqtgraph's GarbageCollector, which keeps the usual generation thresholds).
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QCoreApplication

INTERVAL_S = 0.25

_collector: GarbageCollector | None = None
_frozen = False


def collect_on_gui_thread() -> None:
    """Idempotent; call from the GUI thread once a QApplication exists."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
        _collector.timer.setParent(QCoreApplication.instance())  # stopped and deleted with the application


def freeze_what_is_loaded() -> None:
    """Once the engine has loaded (GUI thread): every object alive now — SymPy's and Numba's, some 150,000 — moves
    out of the collector's reach (gc.freeze), so a full collection on the GUI thread takes microseconds instead
    of ~35 ms, a stall every few seconds. Once per process: what is frozen is never collected."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def collect_anywhere() -> None:
    """Back to Python's automatic collection (tests that leave the studio behind)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
    gc.enable()
