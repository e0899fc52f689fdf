"""The insight panel as a whole: its settings, its tasks, and what a change of loss does to them."""

from __future__ import annotations

import threading
import time

from ..helpers import HANG, open_example, open_file, run_to_end, type_loss, wait_idle


def test_closing_cancels_running_insight_work(qtbot, window):
    """A million steps × 64² cells would run for minutes: closing stops it between chunks of steps."""
    dialog = window.insight.show_sweeps()
    dialog.cells.setValue(64)
    dialog.steps.setValue(1_000_000)
    dialog.compute()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30000)  # the bar moves during the grid
    began = time.perf_counter()
    window.shutdown()
    assert window.insight.tasks.pool.activeThreadCount() == 0
    assert time.perf_counter() - began < HANG  # uncancelled, the grid takes minutes and shutdown would wait for it


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
    assert open_file(qtbot, window, str(path))
    qtbot.waitUntil(lambda: window.session.objective is not None and window.session.objective.text == window.document.scenario.loss)
    window.runs_panel.select(1)
    dialog = insight.show_sweeps()
    assert not window.isWindowModified()
    assert (insight.restarts_count.value(), insight.basins_grid.value(), insight.race_panel.budget.value()) == (7, 40, 1234)
    assert (dialog.cells.value(), dialog.steps.value(), dialog.metric_box.currentText()) == (12, 300, "steps to tolerance")
    assert (dialog.lr_low.value(), dialog.lr_high.value()) == (1e-3, 1.0)
    assert (dialog.param.currentText(), dialog.p_low.value(), dialog.p_high.value()) == ("momentum", 0.0, 0.5)
    dialog.close()


def test_typing_a_loss_in_other_variables_after_a_run(qtbot, window):
    """The new loss is drawn before the document holds it: the panels must not mix the two."""
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=100))
    run_to_end(qtbot, window)
    qtbot.waitUntil(lambda: 0 in window.insight.states, timeout=10000)
    type_loss(qtbot, window, "a^2 + b^2")
    qtbot.waitUntil(lambda: window.session.objective.variables == ("a", "b") and window.document.scenario.loss == "a^2 + b^2")
    wait_idle(qtbot, window.insight, "panels")  # (they are computed again for the new loss, in the pool)
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


def test_each_scaling_has_one_loss_object(qtbot, window):
    """The diagnosis matches critical minima to runs by the loss object: it must stay the same one."""
    open_example(qtbot, window, "04_")
    window.document.update_run(1, scale={"x": "minmax"})
    context, runs = window.insight.session, window.document.scenario.runs
    standard = context.loss_of(runs[0])
    minmax = context.loss_of(runs[1])
    assert standard is not minmax and standard is not window.session.objective
    assert context.loss_of(runs[0]) is standard and context.loss_of(runs[1]) is minmax
    assert context.loss_of(runs[2]) is window.session.objective  # raw columns: the loss itself


def test_a_tool_task_shows_in_the_task_bar_and_a_failure_is_one_status_line(qtbot, window):
    """What every tool's computation goes through (TaskRunner.run_tool): an entry while it works, its
    result or one line saying why not, and no entry left behind either way."""
    insight, results = window.insight, []
    gate = threading.Event()

    def work(task):
        gate.wait(HANG)
        return 42

    insight.tasks.run_tool("probe", "probing", work, results.append)
    assert insight.task_bar.isVisibleTo(window) and insight.task_bar.label.text() == "probing…"
    gate.set()
    wait_idle(qtbot, insight, "probe")
    assert results == [42] and not insight.task_bar.isVisibleTo(window)

    def broken(task):
        raise ValueError("no minimum in this view")

    failures = []
    insight.tasks.run_tool("probe", "probing", broken, results.append, failures.append)
    wait_idle(qtbot, insight, "probe")
    assert window.statusBar().currentMessage() == "probe: no minimum in this view"
    assert failures == ["no minimum in this view"] and results == [42] and not insight.task_bar.isVisibleTo(window)
