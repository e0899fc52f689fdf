"""One run's loss curve: a plain curve item fed values that are already decimated and finite (or NaN gaps).

pyqtgraph's PlotDataItem maps, checks and bounds every array again at every `setData` and restyles its curve
(~0.25 ms a curve: twenty runs' curves took 5 ms of every frame at full speed); this item keeps only what the
loss plot uses of it: the logarithmic axis (values mapped by log10 here), the original values for readers, and the
clipping of values far outside a view the user fixed (a painter cannot take coordinates a billion view heights away).
"""

from __future__ import annotations

import numpy as np

from .style import Curve


class RunCurve(Curve):
    def __init__(self, pen, name: str | None, limit: float | None) -> None:
        super().__init__(pen=pen, name=name, connect="finite")
        self.opts["dynamicRangeLimit"] = limit  # (PlotDataItem's name for it)
        self._log = False
        self._x = self._y = np.empty(0)

    def feed(self, x: np.ndarray, y: np.ndarray) -> None:
        """New values to draw (x increasing, y finite or NaN: the decimator's output)."""
        self._x, self._y = x, y
        self._show()

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:
        """The values fed, before the logarithm (as PlotDataItem's)."""
        return self._x, self._y

    def setLogMode(self, _x: bool, y: bool) -> None:
        """Called by the plot item when its axis turns logarithmic or back."""
        if y != self._log:
            self._log = y
            self._show()

    def setDynamicRangeLimit(self, limit: float | None) -> None:
        """Clip values beyond `limit` view heights from the view; None while the view follows every value."""
        if limit != self.opts["dynamicRangeLimit"]:
            self.opts["dynamicRangeLimit"] = limit
            self._show()

    def viewRangeChanged(self) -> None:
        super().viewRangeChanged()
        if self.opts["dynamicRangeLimit"] is not None:
            self._show()

    def _show(self) -> None:
        y = self._y
        if self._log and len(y):
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(y)
            y[~np.isfinite(y)] = np.nan  # (values <= 0, fed before the log axis: gaps, as the decimator makes them)
        limit, view = self.opts["dynamicRangeLimit"], self.getViewBox()
        if limit is not None and view is not None and len(y):
            low, high = view.viewRange()[1]
            room = limit * max(high - low, 0.0)
            if room > 0:
                y = np.clip(y, low - room, high + room)  # (NaN gaps stay gaps)
        self.setData(self._x, y)
