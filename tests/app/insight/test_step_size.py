"""Step-size bounds and the diagnosis of a run."""

from __future__ import annotations

import numpy as np

from ..helpers import open_example, refresh_insight, run_to_end, wait_idle


def test_step_size_panel_and_diagnosis(qtbot, window):
    window.document.update_run(1, hyper={"lr": 0.1, "momentum": 0.9})  # far too large for Rosenbrock: diverges
    window.runs_panel.select(1)
    panel = window.insight.step_panel
    refresh_insight(qtbot, window)
    assert "λmax =" in panel.start_label.text() and "2(1+β)/λmax" in panel.start_label.text()
    assert "✗ overshoots" in panel.start_label.text()
    run_to_end(qtbot, window)
    wait_idle(qtbot, window.insight, "diagnose")
    qtbot.waitUntil(lambda: window.insight.diagnoses is not None, timeout=10000)
    messages = window.insight.diagnoses[1]
    assert any("steps overshoot" in m for m in messages)
    assert "steps overshoot" in panel.messages.text()
    assert "steps overshoot" in window.runs_panel.table.topLevelItem(1).toolTip(0)


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
    assert window.session.buffers[scaled].status == "converged" and window.session.buffers[raw].status == "diverged"
    assert not any("overshoot" in m for m in insight.diagnoses[scaled])
    assert any("overshoot" in m for m in insight.diagnoses[raw])

    window.runs_panel.select(scaled)
    refresh_insight(qtbot, window)
    assert "✓ stable" in insight.step_panel.start_label.text()
    state = insight.state_panel  # plain GD: the effective rate of every coordinate is lr itself
    rates = [float(state.table.item(r, state.table.columnCount() - 1).text()) for r in range(state.table.rowCount())]
    assert np.allclose(rates, runs[scaled].hyper["lr"], rtol=1e-3)
    final = window.session.buffers[scaled].last()[-2:]  # (b, w) where the scaled run converged: the scaled loss's minimum
    qtbot.waitUntil(lambda: insight.critical.count("minimum") == 1, timeout=30000)
    star = insight.critical.points[0].point
    assert np.allclose([star["b"], star["w"]], final, atol=1e-4)

    window.runs_panel.select(raw)
    refresh_insight(qtbot, window)
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
        refresh_insight(qtbot, window)
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
