"""The engine — SymPy, then Numba and the compiled run kernel — loads after the window shows.

Importing SymPy's side takes about half a second, Numba's and the kernel's as much again warm (and the
kernel's first compile ten seconds more), so the studio paints and answers typing first and loads them in
a thread (`EngineLoader`): the loss is derived and drawn once SymPy is in; until the kernel is in, runs step
in Python (core/interpreted.py, bit for bit the kernel). Every thread about to derive calls `load()` first,
about to step runs `load_runner()`, and about to run compiled code `load_kernel()`: each part is then
imported once, by one thread while the others wait, because two threads importing SymPy's interdependent
modules at once can hand one of them a half-made module. While a window waits for its first paint
(`hold_until_painted`), background work that needs the engine, or matplotlib, waits too
(`wait_for_paint`): it would only slow that paint down.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from .background import imports_give_way, lower_this_thread
from .collector import importing
from .helper import HELPER

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


class _Part:
    """One part of the engine, imported once."""

    def __init__(self, imports: Callable[[], None]) -> None:
        self._imports, self._lock, self.done = imports, threading.Lock(), threading.Event()

    def load(self) -> None:
        if self.done.is_set():
            return
        wait_for_paint()
        with self._lock:
            if not self.done.is_set():
                with imports_give_way():  # (the GUI thread's turns first: background.py)
                    self._imports()
                self.done.set()


def _symbolic() -> None:
    with importing():
        from ..core import analysis, expression  # noqa: F401  (SymPy: parsing, deriving, critical points)
        # (SymPy's pretty printer imports this at its first product, for the loss editor's text form: 0.1-0.2 s of the
        # first loss's check, which its landscape, critical points and first steps waited for)
        import sympy.physics.units  # noqa: F401
        # (NumPy imports numpy.random at its first use: a scenario's random starts, by the first loss's landscape on
        # the GUI thread, 16-18 ms of that turn)
        import numpy.random  # noqa: F401


def _runner() -> None:
    with importing():
        from ..core import interpreted, plan, runner, sweeps  # noqa: F401  (without Numba: core/jit.py)


def _open_llvm() -> None:
    """Numba's import opens llvmlite's 180 MB library with ctypes.CDLL, whose dlopen holds the interpreter lock: 10-20
    ms, ~60 on a first start's cold disk cache, as long a gap of the window's. Opened first by a call of libc's own
    dlopen, which ctypes makes without the lock, that second open finds it loaded. (Where there is no dlopen, as on
    Windows, Numba opens it as before.)"""
    import ctypes
    import os
    from importlib.util import find_spec

    from llvmlite.utils import get_library_name

    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError, TypeError):
        return
    dlopen.argtypes, dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
    path = os.path.join(os.path.dirname(find_spec("llvmlite").origin), "binding", get_library_name())
    dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_LOCAL)  # (a handle kept for good, as Numba keeps its own)


class EngineClosed(RuntimeError):
    """The studio is closing: the run kernel's first compile was stopped, and nothing waits for it any more."""


_stopped = threading.Event()  # (set by EngineLoader.stop, cleared when a loader starts)
_child_lock = threading.Lock()
_children: list[subprocess.Popen] = []  # a first start's compiles (see _compile_in_a_child)


def _kernel() -> None:
    _LLVM.load()  # (done already, as a rule: EngineLoader._load)
    from ..core import COMPILE_BATCHES, COMPILE_RUNS, kernel_cached
    from ..core.kernel import compiled_advance
    from ..core.trace import compiled_tracer

    if not kernel_cached():
        _compile_in_a_child(COMPILE_RUNS).wait()
        if _stopped.is_set():
            raise EngineClosed
        _compile_in_a_child(COMPILE_BATCHES)  # (the insight tools' batches wait for it: _batch_kernel)
    with importing():  # (Numba's import, then the kernel from its cache: not the child's compile, waited above)
        compiled_advance()  # (from Numba's cache: half a second; compiled here only should the child have failed)
        compiled_tracer()  # (the landscape's paths: core/trace.py)


def _batch_kernel() -> None:
    from ..core.kernel import advance_parallel

    for child in list(_children):
        child.wait()
    if _stopped.is_set():
        raise EngineClosed
    with importing():
        advance_parallel()


def _compile_in_a_child(code: str) -> subprocess.Popen:
    """Numba's first compile of a kernel — ten seconds of Python each, once per installation — runs in a child
    process that leaves it in the cache this process then loads: the studio's interpreter stays free for the window
    meanwhile (runs step in Python), and closing the studio stops the child instead of waiting for it."""
    with _child_lock:
        if _stopped.is_set():
            raise EngineClosed
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        _children.append(child)
    return child


_SYMBOLIC, _RUNNER, _KERNEL, _BATCHES = _Part(_symbolic), _Part(_runner), _Part(_kernel), _Part(_batch_kernel)
_LLVM = _Part(_open_llvm)


def load() -> None:
    """What deriving needs (SymPy), unless it is loaded; never on the GUI thread."""
    _SYMBOLIC.load()


def load_runner() -> None:
    """What stepping runs in Python needs (core/interpreted.py), before the compiled kernel is in."""
    _SYMBOLIC.load()
    _RUNNER.load()


def load_kernel() -> None:
    """What running needs too (the compiled run kernel); never on the GUI thread."""
    load_runner()
    _KERNEL.load()


def load_batches() -> None:
    """What the insight tools' many-run batches need too (the threaded kernel); never on the GUI thread."""
    load_kernel()
    _BATCHES.load()


def loaded() -> bool:
    return _SYMBOLIC.done.is_set()


def kernel_loaded() -> bool:
    return _KERNEL.done.is_set()


class EngineLoader(QObject):
    """Loads the engine in a thread and says how far it got; `join` at close, so the interpreter never exits in
    the middle of an import or a compile."""

    loading = Signal(str)  # what the status line says meanwhile
    ready = Signal(float)  # derivation can start (seconds it took)
    kernel_ready = Signal(float)  # runs can start (seconds since the start)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        # a studio is open again (a process of tests opens one after another): cleared now, not at `start`, which
        # comes after the first paint, when its tools may already have asked for the engine
        _stopped.clear()

    def start(self) -> None:
        if self._thread is None and not kernel_loaded():
            self.loading.emit("loading the engine…")
            self._thread = threading.Thread(target=self._load, name="gdstudio-engine")
            self._thread.start()

    def stop(self) -> None:
        """Closing: a first compile under way in a child process ends now, and whoever waits for it gets
        EngineClosed (call before joining the threads that might wait)."""
        with _child_lock:
            _stopped.set()
            for child in _children:
                if child.poll() is None:
                    child.kill()
                child.wait()  # (reaped: nothing left for the interpreter's exit to warn about)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _load(self) -> None:
        from ..core import kernel_cached

        lower_this_thread()
        began = time.perf_counter()
        _LLVM.load()  # (without the interpreter lock, beside SymPy's import that the deriving thread has begun:
        load()        # ~60 ms of a first start's cold disk cache off the way to the first steps)
        # out of the collector's reach at once, the ~100,000 objects SymPy's import left: the GUI thread's next young
        # collection met them all (20-28 ms). (Freezing collects nothing, so it is safe off the GUI thread; the few
        # import-time cycles it keeps are kept for good, as collector.freeze_what_is_loaded keeps the rest)
        gc.freeze()
        self.ready.emit(time.perf_counter() - began)  # (queued to the GUI thread)
        if not kernel_cached():
            self.loading.emit("first start: compiling the run kernel (once, about ten seconds); runs step in Python meanwhile…")
        try:
            load_kernel()
        except EngineClosed:
            return
        gc.freeze()  # (and Numba's)
        self.kernel_ready.emit(time.perf_counter() - began)
        # the helper process imports SymPy and Numba on the other core now, not beside the engine's own loading (on a
        # first start it took a core from the interpreted runs); what asks it first starts it sooner (app/helper.py)
        HELPER.start()
