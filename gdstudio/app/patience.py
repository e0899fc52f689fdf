"""Work put off to a later turn waits one more pass of the event loop when the current pass has already worked.

Qt's event loop (glib's, on Linux) runs every timer that is due, and every posted event, in one pass before it looks
at input again. The views that follow an opened lesson each have a turn of their own (stagger.py), the derived loss
its own (the editor's poll): 2-10 ms each. But when two of them came due in the same pass they ran back to back, and
the window answered nothing for 15-25 ms. Each now asks `Patience.wait` first: past BUDGET_S of the GUI thread's time
in this pass, it waits for the next one (MAX_WAITS at most: it is never starved). Lessons opened twice with a dwell,
three runs each: gaps over 16 ms 15-19 -> 8-13. (Not the window's paint: put off so, a drag's frames were painted
about a tenth less often, and no gap of the lessons moved.) A budget of 1.5 ms instead of 3 (8 interleaved pairs of
the thirteen lessons opened): median p99 15.2 -> 14.1 ms, time over 16 ms 5.3 -> 1.1 ms a run; 0.8 ms was worse again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractEventDispatcher

BUDGET_S = 0.0015  # of the GUI thread's CPU time in one pass, before the work put off waits
MAX_WAITS = 3

_clock: _PassClock | None = None


class _PassClock:
    """The GUI thread's CPU time at the start of the event loop's current pass (a pass that sleeps costs nothing)."""

    def __init__(self, dispatcher: QAbstractEventDispatcher) -> None:
        self.began = time.thread_time()
        dispatcher.aboutToBlock.connect(self._new_pass)  # (emitted at the start of every pass, before it may sleep)

    def _new_pass(self) -> None:
        self.began = time.thread_time()


def busy() -> float:
    """Seconds of the GUI thread's CPU time spent so far in the event loop's current pass (call on the GUI thread)."""
    global _clock
    if _clock is None:
        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is None:  # (no event loop in this thread: nothing to wait for)
            return 0.0
        _clock = _PassClock(dispatcher)
    return time.thread_time() - _clock.began


class Patience:
    """One piece of put-off work's count of passes waited."""

    def __init__(self) -> None:
        self.waited = 0

    def wait(self) -> bool:
        """True when this pass has worked past its budget and the work has not waited MAX_WAITS passes yet: the
        caller asks again in a later pass. False when it should run now."""
        if self.waited < MAX_WAITS and busy() > BUDGET_S:
            self.waited += 1
            return True
        self.waited = 0
        return False
