"""The sweeps dialog: learning-rate curves and lr × parameter heatmaps, computed off the GUI thread."""

from __future__ import annotations

import math
import threading

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from ..helpers import open_example


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
    # a real click on the third drawn point (its x is log10 lr on the log axis), once the view shows it: pyqtgraph
    # applies a new auto-range when it next paints, and a click mapped through the old range missed the curve
    vb = dialog.curve_item.vb
    target = QPointF(xs[2], dialog.curve_line.scatter.data["y"][2])
    qtbot.waitUntil(lambda: vb.viewRect().contains(target), timeout=10000)
    point = dialog.curve.mapFromScene(vb.mapViewToScene(target))
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


def test_a_64x64_rosenbrock_sweep_runs_off_the_gui_thread(qtbot, window, monkeypatch):
    """Where the work runs, not how fast: the speed (64×64 × 500 steps in < 2 s) and the GUI's stalls
    during it are measured in benchmarks/insight_benchmark.py, never asserted here."""
    import gdstudio.core.sweeps as sweeps  # (the dialog imports it when it computes: the engine loads after the window)

    threads = []
    original = sweeps.sweep_2d

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(sweeps, "sweep_2d", recorded)
    window.runs_panel.select(1)  # SGD with momentum on Rosenbrock
    dialog = window.insight.show_sweeps()
    qtbot.addWidget(dialog)
    dialog.steps.setValue(500)
    dialog.lr_low.setValue(1e-5)
    dialog.lr_high.setValue(1e-2)
    dialog.cells.setValue(64)
    dialog.compute()
    assert dialog.tasks.busy("sweep") and dialog.hover.text() == "computing…"  # compute() returned at once
    qtbot.waitUntil(dialog.done_computing, timeout=120000)
    assert dialog.sweep.final_loss.shape == (64, 64) and np.isfinite(dialog.sweep.final_loss).any()
    assert threads and threading.main_thread() not in threads
    dialog.close()
