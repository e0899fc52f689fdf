"""Landscape tools: gradient arrows (computed once per loss and view) and the editable view range."""

import numpy as np

from .helpers import wait_drawn


def test_gradient_arrows_toggle_and_point_downhill(qtbot, window):
    landscape = window.landscape
    assert landscape.arrows_box.isVisible() and not landscape.arrows.isVisible()
    landscape.arrows_box.setChecked(True)
    assert landscape.computing  # (in the arrow service's thread)
    wait_drawn(qtbot, window)
    xs, ys = landscape.arrows.getData()
    assert landscape.arrows.isVisible() and len(xs) > 100
    shaft_x, shaft_y = xs.reshape(-1, 7)[:, :2], ys.reshape(-1, 7)[:, :2]  # shaft start, end per arrow
    objective = window.session.objective
    start, end = objective.loss(shaft_x[:, 0], shaft_y[:, 0]), objective.loss(shaft_x[:, 1], shaft_y[:, 1])
    assert np.mean(end < start) > 0.9  # along −∇ the loss goes down
    key = landscape._arrows_for
    window.redraw()
    assert landscape._arrows_for is key  # not recomputed per frame
    landscape.arrows_box.setChecked(False)
    assert not landscape.arrows.isVisible()


def test_view_range_boxes_follow_and_edit_the_view(qtbot, window):
    landscape = window.landscape
    boxes = landscape.range_bar.boxes
    assert [boxes[k].value() for k in ("x0", "x1", "y0", "y1")] == [-2, 2, -1, 3]
    boxes["x0"].setValue(-1.0)
    boxes["x0"].editingFinished.emit()
    assert window.document.scenario.view["x"] == (-1.0, 2.0)
    wait_drawn(qtbot, window)
    assert landscape.field.xs[0] == -1.0 and abs(landscape.vb.viewRange()[0][0] + 1.0) < 1e-9
    boxes["y1"].setValue(-5.0)  # an empty range is refused
    boxes["y1"].editingFinished.emit()
    assert window.document.scenario.view["y"] == (-1.0, 3.0) and boxes["y1"].value() == 3.0
