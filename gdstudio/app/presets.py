"""Presets (classic test functions) and example scenarios, read from the package data.

`gdstudio.core.presets` may not exist yet in every checkout, so its import is guarded:
without it the presets menu is simply empty.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from ..core.scenario import Scenario


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


def minima_for(scenario: Scenario, variables: tuple[str, ...]) -> list[tuple[dict[str, float], float]]:
    """Known minima of the presets whose loss is the scenario's (same text up to spaces, same variables)."""
    found: list[tuple[dict[str, float], float]] = []
    for preset in load_presets():
        if _compact(getattr(preset, "loss", "")) == _compact(scenario.loss) and tuple(preset.variables) == tuple(variables):
            found.extend((dict(point), float(loss)) for point, loss in preset.minima)
    return found


def example_files() -> list[tuple[str, Any]]:
    """(title, resource) of every example scenario shipped in gdstudio.scenarios, sorted by file name."""
    try:
        folder = files("gdstudio.scenarios")
        entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    except (ModuleNotFoundError, OSError):
        return []
    return [(e.name[:-5].replace("_", " ").replace("-", " "), e) for e in entries]
