"""Work put off to a later turn waits a pass more when the current pass has worked already (app/patience.py)."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractEventDispatcher, QTimer

from gdstudio.app.patience import BUDGET_S, MAX_WAITS, Patience, busy
from gdstudio.app.stagger import Stagger


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class Passes:
    """Counts the event loop's passes (each begins with the dispatcher's aboutToBlock)."""

    def __init__(self) -> None:
        self.count = 0
        self._dispatcher = QAbstractEventDispatcher.instance()
        self._dispatcher.aboutToBlock.connect(self._next)

    def _next(self) -> None:
        self.count += 1

    def close(self) -> None:
        self._dispatcher.aboutToBlock.disconnect(self._next)


def test_busy_counts_the_current_pass_only(qtbot):
    passes, seen = Passes(), []
    busy()  # (its clock starts with the first call)
    qtbot.wait(1)

    def work() -> None:
        burn(3 * BUDGET_S)
        seen.append((passes.count, busy()))

    timer = QTimer(interval=1)
    timer.timeout.connect(lambda: seen.append((passes.count, busy())) if seen else work())
    timer.start()
    qtbot.waitUntil(lambda: len(seen) > 1 and seen[-1][0] != seen[0][0])
    timer.stop()
    passes.close()
    (_, worked), (_, later) = seen[0], seen[-1]
    assert worked >= 3 * BUDGET_S and later < BUDGET_S


def test_patience_waits_while_the_pass_has_worked_and_never_more_than_max_waits(qtbot):
    qtbot.wait(1)
    assert not Patience().wait()  # (a pass that has not worked)
    patience = Patience()
    burn(2 * BUDGET_S)
    assert [patience.wait() for _ in range(MAX_WAITS + 1)] == [True] * MAX_WAITS + [False]
    assert patience.waited == 0  # (it ran: the next time starts its count again)


def test_a_view_due_in_the_pass_of_a_busy_turn_waits_for_the_next(qtbot):
    passes, stagger, ran = Passes(), Stagger(), {}

    def heavy() -> None:
        burn(0.008)
        ran["heavy"] = passes.count

    first = QTimer(singleShot=True, interval=0)  # (due with the view's turn, and before it)
    first.timeout.connect(heavy)
    first.start()
    stagger.later("view", lambda: ran.setdefault("view", passes.count))
    qtbot.waitUntil(lambda: "view" in ran)
    passes.close()
    assert ran["view"] > ran["heavy"]


def test_a_followed_signal_runs_in_a_later_pass_than_a_busy_one_with_the_newest_arguments(qtbot):
    """Results from other threads (a file read, a field) come as posted events, handled in one pass with whatever else
    is due: a slot that follows them through a Stagger waits for a pass of its own, and sees only the newest when
    several came meanwhile."""
    from PySide6.QtCore import QObject, Signal

    class Source(QObject):
        arrived = Signal(object)

    passes, source, stagger, ran = Passes(), Source(), Stagger(), []
    stagger.follow(source.arrived, lambda value: ran.append((value, passes.count)))

    def heavy() -> None:
        burn(0.008)
        ran.append(("heavy", passes.count))

    first = QTimer(singleShot=True, interval=0)  # (due with the slot's turn, and before it)
    first.timeout.connect(heavy)
    first.start()
    source.arrived.emit("old")
    source.arrived.emit("new")
    qtbot.waitUntil(lambda: len(ran) == 2)
    qtbot.wait(20)
    passes.close()
    assert not stagger.pending()
    (first_ran, worked), (value, later) = ran
    assert first_ran == "heavy" and value == "new" and later > worked and len(ran) == 2
