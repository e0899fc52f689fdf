"""Step-size diagnosis for the selected run: the Hessian's largest eigenvalue λmax and the largest stable
learning rate (2/λmax for GD, the momentum analogue for SGD) next to the run's lr, at its start and
at its current point; and, when runs end, what `diagnose_run` has to say about each."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from ..buffers import LR, PARAMS, RunBuffer
from .common import fmt

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective


def verdict(objective: Objective, point, lr: float, name: str, hyper: dict) -> str:
    """One line: λmax, the bound and whether lr is inside it."""
    from ...core.analysis import against_bound, stable_step  # (loaded with the objective)

    diag = stable_step(objective, point)
    if not math.isfinite(diag.lambda_max):
        return diag.unavailable or "Hessian undefined here"
    found = against_bound(diag, lr, name, hyper)
    head = f"λmax = {fmt(diag.lambda_max)}"
    if found is None:
        return f"{head}; {name} adapts its step (no fixed curvature bound)"
    relation, limit, formula = found
    if not math.isfinite(limit):
        return f"{head}; no upward curvature here: any lr is locally stable"
    mark = {"<": "✓ stable", ">": "✗ overshoots", "=": "on the edge"}[relation]
    return f"{head}; lr {fmt(lr)} {relation} {formula.split(' with ')[0]} = {fmt(limit)}  {mark}"


@dataclass(frozen=True)
class PointFacts:
    """What the live panels show of the selected run that needs its loss (Hessians, a gradient: over a big
    data set they take a while), computed in the insight pool; the panels only show it."""

    last: np.ndarray | None  # its latest row (None before it runs)
    steps_done: int
    at_start: str
    at_current: str
    delta: np.ndarray | None = None  # its last update Δθ (None unless the last two rows are one step apart)
    rate: np.ndarray | None = None  # −Δθ/g with g the gradient where the step was taken (nan for runs on batches)


def point_facts(objective: Objective, spec, hyper: dict, start, last: np.ndarray | None, before: np.ndarray | None,
                steps_done: int, batches: bool) -> PointFacts:
    """(any thread) The step-size verdicts at the start and the current point, and the last step's effective rate.
    `last`, `before`: copies of the run's last two rows (`before` only when they are one step apart)."""
    lr = float(hyper["lr"])
    now_lr = float(last[LR]) if last is not None and np.isfinite(last[LR]) else lr
    at_start = verdict(objective, start, lr, spec.optimizer, hyper)
    if last is not None and np.all(np.isfinite(last[PARAMS:])):
        where = ", ".join(fmt(v) for v in last[PARAMS:])
        at_current = f"({where}): " + verdict(objective, last[PARAMS:], now_lr, spec.optimizer, hyper)
    else:
        at_current = "run it to see (F5)" if last is None else "the run left the finite numbers"
    delta = rate = None
    if last is not None and before is not None:
        delta = last[PARAMS:] - before[PARAMS:]
        rate = np.full_like(delta, np.nan)
        if not batches:  # (a step on a batch used that batch's gradient, not the full-data one evaluated here)
            g = np.asarray(objective.grad(*before[PARAMS:]), dtype=np.float64).reshape(-1)
            rate = np.where(np.abs(g) > 0, -delta / np.where(g == 0, 1.0, g), np.nan)
    return PointFacts(last, steps_done, at_start, at_current, delta, rate)


def snapshot(buffer: RunBuffer) -> SimpleNamespace:
    """Read-only views of what diagnose_run reads, for a background thread. No copy (copying millions of
    rows stalled the GUI for 100+ ms): a finished run's buffer is never written again — the next run gets
    new buffers."""

    def frozen(array: np.ndarray) -> np.ndarray:
        view = array.view()
        view.flags.writeable = False
        return view

    t = buffer.trajectory
    return SimpleNamespace(params=frozen(t.params), loss=frozen(t.loss), grad_norm=frozen(t.grad_norm),
                           lr=frozen(t.lr), steps=frozen(t.steps))


def diagnose(losses: list[Objective | None], trajectories: list, specs: list, hypers: list,
             minima: tuple[Objective | None, list[float]]) -> list[list[str]]:
    """Each run against the loss it saw (scaled columns bound for a run that scales them) and the lowest
    value known on that loss: a minimum among the critical points (`minima`: the loss they are of, their
    values) or what any run on it reached, so a run stuck above it hears that better is reachable."""
    from ...core.analysis import diagnose_run, lowest_finite  # (loaded with the losses)

    reached = [lowest_finite(t.loss) if t is not None else None for t in trajectories]  # (once per run: they are long)

    def lowest(objective: Objective) -> float | None:
        known = list(minima[1]) if minima[0] is objective else []
        known += [low for o, low in zip(losses, reached) if o is objective and low is not None]
        return min(known, default=None)

    return [diagnose_run(o, t, spec.optimizer, hyper, best_loss=lowest(o)) if t is not None and o is not None else []
            for o, t, spec, hyper in zip(losses, trajectories, specs, hypers)]


class StepSizePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_label = QLabel(objectName="stepRun")
        self.lr_label = QLabel(objectName="stepLr")
        self.start_label = QLabel(objectName="stepAtStart")
        self.current_label = QLabel(objectName="stepAtCurrent")
        self.messages = QLabel(objectName="stepDiagnosis")
        for label in (self.start_label, self.current_label, self.messages, self.run_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("run", self.run_label)
        form.addRow("learning rate", self.lr_label)
        form.addRow("at the start", self.start_label)
        form.addRow("at the current point", self.current_label)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Diagnosis</b> (when a run ends)"))
        layout.addWidget(self.messages)
        layout.addStretch(1)
        self.note = QLabel("On a quadratic, plain GD multiplies the error along each eigen-direction by (1 − αλ): "
                           "it shrinks only while α < 2/λmax.")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: gray")
        layout.addWidget(self.note)

    def show_run(self, spec, hyper: dict | None, facts: PointFacts | None) -> None:
        if facts is None or spec is None:
            for label in (self.run_label, self.lr_label, self.start_label, self.current_label):
                label.setText("—")
            return
        self.run_label.setText(f"{spec.label} ({spec.optimizer})")
        lr = float(hyper["lr"])
        last = facts.last
        now_lr = float(last[LR]) if last is not None and np.isfinite(last[LR]) else lr
        self.lr_label.setText(fmt(lr) + (f" (now {fmt(now_lr)})" if not math.isclose(now_lr, lr) else ""))
        self.start_label.setText(facts.at_start)
        self.current_label.setText(facts.at_current)

    def show_messages(self, messages: list[str] | None) -> None:
        """The diagnosis of the selected run (None: it has not ended)."""
        if messages is None:
            self.messages.setText("—")
        else:
            self.messages.setText("\n".join(f"• {m}" for m in messages) if messages else "nothing unusual: no overshoot, "
                                  "oscillation or plateau")
