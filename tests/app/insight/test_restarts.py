"""Random restarts: seeded starts and where they end."""

from __future__ import annotations

import numpy as np

from ..helpers import open_example


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


def test_restarts_on_one_variable_sit_on_the_curve(qtbot, window):
    open_example(qtbot, window, "01_")
    assert window.session.objective.variables == ("x",)
    window.insight.restarts_action.trigger()
    qtbot.waitUntil(lambda: window.insight.restarts.result is not None, timeout=60000)
    pos = window.insight.restarts.starts.getData()
    assert len(pos[0]) == len(window.insight.restarts.result.starts)
    assert np.allclose(pos[1], pos[0] ** 2)  # f(x) = x²
    text = window.palette().color(window.palette().ColorRole.Text)
    assert window.insight.restarts.starts.opts["pen"].color().rgb() == text.rgb()  # not white on the white background
