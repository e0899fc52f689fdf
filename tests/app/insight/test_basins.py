"""Basins of attraction: where each start ends, coloured by minimum."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gdstudio.app.insight.basins import COLORS, GREY
from gdstudio.core.sweeps import DIVERGED, UNRESOLVED

from ..helpers import open_example, type_loss, wait_idle


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


def test_basins_turn_off_for_a_loss_of_one_variable(qtbot, window):
    insight = window.insight
    insight.basins_grid.setValue(8)
    insight.basins_action.setChecked(True)
    wait_idle(qtbot, insight, "basins", 60000)
    type_loss(qtbot, window, "x^4 - 3*x^2 + x")
    qtbot.waitUntil(lambda: window.session.objective.variables == ("x",))
    assert not insight.basins_action.isChecked() and not insight.basins.enabled
    assert "need a loss of two or more variables" in window.statusBar().currentMessage()
