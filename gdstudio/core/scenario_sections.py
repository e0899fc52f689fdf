"""Reading each section of a scenario document (view, stop, insight, runs, data, variables).

Each reader checks its section and reports every problem with its JSON path into one `Problems`, then
returns what it could read (or a default), so a single load lists all that is wrong with a file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .checks import check_name, key_path, listing, shorten, show
from .data import MAX_COLUMNS, MAX_ROWS, SCALINGS, DataError, check_columns, generate, read_csv
from .numbers import is_finite_number
from .optimizers import optimizer
from .scenario_model import (BASINS_LIMITS, MAX_STEPS_LIMIT, RACE_LIMITS, RESTARTS_LIMITS, SWEEP_CELLS_LIMITS,
                             SWEEP_LR_LIMITS, SWEEP_METRICS, SWEEP_OTHER_LIMITS, SWEEP_PARAMS, SWEEP_STEPS_LIMITS, DataSpec,
                             InsightSettings, RunSpec, StopRules, SweepSettings)
from .schedules import schedule

MAX_NAMES = 1000  # keys of view and of a run's start (the studio keeps the starts of earlier losses too)
MAX_PROBLEMS = 10  # reported by one load; the rest are counted
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class Problems:
    """Collects problems with their JSON paths, so one load reports them together: the first
    MAX_PROBLEMS, each a line of at most a few hundred characters, and how many more there are."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, path: str, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            line = f"{shorten(path, 100)}: {message}" if path else message
            if len(line) > 280:  # (a registry's message may quote what it was given; its end lists what is known)
                line = f"{line[:150]} … {line[-120:]}"
            self.items.append(line)

    def report(self) -> list[str]:
        more = self.count - len(self.items)
        return self.items + [f"… and {more:,} more problem{'s' * (more > 1)}"] * (more > 0)


def _number(value: Any, path: str, problems: Problems, *, positive: bool = False, minimum: float | None = None) -> float | None:
    if not is_finite_number(value):
        problems.add(path, f"must be a {'positive ' if positive else ''}number, got {show(value)}")
        return None
    if positive and value <= 0:
        problems.add(path, f"must be a positive number, got {show(value)}")
        return None
    if minimum is not None and value < minimum:
        problems.add(path, f"must be at least {minimum:g}, got {show(value)}")
        return None
    return float(value)


def checked_text(value: Any, path: str, problems: Problems, limit: int = 2000) -> str | None:
    if not isinstance(value, str):
        problems.add(path, f"must be text, got {show(value)}")
        return None
    if len(value) > limit:
        problems.add(path, f"is too long ({len(value)} characters, limit {limit})")
        return None
    if not value.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        problems.add(path, "holds a lone surrogate (\\ud800-\\udfff), which is not a character")
        return None
    return value


def _object(value: Any, path: str, problems: Problems) -> dict | None:
    if not isinstance(value, dict):
        problems.add(path, f"must be an object, got {show(value)}")
        return None
    return value


def unknown_keys(data: dict, allowed: set[str], path: str, problems: Problems) -> None:
    unknown = [key for key in data if key not in allowed]
    expected = f"expected one of: {', '.join(sorted(allowed))}"
    if len(unknown) > 3:  # one line for many
        problems.add(path, f"{len(unknown):,} unknown fields ({listing(unknown)}; {expected})")
    for key in unknown if len(unknown) <= 3 else ():
        problems.add(key_path(path, key), f"unknown field ({expected})")


def _names(data: Any, path: str, problems: Problems, limit: int = MAX_NAMES) -> dict:
    """An object keyed by variable or column names (view, start, scale): the object, or {} when it is
    not one, is too large or a key breaks the naming rule (check_name), each reported."""
    if _object(data, path, problems) is None:
        return {}
    if len(data) > limit:
        problems.add(path, f"{len(data):,} names ({listing(list(data))}; limit {limit:,})")
        return {}
    bad = [name for name in data if check_name(name)]
    for name in bad:
        problems.add(key_path(path, name), check_name(name))
    return {} if bad else data


def read_view(data: Any, problems: Problems) -> dict[str, tuple[float, float]]:
    view: dict[str, tuple[float, float]] = {}
    for name, pair in (_names(data, "view", problems) if data is not None else {}).items():
        path = f"view.{name}"
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.add(path, f"must be a pair [low, high], got {show(pair)}")
        else:
            low, high = (_number(v, f"{path}[{i}]", problems) for i, v in enumerate(pair))
            if low is not None and high is not None:
                if low >= high:
                    problems.add(path, f"low must be below high, got [{low:g}, {high:g}]")
                elif not math.isfinite(high - low):  # random starts and plots need the width as a float
                    problems.add(path, f"the range is too wide, got [{low:g}, {high:g}]")
                else:
                    view[name] = (low, high)
    return view


def read_stop(data: Any, problems: Problems) -> StopRules:
    if data is None or _object(data, "stop", problems) is None:
        return StopRules()
    unknown_keys(data, {"max_steps", "grad_tol", "loss_tol", "divergence"}, "stop", problems)
    defaults = StopRules()
    max_steps = data.get("max_steps", defaults.max_steps)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 0 <= max_steps <= MAX_STEPS_LIMIT:
        problems.add("stop.max_steps", f"must be a whole number from 0 to {MAX_STEPS_LIMIT:,}, got {show(max_steps)}")
        max_steps = defaults.max_steps
    values: dict[str, float | None] = {}
    for key in ("grad_tol", "loss_tol", "divergence"):
        value = data.get(key, getattr(defaults, key))
        values[key] = None if value is None else _number(value, f"stop.{key}", problems, minimum=0.0)
    return StopRules(max_steps, **values)


def _whole(data: dict, key: str, default: int, limits: tuple[int, int], path: str, problems: Problems) -> int:
    value = data.get(key, default)
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(f"{path}.{key}", f"must be a whole number from {low:,} to {high:,}, got {show(value)}")
        return default
    return value


def _pair(value: Any, limits: tuple[float, float], path: str, problems: Problems) -> tuple[float, float] | None:
    """[low, high] with low < high, both within limits."""
    if not (isinstance(value, list) and len(value) == 2):
        problems.add(path, f"must be a pair [low, high], got {show(value)}")
        return None
    low, high = (_number(v, f"{path}[{i}]", problems) for i, v in enumerate(value))
    if low is None or high is None:
        return None
    if not limits[0] <= low < high <= limits[1]:
        problems.add(path, f"must have {limits[0]:g} <= low < high <= {limits[1]:g}, got [{low:g}, {high:g}]")
        return None
    return (low, high)


def _section(data: dict, key: str, allowed: set[str], problems: Problems) -> dict:
    """A sub-object of "insight" ({} when absent or wrong, the wrong one reported)."""
    section = data.get(key, {})
    if _object(section, f"insight.{key}", problems) is None:
        return {}
    unknown_keys(section, allowed, f"insight.{key}", problems)
    return section


def read_insight(data: Any, problems: Problems) -> InsightSettings:
    defaults = InsightSettings()
    if data is None or _object(data, "insight", problems) is None:
        return defaults
    unknown_keys(data, {"restarts", "basins", "race", "sweep"}, "insight", problems)
    restarts = _whole(_section(data, "restarts", {"count"}, problems), "count", defaults.restarts, RESTARTS_LIMITS,
                      "insight.restarts", problems)
    resolution = _whole(_section(data, "basins", {"resolution"}, problems), "resolution", defaults.basins_resolution,
                        BASINS_LIMITS, "insight.basins", problems)
    budget = _whole(_section(data, "race", {"budget"}, problems), "budget", defaults.race_budget, RACE_LIMITS,
                    "insight.race", problems)
    sweep = _section(data, "sweep", {"param", "metric", "cells", "steps", "lr", "other"}, problems)
    base = defaults.sweep
    param = sweep.get("param")
    if param is not None and not (isinstance(param, str) and param in SWEEP_PARAMS):
        problems.add("insight.sweep.param", f"must be a hyper-parameter an optimizer can sweep "
                                            f"({', '.join(sorted(SWEEP_PARAMS))}), got {show(param)}")
        param = None
    metric = sweep.get("metric", base.metric)
    if metric not in SWEEP_METRICS:
        problems.add("insight.sweep.metric", f"must be one of {', '.join(SWEEP_METRICS)}, got {show(metric)}")
        metric = base.metric
    lr = _pair(sweep["lr"], SWEEP_LR_LIMITS, "insight.sweep.lr", problems) if "lr" in sweep else None
    other = _pair(sweep["other"], SWEEP_OTHER_LIMITS, "insight.sweep.other", problems) if sweep.get("other") is not None else None
    if other is not None and sweep.get("param") is None:
        problems.add("insight.sweep.other", 'needs "param" (a range belongs to the parameter it was set for)')
    return InsightSettings(restarts, resolution, budget, SweepSettings(
        param, metric, _whole(sweep, "cells", base.cells, SWEEP_CELLS_LIMITS, "insight.sweep", problems),
        _whole(sweep, "steps", base.steps, SWEEP_STEPS_LIMITS, "insight.sweep", problems), lr or base.lr, other))




def _named_section(data: Any, path: str, problems: Problems, lookup, default: str) -> tuple[str, dict[str, Any]]:
    """{"name": ..., params...} sections (optimizer, schedule), checked against their registry."""
    if data is None:
        return default, {}
    if _object(data, path, problems) is None:
        return default, {}
    name = data.get("name", default)
    try:
        info = lookup(name)
    except ValueError as error:
        problems.add(f"{path}.name", str(error))
        return default, {}
    # pairs (betas) as tuples, as the registry and the studio hold them, so that from_dict(to_dict(s)) == s
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "name"}
    try:
        info.check(params)
    except ValueError as error:
        key, _, message = str(error).partition(": ")
        problems.add(f"{path}.{key}", message)
        return default, {}
    return name, params


def read_run(data: Any, index: int, problems: Problems) -> RunSpec | None:
    path = f"runs[{index}]"
    if _object(data, path, problems) is None:
        return None
    unknown_keys(data, {"label", "optimizer", "start", "schedule", "clip", "seed", "color", "batch_size", "replacement", "scale"},
                  path, problems)
    before = problems.count
    name, hyper = _named_section(data.get("optimizer"), f"{path}.optimizer", problems, optimizer, "gd")
    label = checked_text(data.get("label", name), f"{path}.label", problems, limit=200) or name
    start: dict[str, float] = {}
    for var, value in _names(data.get("start", {}), f"{path}.start", problems).items():
        if (number := _number(value, f"{path}.start.{var}", problems)) is not None:
            start[var] = number
    sched_name, sched_params = _named_section(data.get("schedule"), f"{path}.schedule", problems, schedule, "constant")
    clip_kind = clip_value = None
    clip = data.get("clip")
    if clip is not None and _object(clip, f"{path}.clip", problems) is not None:
        if len(clip) != 1 or next(iter(clip)) not in ("norm", "value"):
            problems.add(f"{path}.clip", f'must be {{"norm": max_norm}} or {{"value": clip_value}}, got {show(clip)}')
        else:
            clip_kind = next(iter(clip))
            clip_value = _number(clip[clip_kind], f"{path}.clip.{clip_kind}", problems, positive=True)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        problems.add(f"{path}.seed", f"must be a non-negative whole number, got {show(seed)}")
    color = data.get("color")
    if color is not None and not (isinstance(color, str) and _COLOR.fullmatch(color)):
        problems.add(f"{path}.color", f'must be a colour like "#1f77b4", got {show(color)}')
    batch_size = data.get("batch_size")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or not 1 <= batch_size <= MAX_ROWS):
        problems.add(f"{path}.batch_size", f"must be a whole number of rows from 1 to {MAX_ROWS:,} (or null for the full "
                                           f"batch), got {show(batch_size)}")
    replacement = data.get("replacement", False)
    if not isinstance(replacement, bool):
        problems.add(f"{path}.replacement", f"must be true or false, got {show(replacement)}")
    scaling = _names(data.get("scale", {}), f"{path}.scale", problems, limit=MAX_COLUMNS)
    for column, kind in scaling.items():
        if kind not in SCALINGS:
            problems.add(f"{path}.scale.{column}", f"must be one of {', '.join(SCALINGS)}, got {show(kind)}")
    if problems.count > before:
        return None
    return RunSpec(label, name, hyper, start, sched_name, sched_params, clip_kind, clip_value, seed, color,
                   batch_size, replacement, dict(scaling))


def read_data(data: Any, base: Path | None, problems: Problems) -> DataSpec | None:
    if data is None or _object(data, "data", problems) is None:
        return None
    unknown_keys(data, {"columns", "csv", "generate", "model", "target"}, "data", problems)
    sources = [key for key in ("columns", "csv", "generate") if key in data]
    if len(sources) != 1:
        problems.add("data", 'must have exactly one of "columns", "csv" or "generate"')
        return None
    kind = sources[0]
    try:
        if kind == "columns":
            columns = _object(data["columns"], "data.columns", problems)
            dataset = check_columns(columns, "data.columns") if columns is not None else None
        elif kind == "csv":
            name = checked_text(data["csv"], "data.csv", problems, limit=1000)
            dataset = read_csv(base / name if base else Path(name)) if name is not None else None
        else:
            spec = _object(data["generate"], "data.generate", problems)
            dataset = generate(spec, "data.generate") if spec is not None else None
    except DataError as error:
        problems.add("", str(error))
        return None
    model = checked_text(data["model"], "data.model", problems) if data.get("model") is not None else None
    target = data.get("target")
    if dataset is None:
        return None
    if target is not None and target not in dataset.columns:
        problems.add("data.target", f"must name a column ({listing(dataset.columns, 10)}), got {show(target)}")
    source = {key: data[key] for key in (kind, "model", "target") if data.get(key) is not None}
    return DataSpec(source, dataset, model, target)


def read_variables(value: Any, problems: Problems) -> tuple[str, ...] | None:
    """The variables list (its length is checked before): names by the one naming rule, each once."""
    if value is None:
        return None
    if not isinstance(value, list):
        problems.add("variables", f"must be a list of variable names, got {show(value)}")
        return None
    bad = [(index, problem) for index, name in enumerate(value) if (problem := check_name(name))]
    for index, problem in bad:
        problems.add(f"variables[{index}]", problem)
    twice = [name for name, count in Counter(value).items() if count > 1] if not bad else []
    if twice:
        problems.add("variables", f"lists {listing(twice)} more than once")
    return None if bad or twice else tuple(value)


def check_runs_against_data(runs: list[RunSpec], data: DataSpec | None, problems: Problems) -> None:
    columns = data.dataset.columns if data else ()
    for index, run in enumerate(runs):
        if run.batch_size is not None and not data:
            problems.add(f"runs[{index}].batch_size", "needs a data set (the scenario's data is null)")
        for column in run.scale:
            if column not in columns:
                problems.add(f"runs[{index}].scale.{column}", f"no such data column (columns: {listing(columns, 10) or 'none'})")

