"""Work the person is waiting for goes first: the landscape's field and the critical points of a loss just typed.

Typesetting the formulas (matplotlib) and compiling the run kernel (Numba) are Python too: on two cores, sharing
the interpreter lock with them, a field that takes 4 ms alone was drawn ~190 ms after it was asked for. So
foreground work is counted from the moment it is asked for (on the GUI thread, before any other thread could look)
until it ends in its thread, and background work waits while any is under way, at most `MAX_WAIT_S`: a field
over a million rows takes seconds, and the formulas must not wait that long.
"""

from __future__ import annotations

import threading

MAX_WAIT_S = 1.0

_count = 0
_idle = threading.Condition()


def begin() -> None:
    """Foreground work was asked for; `end()` must follow once it is done or dropped, whatever happens."""
    global _count
    with _idle:
        _count += 1


def end() -> None:
    global _count
    with _idle:
        _count -= 1
        if not _count:
            _idle.notify_all()


def busy() -> bool:
    return _count > 0


def wait(limit: float = MAX_WAIT_S) -> None:
    """(a background thread, never the GUI thread) Until no foreground work is under way, at most `limit` s."""
    with _idle:
        _idle.wait_for(lambda: not _count, limit)
