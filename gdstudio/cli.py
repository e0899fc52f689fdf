"""Command line: `gdstudio [FILE]` opens the studio; `run` and `derive` work headless.

User errors end with exit code 2 and one line `error: ...` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from importlib.resources import files
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
COMMANDS = ("run", "derive", "critical", "sweep", "open", "-h", "--help")


class UserError(Exception):
    """Bad input from the person at the keyboard: reported in one line, exit code 2."""


def default_scenario_text() -> str:
    return files("gdstudio.resources").joinpath("default_scenario.json").read_text(encoding="utf-8")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _parse_point(text: str, variables: tuple[str, ...]) -> list[float]:
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or name not in variables:
            raise UserError(f"--at: expected name=value for the variables {', '.join(variables)}, got {part!r}")
        if name in values:
            raise UserError(f"--at: {name} is given twice")
        try:
            if not number.isascii() or "_" in number:  # float() takes '１' (fullwidth) and '1_000'; a loss does not
                raise ValueError
            values[name] = float(number)
        except ValueError:
            raise UserError(f"--at: {name} must be a number, got {_printable(number.strip())!r}") from None
        if not math.isfinite(values[name]):
            raise UserError(f"--at: {name} must be a finite number, got {number.strip()!r}")
    missing = [v for v in variables if v not in values]
    if missing:
        raise UserError(f"--at: no value for {', '.join(missing)}")
    return [values[v] for v in variables]


def derive(expression: str, at: str | None) -> dict:
    from .core.expression import ExpressionError, parse_objective

    try:
        objective = parse_objective(expression)
    except ExpressionError as error:
        raise UserError(str(error)) from None
    result: dict = {
        "variables": list(objective.variables),
        "loss": str(objective.expr),
        "gradient": [str(g) for g in objective.gradient],
        "hessian": [[str(h) for h in row] for row in objective.hessian],
    }
    if at is not None:
        loss, grad, hess = objective.at(_parse_point(at, objective.variables))
        result["at"] = {
            "loss": _finite(loss),
            "gradient": [_finite(float(v)) for v in grad],
            "hessian": [[_finite(float(v)) for v in row] for row in hess],
        }
    return result


def _load(path: str):
    from .core.expression import ExpressionError
    from .core.runner import scenario_objective
    from .core.scenario import ScenarioError, load

    try:
        scenario = load(path)
        objective = scenario_objective(scenario)
    except ScenarioError as error:
        raise UserError("; ".join(f"{error.source}: {p}" for p in error.problems)) from None
    except ExpressionError as error:
        raise UserError(f"{path}: loss: {error}") from None
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
    from .core.export import trajectories_csv
    from .core.runner import ScenarioRunner

    scenario, objective = _load(path)
    for warning in _start_typos(scenario, objective.variables):
        print(f"warning: {path}: {_printable(warning)}", file=sys.stderr)
    try:
        runs = ScenarioRunner(scenario, objective, max_steps=max_steps).run_to_end()
    except ValueError as error:  # a run the file describes but the engine cannot start
        raise UserError(f"{path}: {error}") from None
    if out:
        try:
            Path(out).write_text(trajectories_csv(runs), encoding="utf-8")
        except OSError as error:
            raise UserError(f"--out: cannot write {out}: {error.strerror or error}") from None
    summary = [
        {
            "label": r.label,
            "optimizer": r.spec.optimizer,
            "steps": r.steps,
            "status": r.status,
            "reason": r.reason,
            "final_loss": _finite(float(r.trajectory.loss[-1])) if len(r.trajectory) else None,
            "final": {k: _finite(v) for k, v in r.trajectory.final().items()},
        }
        for r in runs
    ]
    if as_json:
        return json.dumps({"runs": summary}, indent=2)  # ASCII escapes: valid JSON whatever the console's encoding
    lines = [f"{_printable(scenario.name)}: {scenario.loss}"]
    for item in summary:
        loss = "n/a" if item["final_loss"] is None else f"{item['final_loss']:.6g}"
        lines.append(f"  {_printable(item['label'])} ({item['optimizer']}): {item['status']} after {item['steps']} steps, "
                     f"loss {loss} — {item['reason']}")
    return "\n".join(lines)


def critical(expression: str, view: str | None) -> dict:
    """Stationary points of a loss in a view, classified by the Hessian's eigenvalues."""
    from .core.analysis import critical_points
    from .core.expression import ExpressionError, parse_objective

    try:
        objective = parse_objective(expression)
    except ExpressionError as error:
        raise UserError(str(error)) from None
    ranges = _parse_view(view, objective.variables) if view else None
    try:
        points = critical_points(objective, ranges)
    except ValueError as error:
        raise UserError(f"--view: {error}") from None
    return {"variables": list(objective.variables),
            "points": [{"kind": p.kind, "point": p.point, "loss": _finite(p.loss), "eigenvalues": list(p.eigenvalues)} for p in points]}


def _parse_view(text: str, variables: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    view: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, span = part.partition("=")
        low, colon, high = span.partition(":")
        try:
            if not (sep and colon) or name.strip() not in variables:
                raise ValueError
            view[name.strip()] = (float(low), float(high))
        except ValueError:
            raise UserError(f"--view: expected name=low:high for the variables {', '.join(variables)}, got {part!r}") from None
        low_value, high_value = view[name.strip()]
        if not (low_value < high_value and math.isfinite(high_value - low_value)):
            raise UserError(f"--view: {name.strip()} needs finite low < high with a width a float can hold, got {part!r}")
    return view


def sweep(path: str, run_index: int, low: float, high: float, count: int) -> str:
    """Final loss and outcome of one run of a scenario over log-spaced learning rates."""
    from .core.kernel import STATUS_NAMES
    from .core.sweeps import log_rates, lr_sweep

    scenario, objective = _load(path)
    if not 0 <= run_index < len(scenario.runs):
        raise UserError(f"--run: the scenario has {len(scenario.runs)} runs, numbered from 0")
    spec = scenario.runs[run_index]
    if not 0 < low < high < math.inf or not 2 <= count <= 10_000:
        raise UserError("--lr: expected low:high:count with 0 < low < high < inf and 2 <= count <= 10000")
    from .core.runner import run_objective, start_point

    start = start_point(spec, scenario, objective.variables)
    result = lr_sweep(run_objective(objective, scenario, spec), spec.optimizer, start, log_rates(low, high, count),
                      scenario.stop, spec.hyper, spec.schedule, spec.schedule_params, like=spec)
    lines = [f"{_printable(spec.label)} ({spec.optimizer}) on {scenario.loss}", f"{'lr':>12}  {'final loss':>12}  {'steps':>7}  status"]
    for lr, loss, steps, status in zip(result.lrs, result.final_loss, result.steps, result.status):
        lines.append(f"{lr:12.4g}  {loss:12.4g}  {int(steps):7d}  {STATUS_NAMES[int(status)]}")
    return "\n".join(lines)


def _rates(text: str) -> tuple[float, float, int]:
    try:
        low, high, count = text.split(":")
        return float(low), float(high), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected low:high:count, e.g. 1e-4:1:20, got {text!r}") from None


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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 0 <= value <= 1_000_000_000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1,000,000,000, got {value}")
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
    run_cmd.add_argument("--max-steps", type=_max_steps, help="override the scenario's step limit")
    derive_cmd = commands.add_parser("derive", help="print a loss's exact gradient and Hessian as JSON")
    derive_cmd.add_argument("expression", help="the loss, e.g. '(1-x)^2 + 100*(y-x^2)^2'")
    derive_cmd.add_argument("--at", help="also evaluate at a point, e.g. x=1,y=2")
    critical_cmd = commands.add_parser("critical", help="find and classify the stationary points of a loss (JSON)")
    critical_cmd.add_argument("expression")
    critical_cmd.add_argument("--view", help="where to look, e.g. x=-5:5,y=-5:5 (default -3:3 for each variable)")
    sweep_cmd = commands.add_parser("sweep", help="run one run of a scenario over a range of learning rates")
    sweep_cmd.add_argument("file")
    sweep_cmd.add_argument("--run", type=int, default=0, help="which run (from 0; default 0)")
    sweep_cmd.add_argument("--lr", type=_rates, default=(1e-4, 1.0, 13), help="low:high:count, log-spaced (default 1e-4:1:13)")
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


def _printable(text: str) -> str:
    """One line without terminal control codes, whatever names a stranger's file holds."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_options = _qt_options(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] not in COMMANDS:
        args = ["open", *args]  # `gdstudio FILE`
    parser = _parser()
    try:
        if (args[:1] == ["open"] and len(args) == 2 and not args[1].startswith("-") and not Path(args[1]).exists()
                and not args[1].endswith(".json")):
            raise UserError(f"{_printable(args[1])!r} is neither a command ({', '.join(COMMANDS[:5])}) nor a scenario file")
        try:
            options = parser.parse_args(args)
        except UserError as error:
            if "expression" in str(error) and any(a.startswith("-") and a != "--" for a in args[1:]):  # "-x^2": an option?
                raise UserError(f'{error}; a loss that starts with "-" goes after --: gdstudio {args[0]} -- "-x^2"') from None
            raise
        if options.command == "run":
            _print(run(options.file, options.out, options.json, options.max_steps))
        elif options.command == "derive":
            _print(json.dumps(derive(options.expression, options.at), indent=2))
        elif options.command == "critical":
            _print(json.dumps(critical(options.expression, options.view), indent=2))
        elif options.command == "sweep":
            _print(sweep(options.file, options.run, *options.lr))
        else:
            return launch(getattr(options, "file", None), qt_options)
    except UserError as error:
        print(f"error: {_printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `gdstudio run f.json | head`: the reader has all it wanted
        sys.stdout = None  # (nothing more to flush at exit)
    except OSError as error:  # a full disk or a closed stdout
        print(f"error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
