"""Insight tools in the studio (real widgets; every computation on the insight pool, never the GUI thread)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from gdstudio.app.insight.basins import COLORS, GREY
from gdstudio.app.presets import example_files
from gdstudio.core.sweeps import DIVERGED, UNRESOLVED

from .helpers import run_to_end, type_loss


def open_example(qtbot, win, prefix: str):
    resource = next(r for title, r in example_files() if r.name.startswith(prefix))
    win.files.open_example(resource)
    loss = win.document.scenario.loss
    qtbot.waitUntil(lambda: win.objective is not None and win.objective.text == loss, timeout=10000)
    return win.document.scenario


def wait_idle(qtbot, insight, name: str, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: not insight.tasks.busy(name), timeout=timeout)


def test_critical_points_on_himmelblau_show_four_minima(qtbot, window):
    open_example(qtbot, window, "08_")
    insight = window.insight
    insight.critical_action.setChecked(True)
    qtbot.waitUntil(lambda: insight.critical.count("minimum") == 4, timeout=30000)
    assert insight.critical.count("maximum") == 1 and insight.critical.count("saddle") == 4
    assert window.statusBar().currentMessage() == "critical points: 4 minima ★, 1 maximum ▲, 4 saddles ✕"
    tips = [spot.data() for spot in insight.critical.items["minimum"].points()]
    assert all(t.startswith("★ minimum at") and "Hessian eigenvalues" in t for t in tips)
    insight.critical_action.setChecked(False)
    assert insight.critical.count("minimum") == 0


def test_critical_points_follow_the_loss(qtbot, window):

    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 - y^2")
    qtbot.waitUntil(lambda: window.insight.critical.count("saddle") == 1, timeout=30000)
    assert window.insight.critical.count("minimum") == 0


def test_small_sweep_completes_and_a_cell_click_adds_that_run(qtbot, window):
    insight = window.insight
    window.runs_panel.select(1)  # SGD with momentum: lr × momentum
    dialog = insight.show_sweeps()
    qtbot.addWidget(dialog)
    assert dialog.param.currentText() == "momentum"
    low, high = math.log10(dialog.lr_low.value()), math.log10(dialog.lr_high.value())
    assert np.allclose(dialog.heat_item.vb.viewRange()[0], [low, high], atol=0.05)  # before Compute: the lr range
    dialog.cells.setValue(8)
    dialog.steps.setValue(50)
    dialog.lr_low.setValue(1e-4)
    dialog.lr_high.setValue(1e-2)
    dialog.compute()
    qtbot.waitUntil(dialog.done_computing, timeout=60000)
    sweep = dialog.sweep
    assert sweep.final_loss.shape == (8, 8) and not sweep.cancelled
    assert dialog.progress.value() == dialog.progress.maximum()
    assert len(dialog.curve_result.lrs) == 8 and dialog.image.image is not None
    runs_before = len(window.document.scenario.runs)
    # a real click on the centre of cell (row 2, column 5)
    x = math.log10(sweep.lrs[5])
    y = float(sweep.param_values[2])
    vb = dialog.heat_item.vb
    point = dialog.heat.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(dialog.heat.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(round(point.x()), round(point.y())))
    runs = window.document.scenario.runs
    assert len(runs) == runs_before + 1
    added = runs[-1]
    assert added.optimizer == "sgd" and math.isclose(added.hyper["lr"], sweep.lrs[5])
    assert math.isclose(added.hyper["momentum"], sweep.param_values[2])
    assert added.start == {"x": -1.5, "y": 2.0}
    assert window.runs_panel.current() == len(runs) - 1
    dialog.close()


def test_plain_gd_sweeps_only_the_learning_rate_and_a_point_click_adds_that_run(qtbot, window):
    open_example(qtbot, window, "01_")  # f(x) = x², plain GD: nothing but lr to sweep
    dialog = window.insight.show_sweeps()
    qtbot.addWidget(dialog)
    assert not dialog.heat.isVisible() and not dialog.p_low.isEnabled()
    assert dialog.param.currentText() == "(none)" and "cell" not in dialog.hover.text()
    dialog.cells.setValue(9)
    dialog.steps.setValue(100)
    dialog.lr_low.setValue(0.01)
    dialog.lr_high.setValue(10.0)
    dialog.compute()
    qtbot.waitUntil(dialog.done_computing, timeout=60000)
    assert dialog.sweep is None and "point on the curve" in dialog.hover.text()
    curve = dialog.curve_result
    assert curve.status_names[-1] == "diverged"  # lr 10 > 2/λmax = 1 on x²
    xs, _ys = dialog.curve_line.getData()
    assert len(xs) == int(np.isfinite(curve.final_loss).sum())
    runs_before = len(window.document.scenario.runs)
    # a real click on the third drawn point (its x is log10 lr on the log axis)
    vb = dialog.curve_item.vb
    point = dialog.curve.mapFromScene(vb.mapViewToScene(QPointF(xs[2], dialog.curve_line.scatter.data["y"][2])))
    qtbot.mouseClick(dialog.curve.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(round(point.x()), round(point.y())))
    runs = window.document.scenario.runs
    assert len(runs) == runs_before + 1
    assert runs[-1].optimizer == "gd" and math.isclose(runs[-1].hyper["lr"], curve.lrs[np.isfinite(curve.final_loss)][2])
    window.runs_panel.add_run()  # another run selected: a click still adds a variant of the run swept
    window.document.update_run(len(window.document.scenario.runs) - 1, optimizer="adam")
    assert dialog.create_lr_run(0) and window.document.scenario.runs[-1].optimizer == "gd"
    dialog.close()


def test_sweep_can_be_cancelled(qtbot, window):
    dialog = window.insight.show_sweeps()
    qtbot.addWidget(dialog)
    dialog.cells.setValue(64)
    dialog.steps.setValue(20000)
    dialog.compute()
    assert window.insight.tasks.busy("sweep") and dialog.cancel_button.isEnabled()
    dialog.cancel()
    assert not window.insight.tasks.busy("sweep") and dialog.go.isEnabled()
    window.insight.tasks.wait(30000)
    assert dialog.hover.text() == "cancelled"
    dialog.close()


def test_basins_on_himmelblau_have_four_labels(qtbot, window):
    open_example(qtbot, window, "08_")
    insight = window.insight
    insight.basins_grid.setValue(40)
    insight.basins_action.setChecked(True)
    qtbot.waitUntil(lambda: insight.basins.result is not None, timeout=60000)
    assert insight.basins.labels() == {0, 1, 2, 3}
    assert len(insight.basins.result.minima) == 4
    assert insight.basins.image.image.shape == (40, 40, 4)
    assert not insight.task_bar.isVisible()
    legend = insight.basins.legend
    assert legend.isVisible()
    rows = [(sample.item.opts["brush"].color().getRgb()[:3], label.text) for sample, label in legend.items]
    assert len(rows) == 6
    for i, point in enumerate(insight.basins.result.minima):
        color, text = rows[i]
        assert color == COLORS[i] and text.startswith(f"x={point.point['x']:.4g}, y={point.point['y']:.4g}: ")
    assert any(text.startswith("x=3, y=2: ") for _, text in rows)
    assert rows[4][1].startswith("diverged: ") and rows[5][1].startswith("no minimum reached: ")
    assert [color for color, _ in rows[4:]] == [GREY[DIVERGED], GREY[UNRESOLVED]]
    shares = [float(text.rsplit(": ", 1)[1].rstrip("%")) for _, text in rows]
    assert abs(sum(shares) - 100) <= 3 and all(s > 0 for s in shares[:4])
    assert "x=3, y=2: " in window.statusBar().currentMessage()
    insight.basins_action.setChecked(False)
    assert not insight.basins.image.isVisible() and not legend.isVisible()


def test_race_table_has_one_ranked_row_per_run(qtbot, window):
    insight = window.insight
    insight.race_panel.budget.setValue(3000)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    table = insight.race_panel.table
    scenario = window.document.scenario
    assert table.rowCount() == len(scenario.runs) == 2
    ranks = [int(table.item(r, 0).text()) for r in range(table.rowCount())]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert {table.item(r, 1).text() for r in range(2)} == {r.label for r in scenario.runs}
    assert all(table.item(r, 6).text().endswith(" ms") for r in range(2))
    assert insight.race_panel.go.isEnabled()


def test_runs_with_the_same_optimizer_and_settings_race_once(qtbot, window):
    open_example(qtbot, window, "08_")  # eight seeded starts of one GD
    insight = window.insight
    insight.race_panel.budget.setValue(500)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    table = insight.race_panel.table
    assert table.rowCount() == 1 and table.item(0, 1).text() == "seed 0 (and 7 alike)"
    assert len(insight.race_panel.paths.curves) == 1


def test_random_restarts_show_starts_and_ends(qtbot, window):
    open_example(qtbot, window, "08_")
    insight = window.insight
    insight.restarts_action.trigger()
    qtbot.waitUntil(lambda: insight.restarts.result is not None, timeout=60000)
    n = len(insight.restarts.result.starts)
    assert len(insight.restarts.starts.data) == n and len(insight.restarts.finals.data) == n
    assert "random restarts ended at" in window.statusBar().currentMessage()
    insight.clear_restarts_action.trigger()
    assert len(insight.restarts.finals.data) == 0


def test_step_size_panel_and_diagnosis(qtbot, window):
    window.document.update_run(1, hyper={"lr": 0.1, "momentum": 0.9})  # far too large for Rosenbrock: diverges
    window.runs_panel.select(1)
    panel = window.insight.step_panel
    window.insight.refresh_panels(force=True)
    assert "λmax =" in panel.start_label.text() and "2(1+β)/λmax" in panel.start_label.text()
    assert "✗ overshoots" in panel.start_label.text()
    run_to_end(qtbot, window)
    wait_idle(qtbot, window.insight, "diagnose")
    qtbot.waitUntil(lambda: window.insight.diagnoses is not None, timeout=10000)
    messages = window.insight.diagnoses[1]
    assert any("steps overshoot" in m for m in messages)
    assert "steps overshoot" in panel.messages.text()
    assert "steps overshoot" in window.runs_panel.table.topLevelItem(1).toolTip(0)


def test_optimizer_state_of_adam_and_the_velocity_arrow(qtbot, window):
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=200))
    window.runs_panel.select(0)  # Adam
    run_to_end(qtbot, window)
    insight = window.insight
    qtbot.waitUntil(lambda: 0 in insight.states, timeout=10000)
    insight.refresh_panels(force=True)
    panel = insight.state_panel
    assert set(panel.shown) == {"exp_avg", "exp_avg_sq"}  # no AMSGrad: its max v is not in use, not shown
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers == ["", "m (exp_avg)", "v (exp_avg_sq)", "last step Δθ", "effective rate −Δθ/g"]
    assert panel.table.rowCount() == 2 and panel.table.horizontalHeaderItem(1).text() == "m (exp_avg)"
    assert np.all(panel.shown["exp_avg_sq"] > 0)
    assert panel.head.isVisible()
    window.runs_panel.select(1)  # SGD with momentum: the velocity buffer
    insight.refresh_panels(force=True)
    assert set(panel.shown) == {"momentum_buffer"} and panel.head.isVisible()


def test_closing_cancels_running_insight_work(qtbot, window):
    """A million steps × 64² cells would run for minutes: closing stops it between chunks of steps."""
    dialog = window.insight.show_sweeps()
    dialog.cells.setValue(64)
    dialog.steps.setValue(1_000_000)
    dialog.compute()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30000)  # the bar moves during the grid
    import time

    began = time.perf_counter()
    window.shutdown()
    assert window.insight.tasks.pool.activeThreadCount() == 0
    assert time.perf_counter() - began < 30  # (uncancelled, the grid takes minutes: shutdown would wait for it)


def test_basins_can_be_cancelled_from_the_status_bar(qtbot, window):
    insight = window.insight
    insight.basins_grid.setValue(256)
    insight.basins_action.setChecked(True)
    assert insight.task_bar.isVisibleTo(window) and insight.tasks.busy("basins")
    qtbot.mouseClick(insight.task_bar.button, Qt.MouseButton.LeftButton)
    assert not insight.tasks.busy("basins") and not insight.basins_action.isChecked()
    assert not insight.task_bar.isVisibleTo(window)
    insight.tasks.wait(60000)
    assert insight.basins.result is None


def test_restarts_on_one_variable_sit_on_the_curve(qtbot, window):
    scenario = open_example(qtbot, window, "01_")
    assert window.objective.variables == ("x",)
    window.insight.restarts_action.trigger()
    qtbot.waitUntil(lambda: window.insight.restarts.result is not None, timeout=60000)
    pos = window.insight.restarts.starts.getData()
    assert len(pos[0]) == len(window.insight.restarts.result.starts)
    assert np.allclose(pos[1], pos[0] ** 2)  # f(x) = x²
    text = window.palette().color(window.palette().ColorRole.Text)
    assert window.insight.restarts.starts.opts["pen"].color().rgb() == text.rgb()  # not white on the white background


def test_64x64_rosenbrock_sweep_is_fast_and_the_gui_stays_responsive(qtbot, window):
    import time

    from PySide6.QtCore import QTimer

    window.runs_panel.select(1)  # SGD with momentum on Rosenbrock
    dialog = window.insight.show_sweeps()
    qtbot.addWidget(dialog)
    dialog.steps.setValue(500)
    dialog.lr_low.setValue(1e-5)
    dialog.lr_high.setValue(1e-2)
    dialog.cells.setValue(4)
    dialog.compute()  # compiles (or loads) every kernel first
    qtbot.waitUntil(dialog.done_computing, timeout=120000)
    dialog.cells.setValue(64)
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    began = time.perf_counter()
    dialog.compute()
    qtbot.waitUntil(dialog.done_computing, timeout=60000)
    elapsed = time.perf_counter() - began
    timer.stop()
    assert dialog.sweep.final_loss.shape == (64, 64)
    assert elapsed < 2.0, f"64×64 × 500 steps took {elapsed:.2f} s"
    gaps = np.diff([began, *ticks])  # (the longest are repaints of the dialog's plots, in the GUI thread)
    assert len(ticks) >= elapsed / 0.1 and gaps.max() < 0.5, f"the event loop stalled for {gaps.max():.3f} s"
    dialog.close()


def test_insight_settings_are_saved_in_the_scenario_and_shown_when_it_is_opened(qtbot, window, tmp_path):
    from gdstudio.core import scenario as sc

    insight = window.insight
    window.runs_panel.select(1)  # SGD with momentum
    dialog = insight.show_sweeps()
    qtbot.addWidget(dialog)
    assert not window.isWindowModified()  # showing the settings is no edit
    insight.restarts_count.setValue(7)
    assert window.isWindowModified() and window.document.scenario.insight.restarts == 7
    insight.basins_grid.setValue(40)
    insight.race_panel.budget.setValue(1234)
    dialog.cells.setValue(12)
    dialog.steps.setValue(300)
    dialog.metric_box.setCurrentIndex(1)
    dialog.lr_low.setValue(1e-3)
    dialog.p_high.setValue(0.5)
    dialog.lr_high.setValue(1e-4)  # below lr_low for now: the file keeps the last valid range
    path = tmp_path / "tools.json"
    window.files._write(path)
    assert not window.isWindowModified()
    expected = {"restarts": {"count": 7}, "basins": {"resolution": 40}, "race": {"budget": 1234},
                "sweep": {"param": "momentum", "metric": "steps_to_tolerance", "cells": 12, "steps": 300, "lr": [0.001, 1.0],
                          "other": [0.0, 0.5]}}
    assert sc.to_dict(sc.load(path))["insight"] == expected
    dialog.close()

    window.files.new()  # a new document: the tools show their defaults again
    assert window.document.scenario.insight == sc.InsightSettings()
    assert (insight.restarts_count.value(), insight.race_panel.budget.value(), dialog.cells.value()) == (24, 2000, 32)
    assert not window.isWindowModified()
    assert window.files.open_path(str(path))
    qtbot.waitUntil(lambda: window.objective is not None and window.objective.text == window.document.scenario.loss)
    window.runs_panel.select(1)
    dialog = insight.show_sweeps()
    assert not window.isWindowModified()
    assert (insight.restarts_count.value(), insight.basins_grid.value(), insight.race_panel.budget.value()) == (7, 40, 1234)
    assert (dialog.cells.value(), dialog.steps.value(), dialog.metric_box.currentText()) == (12, 300, "steps to tolerance")
    assert (dialog.lr_low.value(), dialog.lr_high.value()) == (1e-3, 1.0)
    assert (dialog.param.currentText(), dialog.p_low.value(), dialog.p_high.value()) == ("momentum", 0.0, 0.5)
    dialog.close()



def test_race_paths_are_drawn_in_the_runs_colours_and_cleared(qtbot, window):
    from gdstudio.app.document import run_color

    insight = window.insight
    paths = insight.race_panel.paths
    insight.race_panel.budget.setValue(50)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    scenario = window.document.scenario
    assert len(paths.curves) == len(scenario.runs) == 2
    for entry, curve in zip(insight.race_panel.entries, paths.curves):
        xs, ys = curve.getData()
        assert curve in window.landscape.item.items and len(xs) == len(entry.run.trajectory) == entry.steps + 1  # the start and every step
        assert (xs[0], ys[0]) == (-1.5, 2.0) and (xs[-1], ys[-1]) == tuple(entry.run.trajectory.params[-1])
        assert curve.opts["pen"].color().name() == run_color(scenario, entry.run.index)
    first = list(paths.curves)
    insight.run_race()  # a new race replaces the paths
    assert not paths.curves and not any(c in window.landscape.item.items for c in first)
    wait_idle(qtbot, insight, "race", 60000)
    second = list(paths.curves)
    assert len(second) == 2
    run_to_end(qtbot, window)
    window.reset_action.trigger()
    assert not paths.curves and not any(c in window.landscape.item.items for c in second)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    drawn = list(paths.curves)
    type_loss(qtbot, window, "x^2 + y^2")  # a new loss: the paths no longer hold
    qtbot.waitUntil(lambda: not paths.curves, timeout=10000)
    assert not any(c in window.landscape.item.items for c in drawn)


def test_long_or_diverging_race_paths_stay_drawable():
    from gdstudio.app.insight.race_paths import drawable
    from gdstudio.app.plots.landscape import FAR, MAX_PATH_POINTS

    xs = np.linspace(0.0, 1.0, 50_001)
    ys = xs.copy()
    xs[-2], ys[-2], xs[7] = 1e15, 1e15, np.inf
    px, py = drawable(xs, ys, (0.0, 0.0), (1.0, 1.0))
    assert len(px) <= MAX_PATH_POINTS + 1 and (px[0], px[-1], py[-1]) == (0.0, 1.0, 1.0)
    assert np.all(np.isfinite(px)) and np.max(np.abs(px)) <= FAR and np.max(np.abs(py)) <= FAR


def test_optimizer_state_shows_the_buffers_the_settings_use():
    from gdstudio.app.insight.optimizer_state import used_state
    from gdstudio.core.optimizers import optimizer

    def names(name, **hyper):
        info = optimizer(name)
        return [info.state[k] for k in used_state(name, info.check(hyper))]

    assert names("adam") == ["exp_avg", "exp_avg_sq"]
    assert names("adam", amsgrad=True) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert names("sgd") == [] and names("sgd", momentum=0.9) == ["momentum_buffer"]
    assert "grad_avg" not in names("rmsprop") and "grad_avg" in names("rmsprop", centered=True)


def test_a_run_on_scaled_columns_is_diagnosed_on_the_loss_it_sees(qtbot, window):
    """Lesson 4: α = 0.1 is stable on standardised x (and converges), unstable on raw x (and diverges)."""
    open_example(qtbot, window, "04_")
    runs = window.document.scenario.runs
    scaled = next(i for i, r in enumerate(runs) if r.scale)
    raw = next(i for i, r in enumerate(runs) if not r.scale and r.hyper["lr"] == runs[scaled].hyper["lr"])
    insight = window.insight
    insight.critical_action.setChecked(True)
    run_to_end(qtbot, window, timeout=60000)
    qtbot.waitUntil(lambda: insight.diagnoses is not None, timeout=30000)
    assert window.buffers[scaled].status == "converged" and window.buffers[raw].status == "diverged"
    assert not any("overshoot" in m for m in insight.diagnoses[scaled])
    assert any("overshoot" in m for m in insight.diagnoses[raw])

    window.runs_panel.select(scaled)
    insight.refresh_panels(force=True)
    assert "✓ stable" in insight.step_panel.start_label.text()
    state = insight.state_panel  # plain GD: the effective rate of every coordinate is lr itself
    rates = [float(state.table.item(r, state.table.columnCount() - 1).text()) for r in range(state.table.rowCount())]
    assert np.allclose(rates, runs[scaled].hyper["lr"], rtol=1e-3)
    final = window.buffers[scaled].last()[-2:]  # (b, w) where the scaled run converged: the scaled loss's minimum
    qtbot.waitUntil(lambda: insight.critical.count("minimum") == 1, timeout=30000)
    star = insight.critical.points[0].point
    assert np.allclose([star["b"], star["w"]], final, atol=1e-4)

    window.runs_panel.select(raw)
    insight.refresh_panels(force=True)
    assert "✗ overshoots" in insight.step_panel.start_label.text()
    qtbot.waitUntil(lambda: not np.allclose([insight.critical.points[0].point[v] for v in ("b", "w")], final, atol=1e-2),
                    timeout=30000)


def test_no_effective_rate_for_a_run_on_batches(qtbot, window):
    open_example(qtbot, window, "03_")  # batch, stochastic and mini-batch GD on one data set
    runs = window.document.scenario.runs
    run_to_end(qtbot, window, timeout=60000)
    panel, last = window.insight.state_panel, lambda: panel.table.columnCount() - 1
    for i, spec in enumerate(runs):
        window.runs_panel.select(i)
        window.insight.refresh_panels(force=True)
        rates = [panel.table.item(r, last()).text() for r in range(panel.table.rowCount())]
        if spec.batch_size:
            assert rates == ["—"] * len(rates) and "batch's gradient" in panel.title.text()
        else:
            assert np.allclose([float(r) for r in rates], spec.hyper["lr"], rtol=1e-3)


def test_lesson_9_diagnoses_the_plateau_at_the_saddle(qtbot, window):
    open_example(qtbot, window, "09_")
    run_to_end(qtbot, window, timeout=60000)
    qtbot.waitUntil(lambda: window.insight.diagnoses is not None, timeout=30000)
    ridge = next(i for i, r in enumerate(window.document.scenario.runs) if r.label == "GD on the ridge")
    (message,) = window.insight.diagnoses[ridge]
    assert message.startswith("plateau: ‖∇‖ < ") and "a saddle or a ridge" in message
    assert message in window.runs_panel.table.topLevelItem(ridge).toolTip(0)
    others = [m for i, found in enumerate(window.insight.diagnoses) if i != ridge for m in found]
    assert not any("plateau" in m or "local minimum" in m for m in others)  # the others reach a minimum


def test_typing_a_loss_in_other_variables_after_a_run(qtbot, window):
    """The new loss is drawn before the document holds it: the panels must not mix the two."""
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=100))
    run_to_end(qtbot, window)
    qtbot.waitUntil(lambda: 0 in window.insight.states, timeout=10000)
    type_loss(qtbot, window, "a^2 + b^2")
    qtbot.waitUntil(lambda: window.objective.variables == ("a", "b") and window.document.scenario.loss == "a^2 + b^2")
    assert window.landscape.axes() == ("a", "b") and not window.insight.state_panel.head.isVisible()


def test_a_new_loss_clears_the_race_and_the_sweep_of_the_old_one(qtbot, window):
    insight = window.insight
    insight.race_panel.budget.setValue(100)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    window.runs_panel.select(1)
    dialog = insight.show_sweeps()
    qtbot.addWidget(dialog)
    dialog.cells.setValue(4)
    dialog.steps.setValue(50)
    dialog.compute()
    qtbot.waitUntil(dialog.done_computing, timeout=60000)
    assert insight.race_panel.table.rowCount() == 2 and dialog.sweep is not None
    type_loss(qtbot, window, "x^2 + 3*y^2")
    qtbot.waitUntil(lambda: window.document.scenario.loss == "x^2 + 3*y^2")
    assert insight.race_panel.table.rowCount() == 0 and not insight.race_panel.paths.curves
    assert dialog.sweep is None and dialog.curve_result is None and dialog.image.image is None
    assert dialog.heading.text().endswith("on x^2 + 3*y^2")
    dialog.close()


def test_critical_points_off_the_slice_are_drawn_faded_and_say_so(qtbot, window):
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 + y^2 + (z^2 - 0.5)^2")  # minima at z = ±0.7071; a saddle at z = 0
    critical = window.insight.critical
    qtbot.waitUntil(lambda: critical.count("minimum") == 2 and critical.count("saddle") == 1, timeout=30000)
    assert window.landscape.slice_point()["z"] == 0.0  # (the runs start nowhere in z: the middle of its range)
    (saddle,) = critical.items["saddle"].points()
    assert "off this slice" not in saddle.data() and saddle.brush().color().alpha() == 255
    for minimum in critical.items["minimum"].points():
        assert "off this slice (z = " in minimum.data() and "the slice is at 0)" in minimum.data()
        assert minimum.brush().color().alpha() < 255


def test_a_race_still_running_when_the_loss_changes_is_dropped(qtbot, window):
    insight = window.insight
    insight.race_panel.budget.setValue(insight.race_panel.budget.maximum())
    insight.run_race()
    assert insight.tasks.busy("race")
    type_loss(qtbot, window, "x^2 + 3*y^2")
    qtbot.waitUntil(lambda: window.document.scenario.loss == "x^2 + 3*y^2")
    assert not insight.tasks.busy("race") and insight.race_panel.go.isEnabled()
    insight.tasks.wait(60000)
    qtbot.wait(50)  # (a result of the old race, had it been kept, would arrive now)
    assert insight.race_panel.table.rowCount() == 0 and not insight.task_bar.isVisibleTo(window)



def test_faded_critical_points_follow_the_slice_as_the_run_moves(qtbot, window):
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 + y^2 + (z^2 - 0.5)^2")
    critical = window.insight.critical
    qtbot.waitUntil(lambda: critical.count("minimum") == 2, timeout=30000)
    window.runs_panel.select(0)
    window.document.update_run(0, start={"x": 0.5, "y": 0.5, "z": 0.3})
    run_to_end(qtbot, window)  # the slice follows the selected run to z = 0.7071
    qtbot.waitUntil(lambda: abs(window.landscape.slice_point()["z"] - 0.5 ** 0.5) < 1e-3, timeout=10000)

    def on_slice():
        return [p.brush().color().alpha() == 255 for p in critical.items["minimum"].points()]

    qtbot.waitUntil(lambda: sorted(on_slice()) == [False, True], timeout=5000)


def test_each_scaling_has_one_loss_object(qtbot, window):
    """The diagnosis matches critical minima to runs by the loss object: it must stay the same one."""
    open_example(qtbot, window, "04_")
    window.document.update_run(1, scale={"x": "minmax"})
    context, runs = window.insight.context, window.document.scenario.runs
    standard = context.loss_of(runs[0])
    minmax = context.loss_of(runs[1])
    assert standard is not minmax and standard is not window.objective
    assert context.loss_of(runs[0]) is standard and context.loss_of(runs[1]) is minmax
    assert context.loss_of(runs[2]) is window.objective  # raw columns: the loss itself



def test_the_velocity_arrow_follows_a_change_of_axes(qtbot, window):
    type_loss(qtbot, window, "(a - 1)^2 + 2*(b + 1)^2 + 3*(c - 0.5)^2")
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=30))
    window.runs_panel.select(1)  # SGD with momentum
    run_to_end(qtbot, window)
    insight = window.insight
    qtbot.waitUntil(lambda: 1 in insight.states, timeout=10000)
    insight.refresh_panels(force=True)
    a, b, c = window.buffers[1].last()[-3:]
    assert insight.state_panel.line.getData()[1][0] == b
    combo = window.landscape.y_axis
    combo.setCurrentText("c")
    combo.activated.emit(combo.currentIndex())
    assert window.landscape.axes() == ("a", "c")
    xs, ys = insight.state_panel.line.getData()
    assert (xs[0], ys[0]) == (a, c)


def test_basins_turn_off_for_a_loss_of_one_variable(qtbot, window):
    insight = window.insight
    insight.basins_grid.setValue(8)
    insight.basins_action.setChecked(True)
    wait_idle(qtbot, insight, "basins", 60000)
    type_loss(qtbot, window, "x^4 - 3*x^2 + x")
    qtbot.waitUntil(lambda: window.objective.variables == ("x",))
    assert not insight.basins_action.isChecked() and not insight.basins.enabled
    assert "need a loss of two or more variables" in window.statusBar().currentMessage()
