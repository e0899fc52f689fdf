"""The studio's helper threads yield the processor to the GUI thread.

On two cores, a run at full speed, a sweep's threaded kernel or a field's evaluation keep one or both busy, and the
GUI thread waited its turn behind them: gaps of 100-200 ms in the event loop while nothing of its own was slow.
A helper thread lowers its own scheduling priority once, as it starts (Linux: a thread's nice value, which the
threads it starts inherit, Numba's parallel workers among them). Nothing is slower when the GUI thread is idle,
and what the GUI thread asks for still runs at once: it only goes first when both want the processor.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

NICE = 10  # CFS gives a thread of nice 0 about ten times the processor of one at nice 10 when both want it
BUSY = 0.15  # the GUI thread's share of the processor since a helper last looked, above which it is taken as busy
# (0.15, not 0.3: six interleaved pairs of the lessons opened, median p99 14.6 -> 13.5 ms, time over 16 ms 6.3 -> 1.2)
PAUSE_S = 0.001  # a helper's pause, and the span over which it looks again
GIVE_WAY_S = 0.05  # at most, at one point

_painted = threading.Event()  # set while no window's paint is on its way (the GUI thread sets and clears it)
_painted.set()
_on_its_way: set[int] = set()  # (the windows' PaintAfterTimers with a paint on its way, by id: paint_later.py)
_local = threading.local()  # (each helper thread's last look: wall and the GUI thread's processor time)
_gui_clock: int | None = None


def lower_this_thread() -> None:
    """Lower the calling thread's priority to NICE (a no-op where threads have no nice value of their own: only Linux
    takes a thread id for PRIO_PROCESS; elsewhere that id could name another process)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < NICE:
            os.setpriority(os.PRIO_PROCESS, thread, NICE)
    except OSError:  # (a sandbox that forbids it: the thread keeps its priority)
        pass


def helper_thread(name: str) -> ThreadPoolExecutor:
    """A one-thread executor of lowered priority, its thread started now, while the studio is built: a thread started
    later, by a first `submit` on the GUI thread, made it wait for the new thread to run (`Thread.start`), 8-13 ms
    while other threads kept both cores busy (a first file opened while a landscape was computed)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"gdstudio-{name}", initializer=lower_this_thread)
    pool.submit(int)
    return pool


def paint_on_its_way(key: int, on: bool) -> None:
    """(GUI thread) A window's paint is on its way (put off: paint_later.py), or no longer."""
    (_on_its_way.add if on else _on_its_way.discard)(key)
    (_painted.clear if _on_its_way else _painted.set)()


def wait_painted(timeout: float = GIVE_WAY_S) -> bool:
    """(a helper thread) Until no window's paint is on its way, at most `timeout` seconds; whether none is."""
    return _painted.wait(timeout)


def _gui_time() -> float | None:
    """Seconds of processor time the GUI (main) thread has used; None where a thread's clock cannot be read."""
    global _gui_clock
    try:
        if _gui_clock is None:
            _gui_clock = time.pthread_getcpuclockid(threading.main_thread().ident)
        return time.clock_gettime(_gui_clock)
    except (AttributeError, OSError, TypeError):  # (no such clock here: Windows, macOS)
        return None


def give_way(limit: float = GIVE_WAY_S, paints: bool = True) -> None:
    """(a helper thread, between two steps of Python work) While a window's paint is on its way (`paints`: see
    paint_later.py), then while the GUI thread is busy, pause, PAUSE_S at a time, at most `limit` each: each of its
    turns calls Python dozens of times, and waited for the interpreter lock behind helpers each time (a lesson's
    layouts and paints took up to twice their processor time). Busy is its share of the processor since this thread
    last looked (free to know), then over each pause."""
    if paints:
        wait_painted(limit)
    now, used = time.monotonic(), _gui_time()
    if used is None or threading.current_thread() is threading.main_thread():
        return
    last = getattr(_local, "last", None)
    _local.last = (now, used)
    if last is None or now - last[0] <= 0 or (used - last[1]) / (now - last[0]) < BUSY:
        return
    end = now + limit
    while now < end:
        time.sleep(PAUSE_S)
        later, after = time.monotonic(), _gui_time() or used
        share = (after - used) / max(later - now, 1e-6)
        now, used = later, after
        if share < BUSY:
            break
    _local.last = (now, used)


class _GiveWayOnImport:
    """A finder that finds nothing: it gives way before each module a helper thread imports in `imports_give_way`.
    (Not to a paint on its way: the GUI thread may itself be waiting for a module this import holds.)"""

    @staticmethod
    def find_spec(_name: str, _path: object = None, _target: object = None) -> None:
        if getattr(_local, "imports", 0):
            give_way(paints=False)


@contextmanager
def imports_give_way() -> Iterator[None]:
    """(a helper thread) Imports (the engine's: a thousand modules of SymPy and Numba) give way between modules."""
    if not any(isinstance(finder, _GiveWayOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _GiveWayOnImport())  # type: ignore[arg-type]
    _local.imports = getattr(_local, "imports", 0) + 1
    try:
        yield
    finally:
        _local.imports -= 1
