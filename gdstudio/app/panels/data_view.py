"""The data view: the scenario's points and, for every run in its colour, the model it
currently fits, moving live as the runs descend.

- The model (`data.model`, e.g. ``w*x + b``) uses one column: scatter of target against that
  column and each run's curve over a grid of it.
- It uses two columns (logistic regression on two blobs): scatter of the two columns, coloured
  by the target, and each run's decision boundary, where the model crosses 0.5.
- Otherwise (no model, or more columns): the points only.

A run that scales columns has parameters in scaled units: its model is evaluated on the scaled
grid (with the statistics of the whole data set, as `gdstudio.core.data.scale` computes them) and
drawn against the original values; a scaled target is mapped back. Items are created once per
set of runs; each frame only feeds them with `setData`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import contourpy
import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ...core.data import Dataset, scaling
from ...core.scenario import RunSpec, Scenario
from .. import engine
from ..buffers import PARAMS, RunBuffer
from ..objectives import data_model
from ..plots.points import Points
from ..plots.style import show_labels, themed_plot

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective

GRID = 200  # points of a model curve
BOUNDARY_GRID = 120  # cells per side of the grid a decision boundary is traced on
MAX_POINTS = 2000  # larger data sets are drawn as a seeded sample (what a plot this size can show)
CLASS_COLORS = ("#4c72b0", "#dd8452")
POINTS = "#78787896"  # the data's points when they have no class: translucent grey


def scaler(dataset: Dataset, how: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """core.data.scaling for the columns the data set has (a run may scale a column of older data)."""
    return scaling(dataset, {name: kind for name, kind in how.items() if name in dataset.columns})


@dataclass(frozen=True)
class Layout:
    mode: str  # "curve" | "boundary" | "points"
    x: str
    y: str | None  # the y-axis column ("curve": the target)
    target: str | None
    model: Objective | None
    inputs: tuple[str, ...]  # the columns the model reads
    params: tuple[str, ...]  # its other names: the runs' parameters


def choose_layout(scenario: Scenario) -> Layout | None:
    data = scenario.data
    if data is None:
        return None
    columns = data.dataset.columns
    target = data.target or ("y" if "y" in columns else columns[-1] if len(columns) > 1 else None)
    model = None
    if data.model and engine.loaded():  # (until then the points alone: DataView.engine_ready draws the model)
        model = data_model(data.model)  # (a model that does not parse: the points only)
    inputs = tuple(v for v in model.variables if v in columns) if model else ()
    params = tuple(v for v in model.variables if v not in columns) if model else ()
    others = [c for c in columns if c != target]
    if model is not None and len(inputs) == 1 and target is not None and inputs[0] != target:
        return Layout("curve", inputs[0], target, target, model, inputs, params)
    if model is not None and len(inputs) == 2:
        return Layout("boundary", inputs[0], inputs[1], target, model, inputs, params)
    if target is not None and others:
        return Layout("points", others[0], target, target, None, (), ())
    return Layout("points", columns[0], columns[1] if len(columns) > 1 else None, None, None, (), ())


def model_curve(layout: Layout, stats: Mapping[str, tuple[float, float]], values: Mapping[str, float],
                grid: np.ndarray) -> np.ndarray:
    """The model at `grid` (original units of the input column) for a run's parameter `values`; `stats`: the
    run's scaled columns (`scaler`)."""
    x = grid
    if layout.x in stats:
        offset, factor = stats[layout.x]
        x = (grid - offset) / factor
    args = [x if name == layout.x else float(values[name]) for name in layout.model.variables]
    y = np.broadcast_to(np.asarray(layout.model.loss(*args), dtype=np.float64), grid.shape).copy()
    if layout.target in stats:  # the run predicts a scaled target: back to original units
        offset, factor = stats[layout.target]
        y = y * factor + offset
    return y


def model_boundary(layout: Layout, stats: Mapping[str, tuple[float, float]], values: Mapping[str, float],
                   gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the model crosses 0.5 (in the target's units) over the grid gx × gy, as NaN-separated lines."""
    X, Y = np.meshgrid(gx, gy)
    grids = {layout.x: X, layout.y: Y}
    for name in (layout.x, layout.y):
        if name in stats:
            offset, factor = stats[name]
            grids[name] = (grids[name] - offset) / factor
    level = 0.5
    if layout.target in stats:
        offset, factor = stats[layout.target]
        level = (0.5 - offset) / factor
    args = [grids[name] if name in grids else float(values[name]) for name in layout.model.variables]
    z = np.broadcast_to(np.asarray(layout.model.loss(*args), dtype=np.float64), X.shape).copy()
    z[~np.isfinite(z)] = np.nan
    if not np.isfinite(z).any():
        return np.empty(0), np.empty(0)
    lines = contourpy.contour_generator(gx, gy, z).lines(level)
    if not lines:
        return np.empty(0), np.empty(0)
    joined = np.concatenate([np.vstack([line, [np.nan, np.nan]]) for line in lines])
    return joined[:, 0], joined[:, 1]


def _padded(low: float, high: float, pad: float = 0.05) -> tuple[float, float]:
    width = high - low or max(abs(low), 1.0)
    return low - pad * width, high + pad * width


class DataView(QWidget):
    """Scatter of the data and one model curve (or decision boundary) per run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = themed_plot()
        self.plot.setObjectName("dataPlot")
        self.item = self.plot.getPlotItem()
        base, text = QApplication.palette().color(QPalette.ColorRole.Base), QApplication.palette().color(QPalette.ColorRole.Text)
        base.setAlpha(170)  # the palette's own background, see-through: readable in light and dark themes
        self.item.addLegend(offset=(6, 6), labelTextSize="8pt", brush=pg.mkBrush(base), labelTextColor=text, verSpacing=-6)
        self.note = QLabel(objectName="dataNote", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note.setContentsMargins(6, 2, 6, 2)
        self.setMinimumHeight(240)  # enough to read the points and the fits beside other docks
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)
        self.scatter = Points(size=6)
        self.scatter.setZValue(1)
        self.item.addItem(self.scatter)
        self.scenario: Scenario | None = None
        self.layout_: Layout | None = None
        self.grid = np.empty(0)
        self.grid_y = np.empty(0)
        self.curves: list[pg.PlotDataItem] = []
        self._buffers: list[RunBuffer] = []
        self._specs: tuple[RunSpec, ...] = ()
        self._drawn: list[object] = []
        self._made: tuple[list[str], list[str]] = ([], [])  # the labels and colours the curves were made for
        self._scalings: dict[tuple, dict[str, tuple[float, float]]] = {}  # the data's, by how a run scales it

    # -- what is shown ----------------------------------------------------------------
    def engine_ready(self) -> None:
        """The engine has loaded: draw the data's model if it was left out for want of it."""
        scenario = self.scenario
        if scenario is not None and scenario.data is not None and scenario.data.model:
            self.scenario = None
            self.set_scenario(scenario)

    def set_scenario(self, scenario: Scenario) -> None:
        """Points and layout for the scenario's data (cheap when the data did not change)."""
        old, new = self.scenario.data if self.scenario is not None else None, scenario.data
        same = self.scenario is not None and (old is None and new is None or old is not None and new is not None
                                              and old == new and old.dataset is new.dataset)
        self.scenario = scenario
        if same:
            return
        self.layout_ = layout = choose_layout(scenario)
        self._drawn = [None] * len(self.curves)
        self._scalings.clear()
        for curve in self.curves:
            curve.setData([], [])
        if layout is None:
            self.scatter.set_points(np.empty(0), np.empty(0), [POINTS])
            self.note.setText("No data. Data ▸ Generate… or Data ▸ Import CSV… adds a data set.")
            show_labels(self.item, bottom="", left="")
            return
        dataset = scenario.data.dataset
        shown = (np.sort(np.random.default_rng(0).choice(dataset.rows, MAX_POINTS, replace=False))
                 if dataset.rows > MAX_POINTS else np.arange(dataset.rows))  # (not a million indices to throw away)
        xs = dataset.column(layout.x)[shown]
        ys = dataset.column(layout.y)[shown] if layout.y else np.zeros_like(xs)
        if layout.mode == "boundary" and layout.target:
            classes = (dataset.column(layout.target)[shown] > 0.5).astype(np.intp)
            self.scatter.set_points(xs, ys, [color + "b0" for color in CLASS_COLORS[:2]], classes)
        else:
            self.scatter.set_points(xs, ys, [POINTS])
        x_range = _padded(*dataset.spans[layout.x])
        self.grid = np.linspace(*x_range, GRID if layout.mode == "curve" else BOUNDARY_GRID)
        self.grid_y = np.linspace(*_padded(*dataset.spans[layout.y]), BOUNDARY_GRID) if layout.y else np.empty(0)
        show_labels(self.item, bottom=layout.x, left=layout.y or "")
        sample = f" (showing {len(shown):,})" if len(shown) < dataset.rows else ""
        what = {"curve": f"model {scenario.data.model}",
                "boundary": f"decision boundary: {scenario.data.model} = 0.5",
                "points": "no model to draw (set data.model, e.g. \"w*x + b\")"}[layout.mode]
        self.note.setText(f"{dataset.rows:,} rows{sample} · columns {', '.join(dataset.columns)} · {what}")
        y_range = _padded(float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
        self.item.vb.setRange(xRange=x_range, yRange=y_range, padding=0)

    def set_runs(self, buffers: list[RunBuffer], colors: list[str], specs: tuple[RunSpec, ...]) -> bool:
        """New runs: one curve item per run, created here and only fed afterwards. Before a run has
        rows (no buffers yet) its curve shows the model at the run's start, when the start is given. At most one
        curve is made in a call (each, with its legend entry, took ~3 ms of the turn that showed the first lesson with
        data): False when the runs need more, for a later call."""
        labels = [specs[i].label if i < len(specs) else buffers[i].label for i in range(len(colors))]
        self._buffers, self._specs = buffers, tuple(specs)
        if self.layout_ is None:  # no data (the dock is hidden): no curves to make, nor to remove for every document
            labels, colors = [], []
        made = (labels, list(colors))
        if made == self._made:  # the same runs: keep the items
            self._drawn = [None] * len(colors)
            self.refresh()
            return True
        while len(self.curves) > len(colors):  # (PlotItem.removeItem takes it out of the legend too)
            self.item.removeItem(self.curves.pop())
        kept = len(self.curves)
        for i, (color, label) in enumerate(zip(colors, labels)):
            if i < len(self.curves):  # items are kept and restyled: a new item and its legend entry took ~8 ms
                curve = self.curves[i]
                curve.setPen(pg.mkPen(color, width=2.5))
                if curve.name() != label:
                    curve.opts["name"] = label
                    self.item.legend.getLabel(curve).setText(label)
                continue
            if len(self.curves) > kept:  # (one new curve a call)
                break
            curve = pg.PlotDataItem(pen=pg.mkPen(color, width=2.5), connect="finite", name=label)
            curve.setZValue(5 + i)
            self.item.addItem(curve)
            self.curves.append(curve)
        complete = len(self.curves) == len(colors)
        self._made = made if complete else None
        self.item.legend.update()  # (its swatches read the pens as they paint: restyled ones too)
        self._drawn = [None] * len(colors)
        self.refresh()
        return complete

    def _scaling(self, dataset: Dataset, how: Mapping[str, str]) -> dict[str, tuple[float, float]]:
        """`scaler`, once per data set and way of scaling it: over a million rows it took ~6 ms, for every frame
        of every scaled run."""
        key = tuple(sorted(how.items()))
        if key not in self._scalings:
            self._scalings[key] = scaler(dataset, how)
        return self._scalings[key]

    def refresh(self) -> None:
        """Called on the redraw timer: re-evaluate the model of runs that moved."""
        layout, scenario = self.layout_, self.scenario
        if layout is None or layout.model is None or scenario is None or scenario.data is None:
            return
        dataset = scenario.data.dataset
        for i, curve in enumerate(self.curves):
            buffer = self._buffers[i] if i < len(self._buffers) else None
            spec = self._specs[i] if i < len(self._specs) else None
            key = ("rows", id(buffer), buffer.version) if buffer is not None else ("start", id(spec))
            if self._drawn[i] == key:
                continue
            self._drawn[i] = key
            last = buffer.last() if buffer is not None else None
            if last is not None:
                values = dict(zip(buffer.variables, last[PARAMS:]))
            else:
                values = dict(spec.start) if spec is not None and buffer is None else {}
            if not values or any(p not in values for p in layout.params):
                self.curves[i].setData([], [])
                continue
            stats = self._scaling(dataset, self._specs[i].scale if i < len(self._specs) else {})
            try:
                if layout.mode == "curve":
                    self.curves[i].setData(self.grid, model_curve(layout, stats, values, self.grid))
                else:
                    self.curves[i].setData(*model_boundary(layout, stats, values, self.grid, self.grid_y))
            except (ValueError, TypeError, ArithmeticError):  # a model the numbers break: draw nothing for it
                self.curves[i].setData([], [])
