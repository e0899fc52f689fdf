"""The window paints in a pass of the event loop of its own, after the timers that were due.

Qt asks for a window's paint with a posted event, and posted events are handled at the start of the next pass of the
event loop, before its timers and input: whatever changed the window (a file opened, a loss derived, a frame of
twenty runs) and the paint it asked for made one turn of 20-40 ms. Here that request is put off by one pass: the timers
due (input, the runs' rows, other views' turns) come between, and each is a turn of its own. (A change made while a
request sent again is on its way is painted with it; the frames of running runs make sure: PaintHold.defer.)
Opening the thirteen lessons twice, warm: slow gaps 15-24 -> 10-12, their time over 16 ms 71-79 -> 24-48 ms.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QWidget


class PaintAfterTimers(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._let_through = False
        self._next_pass = QTimer(self, singleShot=True, interval=0)  # (a zero timer: it fires after those due)
        self._next_pass.timeout.connect(self._ask_again)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._window and event.type() == QEvent.Type.UpdateRequest:
            if not self._let_through:  # (Qt asks no more meanwhile: its request counts as sent until handled)
                self._next_pass.start()
                return True
            self._let_through = False
        return False

    def _ask_again(self) -> None:
        self._let_through = True
        QCoreApplication.postEvent(self._window, QEvent(QEvent.Type.UpdateRequest), Qt.EventPriority.LowEventPriority.value)
