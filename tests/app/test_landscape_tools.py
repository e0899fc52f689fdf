"""Landscape tools: gradient arrows (computed once per loss and view) and the editable view range."""

import numpy as np

from gdstudio.app.buffers import PARAMS
from gdstudio.app.presets import minima_for

from .helpers import run_to_end, type_loss, wait_drawn


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
    key = landscape.gradient.drawn_for
    window.redraw()
    assert landscape.gradient.drawn_for is key  # not recomputed per frame
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


HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"


def inside(landscape, point) -> bool:
    (x0, x1), (y0, y1) = landscape.vb.viewRange()
    field = landscape.field
    return (x0 <= point[0] <= x1 and y0 <= point[1] <= y1 and field.xs[0] <= point[0] <= field.xs[-1]
            and field.ys[0] <= point[1] <= field.ys[-1])


def test_a_typed_loss_is_framed_on_its_minima_and_the_runs_stay_in_view(qtbot, window):
    """Himmelblau typed over Rosenbrock keeps Rosenbrock's view (x -2..2, y -1..3), where three of its four
    minima are not: the landscape frames them, and the runs (which end at (-2.81, 3.13)) stay in sight."""
    type_loss(qtbot, window, HIMMELBLAU)
    landscape = window.landscape
    assert window.document.scenario.view == {"x": (-2.0, 2.0), "y": (-1.0, 3.0)}  # the scenario's view is untouched
    minima = minima_for(window.session.objective)
    assert len(minima) == 4
    for point, _ in minima:
        assert inside(landscape, (point["x"], point["y"]))
    run_to_end(qtbot, window)
    wait_drawn(qtbot, window)
    for buffer in window.session.buffers:
        assert inside(landscape, buffer.last()[PARAMS:])


def test_after_a_pan_the_view_is_kept_until_frame_runs(qtbot, window):
    type_loss(qtbot, window, "(x - 9)^2 + (y - 9)^2")  # its minimum, where the runs go, is far outside the view
    landscape = window.landscape
    landscape.vb.sigRangeChangedManually.emit([True, True])  # the person panned or zoomed
    run_to_end(qtbot, window)
    wait_drawn(qtbot, window)
    assert landscape.range_of("x") == (-2.0, 2.0)  # their view is kept
    assert not inside(landscape, window.session.buffers[0].last()[PARAMS:])
    window.menus.frame.trigger()
    wait_drawn(qtbot, window)
    assert all(inside(landscape, buffer.last()[PARAMS:]) for buffer in window.session.buffers)
    assert landscape.range_of("x")[1] in (10.0, 11.0, 12.0)  # round limits
