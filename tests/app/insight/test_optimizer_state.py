"""The optimizer's state: its buffers and the velocity arrow."""

from __future__ import annotations

import numpy as np

from ..helpers import refresh_insight, run_to_end, type_loss, wait_idle


def test_optimizer_state_of_adam_and_the_velocity_arrow(qtbot, window):
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=200))
    window.runs_panel.select(0)  # Adam
    run_to_end(qtbot, window)
    insight = window.insight
    qtbot.waitUntil(lambda: 0 in insight.states, timeout=10000)
    refresh_insight(qtbot, window)
    panel = insight.state_panel
    assert set(panel.shown) == {"exp_avg", "exp_avg_sq"}  # no AMSGrad: its max v is not in use, not shown
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers == ["", "m (exp_avg)", "v (exp_avg_sq)", "last step Δθ", "effective rate −Δθ/g"]
    assert panel.table.rowCount() == 2 and panel.table.horizontalHeaderItem(1).text() == "m (exp_avg)"
    assert np.all(panel.shown["exp_avg_sq"] > 0)
    assert panel.head.isVisible()
    window.runs_panel.select(1)  # SGD with momentum: the velocity buffer
    refresh_insight(qtbot, window)
    assert set(panel.shown) == {"momentum_buffer"} and panel.head.isVisible()


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


def test_the_velocity_arrow_follows_a_change_of_axes(qtbot, window):
    type_loss(qtbot, window, "(a - 1)^2 + 2*(b + 1)^2 + 3*(c - 0.5)^2")
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=30))
    window.runs_panel.select(1)  # SGD with momentum
    run_to_end(qtbot, window)
    insight = window.insight
    qtbot.waitUntil(lambda: 1 in insight.states, timeout=10000)
    refresh_insight(qtbot, window)
    a, b, c = window.session.buffers[1].last()[-3:]
    assert insight.state_panel.line.getData()[1][0] == b
    combo = window.landscape.y_axis
    combo.setCurrentText("c")
    combo.activated.emit(combo.currentIndex())
    assert window.landscape.axes() == ("a", "c")
    wait_idle(qtbot, insight, "panels")
    xs, ys = insight.state_panel.line.getData()
    assert (xs[0], ys[0]) == (a, c)
