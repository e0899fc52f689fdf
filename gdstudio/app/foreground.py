"""Work the person is waiting for goes first: a file being opened, a loss being checked, its landscape's field and
its critical points.

Typesetting the formulas (matplotlib) and compiling the run kernel (Numba) are Python too: on two cores, sharing
the interpreter lock with them, a field that takes 4 ms alone was drawn ~190 ms after it was asked for, and opening
the lessons one after another took 3.3 s instead of 1.3 s. So foreground work is counted from the moment it is
asked for (on the GUI thread, before any other thread could look) until it ends in its thread, and background work
waits until none has been under way for `QUIET_S` (the next keystroke, the next file, often follows), at most
`MAX_WAIT_S`: a field over a million rows takes seconds, and the formulas must not wait that long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, QTimer

MAX_WAIT_S = 1.0
QUIET_S = 0.25

_count = 0
_last = 0.0  # time.monotonic() when foreground work last ended
_idle = threading.Condition()


def begin() -> None:
    """Foreground work was asked for; `end()` must follow once it is done or dropped, whatever happens."""
    global _count
    with _idle:
        _count += 1


def end() -> None:
    global _count, _last
    with _idle:
        _count -= 1
        if not _count:
            _last = time.monotonic()
            _idle.notify_all()


def track(future: Future) -> Future:
    """Foreground work in an executor: counted until it is done, or cancelled before it ran."""
    begin()
    future.add_done_callback(lambda _future: end())
    return future


def busy() -> bool:
    return _count > 0


def quiet() -> bool:
    """No foreground work under way, nor for QUIET_S."""
    return not _count and time.monotonic() - _last >= QUIET_S


def wait() -> None:
    """(a background thread, never the GUI thread) Until it is `quiet()`, at most MAX_WAIT_S."""
    deadline = time.monotonic() + MAX_WAIT_S
    with _idle:
        while not quiet() and (left := deadline - time.monotonic()) > 0:
            _idle.wait(left if _count else min(left, QUIET_S - (time.monotonic() - _last)))


class WhenQuiet(QTimer):
    """(GUI thread) Calls `due` once it is `quiet()`, or MAX_WAIT_S after `start()`, looking every POLL_MS; a new
    `start()` before then (another loss typed) moves the call on, so only the last one's comes."""

    POLL_MS = 20

    def __init__(self, parent: QObject, due: Callable[[], None]) -> None:
        super().__init__(parent, singleShot=True, interval=self.POLL_MS)
        self._due, self._until = due, 0.0
        self.timeout.connect(self._look)

    def start(self) -> None:  # type: ignore[override]
        self._until = time.monotonic() + MAX_WAIT_S
        super().start()

    def _look(self) -> None:
        if not quiet() and time.monotonic() < self._until:
            super().start()
        else:
            self._due()
