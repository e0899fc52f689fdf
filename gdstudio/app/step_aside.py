"""Long Python work in a helper thread steps aside while the GUI thread works.

Both share the interpreter lock. While the engine imports SymPy and Numba (0.5-1 s of Python, in helper threads, as
the window builds itself and draws the first loss), each time the GUI thread came back from Qt into Python (every
item's paint, every slot) it waited for the lock, up to the switch interval and a thread's wake-up: its turns took
about twice their time, and the launch's p99 gap was 33-45 ms. Such work now looks, at each module it imports, at
the GUI thread's processor time: when that thread has worked for most of the time since the last look, it is in a
turn, and the helper waits (without the lock) until it is not, at most MAX_WAIT_S.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

BUSY_SHARE = 0.3  # the GUI thread is in a turn when it had at least this share of a core since the last look
LOOK_S = 0.005  # looks farther apart than this say nothing: the next one decides
NAP_S = 0.001
MAX_WAIT_S = 0.05


_wall, _nap = time.monotonic, time.sleep  # (tests give their own clocks)


class _Looks(threading.local):
    cpu = wall = 0.0
    on = False


_looks = _Looks()


@lru_cache(maxsize=1)
def _gui_clock() -> int | None:
    try:
        return time.pthread_getcpuclockid(threading.main_thread().ident)
    except (AttributeError, OSError):  # (no per-thread clocks here: nothing steps aside)
        return None


def _gui_cpu() -> float | None:
    clock = _gui_clock()
    return None if clock is None else time.clock_gettime(clock)


def step_aside() -> None:
    """(a helper thread) Wait while the GUI thread is in a turn; return at once when it is not."""
    if threading.current_thread() is threading.main_thread() or (cpu := _gui_cpu()) is None:
        return
    wall = _wall()
    busy = wall - _looks.wall < LOOK_S and cpu - _looks.cpu > BUSY_SHARE * (wall - _looks.wall)
    deadline = wall + MAX_WAIT_S
    while busy and wall < deadline:
        _nap(NAP_S)
        was_cpu, was_wall = cpu, wall
        cpu, wall = _gui_cpu() or 0.0, _wall()
        busy = cpu - was_cpu > BUSY_SHARE * (wall - was_wall)
    _looks.cpu, _looks.wall = cpu, wall


class _AtEachImport:
    """A finder that finds nothing: it only steps aside before each module a stepping-aside thread imports."""

    @staticmethod
    def find_spec(*_args, **_kwargs) -> None:
        if _looks.on:
            step_aside()
        return None


_FINDER = _AtEachImport()
_under_way = 0
_counting = threading.Lock()


@contextmanager
def stepping_aside() -> Iterator[None]:
    """Imports made by this thread within step aside (see the module's note)."""
    global _under_way
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)  # (left there: inert for every other thread and import)
    _looks.on = True
    with _counting:
        _under_way += 1
    try:
        yield
    finally:
        _looks.on = False
        with _counting:
            _under_way -= 1


def importing() -> bool:
    """Whether a helper thread is importing within `stepping_aside`: what it makes is the modules' own and lives on,
    so a collection of the GUI thread's (collector.py) would only walk it (20-30 ms for SymPy's, met half-made)."""
    return _under_way > 0
