"""Views that follow a change one at a time, each in a turn of the event loop of its own.

Opening a lesson changes a dozen views. Done in the turn that opened it, that was one gap of 30-80 ms in which the
window answered nothing (its explanation's text layout, the tools' panels, the recent-files menu...). The views a
person looks at first follow the session at once; the others queue here, and each runs in a later turn, after the
paint and any input that came meanwhile. A view queued again before its turn runs once, with the latest call.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from .patience import Patience


class Stagger(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._due: dict[Hashable, Callable[[], Any]] = {}
        self._closed = False
        self._timer = QTimer(self, singleShot=True, interval=0, objectName="stagger")
        self._timer.timeout.connect(self._next)
        self._patience = Patience()

    def later(self, key: Hashable, work: Callable[[], Any]) -> None:
        """Run `work` in a turn of its own; it replaces work queued under the same key (which keeps its place)."""
        if self._closed:
            return
        self._due[key] = work
        if not self._timer.isActive():
            self._timer.start()

    def follow(self, signal: Any, slot: Callable[..., Any]) -> None:
        """Connect `slot` to `signal` through the queue: it runs later, once, with the latest arguments."""
        signal.connect(lambda *args: self.later(slot, lambda: slot(*args)))

    def pending(self) -> bool:
        return bool(self._due)

    def close(self) -> None:
        """Forget what is queued, and take nothing more (the window closes: its views are going)."""
        self._closed = True
        self._due.clear()
        self._timer.stop()

    def _next(self) -> None:
        if not self._due:
            return
        if self._patience.wait():  # (this pass has worked already: the next one, after input: patience.py)
            self._timer.start()
            return
        work = self._due.pop(next(iter(self._due)))
        if self._due:
            self._timer.start()  # (first: a view that raises leaves the others their turns)
        work()
