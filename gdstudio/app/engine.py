"""The engine — SymPy, Numba and the compiled run kernel — loads after the window shows.

Importing it takes about a second warm (and the kernel's first compile several more), so the studio
paints and answers typing first, and loads it in a thread (`EngineLoader`). Every thread about to
derive or run calls `load()` first: the imports then happen once, in one thread at a time, because
two threads importing SymPy's interdependent modules at once can hand one of them a half-made module.
While a window is waiting for its first paint (`hold_until_painted`), background work that needs the
engine, or matplotlib, waits too (`wait_for_paint`): it would only slow that paint down.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

_lock = threading.Lock()
_loaded = threading.Event()
_painted = threading.Event()
_painted.set()  # (no window waiting)


def hold_until_painted() -> None:
    _painted.clear()


def painted() -> None:
    """The window has painted (or is closing): held work goes on."""
    _painted.set()


def wait_for_paint() -> None:
    if threading.current_thread() is not threading.main_thread():  # (the GUI thread must never wait for itself)
        _painted.wait()


def load() -> None:
    """Import the engine unless it is loaded (other callers wait for the first one); never on the GUI thread."""
    if _loaded.is_set():
        return
    wait_for_paint()
    with _lock:
        if not _loaded.is_set():
            from ..core import analysis, plan, sweeps  # noqa: F401  (SymPy; Numba and the kernel, from its cache)

            _loaded.set()


def loaded() -> bool:
    return _loaded.is_set()


class EngineLoader(QObject):
    """Loads the engine in a thread and says when it is ready (with the seconds it took); `join` at close,
    so the interpreter never exits in the middle of an import or a compile."""

    ready = Signal(float)
    loading = Signal(str)  # what the status line says meanwhile

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and not loaded():
            from ..core import kernel_cached

            self.loading.emit("loading the engine…" if kernel_cached() else
                              "first start: compiling the run kernel (once, about 10 s); you can type meanwhile…")
            self._thread = threading.Thread(target=self._load, name="gdstudio-engine")
            self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _load(self) -> None:
        began = time.perf_counter()
        load()
        self.ready.emit(time.perf_counter() - began)  # (queued to the GUI thread)
