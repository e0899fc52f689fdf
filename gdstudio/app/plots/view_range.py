"""The landscape's view range as four boxes (x from/to, y from/to): typed limits recompute the picture."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

Range = tuple[float, float]


class ViewRangeBar(QWidget):
    chosen = Signal(dict)  # {variable: (low, high)}: a new, non-empty range typed for the plotted axes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: dict[str, QDoubleSpinBox] = {}
        self.labels: list[QLabel] = []
        self._axes: tuple[str, ...] = ()
        self._ranges: dict[str, Range] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for key, text in (("x0", "x from"), ("x1", "to"), ("y0", "y from"), ("y1", "to")):
            box = QDoubleSpinBox(objectName=f"view_{key}", decimals=4, minimum=-1e12, maximum=1e12, keyboardTracking=False)
            box.setToolTip("view range of the landscape (Enter to apply)")
            # its size hint fits "-1000000000000.0000" and would hold the whole window wide
            box.setMinimumWidth(box.fontMetrics().horizontalAdvance("-00.0000") + 28)
            box.editingFinished.connect(self._edited)
            label = QLabel(text)
            self.labels.append(label)
            layout.addWidget(label)
            layout.addWidget(box)
            self.boxes[key] = box
        layout.addStretch(1)

    def show_ranges(self, axes: tuple[str, ...], ranges: dict[str, Range]) -> None:
        """The current view of the plotted axes (one or two)."""
        self._axes, self._ranges = axes, ranges
        two = len(axes) == 2
        for key in ("y0", "y1"):
            self.boxes[key].setVisible(two)
        self.labels[0].setText(f"{axes[0]} from")
        self.labels[2].setText(f"{axes[1]} from" if two else "")
        for label in self.labels[2:]:
            label.setVisible(two)
        values = {"x0": ranges[axes[0]][0], "x1": ranges[axes[0]][1]}
        if two:
            values.update(y0=ranges[axes[1]][0], y1=ranges[axes[1]][1])
        for key, value in values.items():
            self.boxes[key].blockSignals(True)
            self.boxes[key].setValue(float(value))
            self.boxes[key].blockSignals(False)

    def _edited(self) -> None:
        axes = self._axes
        if not axes:
            return
        b = {k: box.value() for k, box in self.boxes.items()}
        chosen = {}
        if b["x0"] < b["x1"]:
            chosen[axes[0]] = (b["x0"], b["x1"])
        if len(axes) == 2 and b["y0"] < b["y1"]:
            chosen[axes[1]] = (b["y0"], b["y1"])
        if chosen and any(tuple(self._ranges.get(a, ())) != v for a, v in chosen.items()):
            self.chosen.emit(chosen)
        else:
            self.show_ranges(axes, self._ranges)  # an empty range (from >= to) is refused: back to the current one
