"""A plot that keeps its old picture until its new one is ready.

A new loss or view is drawn with its background, computed in a thread: repainting the old picture in the new range
first (~20-50 ms on the GUI thread, painted over at once) took the GUI thread and the interpreter lock from the very
thread computing the new one. So the plot's updates wait for it, at most HOLD_MS.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

HOLD_MS = 150


class PaintHold:
    def __init__(self, widget: QWidget) -> None:
        self.widget = widget
        self._timer = QTimer(widget, singleShot=True, interval=HOLD_MS)
        self._timer.timeout.connect(self.release)

    def hold(self) -> None:
        self.widget.setUpdatesEnabled(False)
        self._timer.start()

    def release(self) -> None:
        self._timer.stop()
        self.widget.setUpdatesEnabled(True)
