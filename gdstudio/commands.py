"""The headless commands behind `gdstudio run`, `derive`, `critical` and `sweep` (`animate`: animate_command.py):
each returns the text (or JSON-ready dict) to print, and reports bad input as a UserError in one line.

Argument parsing, signals and exit codes are cli.py's; this module does the work and says, in an
interrupt, how far it got.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .core.numbers import parse_float, parse_whole

MAX_LINE = 300  # characters of an error: or warning: line (50,000 stray arguments make no megabyte line)
CHUNK_SECONDS = 0.1  # kernel time per chunk of `run`: Ctrl+C is obeyed between chunks (the kernel runs no Python)
CHUNK_BYTES = 2 << 20  # and at most this many bytes of rows per chunk: the memory `run` needs however long its runs
SWEEP_SECONDS = 60.0  # what a sweep may cost, as sweep_seconds estimates it before it starts


class UserError(Exception):
    """Bad input from the person at the keyboard: reported in one line, exit code 2."""


@contextmanager
def interrupt_says(where: Callable[[], str]) -> Iterator[None]:
    """An interrupt inside the block carries where() (which run, which step) to main's one line."""
    try:
        yield
    except KeyboardInterrupt as stop:
        if not getattr(stop, "where", ""):
            stop.where = f" {where()}"  # type: ignore[attr-defined]
        raise


def say(text: str) -> None:
    """One line on stderr, printable and at most MAX_LINE characters: the one place error and warning
    lines are shortened, whatever a stranger's file or 50,000 stray arguments put into them."""
    line = printable(text)
    if len(line) > MAX_LINE:
        line = line[: MAX_LINE - 1] + "…"
    print(line, file=sys.stderr)


def _warn(source: str, text: str) -> None:
    say(f"warning: {source}: {text}")


def _warn_objective(source: str, objective: object) -> list[str]:
    """The loss's own warnings (a mean(...) over no data column, ...), printed; also returned for JSON."""
    warnings = list(getattr(objective, "warnings", ()) or ())
    for warning in warnings:
        _warn(source, warning)
    return warnings


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def parse_number(text: str, what: str = "", whole: bool = False) -> float:
    """numbers.parse_float / parse_whole, the one rule for numbers (no '٣', '５' or '1_000'), as a UserError."""
    try:
        return parse_whole(text) if whole else parse_float(text)
    except ValueError as error:
        raise UserError(f"{what}{': ' if what else ''}{error}, got {text.strip()!r}") from None


def _parse_point(text: str, variables: tuple[str, ...]) -> list[float]:
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or name not in variables:
            raise UserError(f"--at: expected name=value for the variables {', '.join(variables)}, got {part!r}")
        if name in values:
            raise UserError(f"--at: {name} is given twice")
        values[name] = parse_number(number, f"--at: {name}")
    missing = [v for v in variables if v not in values]
    if missing:
        raise UserError(f"--at: no value for {', '.join(missing)}")
    return [values[v] for v in variables]


def _typed_loss(expression: str):
    """The loss typed on the command line, and its warnings (said on stderr): a bad one is one error line,
    said before SymPy is imported when the grammar alone refuses it (a tenth of a second, not half a second)."""
    from .core.errors import ExpressionError
    from .core.syntax import check_loss

    try:
        check_loss(expression)
        from .core.expression import parse_objective
        objective = parse_objective(expression)
    except ExpressionError as error:
        raise UserError(str(error)) from None
    return objective, _warn_objective("loss", objective)


def derive(expression: str, at: str | None) -> dict:
    objective, warnings = _typed_loss(expression)
    from .core.expression import HessianUnavailable
    result: dict = {
        "variables": list(objective.variables),
        "loss": str(objective.expr),
        "gradient": [str(g) for g in objective.gradient],
    }
    try:  # a refused Hessian (too large) is omitted, with a warning: the gradient still stands
        result["hessian"] = [[str(h) for h in row] for row in objective.hessian]
    except HessianUnavailable as error:
        result["hessian"] = None
        _warn("hessian omitted", error.message)
    if warnings:
        result["warnings"] = warnings
    if at is not None:
        point = _parse_point(at, objective.variables)
        result["at"] = {
            "loss": _finite(float(objective.loss(*point))),
            "gradient": [_finite(float(v)) for v in objective.grad(*point)],
            "hessian": None if result["hessian"] is None else [[_finite(float(v)) for v in row] for row in objective.hess(*point)],
        }
    return result


def _load(path: str):
    """The scenario and its loss; a file that cannot be read, or whose loss the grammar refuses, is one error line
    before SymPy is imported."""
    from .core.errors import ExpressionError
    from .core.scenario import ScenarioError, load
    from .core.syntax import check_loss

    if not path.strip():
        raise UserError("the scenario file name is empty")
    try:
        scenario = load(path)
        data = scenario.data.dataset if scenario.data else None
        check_loss(scenario.loss, scenario.variables, data.columns if data else ())  # as scenario_objective parses it
        from .core.plan import scenario_objective
        objective = scenario_objective(scenario)
    except ScenarioError as error:
        raise UserError("; ".join(f"{error.source}: {p}" for p in error.problems)) from None
    except ExpressionError as error:
        raise UserError(f"{path}: loss: {error}") from None
    _warn_objective(path, objective)
    return scenario, objective


def _start_typos(scenario, variables: tuple[str, ...]) -> list[str]:
    """Runs whose start names something that is no variable while a variable has no start: most likely a
    typo (X for x), which would quietly start at a random point. (Other starts of no variable are fine:
    the studio keeps a run's starts for the losses it had before.)"""
    found = []
    for index, spec in enumerate(scenario.runs):
        unknown = [k for k in spec.start if k not in variables]
        random = [v for v in variables if v not in spec.start]
        if unknown and random:
            found.append(f"runs[{index}].start: {', '.join(unknown)} {'is no variable' if len(unknown) == 1 else 'are no variables'} "
                         f"of the loss ({', '.join(variables)}), so {', '.join(random)} "
                         f"start{'s' if len(random) == 1 else ''} at a seeded random point")
    return found


def run(path: str, out: str | None, as_json: bool, max_steps: int | None) -> str:
    """Run every run of a scenario to its end; with `out`, stream every step of every run to that CSV."""
    if out is not None and not out.strip():
        raise UserError("--out: the file name is empty")
    scenario, objective = _load(path)
    from .core.runner import ScenarioRunner
    for warning in _start_typos(scenario, objective.variables):
        _warn(path, warning)
    if out is not None:
        _refuse_inputs(out, path, scenario)
    try:
        runner = ScenarioRunner(scenario, objective, max_steps=max_steps, keep_rows=False)
        if out is None:
            _advance(runner)
        else:
            _write_csv(runner, out)
    except ValueError as error:  # a run the file describes but the engine cannot start
        raise UserError(f"{path}: {error}") from None
    summary = [_summary(r) for r in runner.runs]
    if as_json:
        return json.dumps({"runs": summary}, indent=2)  # ASCII escapes: valid JSON whatever the console's encoding
    lines = [f"{printable(scenario.name)}: {scenario.loss}"]
    for item in summary:
        loss = "n/a" if item["final_loss"] is None else f"{item['final_loss']:.6g}"
        lines.append(f"  {printable(item['label'])} ({item['optimizer']}): {item['status']} after {item['steps']} steps, "
                     f"loss {loss} — {item['reason']}")
    return "\n".join(lines)


def _summary(run) -> dict:
    """How a run ended, from its last row (the runner keeps no other)."""
    from .core.trajectory import LOSS, PARAMS

    row = run.last_row
    return {
        "label": run.label,
        "optimizer": run.spec.optimizer,
        "steps": run.steps,
        "status": run.status,
        "reason": run.reason,
        "final_loss": None if row is None else _finite(float(row[LOSS])),
        "final": {} if row is None else {k: _finite(float(v)) for k, v in zip(run.objective.variables, row[PARAMS:])},
    }


def _advance(runner, sink: Callable[[object, object], None] | None = None) -> None:
    """Every run to its end, one after another (they are independent: the same numbers as side by side,
    in the order the CSV lists them), handing each chunk to sink(run, chunk). Chunks take about
    CHUNK_SECONDS of kernel time, so Ctrl+C is obeyed within a second, and hold at most CHUNK_BYTES of rows."""
    from .core.trajectory import PARAMS

    most = max(1, CHUNK_BYTES // (8 * (PARAMS + runner.objective.dimension)))
    per_step = 1e-4  # seconds per step, learned as the runs go (the first chunk may include compiling)
    for run in runner.runs:
        where = lambda run=run: f"at step {run.steps} of run {run.index + 1} of {len(runner.runs)} ({run.label})"
        with interrupt_says(where):
            while not run.done:
                began = time.perf_counter()
                chunk = run.advance(int(min(most, max(1, CHUNK_SECONDS / per_step))))
                if len(chunk.rows):  # the next chunk grows at most 4x
                    per_step = max(0.5 * per_step + 0.5 * (time.perf_counter() - began) / len(chunk.rows), per_step / 4)
                if sink is not None:
                    sink(run, chunk)


def _write_csv(runner, out: str) -> None:
    """Stream every step of every run to `out` (see _output): chunk by chunk, nothing kept."""
    from .core.export import csv_header, csv_rows

    def write(run, chunk) -> None:
        stream.write(csv_rows(run.label, range(chunk.first_step, chunk.first_step + len(chunk.rows)), chunk.rows))

    try:
        with _output(out) as stream:
            stream.write(csv_header(runner.objective.variables))
            _advance(runner, write)
    except KeyboardInterrupt as stop:
        stop.where = f"{getattr(stop, 'where', '')}; {out} was not written"  # type: ignore[attr-defined]
        raise
    except OSError as error:
        raise UserError(f"--out: cannot write {out}: {error.strerror or error}") from None


@contextmanager
def _output(out: str) -> Iterator[TextIO]:
    """--out's stream. A file (new or old) is written beside itself and renamed over the old one only
    once every row is in (fileio.atomic_writer): a full disk, a size limit, an error, Ctrl+C or SIGTERM
    leave the old file exactly as it was. A symbolic link is followed, so the file it names is replaced
    and the link stays. A device or a pipe (/dev/stdout, a FIFO) is written directly: renaming onto it
    would replace the device itself."""
    from .core.fileio import atomic_writer

    target = Path(os.path.realpath(out))
    if target.is_dir():
        raise UserError(f"--out: {out} is a folder")
    if target.exists() and not target.is_file():
        with open(target, "w", encoding="utf-8", newline="") as stream:
            yield stream
    else:
        with atomic_writer(target) as stream:
            yield stream


def _refuse_inputs(out: str, path: str, scenario) -> None:
    """--out must not replace what the run reads: the scenario file or its CSV data, however spelt
    (another path, a symbolic or a hard link: same device and inode)."""
    inputs = [("the scenario file", Path(path))]
    data = scenario.data.source.get("csv") if scenario.data else None
    if data:
        inputs.append(("the scenario's data file", Path(path).parent / data))
    for what, source in inputs:
        try:
            same = os.path.samefile(out, source)
        except (OSError, ValueError):  # out does not exist yet (or no such path can): it is no input
            same = False
        if same:
            raise UserError(f"--out: {out} is {what}; write the CSV to another file")


def critical(expression: str, view: str | None) -> dict:
    """Stationary points of a loss in a view, classified by the Hessian's eigenvalues."""
    objective, warnings = _typed_loss(expression)
    from .core.analysis import critical_points
    from .core.expression import ExpressionError
    ranges = _parse_view(view, objective.variables) if view else None
    try:
        points = critical_points(objective, ranges)
    except ExpressionError as error:  # HessianUnavailable: too many variables, or a Hessian too large
        raise UserError(str(error)) from None
    except ValueError as error:
        raise UserError(f"--view: {error}") from None
    result = {"variables": list(objective.variables),
              "points": [{"kind": p.kind, "point": p.point, "loss": _finite(p.loss), "eigenvalues": list(p.eigenvalues)}
                         for p in points]}
    return result | ({"warnings": warnings} if warnings else {})


def _parse_view(text: str, variables: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    view: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, span = part.partition("=")
        low, colon, high = span.partition(":")
        if not (sep and colon) or name.strip() not in variables:
            raise UserError(f"--view: expected name=low:high for the variables {', '.join(variables)}, got {part!r}")
        view[name.strip()] = (parse_number(low, f"--view: {name.strip()}"), parse_number(high, f"--view: {name.strip()}"))
        low_value, high_value = view[name.strip()]
        if not (low_value < high_value and math.isfinite(high_value - low_value)):
            raise UserError(f"--view: {name.strip()} needs finite low < high with a width a float can hold, got {part!r}")
    return view


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} s"


def sweep(path: str, run_index: int, low: float, high: float, count: int, max_steps: int | None = None) -> str:
    """Final loss and outcome of one run of a scenario over log-spaced learning rates."""
    scenario, objective = _load(path)
    from .core.plan import scenario_plan, start_point
    from .core.sweeps import log_rates, lr_sweep, sweep_chunk, sweep_seconds
    if not 0 <= run_index < len(scenario.runs):
        raise UserError(f"--run: the scenario has {len(scenario.runs)} runs, numbered from 0")
    spec = scenario.runs[run_index]
    if not 0 < low < high < math.inf or not 2 <= count <= 10_000:
        raise UserError("--lr: expected low:high:count with 0 < low < high < inf and 2 <= count <= 10000")
    stop = scenario.stop if max_steps is None else replace(scenario.stop, max_steps=max_steps)
    try:
        plan = scenario_plan(scenario, spec, objective, stop)
    except ValueError as error:  # a run the file describes but the engine cannot start
        raise UserError(f"{path}: {error}") from None
    data = plan.objective.data
    rows = data.shape[1] if data is not None else 1  # a step over data costs a pass over its rows
    seconds = sweep_seconds(count, stop.max_steps + 1, rows, objective.dimension, plan.optimizer.needs_hessian)
    if seconds > SWEEP_SECONDS:
        cost = f" over {rows:,} rows" if data is not None else ""
        raise UserError(f"{count} rates × {stop.max_steps + 1:,} steps{cost} would take about {_duration(seconds)}, more than "
                        f"a sweep may ({SWEEP_SECONDS:.0f} s); pass a smaller --max-steps or fewer rates (--lr low:high:count)")
    done = [0, stop.max_steps + 1]

    def progress(steps: int, total: int) -> None:
        done[:] = steps, total

    with interrupt_says(lambda: f"at step {done[0]} of {done[1]} (all {count} rates together)"):
        try:
            result = lr_sweep(plan, start_point(spec, scenario, objective.variables), log_rates(low, high, count),
                              chunk_steps=sweep_chunk(count * rows), progress=progress)
        except ValueError as error:  # a run the engine cannot start (newton on a loss whose Hessian is refused)
            raise UserError(f"{path}: {error}") from None
    lines = [f"{printable(spec.label)} ({spec.optimizer}) on {scenario.loss}", f"{'lr':>12}  {'final loss':>12}  {'steps':>7}  status"]
    for lr, loss, steps, status in zip(result.lrs, result.final_loss, result.steps, result.status_names):
        lines.append(f"{lr:12.4g}  {loss:12.4g}  {int(steps):7d}  {status}")
    return "\n".join(lines)


def printable(text: str) -> str:
    """One line without terminal control codes, whatever names a stranger's file holds."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)

