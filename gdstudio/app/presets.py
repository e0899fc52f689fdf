"""Presets (classic test functions) and example scenarios, read from the package data.

`gdstudio.core.presets` may not exist yet in every checkout, so its import is guarded:
without it the presets menu is simply empty.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..core.scenario import Scenario

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ..core.expression import Objective


def load_presets() -> list[Any]:
    try:
        from ..core.presets import load_presets as load  # type: ignore[import-not-found]
    except ImportError:
        return []
    try:
        return list(load())
    except Exception:  # a broken presets file must not stop the studio from opening
        return []


def _compact(text: str) -> str:
    return "".join(text.split())


def minima_for(objective: Objective) -> list[tuple[dict[str, float], float]]:
    """Known minima of the presets whose loss is this one (same text up to spaces, same variables). Of the
    objective drawn, not the document's loss: a typed loss is drawn before the document holds it."""
    found: list[tuple[dict[str, float], float]] = []
    for preset in load_presets():
        if _compact(getattr(preset, "loss", "")) == _compact(objective.text) and tuple(preset.variables) == objective.variables:
            found.extend((dict(point), float(loss)) for point, loss in preset.minima)
    return found


def preset_changes(scenario: Scenario, preset: Any) -> dict[str, Any]:
    """What choosing a preset changes (for `Document.update(Change.ALL, **changes)`): its loss, variables,
    view, name and description, and every run's start; runs keep their optimizer, schedule, clipping,
    seed and colour. A preset is a plain function, so the data set goes, and with it batches and scaling."""
    runs = tuple(replace(r, start=dict(preset.start), batch_size=None, replacement=False, scale={}) for r in scenario.runs)
    return {
        "loss": preset.loss,
        "variables": tuple(preset.variables) or None,
        "view": {k: tuple(v) for k, v in dict(preset.view).items()},
        "runs": runs,
        "data": None,
        "name": preset.name,
        "description": getattr(preset, "description", ""),
    }


def example_files() -> list[tuple[str, Any]]:
    """(title, resource) of every example scenario shipped in gdstudio.scenarios, sorted by file name."""
    try:
        folder = files("gdstudio.scenarios")
        entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    except (ModuleNotFoundError, OSError):
        return []
    return [(e.name[:-5].replace("_", " ").replace("-", " "), e) for e in entries]
