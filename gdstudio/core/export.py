"""Trajectories as CSV: one row per recorded step, every number written exactly.

The header and the rows are separate pieces, so `gdstudio run --out` can stream each chunk of rows
to the file as the runs advance, and the studio can write what it recorded: the same bytes either way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from .trajectory import GRAD_NORM, LOSS, LR, PARAMS

if TYPE_CHECKING:  # (the studio writes its runs without loading the engine's runner)
    from .runner import RunProgress


def csv_header(variables: Iterable[str]) -> str:
    """The first line: run, step, loss, grad_norm, lr and one column per variable."""
    return _csv_line(["run", "step", "loss", "grad_norm", "lr", *variables])


def csv_rows(label: str, steps: Iterable[int], rows: np.ndarray) -> str:
    """Lines for rows of one run (trajectory layout) recorded at `steps`: floats as repr, so reading them
    back gives the same bits; the batch loss is not written. The label is quoted as csv quotes it, the
    numbers never need quoting; one f-string per row is several times faster than csv.writer here."""
    prefix = _csv_line([label, ""])[:-1]  # "label," (a lone empty field would be quoted, so with a second one)
    columns = rows[:, [LOSS, GRAD_NORM, LR, *range(PARAMS, rows.shape[1])]].tolist()
    return "".join([f"{prefix}{step},{','.join(map(repr, values))}\n" for step, values in zip(steps, columns)])


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def trajectories_csv(runs: Iterable[RunProgress]) -> str:
    """CSV text with columns run, step, loss, grad_norm, lr and one per variable, for runs that kept
    their rows (very long ones list the rows they kept). This is the format `gdstudio run --out`
    documents; it streams the same lines (csv_header, csv_rows) with every step."""
    runs = list(runs)
    variables = runs[0].objective.variables if runs else ()
    parts = [csv_header(variables)]
    for run in runs:
        parts.append(csv_rows(run.label, run.trajectory.steps.tolist(), run.trajectory.rows))
    return "".join(parts)
