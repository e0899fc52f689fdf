"""What one frame of running costs the GUI thread: each plot paints once per new range, and rows arrive about once
a frame however fast the worker makes them."""

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer

from gdstudio.app.buffers import LOSS, PARAMS, RunBuffer
from gdstudio.app.plots.loss_curve import LossCurve
from gdstudio.app.worker import DELIVERY_SPACING_S

from .helpers import HANG, open_file, run_to_end, run_unending, until_quiet, wait_drawn


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, _watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def until_painted(qtbot, counter: PaintCounter) -> None:
    """Until no paint is pending any more."""
    until_quiet(qtbot, lambda: counter.paints)


def grow(buffers: list[RunBuffer], rows: int, start: int) -> None:
    for i, buffer in enumerate(buffers):
        block = np.ones((rows, PARAMS + len(buffer.variables)))
        block[:, LOSS] = (i + 1) / (1.0 + start + np.arange(rows))
        buffer.extend(block)


def steady_loss(buffers: list[RunBuffer], rows: int) -> None:
    """`rows` more rows of each run, at a loss that stays within one quarter decade (1.5-1.7)."""
    for i, buffer in enumerate(buffers):
        block = np.ones((rows, PARAMS + len(buffer.variables)))
        block[:, LOSS] = 1.5 + 0.01 * i
        buffer.extend(block)


def shown_curve(qtbot, runs: int = 20) -> tuple[LossCurve, list[RunBuffer]]:
    curve = LossCurve()
    qtbot.addWidget(curve)
    curve.resize(600, 300)
    curve.show()
    qtbot.waitExposed(curve)
    buffers = [RunBuffer(f"run {i}", ("x", "y")) for i in range(runs)]
    curve.set_runs(buffers, [pg.intColor(i).name() for i in range(runs)])
    return curve, buffers


def test_a_frame_that_moves_the_loss_curves_range_paints_it_once(qtbot):
    """pyqtgraph found the new range while painting and painted again (its transform applied late, and curves clipped
    to the old view); twenty runs' curves cost two paints a frame."""
    curve, buffers = shown_curve(qtbot)
    for _ in range(2):  # (the first frames lay out the legend and the axes' widths)
        steady_loss(buffers, 500)
        curve.refresh()
        qtbot.wait(100)
    counter = PaintCounter()
    viewport = curve.plot.viewport()
    viewport.installEventFilter(counter)
    frames, ranges = 6, set()
    for frame in range(frames):
        steady_loss(buffers, len(buffers[0]) // 2)  # (half as many steps again: past the range's next step)
        curve.refresh()
        ranges.add(tuple(curve.item.vb.viewRange()[0]))
        qtbot.waitUntil(lambda f=frame: counter.paints > f, timeout=5000)
        for _ in range(5):  # (a second paint, when there is one, is posted by the first)
            qtbot.wait(1)
    assert len(ranges) == frames  # every frame moved the range
    assert counter.paints == frames


def test_the_loss_curves_range_holds_still_while_they_grow_within_it(qtbot):
    """Followed exactly, the range moved at every frame, and each move laid both axes and the grid out again (~5 of the
    ~9 ms of twenty curves' paint): now it moves only when a curve leaves it, and always holds them all."""
    curve, buffers = shown_curve(qtbot)
    steady_loss(buffers, 1000)
    curve.refresh()
    qtbot.wait(50)
    view, ranges = curve.item.vb, set()
    for _ in range(10):
        steady_loss(buffers, 10)
        curve.refresh()
        ranges.add(tuple(map(tuple, view.viewRange())))
        (x_low, x_high), (y_low, y_high) = view.viewRange()
        for item in curve.curves:
            xs, ys = item.getData()  # (as drawn: log10 of the loss)
            assert x_low <= xs.min() and xs.max() <= x_high and y_low <= ys.min() and ys.max() <= y_high
    assert len(ranges) == 1
    steady_loss(buffers, 2000)  # past it: the range follows
    curve.refresh()
    assert view.viewRange()[0][1] >= len(buffers[0]) - 1 > max(r[0][1] for r in ranges)


def test_followed_curves_are_not_clipped_again_at_each_new_range(qtbot):
    curve = LossCurve()
    qtbot.addWidget(curve)
    buffers = [RunBuffer("a", ("x",))]
    curve.set_runs(buffers, ["#1f77b4"])
    grow(buffers, 100, 0)
    curve.refresh()
    assert curve.curves[0].opts["dynamicRangeLimit"] is None  # the view follows every value: nothing to clip
    curve.item.vb.setYRange(0, 1)  # the person zooms: far values are clipped for the painter again
    assert curve.curves[0].opts["dynamicRangeLimit"] == 1e6


def test_rows_are_delivered_about_once_a_frame_at_full_speed(qtbot, window):
    deliveries: list[float] = []
    window.session.controller.chunks.connect(lambda _chunks: deliveries.append(time.monotonic()))
    run_unending(window)
    qtbot.waitUntil(lambda: len(deliveries) >= 30, timeout=20000)
    window.menus.reset.trigger()
    spacing = np.diff(deliveries[5:])  # (past the first steps, which a first start makes in Python)
    assert np.median(spacing) >= DELIVERY_SPACING_S * 0.9  # (each is measured as it arrives, some later than others)


def test_the_grid_is_drawn_in_the_view_at_the_axes_ticks_not_by_the_axes(qtbot):
    """pyqtgraph's axes draw their grid inside the axis item, which then repaints across the whole plot (~14 ms an axis,
    at every new range); the view draws it instead, line for line where the ticks are."""
    from gdstudio.app.plots.style import TickGrid, themed_plot

    plot = themed_plot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    qtbot.waitExposed(plot)
    item = plot.getPlotItem()
    item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    assert all(item.getAxis(name).grid is False for name in ("left", "bottom"))
    assert any(isinstance(child, TickGrid) for child in item.items)
    qtbot.waitUntil(lambda: item.getAxis("bottom").range == [0, 1])
    image = plot.grab().toImage()

    def pixel(x: float, y: float, dx: int = 0):
        point = plot.mapFromScene(item.vb.mapViewToScene(pg.Point(x, y)))
        return image.pixelColor(point.x() + dx, point.y()).lightness()

    assert pixel(0.5, 0.3) != pixel(0.5, 0.3, 6)  # a vertical line at the tick 0.5, none beside it
    assert pixel(0.37, 0.5) != pixel(0.37, 0.53)  # a horizontal one at 0.5


def test_faint_lines_are_drawn_opaque_and_faded_as_a_whole(qtbot):
    """Qt draws a translucent line ~30x slower than an opaque one (15 ms for a hundred): the grid is drawn in the
    opaque colour a faint line has over the background, and the landscape's contours opaque, faded as one picture."""
    from gdstudio.app.plots.landscape import Landscape
    from gdstudio.app.plots.style import TickGrid, themed_plot

    plot = themed_plot()
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    plot.show()
    qtbot.waitExposed(plot)
    plot.grab()
    grid = next(child for child in plot.getPlotItem().items if isinstance(child, TickGrid))
    assert grid._lines and all(pen.color().alpha() == 255 for pen, _lines in grid._lines)
    landscape = Landscape()
    qtbot.addWidget(landscape)
    for item in (landscape.lines, landscape.arrows):
        assert item.opts["pen"].color().alpha() == 255 and 0 < item.opacity() < 1


def test_many_runs_are_named_in_one_line_above_the_loss_curve(qtbot):
    """A legend of twenty entries took ~110 ms to make as the runs started, and covered the curves."""
    from gdstudio.app.plots.loss_curve import LEGEND_RUNS

    curve = LossCurve()
    qtbot.addWidget(curve)
    curve.show()
    few = [RunBuffer(f"run {i}", ("x",)) for i in range(2)]
    curve.set_runs(few, ["#1f77b4", "#ff7f0e"])
    assert [label.text for _sample, label in curve.item.legend.items] == ["run 0", "run 1"] and curve.key.isHidden()
    many = [RunBuffer(f"run {i}", ("x",)) for i in range(LEGEND_RUNS + 12)]
    curve.set_runs(many, [pg.intColor(i).name() for i in range(len(many))])
    assert curve.item.legend.items == [] and curve.key.isVisible()
    text = curve.key.text()
    assert all(f"run {i}" in text and pg.intColor(i).name() in text for i in range(len(many)))


def test_an_optimizers_fields_are_made_once_and_shown_again(qtbot):
    """New fields' first layout, polish and paint took 60-130 ms at every change of optimizer or of the run selected."""
    from gdstudio.app.panels.param_form import ParamForm
    from gdstudio.core.optimizers import OPTIMIZERS

    form = ParamForm()
    qtbot.addWidget(form)
    form.show()
    form.set_params(OPTIMIZERS["adam"].params, {"lr": 0.02})
    adam_lr = form.field("lr")
    form.set_params(OPTIMIZERS["sgd"].params, {"momentum": 0.9})
    assert form.field("lr") is not adam_lr and not adam_lr.isVisible() and form.values() == {"momentum": 0.9}
    form.set_params(OPTIMIZERS["adam"].params, {"lr": 0.05})
    assert form.field("lr") is adam_lr and adam_lr.isVisible() and form.values() == {"lr": 0.05}


def test_the_sweep_dialog_is_made_in_an_idle_moment_before_it_is_asked_for(qtbot, window):
    """Made in the turn that opened it, with the engine's threads busy beside it, it stalled the window up to 200 ms."""
    qtbot.waitUntil(lambda: window.insight.sweep_dialog is not None, timeout=HANG * 1000)
    made = window.insight.sweep_dialog
    assert not made.isVisible()
    assert window.insight.show_sweeps() is made and made.isVisible()


def test_a_new_range_sets_no_axis_label_again(qtbot):
    """pyqtgraph's hidden top and right axes, linked to the view, set their label's HTML again (a new text layout) at
    every new range to follow an SI prefix: every frame of a plot that follows growing runs."""
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QApplication

    from gdstudio.app.plots.style import themed_plot

    class LabelsLaidOut(QObject):
        count = 0

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.ChildAdded and isinstance(watched, QTextDocument):
                self.count += 1
            return False

    plot = themed_plot()
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitExposed(plot)
    laid_out = LabelsLaidOut()
    QApplication.instance().installEventFilter(laid_out)
    try:
        for k in range(1, 6):
            plot.getPlotItem().vb.setRange(xRange=(0, 10.0 ** (3 * k)), yRange=(0, 10.0 ** (2 * k)), padding=0)
    finally:
        QApplication.instance().removeEventFilter(laid_out)
    assert laid_out.count == 0


def test_the_first_rows_come_a_frame_after_the_runs_start(qtbot, window):
    """When the runs start the views make their items (twenty paths, curves, table rows) and the window lays itself
    out anew; the first rows, taken in the same pass of the event loop, made it one gap of up to 270 ms with twenty
    runs. A zero timer started as the runs start marks the next pass: the rows come after it."""
    controller = window.session.controller
    seen: list[str] = []

    def started(_runs) -> None:  # (after the views' slots) rows wait before this turn ends, as with a warm kernel
        deadline = time.monotonic() + HANG
        while not controller._worker._outbox and time.monotonic() < deadline:
            time.sleep(0.001)
        seen.append("started")
        QTimer.singleShot(0, lambda: seen.append("next pass"))

    controller.started.connect(started)
    controller.chunks.connect(lambda _chunks: seen.append("rows"))
    run_unending(window)
    qtbot.waitUntil(lambda: "rows" in seen and "next pass" in seen, timeout=HANG * 1000)
    window.menus.reset.trigger()
    assert seen[:3] == ["started", "next pass", "rows"]


def test_no_delivery_is_left_due_when_the_runs_stop(qtbot, window):
    """Rows are taken on a timer (`_due`). One left running when the runs were stopped fired after the next Run's
    worker had made rows but before its start was handled, and handed rows to runs that did not exist yet
    (IndexError in the session; seen once in a hundred quick restarts)."""
    controller = window.session.controller
    delivered: list[int] = []
    controller.chunks.connect(lambda chunks: delivered.append(len(chunks)))
    run_unending(window)
    qtbot.waitUntil(lambda: len(delivered) >= 2, timeout=HANG * 1000)
    controller._due.start(60_000)  # (as when rows have just arrived: their delivery is due)
    window.session.stop_runs()
    assert not controller._due.isActive()


def test_a_frame_paints_a_plot_in_a_later_turn_than_the_one_that_fed_it(qtbot, window):
    """Feeding twenty runs' new rows to a plot (5-9 ms) and painting them (8-9 ms) were one turn of the event loop, as
    a paint asked for is done before the loop looks at its timers again: each is now a turn of its own."""
    run_unending(window)
    qtbot.waitUntil(lambda: bool(window.session.buffers) and len(window.session.buffers[0]) > 10, timeout=10000)
    window.session.stop_runs()  # (nothing else moves: the frame below is the only change)
    qtbot.waitUntil(lambda: not window.session.controller.active, timeout=10000)
    window.timer.stop()  # (frames by hand)
    window.landscape.refresh()  # (runs that left the view grow it once they end: then, not in the frame below, whose
    wait_drawn(qtbot, window)   # paint would wait for that new field; flaky under load)
    viewport = window.landscape.plot.viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    turn = window.landscape.hold._next_turn  # (the deferral's own zero timer: a test's zero timer, started after it,
    ends: list[int] = []                     # fired at times in a later pass than it under load, after the paint)
    turn.timeout.connect(lambda: ends.append(counter.paints))
    frames = []
    for _ in range(3):  # (under load, ~1 frame in 20 had a paint from the event loop before its deferral's timer, its
        until_painted(qtbot, counter)  # plot's updates held: one frame in three painted after it is the rule kept)
        window.landscape.marks.redraw()  # (every path fed again by the frame below)
        counter.paints, ends[:] = 0, []
        window._frame = 0  # (the next frame is the contour view's)
        window.redraw(everything=False)
        if viewport.updatesEnabled():  # (not held: no later turn to wait for)
            frames.append((False, []))
            break
        qtbot.waitUntil(lambda: counter.paints > 0, timeout=5000)
        frames.append((True, list(ends)))
        if ends == [0]:
            break
    viewport.removeEventFilter(counter)
    window.session.reset()
    assert frames[-1] == (True, [0]), frames


def open_runs(qtbot, win, folder, n: int) -> None:
    """A scenario of `n` short runs of gradient descent on Rosenbrock's loss, opened and shown."""
    from gdstudio.core import scenario as sc

    runs = tuple(sc.RunSpec(f"run {i}", hyper={"lr": 0.001}, start={"x": -1.0 + 0.1 * i, "y": 1.0}) for i in range(n))
    path = folder / "runs.json"
    sc.save(sc.Scenario(loss="(1 - x)^2 + 100*(y - x^2)^2", runs=runs, stop=sc.StopRules(max_steps=50)), path)
    assert open_file(qtbot, win, path)
    wait_drawn(qtbot, win)


def test_a_scenarios_runs_have_their_items_made_before_run(qtbot, window, tmp_path):
    """The first Run of twenty runs made their forty paths and curves, the curves' key and the markers in the turn
    that started them (60-100 ms): the scenario's runs' items are made in a turn of their own once it is shown."""
    open_runs(qtbot, window, tmp_path, 20)
    loss, marks = window.loss_curve, window.landscape.marks
    curves, paths = list(loss.curves), list(marks.paths)
    assert len(curves) == len(paths) == 20
    assert not loss.key.isVisible() and not any(len(c.getData()[0]) for c in curves)  # (unnamed, empty)
    run_to_end(qtbot, window)
    assert loss.curves == curves and marks.paths == paths  # (the same items: none made as the runs started)
    assert loss.key.isVisible() and all(len(c.getData()[0]) for c in curves)


def test_a_frame_feeds_the_loss_curves_in_halves_and_paints_them_after_the_second(qtbot):
    """Twenty runs' new rows, decimated and handed to pyqtgraph, took 9-15 ms of one turn at full speed: each half is a
    turn of its own (between the contour view's), and nothing is painted until the frame is whole."""
    curve, buffers = shown_curve(qtbot, runs=4)
    steady_loss(buffers, 100)
    curve.refresh()
    counter = PaintCounter()
    curve.plot.viewport().installEventFilter(counter)
    until_painted(qtbot, counter)
    counter.paints = 0
    steady_loss(buffers, 100)
    curve.refresh(part=(0, 2))
    assert [len(c.getData()[0]) for c in curve.curves][::2] != [len(c.getData()[0]) for c in curve.curves][1::2]
    until_painted(qtbot, counter)
    assert counter.paints == 0  # (half a frame is not shown)
    curve.refresh(part=(1, 2))
    assert len({len(c.getData()[0]) for c in curve.curves}) == 1
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=5000)


def test_zoomed_out_after_the_curves_grew_the_view_holds_them_all(qtbot):
    """Zoomed in, the curves are drawn in detail and their bounds are not followed: back to the automatic range (the
    runs finished meanwhile, so no frame comes), it holds what they grew meanwhile."""
    curve, buffers = shown_curve(qtbot, runs=2)
    steady_loss(buffers, 1000)
    curve.refresh()
    curve.item.vb.setXRange(100, 200)
    steady_loss(buffers, 9000)
    curve.refresh()  # (zoomed in: the visible slice in detail)
    curve.item.vb.enableAutoRange()
    assert curve.item.vb.viewRange()[0][1] >= len(buffers[0]) - 1


def test_many_runs_paths_are_extended_half_of_them_a_frame(qtbot, window, tmp_path):
    """Twenty runs' paths at full speed took 5-11 ms of the contour view's turn: from eight runs on, a frame extends half
    of them, the next frame the other half (a few runs' paths are all extended at every frame)."""
    for n, halves in ((10, ([0, 2, 4, 6, 8], [1, 3, 5, 7, 9])), (3, ([0, 1, 2], [0, 1, 2]))):
        open_runs(qtbot, window, tmp_path, n)
        run_to_end(qtbot, window)
        marks, fed = window.landscape.marks, []
        for i, path in enumerate(marks.paths):
            path.setData = lambda *_args, i=i, **_kwargs: fed.append(i)
        for k, half in enumerate(halves):
            marks.retrace()  # (every path traced again from its first row)
            fed.clear()
            window.landscape.refresh(part=(k, 2))
            assert fed == half
        window.session.reset()


def test_every_loss_curve_is_drawn_as_thick_as_the_others(qtbot):
    """Each curve's weight followed its own drawn points: a run of 5,000 steps, decimated to 2,500 points, was drawn
    2 px wide beside a run of 3,599 steps drawn 1 px (3,598 points), the selected one, which looked faded."""
    curve, buffers = shown_curve(qtbot, runs=2)
    for buffer, rows in zip(buffers, (3599, 5000)):
        block = np.ones((rows, PARAMS + len(buffer.variables)))
        block[:, LOSS] = 1.0 / (1.0 + np.arange(rows))
        buffer.extend(block)
    curve.refresh()
    assert len({c.opts["pen"].width() for c in curve.curves}) == 1


def test_runs_shown_queue_no_preparation_of_their_items_and_a_reset_does(qtbot, window):
    """A live drag shows new runs at every frame: preparing their items has nothing to do then, and took a turn each."""
    run_to_end(qtbot, window)
    qtbot.waitUntil(lambda: not window.session.stagger.pending())
    window.session.buffers_changed.emit(window.session.buffers)  # (as a drag's frame does)
    assert window._prepare_runs not in window.session.stagger._due
    window.session.reset()
    assert window._prepare_runs in window.session.stagger._due


def test_the_room_for_tick_labels_grows_and_never_shrinks(qtbot):
    """Narrower labels (a new lesson's range, a zoom) shrank the axis, which resized the view and every item's cached
    picture, and painted the plot twice: 18 such layouts in 13 lessons opened in a row."""
    from gdstudio.app.plots.style import themed_plot

    plot = themed_plot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    qtbot.waitExposed(plot)
    item, axis = plot.getPlotItem(), plot.getPlotItem().getAxis("left")

    def width_at(low: float, high: float) -> float:
        item.setRange(yRange=(low, high), padding=0)
        plot.grab()  # (the labels are measured as they are drawn)
        qtbot.wait(10)
        plot.grab()
        return axis.width()

    narrow = width_at(0, 1)
    wide = width_at(-123456, 654321)
    assert wide > narrow
    assert width_at(0, 1) == wide
