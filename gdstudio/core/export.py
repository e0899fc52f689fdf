"""Trajectories as CSV: one row per recorded step, every number written exactly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .runner import RunProgress
from .trajectory import GRAD_NORM, LOSS, LR, PARAMS


def trajectories_csv(runs: Iterable[RunProgress]) -> str:
    """CSV text with columns run, step, loss, grad_norm, lr and one per variable (floats as repr,
    so reading them back gives the same bits). Very long runs list the rows they kept. The batch
    loss is not written: this is the format `gdstudio run --out` documents."""
    runs = list(runs)
    variables = runs[0].objective.variables if runs else ()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", "step", "loss", "grad_norm", "lr", *variables])
    for run in runs:
        for step, row in zip(run.trajectory.steps.tolist(), run.trajectory.rows.tolist()):
            writer.writerow([run.label, step, *map(repr, (row[LOSS], row[GRAD_NORM], row[LR], *row[PARAMS:]))])
    return buffer.getvalue()
