"""A run's loss curve: drawn on the plot's log axis, its values kept, far values clipped only in a view the person
fixed; the loss plot's menu holds the studio's controls, not pyqtgraph's data transforms."""

import json
import os
import subprocess
import sys

import numpy as np
import pyqtgraph as pg

from gdstudio.app.buffers import LOSS, PARAMS, RunBuffer
from gdstudio.app.plots.loss_curve import LossCurve
from gdstudio.app.plots.run_curve import RunCurve

from .helpers import HANG


def plot_with_curve(qtbot, limit: float | None = None) -> tuple[pg.PlotWidget, RunCurve]:
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    curve = RunCurve(pg.mkPen("r"), "a run", limit)
    widget.getPlotItem().addItem(curve)
    return widget, curve


def test_on_a_log_axis_the_curve_draws_the_logarithm_and_keeps_the_values(qtbot):
    widget, curve = plot_with_curve(qtbot)
    x, y = np.arange(4.0), np.array([1.0, 10.0, np.nan, 1000.0])
    curve.feed(x, y)
    assert np.array_equal(curve.getData()[1], y, equal_nan=True)
    widget.getPlotItem().setLogMode(y=True)  # (the plot tells its items)
    assert np.array_equal(curve.getData()[1], [0.0, 1.0, np.nan, 3.0], equal_nan=True)
    original = curve.getOriginalDataset()
    assert np.array_equal(original[0], x) and np.array_equal(original[1], y, equal_nan=True)
    widget.getPlotItem().setLogMode(y=False)
    assert np.array_equal(curve.getData()[1], y, equal_nan=True)


def test_values_without_a_logarithm_become_gaps_when_the_axis_turns_logarithmic(qtbot):
    widget, curve = plot_with_curve(qtbot)
    curve.feed(np.arange(3.0), np.array([-1.0, 0.0, 100.0]))  # (warnings are errors here: none is raised)
    widget.getPlotItem().setLogMode(y=True)
    assert np.array_equal(curve.getData()[1], [np.nan, np.nan, 2.0], equal_nan=True)


def test_far_values_are_clipped_only_in_a_view_the_person_fixed(qtbot):
    widget, curve = plot_with_curve(qtbot, limit=1e6)
    widget.getPlotItem().setYRange(0, 1, padding=0)
    curve.feed(np.arange(3.0), np.array([0.5, 1e300, -1e300]))
    low, high = widget.getPlotItem().vb.viewRange()[1]
    height = high - low
    shown = curve.getData()[1]
    assert shown[0] == 0.5 and low + 1e6 * height <= shown[1] <= high + 1.01e6 * height
    assert low - 1.01e6 * height <= shown[2] <= low - 1e6 * height
    widget.getPlotItem().setYRange(0, 100, padding=0)  # a taller view: room for further values
    assert curve.getData()[1][1] > 1e6 * 99
    curve.setDynamicRangeLimit(None)  # the view follows every value again
    assert curve.getData()[1][1] == 1e300
    assert curve.getOriginalDataset()[1][1] == 1e300


def test_the_loss_plot_feeds_its_curves_the_decimated_log_values(qtbot):
    loss = LossCurve()
    qtbot.addWidget(loss)
    buffer = RunBuffer("a", ("x",))
    loss.set_runs([buffer], ["#1f77b4"])
    rows = np.ones((5, PARAMS + 1))
    rows[:, LOSS] = 10.0 ** -np.arange(5.0)
    buffer.extend(rows)
    loss.refresh()
    xs, ys = loss.curves[0].getData()
    assert np.array_equal(xs, np.arange(5.0)) and np.allclose(ys, -np.arange(5.0))
    assert np.allclose(loss.curves[0].getOriginalDataset()[1], 10.0 ** -np.arange(5.0))


def test_plots_offer_no_plot_options_menu_but_keep_their_view_menu(qtbot):
    loss = LossCurve()
    qtbot.addWidget(loss)
    assert loss.item.getContextMenus(None) is None
    assert loss.item.vb.menuEnabled()



EXPORT = """
import json, numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from pyqtgraph.exporters import MatplotlibExporter
from gdstudio.app.buffers import LOSS, PARAMS, RunBuffer
from gdstudio.app.plots.loss_curve import LossCurve
loss, buffer = LossCurve(), RunBuffer("a", ("x",))
loss.set_runs([buffer], ["#1f77b4"])
rows = np.ones((3, PARAMS + 1))
rows[:, LOSS] = [1.0, 0.1, 0.01]
buffer.extend(rows)
loss.refresh()
import pyqtgraph as pg
from gdstudio.app.plots.style import Curve
path = pg.PlotWidget()
path.addItem(Curve(np.array([0.0, 1.0]), np.array([1.0, 2.0]), pen="r"))  # (a path on the landscape, a race's)
drawn = []
for item in (loss.item, path.getPlotItem()):
    MatplotlibExporter(item).export()
    drawn += [list(map(float, line.get_ydata())) for line in MatplotlibExporter.windows[-1].getFigure().axes[0].lines]
print(json.dumps(drawn))
"""


def test_the_export_menu_writes_the_values_and_draws_the_curves_with_matplotlib(qtbot, tmp_path):
    """pyqtgraph's exporters (a plot's Export… menu) read its curves as they read data items: the values to a file,
    the curves as drawn, the landscape's paths too, to a Matplotlib window (in a process of its own: the window's
    teardown under pytest-qt left the loss plot's legend to the garbage collector)."""
    from pyqtgraph.exporters import CSVExporter

    loss = LossCurve()
    qtbot.addWidget(loss)
    buffer = RunBuffer("a", ("x",))
    loss.set_runs([buffer], ["#1f77b4"])
    rows = np.ones((3, PARAMS + 1))
    rows[:, LOSS] = [1.0, 0.1, 0.01]
    buffer.extend(rows)
    loss.refresh()
    CSVExporter(loss.item).export(str(tmp_path / "loss.csv"))
    lines = (tmp_path / "loss.csv").read_text().splitlines()
    assert lines[0].startswith("a_x,a_y") and [float(v) for v in lines[3].split(",")[:2]] == [2.0, 0.01]
    done = subprocess.run([sys.executable, "-c", EXPORT], capture_output=True, text=True, timeout=HANG,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[0.0, -1.0, -2.0], [1.0, 2.0]]  # (loss: as drawn, log)
