"""Command line: `gdstudio [FILE]` opens the studio; `run`, `derive`, `critical` and `sweep` work headless.

User errors end with exit code 2 and one line `error: ...` on stderr, never a traceback. Output
that cannot be written (a full disk, a closed stdout, a reader that stopped reading) ends with
exit code 1. Ctrl+C ends a headless command with one line `interrupted ...` and exit code 130,
SIGTERM likewise with 143; `run --out` then leaves the file as it was.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import TextIO

from .core.numbers import parse_float, parse_whole

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT / SIGTERM, as a shell reports a killed command
COMMANDS = ("run", "derive", "critical", "sweep", "open", "-h", "--help")
HEADLESS = ("run", "derive", "critical", "sweep")
MAX_LINE = 300  # characters of an error: or warning: line (50,000 stray arguments make no megabyte line)
CHUNK_SECONDS = 0.1  # kernel time per chunk of `run`: Ctrl+C is obeyed between chunks (the kernel runs no Python)
CHUNK_BYTES = 2 << 20  # and at most this many bytes of rows per chunk: the memory `run` needs however long its runs
SWEEP_BUDGET = 1_000_000_000  # run-steps (rates × steps) a sweep may take: 2–4 minutes on a two-variable loss


class UserError(Exception):
    """Bad input from the person at the keyboard: reported in one line, exit code 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM in a headless command, raised like Ctrl+C so the same cleanup runs (an --out file is
    never renamed into place) and the same one line is printed; exit code 143."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _headless_signals() -> Iterator[None]:
    """SIGTERM stops a headless command as Ctrl+C does, and a file-size limit (ulimit -f) makes a write
    fail with an error instead of killing the process before it removes its temporary file. The
    studio is not started here: it has its own handling. The old handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGTERM: _terminate}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    saved = {number: signal.signal(number, handler) for number, handler in wanted.items()}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


@contextmanager
def _interrupt_says(where: Callable[[], str]) -> Iterator[None]:
    """An interrupt inside the block carries where() (which run, which step) to main's one line."""
    try:
        yield
    except KeyboardInterrupt as stop:
        if not getattr(stop, "where", ""):
            stop.where = f" {where()}"  # type: ignore[attr-defined]
        raise


def _say(text: str) -> None:
    """One line on stderr, printable and at most MAX_LINE characters: the one place error and warning
    lines are shortened, whatever a stranger's file or 50,000 stray arguments put into them."""
    line = _printable(text)
    if len(line) > MAX_LINE:
        line = line[: MAX_LINE - 1] + "…"
    print(line, file=sys.stderr)


def _warn(source: str, text: str) -> None:
    _say(f"warning: {source}: {text}")


def _warn_objective(source: str, objective: object) -> list[str]:
    """The loss's own warnings (a mean(...) over no data column, ...), printed; also returned for JSON."""
    warnings = list(getattr(objective, "warnings", ()) or ())
    for warning in warnings:
        _warn(source, warning)
    return warnings


def default_scenario_text() -> str:
    return files("gdstudio.resources").joinpath("default_scenario.json").read_text(encoding="utf-8")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _number(text: str, what: str = "", whole: bool = False) -> float:
    """numbers.parse_float / parse_whole, the one rule for numbers (no '٣', '５' or '1_000'), as a UserError."""
    try:
        return parse_whole(text) if whole else parse_float(text)
    except ValueError as error:
        raise UserError(f"{what}{': ' if what else ''}{error}, got {text.strip()!r}") from None


def _argument(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type= from a parser that raises UserError (argparse reports the message itself)."""
    def convert(text: str) -> object:
        try:
            return parse(text)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


def _parse_point(text: str, variables: tuple[str, ...]) -> list[float]:
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or name not in variables:
            raise UserError(f"--at: expected name=value for the variables {', '.join(variables)}, got {part!r}")
        if name in values:
            raise UserError(f"--at: {name} is given twice")
        values[name] = _number(number, f"--at: {name}")
    missing = [v for v in variables if v not in values]
    if missing:
        raise UserError(f"--at: no value for {', '.join(missing)}")
    return [values[v] for v in variables]


def derive(expression: str, at: str | None) -> dict:
    from .core.expression import ExpressionError, HessianUnavailable, parse_objective

    try:
        objective = parse_objective(expression)
    except ExpressionError as error:
        raise UserError(str(error)) from None
    warnings = _warn_objective("loss", objective)
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
    from .core.expression import ExpressionError
    from .core.runner import scenario_objective
    from .core.scenario import ScenarioError, load

    if not path.strip():
        raise UserError("the scenario file name is empty")
    try:
        scenario = load(path)
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
    from .core.runner import ScenarioRunner

    if out is not None and not out.strip():
        raise UserError("--out: the file name is empty")
    scenario, objective = _load(path)
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
    lines = [f"{_printable(scenario.name)}: {scenario.loss}"]
    for item in summary:
        loss = "n/a" if item["final_loss"] is None else f"{item['final_loss']:.6g}"
        lines.append(f"  {_printable(item['label'])} ({item['optimizer']}): {item['status']} after {item['steps']} steps, "
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
        with _interrupt_says(where):
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
    from .core.analysis import critical_points
    from .core.expression import ExpressionError, parse_objective

    try:
        objective = parse_objective(expression)
    except ExpressionError as error:
        raise UserError(str(error)) from None
    warnings = _warn_objective("loss", objective)
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
        view[name.strip()] = (_number(low, f"--view: {name.strip()}"), _number(high, f"--view: {name.strip()}"))
        low_value, high_value = view[name.strip()]
        if not (low_value < high_value and math.isfinite(high_value - low_value)):
            raise UserError(f"--view: {name.strip()} needs finite low < high with a width a float can hold, got {part!r}")
    return view


def sweep(path: str, run_index: int, low: float, high: float, count: int, max_steps: int | None = None) -> str:
    """Final loss and outcome of one run of a scenario over log-spaced learning rates."""
    from .core.kernel import STATUS_NAMES
    from .core.runner import run_objective, start_point
    from .core.sweeps import log_rates, lr_sweep, sweep_chunk

    scenario, objective = _load(path)
    if not 0 <= run_index < len(scenario.runs):
        raise UserError(f"--run: the scenario has {len(scenario.runs)} runs, numbered from 0")
    spec = scenario.runs[run_index]
    if not 0 < low < high < math.inf or not 2 <= count <= 10_000:
        raise UserError("--lr: expected low:high:count with 0 < low < high < inf and 2 <= count <= 10000")
    stop = scenario.stop if max_steps is None else replace(scenario.stop, max_steps=max_steps)
    work = count * (stop.max_steps + 1)
    if work > SWEEP_BUDGET:
        raise UserError(f"{count} rates × {stop.max_steps + 1:,} steps is {work:,} run-steps, more than a sweep takes "
                        f"({SWEEP_BUDGET:,}); pass a smaller --max-steps or fewer rates (--lr low:high:count)")
    run_loss = run_objective(objective, scenario, spec)
    rows = run_loss.data.shape[1] if run_loss.data is not None else 1  # a step over data costs a pass over its rows
    done = [0, stop.max_steps + 1]

    def progress(steps: int, total: int) -> None:
        done[:] = steps, total

    with _interrupt_says(lambda: f"at step {done[0]} of {done[1]} (all {count} rates together)"):
        try:
            result = lr_sweep(run_loss, spec.optimizer, start_point(spec, scenario, objective.variables),
                              log_rates(low, high, count), stop, spec.hyper, spec.schedule, spec.schedule_params,
                              chunk_steps=sweep_chunk(count * rows), progress=progress, like=spec)
        except ValueError as error:  # a run the engine cannot start (newton on a loss whose Hessian is refused)
            raise UserError(f"{path}: {error}") from None
    lines = [f"{_printable(spec.label)} ({spec.optimizer}) on {scenario.loss}", f"{'lr':>12}  {'final loss':>12}  {'steps':>7}  status"]
    for lr, loss, steps, status in zip(result.lrs, result.final_loss, result.steps, result.status):
        lines.append(f"{lr:12.4g}  {loss:12.4g}  {int(steps):7d}  {STATUS_NAMES[int(status)]}")
    return "\n".join(lines)


def _rates(text: str) -> tuple[float, float, int]:
    parts = text.split(":")
    if len(parts) != 3:
        raise UserError(f"expected low:high:count, e.g. 1e-4:1:20, got {text!r}")
    return _number(parts[0], "low"), _number(parts[1], "high"), int(_number(parts[2], "count", whole=True))


QT_OPTIONS = ("-style", "-stylesheet", "-platform", "-qwindowgeometry", "-qwindowtitle", "-reverse")  # ("-reverse" alone)


def _qt_options(args: list[str]) -> tuple[list[str], list[str]]:
    """Split Qt's own command-line options (gdstudio -style Fusion) from gdstudio's."""
    ours, qt, i = [], [], 0
    while i < len(args):
        if args[i] in QT_OPTIONS:
            takes = 0 if args[i] == "-reverse" else 1
            qt += args[i : i + 1 + takes]
            i += 1 + takes
        else:
            ours.append(args[i])
            i += 1
    return ours, qt


def launch(path: str | None, qt_options: Sequence[str] = ()) -> int:
    platform = "-platform" in qt_options
    if sys.platform.startswith("linux") and not platform and not any(
            os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise UserError("the studio needs a desktop session (no DISPLAY or WAYLAND_DISPLAY is set); "
                        "headless, use `gdstudio run FILE`")  # (else Qt aborts the process)
    try:
        from .app.main import launch as launch_gui
    except ImportError as error:
        raise UserError(f"the desktop studio cannot start: {error}") from None
    return launch_gui(path, list(qt_options))


def _max_steps(text: str) -> int:
    """A step limit from 0 to 10⁹, by the one number rule: 1000, 1e6 and 2.0 are whole numbers; ٣ and 1_000 are not."""
    value = int(_number(text, whole=True))
    if not 0 <= value <= 1_000_000_000:
        raise UserError(f"must be from 0 to 1,000,000,000, got {value}")
    return value


def _run_index(text: str) -> int:
    value = int(_number(text, whole=True))
    if value < 0:
        raise UserError(f"runs are numbered from 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as one `error:` line like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.split(" ", 1)[-1] if " " in self.prog else ""
        raise UserError(f"{message} (see gdstudio {command} --help)".replace("  ", " "))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gdstudio", description="A desktop lab for gradient descent.")
    commands = parser.add_subparsers(dest="command")
    run_cmd = commands.add_parser("run", help="run a scenario headless and report how each run ended")
    run_cmd.add_argument("file", help="scenario file (JSON)")
    run_cmd.add_argument("--out", help="write every step of every run to this CSV file")
    run_cmd.add_argument("--json", action="store_true", help="print the summary as JSON")
    run_cmd.add_argument("--max-steps", type=_argument(_max_steps), help="override the scenario's step limit")
    derive_cmd = commands.add_parser("derive", help="print a loss's exact gradient and Hessian as JSON")
    derive_cmd.add_argument("expression", help="the loss, e.g. '(1-x)^2 + 100*(y-x^2)^2'")
    derive_cmd.add_argument("--at", help="also evaluate at a point, e.g. x=1,y=2")
    critical_cmd = commands.add_parser("critical", help="find and classify the stationary points of a loss (JSON)")
    critical_cmd.add_argument("expression")
    critical_cmd.add_argument("--view", help="where to look, e.g. x=-5:5,y=-5:5 (default -3:3 for each variable)")
    sweep_cmd = commands.add_parser("sweep", help="run one run of a scenario over a range of learning rates")
    sweep_cmd.add_argument("file")
    sweep_cmd.add_argument("--run", type=_argument(_run_index), default=0, help="which run (from 0; default 0)")
    sweep_cmd.add_argument("--lr", type=_argument(_rates), default=(1e-4, 1.0, 13),
                           help="low:high:count, log-spaced (default 1e-4:1:13)")
    sweep_cmd.add_argument("--max-steps", type=_argument(_max_steps), help="override the scenario's step limit")
    open_cmd = commands.add_parser("open", help="open a scenario in the studio (same as `gdstudio FILE`)")
    open_cmd.add_argument("file", nargs="?")
    return parser


def _print(text: str) -> None:
    """Print what the console's encoding can show (a Windows console or a redirected cp1252 stdout has no ∇),
    instead of failing with UnicodeEncodeError after the work is done; and no control codes, which a
    stranger's run labels could use to retitle or clear the terminal or forge lines."""
    text = "\n".join(_printable(line) for line in text.split("\n"))
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, errors="replace").decode(encoding, errors="replace"))
    sys.stdout.flush()  # a full disk or a closed pipe fails here, inside main's handlers, not at exit


def _printable(text: str) -> str:
    """One line without terminal control codes, whatever names a stranger's file holds."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_options = _qt_options(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] not in COMMANDS:
        args = ["open", *args]  # `gdstudio FILE`
    options = None
    try:
        options = _parse(args)
        if options.command not in HEADLESS:
            return launch(getattr(options, "file", None), qt_options)
        if sys.stdout is None:  # started with stdout closed (`gdstudio run f.json >&-`): no work to throw away
            _say("error: cannot write the output: stdout is closed")
            return EXIT_FAILED
        with _headless_signals():
            _print(_headless(options))
    except UserError as error:
        _say(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as stop:  # Ctrl+C, or SIGTERM (see _headless_signals)
        if options is None or options.command not in HEADLESS:
            raise  # the studio handles its own
        _say(f"interrupted{getattr(stop, 'where', '')}")
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:  # `gdstudio run f.json | head -c1`: the reader stopped reading; the output is not all there
        _quiet_stdout()
        return EXIT_FAILED
    except OSError as error:  # a full disk
        _say(f"error: cannot write the output: {error.strerror or error}")
        return EXIT_FAILED
    return EXIT_OK


def _parse(args: list[str]) -> argparse.Namespace:
    if (args[:1] == ["open"] and len(args) == 2 and not args[1].startswith("-") and not Path(args[1]).exists()
            and not args[1].endswith(".json")):
        raise UserError(f"{_printable(args[1])!r} is neither a command ({', '.join(COMMANDS[:5])}) nor a scenario file")
    try:
        return _parser().parse_args(args)
    except UserError as error:
        if "expression" in str(error) and any(a.startswith("-") and a != "--" for a in args[1:]):  # "-x^2": an option?
            raise UserError(f'{error}; a loss that starts with "-" goes after --: gdstudio {args[0]} -- "-x^2"') from None
        raise


def _headless(options: argparse.Namespace) -> str:
    """The text a headless command prints."""
    if options.command == "run":
        return run(options.file, options.out, options.json, options.max_steps)
    if options.command == "derive":
        return json.dumps(derive(options.expression, options.at), indent=2)
    if options.command == "critical":
        return json.dumps(critical(options.expression, options.view), indent=2)
    return sweep(options.file, options.run, *options.lr, max_steps=options.max_steps)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail once more with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # (an in-process test's stdout has no file descriptor)
        pass


if __name__ == "__main__":
    sys.exit(main())
