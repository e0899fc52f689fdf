"""The race: every run against the others, ranked, with its paths."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication

from ..helpers import open_example, run_to_end, type_loss, wait_idle


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
    window.menus.reset.trigger()
    assert not paths.curves and not any(c in window.landscape.item.items for c in second)
    insight.run_race()
    wait_idle(qtbot, insight, "race", 60000)
    drawn = list(paths.curves)
    type_loss(qtbot, window, "x^2 + y^2")  # a new loss: the paths no longer hold
    qtbot.waitUntil(lambda: not paths.curves, timeout=10000)
    assert not any(c in window.landscape.item.items for c in drawn)


def test_long_or_diverging_race_paths_stay_drawable():
    from gdstudio.app.plots.tracks import FAR, MAX_PATH_POINTS, drawable

    xs = np.linspace(0.0, 1.0, 50_001)
    ys = xs.copy()
    xs[-2], ys[-2], xs[7] = 1e15, 1e15, np.inf
    px, py = drawable(xs, ys, (0.0, 0.0), (1.0, 1.0))
    assert len(px) <= MAX_PATH_POINTS + 1 and (px[0], px[-1], py[-1]) == (0.0, 1.0, 1.0)
    assert np.all(np.isfinite(px)) and np.max(np.abs(px)) <= FAR and np.max(np.abs(py)) <= FAR


def test_a_race_still_running_when_the_loss_changes_is_dropped(qtbot, window):
    insight = window.insight
    insight.race_panel.budget.setValue(insight.race_panel.budget.maximum())
    insight.run_race()
    assert insight.tasks.busy("race")
    type_loss(qtbot, window, "x^2 + 3*y^2")
    qtbot.waitUntil(lambda: window.document.scenario.loss == "x^2 + 3*y^2")
    assert not insight.tasks.busy("race") and insight.race_panel.go.isEnabled()
    insight.tasks.wait(60000)
    QCoreApplication.processEvents()  # (the pool is joined: a result of the old race, had it been kept, is delivered now)
    assert insight.race_panel.table.rowCount() == 0 and not insight.task_bar.isVisibleTo(window)
