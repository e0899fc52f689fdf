"""A plot that keeps its old picture until its new one is ready, or paints a frame's changes a turn later.

A new loss or view is drawn with its background, computed in a thread: repainting the old picture in the new range
first (~20-50 ms on the GUI thread, painted over at once) took the GUI thread and the interpreter lock from the very
thread computing the new one. So the plot's updates wait for it, at most HOLD_MS.

While runs go, a frame fed a plot its new rows (5-9 ms with twenty runs) and the paint they asked for followed in the
very next pass of the event loop (8-9 ms), before it looked at its timers or input again: one turn of 13-18 ms.
`defer` makes that paint a turn of its own.
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
        self._next_turn = QTimer(widget, singleShot=True, interval=0)  # (a zero timer: it fires after the loop has
        self._next_turn.timeout.connect(self._end_defer)               # handled input and the timers due before it)

    def hold(self) -> None:
        self.widget.setUpdatesEnabled(False)
        self._timer.start()

    def release(self) -> None:
        self._timer.stop()
        self._next_turn.stop()
        self.widget.setUpdatesEnabled(True)

    def defer(self) -> None:
        """Call before changing the plot: what it changes is painted in a later turn of the event loop."""
        if not self._timer.isActive():  # (held for a new picture: `release` will show it)
            self.widget.setUpdatesEnabled(False)
            self._next_turn.start()

    def keep(self) -> None:
        """Call before feeding the plot part of a frame: nothing is painted until `defer` or `release` lets it."""
        self._next_turn.stop()
        self.widget.setUpdatesEnabled(False)

    def _end_defer(self) -> None:
        if not self._timer.isActive():  # (held for a new picture meanwhile: `release` will show it)
            self.widget.setUpdatesEnabled(True)
