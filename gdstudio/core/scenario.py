"""Scenarios: a whole experiment (loss, data, runs, stop rules, insight settings) as versioned JSON.

The public face of three modules, so that callers need one import:

- scenario_model: the frozen dataclasses and the limits they keep;
- scenario_format: to and from the JSON document, validation with JSON paths, version migration
  (scenario_sections reads each section);
- scenario_files: load, save (atomic) and relocate.
"""

from __future__ import annotations

from .vocabulary import MAX_VARIABLES
from .scenario_files import MAX_FILE_BYTES, load, relocate, save
from .scenario_format import FORMAT, VERSION, dumps, from_dict, loads, to_dict
from .scenario_model import (BASINS_LIMITS, DEFAULT_RANGE, DESCRIPTION_LIMIT, MAX_RUNS, MAX_STEPS_LIMIT, NAME_LIMIT,
                             RACE_LIMITS, RESTARTS_LIMITS, SWEEP_CELLS_LIMITS, SWEEP_LR_LIMITS, SWEEP_METRICS,
                             SWEEP_OTHER_LIMITS, SWEEP_PARAMS, SWEEP_STEPS_LIMITS, DataSpec, InsightSettings, RunSpec,
                             Scenario, ScenarioError, StopRules, SweepSettings)
from .scenario_sections import MAX_NAMES, MAX_PROBLEMS

__all__ = [
    "BASINS_LIMITS", "DEFAULT_RANGE", "DESCRIPTION_LIMIT", "FORMAT", "MAX_FILE_BYTES", "MAX_NAMES", "MAX_PROBLEMS",
    "MAX_RUNS", "MAX_STEPS_LIMIT", "MAX_VARIABLES", "NAME_LIMIT", "RACE_LIMITS", "RESTARTS_LIMITS", "SWEEP_CELLS_LIMITS",
    "SWEEP_LR_LIMITS", "SWEEP_METRICS", "SWEEP_OTHER_LIMITS", "SWEEP_PARAMS", "SWEEP_STEPS_LIMITS", "VERSION",
    "DataSpec", "InsightSettings", "RunSpec", "Scenario", "ScenarioError", "StopRules", "SweepSettings",
    "dumps", "from_dict", "load", "loads", "relocate", "save", "to_dict",
]
