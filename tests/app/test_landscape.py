"""The landscape: contours once per loss, click to set a start."""

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from gdstudio.app.buffers import PARAMS

from .helpers import open_example, run_to_end, type_loss


def click_at(qtbot, landscape, x, y):
    """Send a real mouse click at data point (x, y) of the landscape."""
    scene_point = landscape.vb.mapViewToScene(QPointF(x, y))
    view_point = landscape.plot.mapFromScene(scene_point)
    qtbot.mouseClick(landscape.plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(view_point.x(), view_point.y()))


def test_rosenbrock_contours_are_log_spaced(window):
    field = window.landscape.field
    assert field is not None and field.log
    ratios = np.diff(field.levels - field.levels[0])
    assert ratios[-1] > 100 * ratios[0]
    assert np.isfinite(field.lines_x).sum() > 1000


def test_click_sets_the_selected_runs_start(qtbot, window):
    window.runs_panel.select(1)
    click_at(qtbot, window.landscape, 0.5, 1.5)
    start = window.document.scenario.runs[1].start
    assert abs(start["x"] - 0.5) < 0.03 and abs(start["y"] - 1.5) < 0.03
    assert window.document.scenario.runs[0].start == {"x": -1.5, "y": 2.0}
    assert window.runs_panel.editor._start_edits["x"].text() == f"{start['x']:g}"


def test_three_variables_show_a_slice(qtbot, window):

    type_loss(qtbot, window, "x^2 + 2*y^2 + 3*z^2")
    landscape = window.landscape
    assert landscape.x_axis.isVisible() and landscape.axes() == ("x", "y")
    assert "slice through z=" in landscape.note.text()
    landscape.y_axis.setCurrentIndex(2)
    landscape.y_axis.activated.emit(2)
    assert landscape.axes() == ("x", "z") and landscape.item.getAxis("left").labelText == "z"
    landscape.x_axis.setCurrentIndex(2)  # z on both axes would draw nothing: y takes the x it replaced
    landscape.x_axis.activated.emit(2)
    assert landscape.axes() == ("z", "x") and landscape.item.getAxis("bottom").labelText == "z"


def test_starts_are_marked_before_a_run_and_follow_a_click(qtbot, window):
    def planned():
        xs, ys = window.landscape.planned.getData()
        return [(round(float(x), 2), round(float(y), 2)) for x, y in zip(xs, ys)]

    assert planned() == [(-1.5, 2.0), (-1.5, 2.0)]  # the default scenario: both runs from (-1.5, 2)
    window.runs_panel.select(1)
    click_at(qtbot, window.landscape, 0.5, 1.5)
    moved = planned()[1]
    assert abs(moved[0] - 0.5) < 0.03 and abs(moved[1] - 1.5) < 0.03
    run_to_end(qtbot, window)
    assert planned() == []  # the run's own ○ markers take over
    window.session.reset()
    assert len(planned()) == len(window.document.scenario.runs)


def test_each_run_has_a_start_and_a_current_marker_in_its_colour(qtbot, window):
    """Every run's ○ and ● share two scatter items (a point each); tangents are made for a loss of one variable."""
    run_to_end(qtbot, window)
    marks, colors = window.landscape.marks, window.session.run_colors()
    assert len(marks.paths) == len(colors) >= 2 and marks.tangents == []
    for i, path in enumerate(marks.paths):
        xs, ys = path.getData()
        [start] = [p for p in marks.starts.data if p["data"] == i]
        [current] = [p for p in marks.currents.data if p["data"] == i]
        assert (start["x"], start["y"]) == (xs[0], ys[0]) and (current["x"], current["y"]) == (xs[-1], ys[-1])
        assert start["pen"].color().name() == current["brush"].color().name() == colors[i]
    type_loss(qtbot, window, "(x - 1)^2")
    run_to_end(qtbot, window)
    assert len(marks.tangents) == len(marks.paths) and all(len(t.getData()[0]) == 2 for t in marks.tangents)


def test_many_or_long_paths_are_drawn_as_hairlines():
    from gdstudio.app.plots.tracks import THICK_RUNS, THICK_UP_TO, line_width

    assert line_width(THICK_UP_TO, THICK_RUNS) == 2  # a few short paths stand out
    assert line_width(THICK_UP_TO + 1, 1) == 1  # a long one is stroked 8x faster as a hairline
    assert line_width(100, THICK_RUNS + 1) == 1  # and so are many (twenty runs' paths cost ~100 ms a frame at 2 px)


def test_the_slice_shows_where_the_selected_run_ended(qtbot, window):
    """While runs go the slice of a loss of three variables follows the selected run at most once a second; when they
    have ended it moves at once, or it stayed where the run was up to a second before its end."""
    import time

    type_loss(qtbot, window, "x^2 + y^2 + (z^2 - 0.5)^2")
    window.runs_panel.select(0)
    window.document.update_run(0, start={"x": 0.5, "y": 0.5, "z": 0.3})
    run_to_end(qtbot, window)
    landscape = window.landscape
    landscape._slice_at, landscape._slice_time = None, time.monotonic()  # (as if it had just moved, a step before the end)
    window.redraw()
    z = float(window.session.buffers[0].last()[PARAMS + 2])
    assert abs(landscape.slice_point()["z"] - z) < 1e-12 and abs(z - 0.5 ** 0.5) < 1e-3


def test_the_selected_runs_path_and_loss_curve_are_drawn_over_the_others(qtbot, window):
    """Two runs that take the same way: the one selected in the runs table is the one seen, on both plots."""
    from dataclasses import replace

    from gdstudio.app.document import Change
    from gdstudio.core.scenario import StopRules

    scenario = window.document.scenario
    twin = replace(scenario.runs[0], label="twin")
    window.document.update(Change.RUNS, runs=(scenario.runs[0], twin))
    window.document.update(Change.STOP, stop=StopRules(max_steps=400))
    run_to_end(qtbot, window)
    colors = [QColor(c) for c in window.session.run_colors()]

    def seen(plot) -> list[int]:
        """Pixels of each run's colour in the plot as it is painted."""
        image = plot.grab().toImage()
        counts = [0, 0]
        for y in range(0, image.height(), 2):
            for x in range(0, image.width(), 2):
                pixel = image.pixelColor(x, y)
                for k, color in enumerate(colors):
                    if abs(pixel.red() - color.red()) + abs(pixel.green() - color.green()) + abs(pixel.blue() - color.blue()) < 40:
                        counts[k] += 1
        return counts

    for selected in (1, 0):
        window.runs_panel.select(selected)
        assert window.session.selection == selected
        for plot in (window.landscape.plot, window.loss_curve.plot):
            counts = seen(plot)
            assert counts[selected] > 3 * counts[1 - selected] + 10, (plot.objectName(), selected, counts)
        marks = window.landscape.marks  # (its start and current point, on the same spots as the twin's, over them)
        assert marks.starts.data[-1]["data"] == marks.currents.data[-1]["data"] == selected


def test_markers_render_their_symbols_once_however_often_a_scenario_is_shown(qtbot, window):
    """A scatter plot renders a symbol per pen and brush *object* (pyqtgraph's atlas): markers made with new pens for
    the same look re-rendered their symbols and grew the atlas with every lesson opened or run restarted."""
    landscape = window.landscape
    atlases = (landscape.planned, landscape.marks.starts, landscape.marks.currents)

    def round_trip() -> list[int]:
        for prefix in ("05", "04"):
            open_example(qtbot, window, prefix)
        run_to_end(qtbot, window)
        window.session.reset()
        return [len(item.fragmentAtlas) for item in atlases]

    first = round_trip()
    assert all(first)
    assert round_trip() == round_trip() == first


def test_a_new_fields_pictures_are_made_in_a_turn_of_their_own_before_the_paint(qtbot, window):
    """The axes' tick pictures, the shade's image and the contours' path (pyqtgraph makes them in the paint, the
    heaviest turn of a lesson opened) are made after the field's own turn (~5 ms; together they made a 10 ms turn)
    and before the plot's paint, which waits for them."""
    from PySide6.QtCore import QEvent, QObject

    landscape, arrived, painted = window.landscape, [], []

    def on_field(result) -> None:  # (after the landscape's own slot)
        if not arrived and result.field is not None and landscape.field is result.field:
            arrived.append(landscape.computing)  # (its pictures still to make: not drawn yet)

    class FirstPaint(QObject):
        def eventFilter(self, _watched, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and arrived and not painted:  # (seen before the plot paints)
                axes = [landscape.item.getAxis(name) for name in ("left", "bottom")]
                painted.append((all(axis.picture is not None for axis in axes), not landscape.image._renderRequired,
                                landscape.lines.curve.path is not None))
            return False

    spy = FirstPaint()
    landscape.plot.viewport().installEventFilter(spy)
    landscape.fields.ready.connect(on_field)
    type_loss(qtbot, window, "(x - 1)^2 + 3*(y + 2)^2")
    qtbot.waitUntil(lambda: not landscape.computing and bool(painted))
    landscape.plot.viewport().removeEventFilter(spy)
    assert arrived == [True] and painted == [(True, True, True)]


def test_axis_labels_follow_the_loss_and_are_laid_out_only_when_they_change(qtbot, window, monkeypatch):
    item, set_labels = window.landscape.item, []
    original = item.setLabel
    monkeypatch.setattr(item, "setLabel", lambda name, text: (set_labels.append((name, text)), original(name, text)))
    type_loss(qtbot, window, "(x - 2)^2 + y^2")  # (the same axes: nothing to lay out again)
    assert set_labels == []
    type_loss(qtbot, window, "(w - 2)^2")
    assert [item.getAxis(name).labelText for name in ("bottom", "left")] == ["w", "loss"]
    type_loss(qtbot, window, "x^2 + (y - 1)^2")
    assert [item.getAxis(name).labelText for name in ("bottom", "left")] == ["x", "y"]
    assert len(set_labels) == 4
