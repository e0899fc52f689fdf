"""The window paints in a pass of the event loop of its own, after the timers that were due.

Qt asks for a window's paint with a posted event, and posted events are handled at the start of the next pass of the
event loop, before its timers and input: whatever changed the window (a file opened, a loss derived, a frame of
twenty runs) and the paint it asked for made one turn of 20-40 ms. Here that request is put off by one pass: the timers
due (input, the runs' rows, other views' turns) come between, and each is a turn of its own. (A change made while a
request sent again is on its way is painted with it; the frames of running runs make sure: PaintHold.defer.)
Opening the thirteen lessons twice, warm: slow gaps 15-24 -> 10-12, their time over 16 ms 71-79 -> 24-48 ms.
Threads that run Python for long stretches (a file's loss derived, the editor's check) wait, at their start and
between their steps, while a paint is on its way (background.give_way): a paint calls Python dozens of times, and
each time it waited for the interpreter lock behind them (opening the lessons one after another, the window's slow
paints took twice their CPU time, 30-60 waits each, all behind the next file's derivation). The paint itself holds
the lock from start to end (it is made inside the filter: see eventFilter).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QWidget

from .background import paint_on_its_way as _on_way


class PaintAfterTimers(QObject):
    _window: QWidget | None = None  # (None on the bare Python side PySide may make as the window is destroyed)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._let_through = False
        self._next_pass = QTimer(self, singleShot=True, interval=0)  # (a zero timer: it fires after those due)
        self._next_pass.timeout.connect(self._ask_again)
        window.installEventFilter(self)
        self.destroyed.connect(lambda _=None, key=id(self): _on_way(key, False))  # (never a paint waited for forever)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._window and event.type() == QEvent.Type.UpdateRequest:
            if not self._let_through:  # (Qt asks no more meanwhile: its request counts as sent until handled)
                _on_way(id(self), True)
                self._next_pass.start()
                return True
            self._let_through = False
            try:  # (painted here, in Python: the lock is held throughout, not taken again for each item painted)
                self._window.event(event)
            finally:
                _on_way(id(self), False)
            return True
        return False

    def _ask_again(self) -> None:
        self._let_through = True
        QCoreApplication.postEvent(self._window, QEvent(QEvent.Type.UpdateRequest), Qt.EventPriority.LowEventPriority.value)
