"""The scenario file format: versioned JSON to and from a Scenario.

Loading validates everything and names the JSON path of each problem
(`runs[1].optimizer.lr: must be > 0, got -1`); files from a newer gdstudio are
refused, older versions are migrated. `from_dict(to_dict(s)) == s` for every
valid scenario, and `dumps` refuses what `loads` would refuse, so a save never
writes a file that cannot be opened again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .checks import RepeatedKeys, listing, show
from .vocabulary import MAX_VARIABLES
from .scenario_model import DESCRIPTION_LIMIT, MAX_RUNS, NAME_LIMIT, InsightSettings, RunSpec, Scenario, ScenarioError
from .scenario_sections import (Problems, check_runs_against_data, checked_text, read_data, read_insight, read_run, read_stop,
                                read_variables, read_view, unknown_keys)

FORMAT = "gdstudio-scenario"
VERSION = 1


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


def _migrate(data: dict) -> dict:
    """Bring an older file up to VERSION (there is only version 1 so far)."""
    return data


def from_dict(data: Any, source: str | None = None, base: Path | None = None) -> Scenario:
    """Validate a decoded scenario document; raises ScenarioError listing every problem.
    A CSV data file is read relative to `base` (the scenario file's folder)."""
    problems = Problems()
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
    unknown_keys(data, {"format", "version", "name", "description", "loss", "variables", "view", "data", "runs", "stop", "insight"},
                  "", problems)
    loss = None
    if "loss" not in data:
        problems.add("loss", "is missing")
    else:
        loss = checked_text(data["loss"], "loss", problems)
    name = checked_text(data.get("name", "Untitled"), "name", problems, limit=NAME_LIMIT)
    description = checked_text(data.get("description", ""), "description", problems, limit=DESCRIPTION_LIMIT)
    variables = read_variables(data.get("variables"), problems)
    view = read_view(data.get("view"), problems)
    data_spec = read_data(data.get("data"), base, problems)
    runs_data = data.get("runs", [])
    runs: list[RunSpec] = []
    if not isinstance(runs_data, list):
        problems.add("runs", f"must be a list, got {show(runs_data)}")
    elif len(runs_data) > MAX_RUNS:
        problems.add("runs", f"has {len(runs_data)} runs (limit {MAX_RUNS})")
    else:
        runs = [r for i, item in enumerate(runs_data) if (r := read_run(item, i, problems)) is not None]
    stop = read_stop(data.get("stop"), problems)
    insight = read_insight(data.get("insight"), problems)
    check_runs_against_data(runs, data_spec, problems)
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
        problems = Problems()
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


def _non_finite(value: Any, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{i}]")

