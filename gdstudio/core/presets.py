"""The shipped catalogue of classic test functions (``resources/presets.json``).

The file is data, not code, so that users and contributors can add a landscape
without touching Python; this module is the single place that turns it into
typed objects, and it validates the shape eagerly so that a malformed entry is
reported by preset and field instead of failing later inside a plot or a run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["Preset", "load_presets", "preset_by_name"]

_FORMAT = "gdstudio-presets"
_VERSION = 1


@dataclass(frozen=True)
class Preset:
    """One test function with everything needed to show and run it.

    ``minima`` lists known local minima inside ``view`` as ``(point, loss)``;
    it may be empty (a saddle has none) and need not be exhaustive for highly
    multimodal functions, where only the global minimum is given.
    """

    name: str
    loss: str
    variables: tuple[str, ...]
    view: dict[str, tuple[float, float]]
    start: dict[str, float]
    minima: list[tuple[dict[str, float], float]]
    description: str


def _number(value: Any, where: str) -> float:
    """A finite float; bools are rejected because JSON ``true`` is not a coordinate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return number


def _point(value: Any, variables: tuple[str, ...], label: str, field: str) -> dict[str, float]:
    """A mapping with exactly one finite coordinate per variable."""
    if not isinstance(value, dict):
        raise ValueError(f"{label}: field {field!r} must be an object mapping variables to numbers")
    if set(value) != set(variables):
        raise ValueError(f"{label}: field {field!r} has keys {sorted(value)}, expected {list(variables)}")
    return {name: _number(value[name], f"{label}: field '{field}.{name}'") for name in variables}


def _parse_preset(raw: Any, index: int) -> Preset:
    """Validate one entry; every error names the preset and the field."""
    if not isinstance(raw, dict):
        raise ValueError(f"preset #{index}: expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"preset #{index}: field 'name' must be a non-empty string")
    label = f"preset {name!r}"

    if not isinstance(raw.get("loss"), str) or not raw["loss"].strip():
        raise ValueError(f"{label}: field 'loss' must be a non-empty string")
    if not isinstance(raw.get("description"), str):
        raise ValueError(f"{label}: field 'description' must be a string")

    raw_vars = raw.get("variables")
    if (
        not isinstance(raw_vars, list)
        or not raw_vars
        or not all(isinstance(v, str) and v.isidentifier() for v in raw_vars)
        or len(set(raw_vars)) != len(raw_vars)
    ):
        raise ValueError(f"{label}: field 'variables' must be a non-empty list of distinct identifiers")
    variables = tuple(raw_vars)

    raw_view = raw.get("view")
    if not isinstance(raw_view, dict) or set(raw_view) != set(variables):
        raise ValueError(f"{label}: field 'view' must map each of {list(variables)} to [low, high]")
    view: dict[str, tuple[float, float]] = {}
    for var in variables:
        bounds = raw_view[var]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ValueError(f"{label}: field 'view.{var}' must be [low, high]")
        low = _number(bounds[0], f"{label}: field 'view.{var}'")
        high = _number(bounds[1], f"{label}: field 'view.{var}'")
        if not low < high:
            raise ValueError(f"{label}: field 'view.{var}' needs low < high, got {bounds!r}")
        view[var] = (low, high)

    start = _point(raw.get("start"), variables, label, "start")
    for var, value in start.items():
        low, high = view[var]
        if not low <= value <= high:
            raise ValueError(f"{label}: field 'start.{var}' = {value} lies outside the view [{low}, {high}]")

    raw_minima = raw.get("minima")
    if not isinstance(raw_minima, list):
        raise ValueError(f"{label}: field 'minima' must be a list (possibly empty)")
    minima: list[tuple[dict[str, float], float]] = []
    for k, entry in enumerate(raw_minima):
        if not isinstance(entry, dict) or set(entry) != {"point", "loss"}:
            raise ValueError(f"{label}: field 'minima[{k}]' must be an object with 'point' and 'loss'")
        point = _point(entry["point"], variables, label, f"minima[{k}].point")
        minima.append((point, _number(entry["loss"], f"{label}: field 'minima[{k}].loss'")))

    return Preset(
        name=name,
        loss=raw["loss"],
        variables=variables,
        view=view,
        start=start,
        minima=minima,
        description=raw["description"],
    )


@cache
def _load() -> tuple[Preset, ...]:
    """Read and validate once; the file ships inside the package and never changes at run time."""
    text = files("gdstudio.resources").joinpath("presets.json").read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"presets.json is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("presets.json: expected a top-level object")
    if document.get("format") != _FORMAT:
        raise ValueError(f"presets.json: field 'format' must be {_FORMAT!r}")
    if document.get("version") != _VERSION:
        raise ValueError(f"presets.json: unsupported 'version' {document.get('version')!r}, expected {_VERSION}")
    raw_presets = document.get("presets")
    if not isinstance(raw_presets, list):
        raise ValueError("presets.json: field 'presets' must be a list")
    presets = tuple(_parse_preset(raw, i) for i, raw in enumerate(raw_presets))
    seen: set[str] = set()
    for preset in presets:
        if preset.name in seen:
            raise ValueError(f"preset {preset.name!r}: field 'name' is not unique")
        seen.add(preset.name)
    return presets


def load_presets() -> list[Preset]:
    """All presets in file order (a fresh list, so callers may sort or filter it)."""
    return list(_load())


def preset_by_name(name: str) -> Preset:
    """The preset called ``name``; ``KeyError`` lists the known names when it is missing."""
    for preset in _load():
        if preset.name == name:
            return preset
    raise KeyError(f"no preset named {name!r}; known: {', '.join(p.name for p in _load())}")
