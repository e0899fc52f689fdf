"""Scenario files: a whole experiment as versioned JSON.

Loading validates everything and names the JSON path of each problem
(`runs[1].optimizer.lr: must be > 0, got -1`); files from a newer gdstudio are
refused, older versions are migrated; saving is atomic (temp file + rename).
`from_dict(to_dict(s)) == s` for every valid scenario.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checks import RepeatedKeys, check_name, key_path, listing, shorten, show
from .data import MAX_COLUMNS, MAX_ROWS, SCALINGS, DataError, Dataset, check_columns, generate, read_csv
from .expression import MAX_VARIABLES
from .fileio import read_limited, write_atomic
from .numbers import is_finite_number
from .optimizers import OPTIMIZERS, optimizer
from .schedules import schedule

FORMAT = "gdstudio-scenario"
VERSION = 1
DEFAULT_RANGE = (-3.0, 3.0)
MAX_RUNS = 100
NAME_LIMIT, DESCRIPTION_LIMIT = 200, 10_000  # characters of a scenario's name and description
MAX_STEPS_LIMIT = 1_000_000_000
MAX_FILE_BYTES = 20_000_000
MAX_NAMES = 1000  # keys of view and of a run's start (the studio keeps the starts of earlier losses too)
MAX_PROBLEMS = 10  # reported by one load; the rest are counted
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class ScenarioError(ValueError):
    """Every problem found in a scenario, each with its JSON path."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + p for p in problems))


@dataclass(frozen=True)
class StopRules:
    max_steps: int = 1000
    grad_tol: float | None = 1e-8
    loss_tol: float | None = None
    divergence: float | None = 1e12


@dataclass(frozen=True)
class RunSpec:
    label: str
    optimizer: str = "gd"
    hyper: Mapping[str, Any] = field(default_factory=dict)  # only what the file sets; defaults fill the rest
    start: Mapping[str, float] = field(default_factory=dict)  # variables left out start at a seeded random point
    schedule: str = "constant"
    schedule_params: Mapping[str, Any] = field(default_factory=dict)
    clip_kind: str | None = None  # "norm" or "value"
    clip_value: float | None = None
    seed: int = 0
    color: str | None = None
    batch_size: int | None = None  # rows per step: None = all (batch GD), 1 = stochastic, k = mini-batch
    replacement: bool = False  # draw batches with replacement instead of shuffled epochs
    scale: Mapping[str, str] = field(default_factory=dict)  # column -> "standard" | "minmax"


@dataclass(frozen=True)
class DataSpec:
    """The document's data section (kept as written, so files round-trip) and the rows it gives."""

    source: Mapping[str, Any]
    dataset: Dataset = field(compare=False)
    model: str | None = None  # what the data view draws, e.g. "w*x + b"
    target: str | None = None  # the column the model predicts


# what the insight tools accept (the studio's boxes use the same limits, so whatever they hold can be saved)
RESTARTS_LIMITS = (1, 10_000)
BASINS_LIMITS = (8, 512)
RACE_LIMITS = (1, 10_000_000)
SWEEP_CELLS_LIMITS = (2, 256)
SWEEP_STEPS_LIMITS = (1, 1_000_000)
SWEEP_LR_LIMITS = (1e-6, 1e6)  # (the dialog shows 6 decimals)
SWEEP_OTHER_LIMITS = (-1e6, 1e6)
SWEEP_METRICS = ("final_loss", "steps_to_tolerance")
SWEEP_PARAMS = frozenset(name for info in OPTIMIZERS.values() for name in info.sweepable())


@dataclass(frozen=True)
class SweepSettings:
    """The sweep dialog's choices. `param` None: the selected optimizer's first sweepable parameter;
    `other` None: that parameter's usual range (a range belongs to the parameter it was set for)."""

    param: str | None = None
    metric: str = "final_loss"
    cells: int = 32
    steps: int = 500
    lr: tuple[float, float] = (1e-4, 1.0)
    other: tuple[float, float] | None = None


@dataclass(frozen=True)
class InsightSettings:
    """How the insight tools are set up, saved with the experiment; a file stores only what differs from these defaults."""

    restarts: int = 24  # random starts per click
    basins_resolution: int = 96  # cells per axis of the basins grid
    race_budget: int = 2000  # steps each racer gets
    sweep: SweepSettings = SweepSettings()


@dataclass(frozen=True)
class Scenario:
    loss: str
    name: str = "Untitled"
    description: str = ""
    variables: tuple[str, ...] | None = None
    view: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    runs: tuple[RunSpec, ...] = ()
    stop: StopRules = StopRules()
    data: DataSpec | None = None
    insight: InsightSettings = InsightSettings()

    def range_of(self, variable: str) -> tuple[float, float]:
        return tuple(self.view.get(variable, DEFAULT_RANGE))


class _Problems:
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


def _number(value: Any, path: str, problems: _Problems, *, positive: bool = False, minimum: float | None = None) -> float | None:
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


def _text(value: Any, path: str, problems: _Problems, limit: int = 2000) -> str | None:
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


def _object(value: Any, path: str, problems: _Problems) -> dict | None:
    if not isinstance(value, dict):
        problems.add(path, f"must be an object, got {show(value)}")
        return None
    return value


def _unknown_keys(data: dict, allowed: set[str], path: str, problems: _Problems) -> None:
    unknown = [key for key in data if key not in allowed]
    expected = f"expected one of: {', '.join(sorted(allowed))}"
    if len(unknown) > 3:  # one line for many
        problems.add(path, f"{len(unknown):,} unknown fields ({listing(unknown)}; {expected})")
    for key in unknown if len(unknown) <= 3 else ():
        problems.add(key_path(path, key), f"unknown field ({expected})")


def _names(data: Any, path: str, problems: _Problems, limit: int = MAX_NAMES) -> dict:
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


def _view(data: Any, problems: _Problems) -> dict[str, tuple[float, float]]:
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


def _stop(data: Any, problems: _Problems) -> StopRules:
    if data is None or _object(data, "stop", problems) is None:
        return StopRules()
    _unknown_keys(data, {"max_steps", "grad_tol", "loss_tol", "divergence"}, "stop", problems)
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


def _whole(data: dict, key: str, default: int, limits: tuple[int, int], path: str, problems: _Problems) -> int:
    value = data.get(key, default)
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(f"{path}.{key}", f"must be a whole number from {low:,} to {high:,}, got {show(value)}")
        return default
    return value


def _pair(value: Any, limits: tuple[float, float], path: str, problems: _Problems) -> tuple[float, float] | None:
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


def _section(data: dict, key: str, allowed: set[str], problems: _Problems) -> dict:
    """A sub-object of "insight" ({} when absent or wrong, the wrong one reported)."""
    section = data.get(key, {})
    if _object(section, f"insight.{key}", problems) is None:
        return {}
    _unknown_keys(section, allowed, f"insight.{key}", problems)
    return section


def _insight(data: Any, problems: _Problems) -> InsightSettings:
    defaults = InsightSettings()
    if data is None or _object(data, "insight", problems) is None:
        return defaults
    _unknown_keys(data, {"restarts", "basins", "race", "sweep"}, "insight", problems)
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


def _insight_dict(insight: InsightSettings) -> dict[str, Any]:
    """Only what differs from the defaults, so files that never set the tools keep no "insight" at all."""
    defaults, doc = InsightSettings(), {}
    for key, field_name, inner in (("restarts", "restarts", "count"), ("basins", "basins_resolution", "resolution"),
                                   ("race", "race_budget", "budget")):
        if getattr(insight, field_name) != getattr(defaults, field_name):
            doc[key] = {inner: getattr(insight, field_name)}
    sweep = {key: list(value) if isinstance(value, tuple) else value for key, value in vars(insight.sweep).items()
             if value != getattr(defaults.sweep, key)}
    if sweep:
        doc["sweep"] = sweep
    return doc


def _named_section(data: Any, path: str, problems: _Problems, lookup, default: str) -> tuple[str, dict[str, Any]]:
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


def _run(data: Any, index: int, problems: _Problems) -> RunSpec | None:
    path = f"runs[{index}]"
    if _object(data, path, problems) is None:
        return None
    _unknown_keys(data, {"label", "optimizer", "start", "schedule", "clip", "seed", "color", "batch_size", "replacement", "scale"},
                  path, problems)
    before = problems.count
    name, hyper = _named_section(data.get("optimizer"), f"{path}.optimizer", problems, optimizer, "gd")
    label = _text(data.get("label", name), f"{path}.label", problems, limit=200) or name
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


def _data(data: Any, base: Path | None, problems: _Problems) -> DataSpec | None:
    if data is None or _object(data, "data", problems) is None:
        return None
    _unknown_keys(data, {"columns", "csv", "generate", "model", "target"}, "data", problems)
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
            name = _text(data["csv"], "data.csv", problems, limit=1000)
            dataset = read_csv(base / name if base else Path(name)) if name is not None else None
        else:
            spec = _object(data["generate"], "data.generate", problems)
            dataset = generate(spec, "data.generate") if spec is not None else None
    except DataError as error:
        problems.add("", str(error))
        return None
    model = _text(data["model"], "data.model", problems) if data.get("model") is not None else None
    target = data.get("target")
    if dataset is None:
        return None
    if target is not None and target not in dataset.columns:
        problems.add("data.target", f"must name a column ({listing(dataset.columns, 10)}), got {show(target)}")
    source = {key: data[key] for key in (kind, "model", "target") if data.get(key) is not None}
    return DataSpec(source, dataset, model, target)


def _variables(value: Any, problems: _Problems) -> tuple[str, ...] | None:
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


def _check_runs_against_data(runs: list[RunSpec], data: DataSpec | None, problems: _Problems) -> None:
    columns = data.dataset.columns if data else ()
    for index, run in enumerate(runs):
        if run.batch_size is not None and not data:
            problems.add(f"runs[{index}].batch_size", "needs a data set (the scenario's data is null)")
        for column in run.scale:
            if column not in columns:
                problems.add(f"runs[{index}].scale.{column}", f"no such data column (columns: {listing(columns, 10) or 'none'})")


def _migrate(data: dict) -> dict:
    """Bring an older file up to VERSION (there is only version 1 so far)."""
    return data


def from_dict(data: Any, source: str | None = None, base: Path | None = None) -> Scenario:
    """Validate a decoded scenario document; raises ScenarioError listing every problem.
    A CSV data file is read relative to `base` (the scenario file's folder)."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise ScenarioError([f"the file must hold a JSON object, got {show(data)}"], source)
    if data.get("format") != FORMAT:
        raise ScenarioError([f'format: must be "{FORMAT}", got {show(data.get("format"))}'], source)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ScenarioError([f"version: must be a whole number from 1, got {show(version)}"], source)
    if version > VERSION:
        raise ScenarioError([f"version: this file was written by a newer gdstudio (format version {show(version)}); "
                             f"this one reads versions up to {VERSION}"], source)
    variables = data.get("variables")
    if isinstance(variables, list) and len(variables) > MAX_VARIABLES:  # before anything is built for them
        raise ScenarioError([f"variables: {len(variables):,} names ({listing(variables)}; limit {MAX_VARIABLES:,})"], source)
    data = _migrate(data)
    _unknown_keys(data, {"format", "version", "name", "description", "loss", "variables", "view", "data", "runs", "stop", "insight"},
                  "", problems)
    loss = None
    if "loss" not in data:
        problems.add("loss", "is missing")
    else:
        loss = _text(data["loss"], "loss", problems)
    name = _text(data.get("name", "Untitled"), "name", problems, limit=NAME_LIMIT)
    description = _text(data.get("description", ""), "description", problems, limit=DESCRIPTION_LIMIT)
    variables = _variables(data.get("variables"), problems)
    view = _view(data.get("view"), problems)
    data_spec = _data(data.get("data"), base, problems)
    runs_data = data.get("runs", [])
    runs: list[RunSpec] = []
    if not isinstance(runs_data, list):
        problems.add("runs", f"must be a list, got {show(runs_data)}")
    elif len(runs_data) > MAX_RUNS:
        problems.add("runs", f"has {len(runs_data)} runs (limit {MAX_RUNS})")
    else:
        runs = [r for i, item in enumerate(runs_data) if (r := _run(item, i, problems)) is not None]
    stop = _stop(data.get("stop"), problems)
    insight = _insight(data.get("insight"), problems)
    _check_runs_against_data(runs, data_spec, problems)
    if problems.count:
        raise ScenarioError(problems.report(), source)
    return Scenario(loss, name, description, variables, view, tuple(runs), stop, data_spec, insight)


def to_dict(scenario: Scenario) -> dict[str, Any]:
    """The JSON document for a scenario (only what it sets; defaults stay implicit)."""
    runs = []
    for run in scenario.runs:
        item: dict[str, Any] = {"label": run.label, "optimizer": {"name": run.optimizer, **_plain(run.hyper)}}
        if run.start:
            item["start"] = dict(run.start)
        if run.schedule != "constant" or run.schedule_params:
            item["schedule"] = {"name": run.schedule, **_plain(run.schedule_params)}
        if run.clip_kind:
            item["clip"] = {run.clip_kind: run.clip_value}
        item["seed"] = run.seed
        if run.batch_size is not None:
            item["batch_size"] = run.batch_size
        if run.replacement:
            item["replacement"] = True
        if run.scale:
            item["scale"] = dict(run.scale)
        if run.color:
            item["color"] = run.color
        runs.append(item)
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": scenario.name, "description": scenario.description,
                           "loss": scenario.loss}
    if scenario.variables is not None:
        doc["variables"] = list(scenario.variables)
    doc["view"] = {name: list(pair) for name, pair in scenario.view.items()}
    doc["data"] = dict(scenario.data.source) if scenario.data else None
    doc["runs"] = runs
    stop = scenario.stop
    doc["stop"] = {"max_steps": stop.max_steps, "grad_tol": stop.grad_tol, "loss_tol": stop.loss_tol, "divergence": stop.divergence}
    if insight := _insight_dict(scenario.insight):
        doc["insight"] = insight
    return doc


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def loads(text: str, source: str | None = None, base: Path | None = None) -> Scenario:
    repeated = RepeatedKeys()
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_int=_whole_number, object_pairs_hook=repeated)
    except ScenarioError as error:
        raise ScenarioError(error.problems, source) from None
    except ValueError as error:
        raise ScenarioError([f"not valid JSON: {error}"], source) from None
    except RecursionError:
        raise ScenarioError(["not valid JSON: nested too deeply"], source) from None
    if repeated.found:
        problems = _Problems()
        for path in repeated.paths(data):
            problems.add(path, "appears more than once in its object (which one was meant?)")
        raise ScenarioError(problems.report(), source)
    return from_dict(data, source, base)


def _whole_number(digits: str) -> int:
    """Python refuses to convert more than 4,300 digits, with advice about sys.set_int_max_str_digits;
    shorter ones go on to be refused where they stand (`runs[0].seed: must be ...`)."""
    if len(digits.lstrip("-")) > 4300:
        raise ScenarioError([f"a number with {len(digits.lstrip('-')):,} digits is too long for any setting"])
    return int(digits)


def _refuse_constant(name: str) -> None:
    raise ScenarioError([f"not valid JSON: {name} is not a number JSON allows"])


def dumps(scenario: Scenario) -> str:
    """The file's text; a scenario the loader would refuse (a non-finite number) is refused here,
    naming where, so a save never writes what cannot be opened again."""
    data = to_dict(scenario)
    problems = [f"{path}: must be a finite number, got {value}" for path, value in _non_finite(data, "")]
    if problems:
        raise ScenarioError(problems)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _non_finite(value: Any, path: str):
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{i}]")


def load(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file; every failure is a ScenarioError naming the file."""
    path = Path(path)
    text = read_limited(path, MAX_FILE_BYTES, lambda message: ScenarioError([message], f"{path!s:.200}"))
    return loads(text, str(path), path.parent)


def save(scenario: Scenario, path: str | os.PathLike) -> None:
    """Write atomically (see fileio.atomic_writer): a failure at any point leaves the old file as it was."""
    write_atomic(path, dumps(scenario))


def relocate(scenario: Scenario, old_folder: Path, new_folder: Path) -> Scenario:
    """The scenario as saved into new_folder: a relative CSV path (relative to the file's folder) is
    rewritten so that it still names the same CSV file."""
    data = scenario.data
    name = data.source.get("csv") if data else None
    if name is None or Path(name).is_absolute():
        return scenario
    target = (Path(old_folder) / name).resolve()
    moved = Path(os.path.relpath(target, Path(new_folder).resolve())).as_posix()
    if moved == name:
        return scenario
    return replace(scenario, data=replace(data, source={**data.source, "csv": moved}))
