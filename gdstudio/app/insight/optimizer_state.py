"""The selected run's optimizer state, live: its buffers per variable (Adam's m and v, the momentum
buffer, Adagrad's sum, ...), the last step and the effective per-coordinate rate −Δθᵢ/gᵢ, and an
arrow on the contour for the velocity (the direction the momentum buffer pushes the next step).

The buffers arrive as copies from the worker thread (`RunController.kernel_state`), never read
from the runner itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QCheckBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ...core.optimizers import optimizer
from ..buffers import PARAMS
from .common import fmt
from .step_size import PointFacts

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective

# the buffer whose negative is the direction of the next step, and what to call it
VELOCITY = {"sgd": ("momentum_buffer", "velocity b"), "rmsprop": ("momentum_buffer", "momentum buffer"),
            "adam": ("exp_avg", "first moment m"), "adamw": ("exp_avg", "first moment m"),
            "nadam": ("exp_avg", "first moment m"), "adamax": ("exp_avg", "first moment m"),
            "radam": ("exp_avg", "first moment m")}
PRETTY = {"exp_avg": "m (exp_avg)", "exp_avg_sq": "v (exp_avg_sq)", "max_exp_avg_sq": "max v", "momentum_buffer": "b (momentum)",
          "sum": "s (sum g²)", "square_avg": "v (square_avg)", "grad_avg": "grad_avg", "acc_delta": "u (acc_delta)",
          "exp_inf": "u (exp_inf)", "mu_product": "μ product"}
# buffers an optimizer keeps only when a setting is on (AMSGrad's max v, centred RMSprop's mean g, the momentum buffer)
USED_WHEN = {"max_exp_avg_sq": "amsgrad", "grad_avg": "centered", "momentum_buffer": "momentum"}


def used_state(name: str, hyper: dict | None) -> list[int]:
    """The rows of the optimizer's state its settings use: unused buffers stay zero and only confuse."""
    hyper = hyper or {}
    return [k for k, n in enumerate(optimizer(name).state) if n not in USED_WHEN or bool(hyper.get(USED_WHEN[n], True))]


def on_batches(spec, objective: Objective) -> bool:
    """Whether the run's steps use the gradient of a batch of rows (SGD, mini-batch), not of all of them."""
    return bool(spec.batch_size) and objective.data is not None and spec.batch_size < objective.data.shape[1]


def velocity(name: str, state: np.ndarray, hyper: dict) -> np.ndarray | None:
    """The velocity-like buffer (as a step direction, i.e. negated), or None for optimizers without one."""
    entry = VELOCITY.get(name)
    if entry is None:
        return None
    if name in ("sgd", "rmsprop") and not float(hyper.get("momentum", 0.0)):
        return None
    row = optimizer(name).state.index(entry[0])
    return -np.asarray(state[row], dtype=np.float64)


class OptimizerStatePanel(QWidget):
    def __init__(self, landscape, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.landscape = landscape
        self.title = QLabel(objectName="stateTitle")
        self.title.setWordWrap(True)
        self.table = QTableWidget(objectName="stateTable")
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.arrow_box = QCheckBox("velocity arrow on the contour", checked=True, objectName="velocityArrow")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.arrow_box)
        self.line = landscape.add_overlay(pg.PlotDataItem(pen=pg.mkPen("#00e5ff", width=2.5)), 30)
        self.head = landscape.add_overlay(pg.ArrowItem(headLen=14, tipAngle=35, pen=pg.mkPen("#00e5ff"),
                                                       brush=pg.mkBrush("#00e5ff")), 31)
        self.head.setVisible(False)
        self.arrow_box.toggled.connect(lambda on: on or self._hide_arrow())
        self.shown: dict[str, np.ndarray] = {}  # what the table shows (tests)

    def _hide_arrow(self) -> None:
        self.line.setData([], [])
        self.head.setVisible(False)

    def show_state(self, objective: Objective | None, spec, hyper: dict | None, facts: PointFacts | None,
                   state: np.ndarray | None) -> None:
        if objective is None or spec is None or facts is None:
            self.title.setText("no run selected")
            self.table.setRowCount(0)
            self._hide_arrow()
            return
        info = optimizer(spec.optimizer)
        rows = used_state(spec.optimizer, hyper)
        names = [info.state[k] for k in rows]
        variables = objective.variables
        last = facts.last
        step_text = f" at step {facts.steps_done:,}" if last is not None else ""
        if state is None or last is None:
            self.title.setText(f"{spec.label} ({spec.optimizer}): run it to see its state (F5)")
        elif not names:
            self.title.setText(f"{spec.label} ({spec.optimizer}){step_text}: keeps no state; each step uses only the "
                               "current gradient")
        else:
            self.title.setText(f"{spec.label} ({spec.optimizer}){step_text}: {info.formula}")
        columns = [PRETTY.get(n, n) for n in names] + ["last step Δθ", "effective rate −Δθ/g"]
        self.table.setColumnCount(1 + len(columns))
        self.table.setHorizontalHeaderLabels(["", *columns])
        self.table.setRowCount(len(variables))
        self.shown = {}
        if on_batches(spec, objective):  # its steps used a batch's gradient, not the full-data one we can evaluate
            self.title.setText(self.title.text() + " — no effective rate: each step used one batch's gradient")
        for r, name in enumerate(variables):
            values = []
            if state is not None and last is not None:
                values = [float(state[k, r]) for k in rows]
            values += [facts.delta[r], facts.rate[r]] if facts.delta is not None else [math.nan, math.nan]
            self.table.setItem(r, 0, QTableWidgetItem(name))
            for c, value in enumerate(values):
                self.table.setItem(r, 1 + c, QTableWidgetItem(fmt(value) if math.isfinite(value) else "—"))
        if state is not None and last is not None:
            for k, n in zip(rows, names):
                self.shown[n] = np.array(state[k, : len(variables)])
        self._arrow(spec, hyper, last, state, variables)

    def _arrow(self, spec, hyper, last, state, variables) -> None:
        axes = self.landscape.axes()
        v = velocity(spec.optimizer, state, hyper) if state is not None else None
        if (not self.arrow_box.isChecked() or v is None or last is None or len(axes) != 2 or not np.all(np.isfinite(v))
                or any(a not in variables for a in axes)):  # (a new loss is drawn before the document has it)
            self._hide_arrow()
            return
        i, j = variables.index(axes[0]), variables.index(axes[1])
        x, y = float(last[PARAMS + i]), float(last[PARAMS + j])
        vx, vy = float(v[i]), float(v[j])
        norm = math.hypot(vx, vy)
        if norm == 0 or not (math.isfinite(x) and math.isfinite(y)):
            self._hide_arrow()
            return
        (x0, x1), (y0, y1) = self.landscape.vb.viewRange()
        length = 0.12 * math.hypot(x1 - x0, y1 - y0)  # a direction: a fixed length that reads well at any zoom
        tx, ty = x + vx / norm * length, y + vy / norm * length
        self.line.setData([x, tx], [y, ty])
        # ArrowItem's angle is in screen degrees (0 = pointing left); screen y is flipped
        d = self.landscape.vb.mapViewToScene(QPointF(tx, ty)) - self.landscape.vb.mapViewToScene(QPointF(x, y))
        sx, sy = d.x(), d.y()
        self.head.setStyle(angle=math.degrees(math.atan2(sy, sx)) + 180)
        self.head.setPos(tx, ty)
        self.head.setVisible(True)
        self.head.setToolTip(f"direction of the {VELOCITY[spec.optimizer][1]}: ({fmt(vx)}, {fmt(vy)}) (negated: where it pushes)")
