"""Data in the studio: import a CSV, generate points, batch/SGD/mini-batch runs and their fits drawn live."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt

from gdstudio.app.document import PALETTE, default_scenario
from gdstudio.core import scenario as sc
from gdstudio.core.data import generate
from gdstudio.core.runner import run_scenario
from gdstudio.core.trajectory import BATCH_LOSS, LOSS, PARAMS

from .helpers import run_to_end, type_loss, wait_drawn

LINE = """{
  "format": "gdstudio-scenario", "version": 1, "name": "Fit a line",
  "loss": "mean((w*x + b - y)^2)",
  "view": {"w": [-1, 4], "b": [-3, 4]},
  "data": {"generate": {"kind": "noisy_line", "n": 200, "seed": 3}, "model": "w*x + b", "target": "y"},
  "runs": [
    {"label": "batch", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0, "b": 0}},
    {"label": "SGD", "optimizer": {"name": "gd", "lr": 0.005}, "start": {"w": 0, "b": 0}, "batch_size": 1, "seed": 1},
    {"label": "mini-batch", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0, "b": 0}, "batch_size": 16, "seed": 2},
    {"label": "scaled", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"w": 0, "b": 0}, "scale": {"x": "standard"}}
  ],
  "stop": {"max_steps": 300, "grad_tol": 1e-8, "loss_tol": null, "divergence": 1e12}
}"""


def wait_checked(qtbot, win, text_part: str) -> None:
    qtbot.waitUntil(lambda: not win.editor.busy and text_part in win.editor.verdict.text(), timeout=15000)


def followed(qtbot, win) -> None:
    """Until the views that follow a change in turns of their own (the data view among them: stagger.py) have."""
    qtbot.waitUntil(lambda: not win.session.stagger.pending(), timeout=15000)


def open_scenario(qtbot, win, text: str) -> None:
    scenario = sc.loads(text)
    win.document.reset(scenario)
    qtbot.waitUntil(lambda: win.session.objective is not None and win.session.objective.text == scenario.loss
                    and win.session.objective.columns == scenario.data.dataset.columns, timeout=15000)
    followed(qtbot, win)


def test_import_csv_shows_points_columns_and_a_fitting_loss(qtbot, window, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n0,1\n1,3.1\n2,4.9\n3,7.2\n")
    actions = window.data_actions
    assert not actions.dock.isVisibleTo(window) and not actions.remove_action.isEnabled()
    assert actions.import_csv(str(csv))
    data = window.document.scenario.data
    assert data.dataset.columns == ("x", "y") and data.dataset.rows == 4
    assert data.source["columns"] == {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.1, 4.9, 7.2]}  # no file yet: inline
    assert (data.model, data.target) == ("w*x + b", "y")
    assert window.document.scenario.loss == "mean((w*x + b - y)^2)"  # the Rosenbrock loss cannot use x, y as data
    assert window.statusBar().currentMessage().endswith("so it is now mean((w*x + b - y)^2)")
    assert actions.remove_action.isEnabled() and not actions.dock.isVisibleTo(window)  # (shown in a turn of its own)
    followed(qtbot, window)
    assert actions.dock.isVisibleTo(window)
    xs, ys = actions.view.scatter.getData()
    assert np.array_equal(xs, [0, 1, 2, 3]) and np.array_equal(ys, [1, 3.1, 4.9, 7.2])
    assert "4 rows · columns x, y" in actions.view.note.text()
    wait_checked(qtbot, window, "data columns")
    assert window.editor.verdict.text() == "✔ data columns: x, y · parameters: b, w"
    assert window.session.objective.columns == ("x", "y") and window.session.objective.variables == ("b", "w")
    # with a scenario file, the data is kept as a CSV path relative to it, and the file round-trips
    path = tmp_path / "fit.json"
    window.files._write(path)
    assert actions.import_csv(str(csv))
    assert window.document.scenario.data.source["csv"] == "points.csv"
    window.files._write(path)
    assert sc.load(path).data.dataset == data.dataset


def test_bad_csv_names_file_row_and_column_and_keeps_the_document(qtbot, window, tmp_path):
    before = window.document.scenario
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,abc\n")
    assert not window.data_actions.import_csv(str(bad))
    box = window.message_box
    assert box is not None and box.isVisible()
    assert str(bad) in box.text() and "row 3, column 2: not a number" in box.text()
    assert window.document.scenario is before and not window.isWindowModified()
    box.close()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert not window.data_actions.import_csv(str(empty))
    assert "the file is empty" in window.message_box.text()
    assert window.document.scenario is before


def test_loss_curve_shows_each_runs_batch_loss(qtbot, window):
    open_scenario(qtbot, window, LINE)
    wait_checked(qtbot, window, "data columns: x, y · parameters: b, w")
    run_to_end(qtbot, window)
    curve = window.loss_curve
    index = curve.quantity.findText("batch loss")
    assert index >= 0
    curve.quantity.setCurrentIndex(index)
    assert curve.item.getAxis("left").labelText == "batch loss"
    for log in (True, False):
        curve.log.setChecked(log)
        curve.refresh()
        for buffer, item in zip(window.session.buffers, curve.curves):
            xs, ys = item.getOriginalDataset()
            assert np.array_equal(xs, buffer.steps) and np.array_equal(ys, buffer.rows[:, BATCH_LOSS]), buffer.label
    batch, sgd = window.session.buffers[0], window.session.buffers[1]
    assert np.array_equal(batch.rows[:, BATCH_LOSS], batch.rows[:, LOSS])  # full batch: the loss itself
    noisy = sgd.rows[:-1, BATCH_LOSS] != sgd.rows[:-1, LOSS]
    assert noisy.all()  # SGD: one row's loss, not the data set's
    assert np.array_equal(sgd.rows[:, BATCH_LOSS], run_scenario(window.document.scenario)[1].trajectory.batch_loss)
    curve.quantity.setCurrentIndex(curve.quantity.findText("loss"))
    xs, ys = curve.curves[1].getOriginalDataset()
    assert np.array_equal(ys, sgd.rows[:, LOSS])


def test_batch_sgd_minibatch_and_scaled_runs_draw_their_fits(qtbot, window):
    open_scenario(qtbot, window, LINE)
    wait_checked(qtbot, window, "data columns: x, y · parameters: b, w")
    run_to_end(qtbot, window)
    scenario = window.document.scenario
    headless = run_scenario(scenario)
    view = window.data_actions.view
    dataset = scenario.data.dataset
    x = dataset.column("x")
    assert len(view.curves) == 4
    for i, (buffer, run, curve) in enumerate(zip(window.session.buffers, headless, view.curves)):
        assert np.array_equal(buffer.rows, run.trajectory.rows)  # the GUI's runs are the engine's, bit for bit
        gx, gy = curve.getData()
        assert gx is not None and len(gx) == 200 and np.isfinite(gy).all()
        assert gx[0] < x.min() and gx[-1] > x.max()  # the curve spans the points
        b, w = run.trajectory.rows[-1][PARAMS:]
        grid_x = gx
        if scenario.runs[i].scale:  # parameters in standardised units, drawn against the original x
            grid_x = (gx - x.mean()) / x.std()
        assert gy[-1] == pytest.approx(w * grid_x[-1] + b, rel=1e-12)
    slopes = [float(np.polyfit(c.getData()[0], c.getData()[1], 1)[0]) for c in view.curves]
    assert all(1.8 < s < 2.2 for s in slopes)  # every run found the line y ≈ 2x + 1
    assert "mini-batch" in [view.item.legend.items[i][1].text for i in range(len(view.item.legend.items))]


def test_a_scaled_runs_statistics_are_taken_once_per_data_set_not_every_frame(qtbot, window, monkeypatch):
    """Over a million rows they took ~6 ms on the GUI thread, for every frame of every scaled run."""
    from gdstudio.app.panels import data_view

    taken = []
    monkeypatch.setattr(data_view, "scaler", lambda dataset, how: taken.append(dict(how)) or data_view.scaling(
        dataset, how))
    open_scenario(qtbot, window, LINE)
    wait_checked(qtbot, window, "data columns: x, y")
    run_to_end(qtbot, window)
    view = window.data_actions.view
    assert view._drawn.count(None) == 0 and len(view.curves) == 4  # every run's model drawn, frame after frame
    assert sorted(map(str, taken)) == ["{'x': 'standard'}", "{}"]  # once each way of scaling, for all those frames
    window.data_actions.generate({"kind": "noisy_line", "n": 50, "seed": 9})  # new rows: their own statistics
    qtbot.waitUntil(lambda: len(taken) == 4, timeout=15000)
    assert sorted(map(str, taken[2:])) == ["{'x': 'standard'}", "{}"]


def test_two_blobs_draw_a_decision_boundary(qtbot, window):
    assert window.data_actions.generate({"kind": "two_blobs", "n": 200, "spread": 1.0, "seed": 0})
    scenario = window.document.scenario
    assert scenario.data.target == "label" and scenario.data.model == "sigmoid(w1*x1 + w2*x2 + b)"
    assert scenario.loss.startswith("mean(softplus(")
    qtbot.waitUntil(lambda: window.session.objective is not None and window.session.objective.columns == ("x1", "x2", "label"), timeout=15000)
    window.document.update("stop", stop=sc.StopRules(max_steps=200))
    run_to_end(qtbot, window)
    followed(qtbot, window)
    view = window.data_actions.view
    assert view.layout_.mode == "boundary"
    assert len(set(view.scatter.colors())) == 2  # the two classes in two colours
    for buffer, curve in zip(window.session.buffers, view.curves):
        bx, by = curve.getData()
        assert bx is not None and np.isfinite(bx).sum() > 10
        b, w1, w2 = buffer.last()[PARAMS:]
        ok = np.isfinite(bx)
        z = w1 * bx[ok] + w2 * by[ok] + b
        assert np.abs(1 / (1 + np.exp(-z)) - 0.5).max() < 1e-4  # on the line where the model is 0.5 (up to the grid)


def test_run_editor_batch_size_replacement_and_scaling(qtbot, window):
    open_scenario(qtbot, window, LINE)
    panel = window.runs_panel
    panel.select(0)
    editor = panel.editor
    assert editor.data_box.isVisibleTo(panel) and sorted(editor._scale_boxes) == ["x", "y"]
    assert editor.batch_kind.currentData() == "full" and not editor.batch_size.isEnabled()

    editor.batch_kind.setCurrentIndex(editor.batch_kind.findData("mini"))
    editor.batch_kind.activated.emit(editor.batch_kind.currentIndex())
    editor.batch_size.setFocus()
    editor.batch_size.selectAll()
    qtbot.keyClicks(editor.batch_size, "8")
    qtbot.keyClick(editor.batch_size, Qt.Key.Key_Return)
    assert window.document.scenario.runs[0].batch_size == 8
    # on the box itself (the check box spans the row; only its box and text take clicks)
    qtbot.mouseClick(editor.replacement, Qt.MouseButton.LeftButton, pos=QPoint(8, editor.replacement.height() // 2))
    assert window.document.scenario.runs[0].replacement is True

    editor.batch_kind.setCurrentIndex(editor.batch_kind.findData("sgd"))
    editor.batch_kind.activated.emit(editor.batch_kind.currentIndex())
    assert window.document.scenario.runs[0].batch_size == 1

    box = editor._scale_boxes["x"]
    box.setCurrentIndex(box.findData("minmax"))
    box.activated.emit(box.currentIndex())
    spec = window.document.scenario.runs[0]
    assert dict(spec.scale) == {"x": "minmax"} and spec.batch_size == 1
    editor.batch_kind.setCurrentIndex(editor.batch_kind.findData("full"))
    editor.batch_kind.activated.emit(editor.batch_kind.currentIndex())
    spec = window.document.scenario.runs[0]
    assert spec.batch_size is None and spec.replacement is False
    sc.loads(sc.dumps(window.document.scenario))  # what the editor wrote is a valid scenario


def test_data_a_loss_uses_is_kept_and_other_data_is_removed(qtbot, window):
    open_scenario(qtbot, window, LINE)
    before = window.document.scenario
    assert not window.data_actions.remove()  # without data, mean((w*x + b - y)^2) would mean nothing
    assert window.document.scenario == before and "uses the data's columns (x, y)" in window.message_box.text()
    type_loss(qtbot, window, "(w - 1)^2 + b^2")
    qtbot.waitUntil(lambda: window.document.scenario.loss == "(w - 1)^2 + b^2")
    assert window.data_actions.remove()
    scenario = window.document.scenario
    assert scenario.data is None and all(r.batch_size is None and not r.scale for r in scenario.runs)
    followed(qtbot, window)
    assert not window.data_actions.dock.isVisibleTo(window)
    sc.loads(sc.dumps(scenario))  # still a file that loads


def test_importing_other_columns_never_turns_a_data_column_into_a_parameter(qtbot, window, tmp_path):
    open_scenario(qtbot, window, LINE)  # mean((w*x + b - y)^2) over x, y
    csv = tmp_path / "areas.csv"
    csv.write_text("area,y\n1,2\n2,4\n3,6.5\n")
    assert window.data_actions.import_csv(str(csv))
    scenario = window.document.scenario
    assert scenario.loss == "mean((w*area + b - y)^2)"  # not x as a third parameter fitted to a constant
    assert window.statusBar().currentMessage().endswith("so it is now mean((w*area + b - y)^2)")


def test_generated_line_matches_the_core_generator(qtbot, window):
    assert window.data_actions.generate({"kind": "noisy_line", "n": 50, "noise": 0.5, "seed": 4})
    data = window.document.scenario.data
    assert data.dataset == generate({"kind": "noisy_line", "n": 50, "noise": 0.5, "seed": 4})
    assert data.source["generate"] == {"kind": "noisy_line", "n": 50, "noise": 0.5, "seed": 4}
    followed(qtbot, window)
    xs, _ = window.data_actions.view.scatter.getData()
    assert len(xs) == 50


def test_selecting_a_scaled_run_shows_the_loss_in_its_units(qtbot, window):
    open_scenario(qtbot, window, LINE)
    run_to_end(qtbot, window)
    wait_drawn(qtbot, window)  # (the runs can end before the new loss's field is drawn: the default loss's was kept)
    scenario = window.document.scenario
    x = scenario.data.dataset.column("x")
    y = scenario.data.dataset.column("y")
    unscaled = window.landscape.field
    assert unscaled.xs[0] == scenario.range_of("b")[0]
    window.runs_panel.select(3)  # "scaled": x standardised
    wait_drawn(qtbot, window)
    field = window.landscape.field
    assert field is not unscaled and "scaled" in window.landscape.note.text()
    xs = (x - x.mean()) / x.std()
    B, W = np.meshgrid(field.xs, field.ys)  # axes: b, w
    expected = ((W[..., None] * xs + B[..., None] - y) ** 2).mean(axis=-1)
    assert np.allclose(field.z, expected)
    b, w = window.session.buffers[3].last()[PARAMS:]
    assert field.xs[0] <= b <= field.xs[-1] and field.ys[0] <= w <= field.ys[-1]  # the view holds its path
    opacity = [path.opacity() for path in window.landscape.marks.paths]  # the raw runs' paths are in other units: faded
    assert opacity == [0.25, 0.25, 0.25, 1.0]
    window.runs_panel.select(0)
    wait_drawn(qtbot, window)
    assert window.landscape.field.z.shape == unscaled.z.shape and np.allclose(window.landscape.field.z, unscaled.z)
    assert "scaled" not in window.landscape.note.text()
    assert [path.opacity() for path in window.landscape.marks.paths] == [1.0, 1.0, 1.0, 0.25]
    run_to_end(qtbot, window)  # new path items keep the fading
    assert [path.opacity() for path in window.landscape.marks.paths] == [1.0, 1.0, 1.0, 0.25]


def test_before_running_each_run_shows_its_start_model_and_items_are_kept(qtbot, window):
    open_scenario(qtbot, window, LINE)
    view = window.data_actions.view
    curves = list(view.curves)
    assert len(curves) == 4
    for curve in curves:
        gx, gy = curve.getData()
        assert len(gx) == 200 and np.all(gy == 0.0)  # w = b = 0 at the start
    window.document.update_run(0, start={"w": 1.0, "b": 2.0})
    followed(qtbot, window)
    gx, gy = view.curves[0].getData()
    assert np.allclose(gy, gx + 2.0)
    run_to_end(qtbot, window)
    assert view.curves == curves and view.curves[0].getData()[1][-1] != gy[-1]  # same items, fed new data


def test_reimporting_a_changed_csv_updates_the_data(qtbot, window, tmp_path):
    path = tmp_path / "fit.json"
    window.files._write(path)
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n0,1\n1,3\n")
    assert window.data_actions.import_csv(str(csv))
    csv.write_text("x,y\n0,1\n1,3\n2,5\n")
    assert window.data_actions.import_csv(str(csv))
    assert window.document.scenario.data.dataset.rows == 3
    followed(qtbot, window)
    assert len(window.data_actions.view.scatter.getData()[0]) == 3


def test_the_data_legend_uses_the_palettes_colours(qtbot, window):
    """Readable in a dark theme too (it was white with light-grey text whatever the palette)."""
    from PySide6.QtGui import QPalette

    legend = window.data_actions.view.item.legend
    palette = window.palette()
    assert pg.mkColor(legend.opts["labelTextColor"]).rgb() == palette.color(QPalette.ColorRole.Text).rgb()
    assert legend.opts["brush"].color().rgb() == palette.color(QPalette.ColorRole.Base).rgb()


def test_scenarios_without_data_leave_the_hidden_data_view_alone(qtbot, window, monkeypatch):
    """Opening one lesson after another rebuilt the hidden data view's curves and legend for every run (a tenth of
    the turn that opens a file); out of sight it is not touched, and the next data set is drawn in full."""
    view = window.data_actions.view
    assert window.document.scenario.data is None and window.document.scenario.runs
    assert view.curves == [] and view.item.legend.items == []
    open_scenario(qtbot, window, LINE)
    assert [item[1].text for item in view.item.legend.items] == ["batch", "SGD", "mini-batch", "scaled"]
    run_to_end(qtbot, window)  # (a new document resets its runs first, before the view hears there is no data)
    touched = []
    monkeypatch.setattr(view, "set_scenario", lambda scenario: touched.append(scenario))
    monkeypatch.setattr(view, "set_runs", lambda *args: touched.append(args))
    window.document.reset(default_scenario())
    followed(qtbot, window)
    assert window.data_actions.dock.isHidden() and touched == []
    monkeypatch.undo()
    line = sc.loads(LINE, "line.json")
    window.document.reset(replace(line, runs=tuple(replace(run, color=None) for run in line.runs[:2])))
    followed(qtbot, window)
    assert not window.data_actions.dock.isHidden()
    assert [item[1].text for item in view.item.legend.items] == ["batch", "SGD"] and len(view.curves) == 2
    assert [curve.opts["pen"].color().name() for curve in view.curves] == [PALETTE[0], PALETTE[1]]


def test_the_runs_curves_are_made_one_per_turn_and_then_kept(qtbot, window):
    """Each new curve and its legend entry took ~3 ms: the first lesson with data made four in one turn. The view makes
    one per call and says whether the runs need more; the window asks again in turns of their own."""
    open_scenario(qtbot, window, LINE)
    view = window.data_actions.view
    from gdstudio.app.document import run_color

    runs = window.document.scenario.runs
    colors = [run_color(window.document.scenario, i) for i in range(len(runs))]
    while view.curves:
        view.item.removeItem(view.curves.pop())
    view._made = None
    said = [view.set_runs([], colors, runs) for _ in range(len(runs) + 1)]
    assert said == [False] * (len(runs) - 1) + [True, True] and len(view.curves) == len(runs)
    assert [curve.name() for curve in view.curves] == [run.label for run in runs]


def test_the_data_view_is_made_at_its_first_need_or_ahead_when_idle(qtbot, window):
    """Its plot is 10-20 ms of widgets in one turn, which the launch paid after its first paint: the Data actions make
    it when a scenario with data first needs it, and the window makes it ahead once the engine has loaded."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMainWindow

    from gdstudio.app.panels.data_import import DataActions

    other = QMainWindow()
    qtbot.addWidget(other)
    actions = DataActions(window.session, other, QTimer())
    assert not actions.view_made and actions.dock.widget() is None
    assert actions.view is actions.dock.widget() and actions.view_made
    qtbot.waitUntil(lambda: window.data_actions.view_made)  # (the studio's own: ahead, with no data in sight)
    assert window.data_actions.dock.widget() is window.data_actions.view and not window.data_actions.dock.isVisible()



def test_a_files_data_spans_are_worked_out_in_the_thread_that_reads_it(qtbot, window, tmp_path, monkeypatch):
    """The data view's ranges: a million rows' minimum and maximum took milliseconds of the turn that showed them."""
    import threading
    from functools import cached_property

    from gdstudio.core.data import Dataset

    work_out, threads = Dataset.spans.func, []
    spans = cached_property(lambda dataset: threads.append(threading.current_thread()) or work_out(dataset))
    spans.__set_name__(Dataset, "spans")
    monkeypatch.setattr(Dataset, "spans", spans)
    path = tmp_path / "line.json"
    path.write_text(LINE)
    window.files.open_path(str(path), ask=False)
    qtbot.waitUntil(lambda: window.document.path == path.resolve(), timeout=15000)
    followed(qtbot, window)
    assert window.data_actions.view.layout_.mode == "curve"  # (drawn, with the ranges)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
