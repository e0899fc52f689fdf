"""Markers on a plot: an empty set of them is not painted, nor set again to no points (pyqtgraph's scatter went
through its whole paint for none, at every frame of a landscape while runs move)."""

import numpy as np
import pyqtgraph as pg

from gdstudio.app.plots.style import Markers


class CountedMarkers(Markers):
    def __init__(self, *args, **kwargs) -> None:
        self.paints = 0
        super().__init__(*args, **kwargs)

    def paint(self, *args) -> None:
        self.paints += 1
        super().paint(*args)


def test_markers_are_painted_only_while_they_have_points(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(300, 200)
    markers = CountedMarkers(symbol="o", size=10)
    widget.addItem(markers)
    widget.grab()
    assert markers.paints == 0
    markers.setData(pos=np.array([[0.0, 0.0], [1.0, 1.0]]))
    widget.grab()
    assert markers.paints == 1 and len(markers.points()) == 2
    markers.setData(pos=np.empty((0, 2)))
    widget.grab()
    assert markers.paints == 1
    markers.addPoints(pos=np.array([[0.5, 0.5]]))
    widget.grab()
    assert markers.paints == 2


def test_no_points_given_to_markers_without_points_changes_nothing(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    markers = Markers(symbol="o", size=10)
    widget.addItem(markers)
    changes = []
    markers.sigPlotChanged.connect(changes.append)
    markers.setData(pos=np.empty((0, 2)), brush=[])
    markers.setData([], [])
    assert changes == [] and len(markers.data) == 0
    markers.setData(x=[1.0], y=[2.0])
    assert len(changes) == 1 and markers.points()[0].pos().x() == 1.0
    markers.setData(pos=np.empty((0, 2)))  # (points to none: done)
    assert len(changes) == 2 and len(markers.data) == 0
