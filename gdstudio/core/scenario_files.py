"""Scenario files on disk: a bounded read, an atomic save, and moving a scenario to another folder.

The format itself is scenario_format's; the byte-level safety (size limits, temp file + fsync +
rename, permissions kept) is fileio's, shared with the autosave and `run --out`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from .fileio import read_limited, write_atomic
from .scenario_format import dumps, loads
from .scenario_model import Scenario, ScenarioError

MAX_FILE_BYTES = 20_000_000


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
