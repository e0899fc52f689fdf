"""Scenario files: exact round trips, every kind of bad input reported at its JSON path, refusal of
newer versions and broken files, and atomic saving."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest

from gdstudio.core.fileio import default_scenario_text
from gdstudio.core import scenario as S
from gdstudio.core import scenario_files
from gdstudio.core.scenario import RunSpec, Scenario, ScenarioError, StopRules

VALID = {
    "format": "gdstudio-scenario",
    "version": 1,
    "name": "Rosenbrock — four ways",
    "description": "Ünïcödé, quotes \" and\nnew lines survive.",
    "loss": "(1 - x)^2 + 100*(y - x^2)^2",
    "variables": ["x", "y"],
    "view": {"x": [-2, 2], "y": [-1.0, 3.5]},
    "data": None,
    "runs": [
        {"label": "Adam", "optimizer": {"name": "adam", "lr": 0.02, "betas": [0.8, 0.99], "amsgrad": True},
         "start": {"x": -1.5, "y": 2}, "seed": 0, "color": "#1f77b4"},
        {"label": "SGD + momentum", "optimizer": {"name": "sgd", "lr": 0.0005, "momentum": 0.9, "nesterov": True},
         "start": {"x": -1.5, "y": 2.0}, "schedule": {"name": "step", "step_size": 100, "gamma": 0.5},
         "clip": {"norm": 5.0}, "seed": 3},
        {"label": "random start", "optimizer": {"name": "newton", "damping": 0.1}, "seed": 12345678901234,
         "schedule": {"name": "warmup", "start_factor": 0.2, "total_iters": 10}, "clip": {"value": 0.5}},
        {"optimizer": {"name": "gd"}, "seed": 1},
    ],
    "stop": {"max_steps": 5000, "grad_tol": 1e-8, "loss_tol": None, "divergence": 1e12},
}


def valid() -> dict:
    return copy.deepcopy(VALID)


def problems(document) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        S.from_dict(document)
    return caught.value.problems


# --- round trips ---------------------------------------------------------------------------------


def test_a_valid_document_loads_with_what_it_says() -> None:
    scenario = S.from_dict(valid())
    assert scenario.name == "Rosenbrock — four ways"
    assert scenario.variables == ("x", "y")
    assert scenario.view == {"x": (-2.0, 2.0), "y": (-1.0, 3.5)}
    assert scenario.range_of("y") == (-1.0, 3.5) and scenario.range_of("z") == (-3.0, 3.0)
    adam, sgd, newton, plain = scenario.runs
    assert (adam.optimizer, adam.hyper["lr"], list(adam.hyper["betas"]), adam.color) == ("adam", 0.02, [0.8, 0.99], "#1f77b4")
    assert adam.start == {"x": -1.5, "y": 2.0}
    assert (sgd.schedule, sgd.schedule_params, sgd.clip_kind, sgd.clip_value, sgd.seed) == ("step", {"step_size": 100, "gamma": 0.5}, "norm", 5.0, 3)
    assert (newton.start, newton.clip_kind, newton.clip_value, newton.seed) == ({}, "value", 0.5, 12345678901234)
    assert plain.label == "gd" and plain.optimizer == "gd" and plain.schedule == "constant" and plain.clip_kind is None
    assert scenario.stop == StopRules(5000, 1e-8, None, 1e12)


def test_round_trip_through_dict_text_and_file(tmp_path) -> None:
    scenario = S.from_dict(valid())
    assert S.from_dict(S.to_dict(scenario)) == scenario
    assert S.loads(S.dumps(scenario)) == scenario
    path = tmp_path / "rosenbrock.json"
    S.save(scenario, path)
    assert S.load(path) == scenario
    first = path.read_text(encoding="utf-8")
    S.save(S.load(path), path)  # load → save → load: the same text, byte for byte
    assert path.read_text(encoding="utf-8") == first
    assert json.loads(first)["description"] == VALID["description"]


def test_round_trip_of_a_scenario_built_in_code() -> None:
    scenario = Scenario(
        loss="x^2 + 3y^2",
        name="made in code",
        view={"x": (-1.0, 1.0)},
        runs=(
            RunSpec("a", optimizer="adam", hyper={"lr": 0.1, "betas": (0.5, 0.75)}, start={"x": 0.5}, seed=4),
            RunSpec("b", optimizer="rmsprop", hyper={"centered": True}, schedule="cosine",
                    schedule_params={"T_max": 50.0, "eta_min": 0.001}, clip_kind="value", clip_value=1.0, color="#ABCDEF"),
        ),
        stop=StopRules(max_steps=10, grad_tol=None, loss_tol=1e-9, divergence=None),
    )
    assert S.from_dict(S.to_dict(scenario)) == scenario
    assert S.loads(S.dumps(scenario)) == scenario


def test_defaults_stay_defaults() -> None:
    minimal = {"format": "gdstudio-scenario", "version": 1, "loss": "x^2"}
    scenario = S.from_dict(minimal)
    assert scenario == Scenario(loss="x^2")
    assert S.from_dict(S.to_dict(scenario)) == scenario


def test_built_in_default_scenario_loads_and_runs() -> None:
    scenario = S.loads(default_scenario_text())
    assert scenario.loss and scenario.runs
    assert S.loads(S.dumps(scenario)) == scenario
    from gdstudio.core.runner import run_scenario

    results = run_scenario(scenario, max_steps=20)
    assert all(r.steps == 20 and r.status == "max_steps" for r in results)


# --- every kind of bad input, with its path ------------------------------------------------------


def set_in(path: tuple, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def remove(path: tuple):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BAD = [
    # (change to the valid document, the exact problem line or its start)
    (set_in(("runs", 1, "optimizer", "lr"), "fast"), 'runs[1].optimizer.lr: must be a positive number, got "fast"'),
    (set_in(("runs", 1, "optimizer", "lr"), -1), "runs[1].optimizer.lr: must be > 0, got -1"),
    (set_in(("runs", 1, "optimizer", "lr"), 0), "runs[1].optimizer.lr: must be > 0, got 0"),
    (set_in(("runs", 1, "optimizer", "lr"), None), "runs[1].optimizer.lr: must be a positive number, got null"),
    (set_in(("runs", 1, "optimizer", "lr"), True), "runs[1].optimizer.lr: must be a positive number, got true"),
    (set_in(("runs", 1, "optimizer", "lr"), [0.1]), "runs[1].optimizer.lr: must be a positive number, got [0.1]"),
    (set_in(("runs", 1, "optimizer", "lr"), float("nan")), "runs[1].optimizer.lr: must be a positive number, got NaN"),
    (set_in(("runs", 1, "optimizer", "lr"), float("inf")), "runs[1].optimizer.lr: must be a positive number, got Infinity"),
    (set_in(("runs", 1, "optimizer", "momentum"), 1.5), "runs[1].optimizer.momentum: must be >= 0 and <= 1, got 1.5"),
    (set_in(("runs", 1, "optimizer", "momentum"), -0.5), "runs[1].optimizer.momentum: must be >= 0"),
    (set_in(("runs", 1, "optimizer", "nesterov"), "yes"), 'runs[1].optimizer.nesterov: must be true or false, got "yes"'),
    (set_in(("runs", 1, "optimizer", "nesterov"), 1), "runs[1].optimizer.nesterov: must be true or false, got 1"),
    (set_in(("runs", 1, "optimizer", "learning_rate"), 0.1), "runs[1].optimizer.learning_rate: unknown hyper-parameter of sgd"),
    (set_in(("runs", 0, "optimizer", "betas"), [0.9]), "runs[0].optimizer.betas: must be a pair of numbers, got [0.9]"),
    (set_in(("runs", 0, "optimizer", "betas"), [0.9, 1.0]), "runs[0].optimizer.betas: each value must be in [0, 1), got 1.0"),
    (set_in(("runs", 0, "optimizer", "betas"), "0.9,0.99"), "runs[0].optimizer.betas: must be a pair of numbers"),
    (set_in(("runs", 0, "optimizer", "eps"), 0), "runs[0].optimizer.eps: must be > 0, got 0"),
    (set_in(("runs", 0, "optimizer", "weight_decay"), -0.1), "runs[0].optimizer.weight_decay: must be >= 0, got -0.1"),
    (set_in(("runs", 0, "optimizer", "name"), "adamm"), "runs[0].optimizer.name: unknown optimizer 'adamm'"),
    (set_in(("runs", 0, "optimizer", "name"), 3), "runs[0].optimizer.name: unknown optimizer 3"),
    (set_in(("runs", 0, "optimizer"), "adam"), 'runs[0].optimizer: must be an object, got "adam"'),
    (set_in(("runs", 0, "start", "x"), "left"), 'runs[0].start.x: must be a number, got "left"'),
    (set_in(("runs", 0, "start", "x"), None), "runs[0].start.x: must be a number, got null"),
    (set_in(("runs", 0, "start"), [1, 2]), "runs[0].start: must be an object, got [1, 2]"),
    (set_in(("runs", 0, "start", "2x"), 1.0), "runs[0].start.2x: not a valid name"),
    (set_in(("runs", 0, "label"), 7), "runs[0].label: must be text, got 7"),
    (set_in(("runs", 0, "label"), "L" * 201), "runs[0].label: is too long (201 characters, limit 200)"),
    (set_in(("runs", 1, "schedule", "name"), "steps"), "runs[1].schedule.name: unknown schedule 'steps'"),
    (set_in(("runs", 1, "schedule", "step_size"), 0), "runs[1].schedule.step_size: must be >= 1, got 0"),
    (set_in(("runs", 1, "schedule", "gamma"), "half"), 'runs[1].schedule.gamma: must be a number, got "half"'),
    (set_in(("runs", 1, "schedule", "T_max"), 10), "runs[1].schedule.T_max: unknown parameter of the step schedule"),
    (set_in(("runs", 2, "schedule", "start_factor"), 0), "runs[2].schedule.start_factor: must be > 0 and <= 1, got 0"),
    (set_in(("runs", 1, "clip"), {"norm": -1}), "runs[1].clip.norm: must be a positive number, got -1"),
    (set_in(("runs", 1, "clip"), {"norm": 0}), "runs[1].clip.norm: must be a positive number, got 0"),
    (set_in(("runs", 1, "clip"), {"norm": "big"}), 'runs[1].clip.norm: must be a positive number, got "big"'),
    (set_in(("runs", 1, "clip"), {"max": 1}), 'runs[1].clip: must be {"norm": max_norm} or {"value": clip_value}, got {"max": 1}'),
    (set_in(("runs", 1, "clip"), {"norm": 1, "value": 1}), "runs[1].clip: must be {"),
    (set_in(("runs", 1, "clip"), {}), "runs[1].clip: must be {"),
    (set_in(("runs", 1, "clip"), "norm"), 'runs[1].clip: must be an object, got "norm"'),
    (set_in(("runs", 1, "seed"), -1), "runs[1].seed: must be a non-negative whole number, got -1"),
    (set_in(("runs", 1, "seed"), 1.5), "runs[1].seed: must be a non-negative whole number, got 1.5"),
    (set_in(("runs", 1, "seed"), "42"), 'runs[1].seed: must be a non-negative whole number, got "42"'),
    (set_in(("runs", 1, "seed"), True), "runs[1].seed: must be a non-negative whole number, got true"),
    (set_in(("runs", 1, "seed"), 2**64), "runs[1].seed: must be a non-negative whole number, got 18446744073709551616"),
    (set_in(("runs", 1, "color"), "red"), 'runs[1].color: must be a colour like "#1f77b4", got "red"'),
    (set_in(("runs", 1, "color"), "#12345"), 'runs[1].color: must be a colour like "#1f77b4", got "#12345"'),
    (set_in(("runs", 1, "color"), "#12345g"), 'runs[1].color: must be a colour like "#1f77b4", got "#12345g"'),
    (set_in(("runs", 1, "color"), 0x123456), "runs[1].color: must be a colour like"),
    (set_in(("runs", 1, "colour"), "#123456"), "runs[1].colour: unknown field"),
    (set_in(("runs", 3), 5), "runs[3]: must be an object, got 5"),
    (set_in(("runs",), {"a": {}}), 'runs: must be a list, got {"a": {}}'),
    (set_in(("runs",), [{}] * 101), "runs: has 101 runs (limit 100)"),
    (remove(("loss",)), "loss: is missing"),
    (set_in(("loss",), 5), "loss: must be text, got 5"),
    (set_in(("loss",), None), "loss: must be text, got null"),
    (set_in(("loss",), "x" * 2001), "loss: is too long (2001 characters, limit 2000)"),
    (set_in(("name",), ["a"]), 'name: must be text, got ["a"]'),
    (set_in(("description",), 1), "description: must be text, got 1"),
    (set_in(("variables",), "xy"), 'variables: must be a list of variable names, got "xy"'),
    (set_in(("variables",), ["x", "_y"]), "variables[1]: not a valid name"),
    (set_in(("variables",), ["x", "e"]), "variables[1]: in a loss, e is the constant e"),
    (set_in(("variables",), ["x", "x"]), "variables: lists x more than once"),
    (set_in(("view",), [[-1, 1]]), "view: must be an object, got [[-1, 1]]"),
    (set_in(("view", "x"), [2, 1]), "view.x: low must be below high, got [2, 1]"),
    (set_in(("view", "x"), [1, 1]), "view.x: low must be below high, got [1, 1]"),
    (set_in(("view", "x"), [1]), "view.x: must be a pair [low, high], got [1]"),
    (set_in(("view", "x"), [0, 1, 2]), "view.x: must be a pair [low, high], got [0, 1, 2]"),
    (set_in(("view", "x"), {"low": 0, "high": 1}), "view.x: must be a pair [low, high]"),
    (set_in(("view", "x"), ["a", 1]), 'view.x[0]: must be a number, got "a"'),
    (set_in(("view", "x"), [0, None]), "view.x[1]: must be a number, got null"),
    (set_in(("view", "x"), [float("-inf"), 1]), "view.x[0]: must be a number, got -inf"),
    (set_in(("view", "1x"), [0, 1]), "view.1x: not a valid name"),
    (set_in(("view", "x"), [-1e308, 1e308]), "view.x: the range is too wide, got [-1e+308, 1e+308]"),
    (set_in(("stop",), 5), "stop: must be an object, got 5"),
    (set_in(("stop", "max_steps"), -1), "stop.max_steps: must be a whole number from 0 to 1,000,000,000, got -1"),
    (set_in(("stop", "max_steps"), 10.5), "stop.max_steps: must be a whole number from 0 to 1,000,000,000, got 10.5"),
    (set_in(("stop", "max_steps"), 10**10), "stop.max_steps: must be a whole number from 0 to 1,000,000,000"),
    (set_in(("stop", "max_steps"), "1000"), 'stop.max_steps: must be a whole number from 0 to 1,000,000,000, got "1000"'),
    (set_in(("stop", "grad_tol"), -1e-8), "stop.grad_tol: must be at least 0, got -1e-08"),
    (set_in(("stop", "divergence"), "huge"), 'stop.divergence: must be a number, got "huge"'),
    (set_in(("stop", "loss_tol"), float("nan")), "stop.loss_tol: must be a number, got nan"),
    (set_in(("stop", "patience"), 3), "stop.patience: unknown field"),
    (set_in(("extra",), 1), "extra: unknown field"),
    (set_in(("insight",), 3), "insight: must be an object, got 3"),
    (set_in(("insight",), {"restart": {"count": 3}}), "insight.restart: unknown field (expected one of: basins, race, restarts, sweep)"),
    (set_in(("insight",), {"restarts": 3}), "insight.restarts: must be an object, got 3"),
    (set_in(("insight",), {"restarts": {"count": 0}}), "insight.restarts.count: must be a whole number from 1 to 10,000, got 0"),
    (set_in(("insight",), {"restarts": {"n": 3}}), "insight.restarts.n: unknown field (expected one of: count)"),
    (set_in(("insight",), {"basins": {"resolution": 96.5}}), "insight.basins.resolution: must be a whole number from 8 to 512, got 96.5"),
    (set_in(("insight",), {"race": {"budget": True}}), "insight.race.budget: must be a whole number from 1 to 10,000,000, got true"),
    (set_in(("insight",), {"sweep": {"cells": "x"}}), 'insight.sweep.cells: must be a whole number from 2 to 256, got "x"'),
    (set_in(("insight",), {"sweep": {"steps": 0}}), "insight.sweep.steps: must be a whole number from 1 to 1,000,000, got 0"),
    (set_in(("insight",), {"sweep": {"param": "momentun"}}), "insight.sweep.param: must be a hyper-parameter an optimizer can sweep"),
    (set_in(("insight",), {"sweep": {"param": "lr"}}), "insight.sweep.param: must be a hyper-parameter an optimizer can sweep"),
    (set_in(("insight",), {"sweep": {"metric": "loss"}}), 'insight.sweep.metric: must be one of final_loss, steps_to_tolerance, got "loss"'),
    (set_in(("insight",), {"sweep": {"lr": [0.1]}}), "insight.sweep.lr: must be a pair [low, high], got [0.1]"),
    (set_in(("insight",), {"sweep": {"lr": [0.1, "a"]}}), 'insight.sweep.lr[1]: must be a number, got "a"'),
    (set_in(("insight",), {"sweep": {"lr": [0.1, 0.01]}}), "insight.sweep.lr: must have 1e-06 <= low < high <= 1e+06, got [0.1, 0.01]"),
    (set_in(("insight",), {"sweep": {"lr": [0, 1]}}), "insight.sweep.lr: must have 1e-06 <= low < high <= 1e+06, got [0, 1]"),
    (set_in(("insight",), {"sweep": {"param": "rho", "other": [1, 1]}}), "insight.sweep.other: must have -1e+06 <= low < high"),
    (set_in(("insight",), {"sweep": {"other": [0, 1]}}), 'insight.sweep.other: needs "param"'),
    (set_in(("insight",), {"sweep": {"colormap": "viridis"}}), "insight.sweep.colormap: unknown field"),
    (set_in(("Loss",), "x"), "Loss: unknown field"),
]


@pytest.mark.parametrize("change, expected", BAD, ids=[e[:60] for _, e in BAD])
def test_bad_input_is_reported_at_its_json_path(change, expected: str) -> None:
    document = valid()
    change(document)
    found = problems(document)
    assert any(line == expected or line.startswith(expected) for line in found), found
    assert len(found) == 1, found  # one problem, reported once


def test_every_problem_is_reported_in_one_load() -> None:
    document = valid()
    document["runs"][0]["seed"] = -1
    document["runs"][1]["optimizer"]["lr"] = "fast"
    document["view"]["y"] = [3, 1]
    document["stop"]["max_steps"] = -5
    del document["loss"]
    found = problems(document)
    assert len(found) == 5
    assert {line.split(":")[0] for line in found} == {"runs[0].seed", "runs[1].optimizer.lr", "view.y", "stop.max_steps", "loss"}


@pytest.mark.parametrize(
    "document, expected",
    [
        ([], "the file must hold a JSON object, got []"),
        (None, "the file must hold a JSON object, got null"),
        ("x^2", 'the file must hold a JSON object, got "x^2"'),
        ({"version": 1, "loss": "x"}, 'format: must be "gdstudio-scenario", got null'),
        ({"format": "gdstudio-scenery", "version": 1, "loss": "x"}, 'format: must be "gdstudio-scenario", got "gdstudio-scenery"'),
        ({"format": "gdstudio-scenario", "loss": "x"}, "version: must be a whole number from 1, got null"),
        ({"format": "gdstudio-scenario", "version": "1", "loss": "x"}, 'version: must be a whole number from 1, got "1"'),
        ({"format": "gdstudio-scenario", "version": 0, "loss": "x"}, "version: must be a whole number from 1, got 0"),
        ({"format": "gdstudio-scenario", "version": True, "loss": "x"}, "version: must be a whole number from 1, got true"),
    ],
)
def test_documents_that_are_not_scenarios(document, expected: str) -> None:
    assert problems(document) == [expected]


@pytest.mark.parametrize("version", [2, 99])
def test_a_newer_version_is_refused_clearly(version: int) -> None:
    document = valid()
    document["version"] = version
    document["a field from the future"] = {"x": 1}
    (line,) = problems(document)
    assert line.startswith("version: ")
    assert "newer gdstudio" in line and f"version {version}" in line and "up to 1" in line


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ('{"format": "gdstudio-scenario",}', "not valid JSON"),
        ("{'format': 'gdstudio-scenario'}", "not valid JSON"),
        ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "stop": {"divergence": NaN}}',
         "not valid JSON: NaN is not a number JSON allows"),
        ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "stop": {"divergence": Infinity}}',
         "not valid JSON: Infinity is not a number JSON allows"),
        ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "stop": {"divergence": -Infinity}}',
         "not valid JSON: -Infinity is not a number JSON allows"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "not valid JSON: nested too deeply"),
    ],
    ids=["empty", "unclosed", "trailing comma", "single quotes", "NaN", "Infinity", "-Infinity", "deep list", "deep object"],
)
def test_text_that_is_not_json(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        S.loads(text, "broken.json")
    (line,) = caught.value.problems
    assert line.startswith(expected)
    assert str(caught.value).startswith("broken.json: not valid JSON")


def test_load_names_the_file_in_every_problem(tmp_path) -> None:
    document = valid()
    document["runs"][1]["optimizer"]["lr"] = "fast"
    document["stop"]["grad_tol"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        S.load(path)
    lines = str(caught.value).splitlines()
    assert lines == [f'{path}: runs[1].optimizer.lr: must be a positive number, got "fast"',
                     f"{path}: stop.grad_tol: must be at least 0, got -1"]


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ScenarioError) as caught:
        S.load(tmp_path / "nowhere.json")
    (line,) = caught.value.problems
    assert line.startswith("cannot read the file") and "No such file" in line


def test_a_directory_is_not_a_scenario(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        S.load(tmp_path)


def test_non_utf8_file(tmp_path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(valid(), ensure_ascii=False).encode("latin-1", errors="replace").replace(b"?", b"\xe9"))
    with pytest.raises(ScenarioError) as caught:
        S.load(path)
    assert caught.value.problems == ["the file is not UTF-8 text"]


def test_utf8_with_a_byte_order_mark_or_binary_junk(tmp_path) -> None:
    path = tmp_path / "junk.json"
    path.write_bytes(b"\x00\x01\x02garbage\xff")
    with pytest.raises(ScenarioError):
        S.load(path)


def test_an_oversized_file_is_refused_before_reading(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scenario_files, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(valid()), encoding="utf-8")
    with pytest.raises(ScenarioError, match="too large"):
        S.load(path)


# --- atomic save ------------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, failing: str) -> None:
    path = tmp_path / "scenario.json"
    old = S.from_dict(valid())
    S.save(old, path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    new = Scenario(loss="x^2 + y^2", name="new")
    with pytest.raises(OSError):
        S.save(new, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.json"]


def test_an_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "scenario.json"
    S.save(S.from_dict(valid()), path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class Interrupted(Exception):
        pass

    def half_written(fd, *args, **kwargs):
        stream = real_fdopen(fd, *args, **kwargs)
        real_write = stream.write

        def write(text):
            real_write(text[: len(text) // 2])
            raise Interrupted  # e.g. KeyboardInterrupt halfway through writing

        stream.write = write
        return stream

    monkeypatch.setattr(os, "fdopen", half_written)
    with pytest.raises(Interrupted):
        S.save(Scenario(loss="x^2"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.json"]


def test_save_creates_a_new_file_and_overwrites_an_old_one(tmp_path) -> None:
    path = tmp_path / "new.json"
    S.save(Scenario(loss="x^2"), path)
    assert S.load(path) == Scenario(loss="x^2")
    S.save(Scenario(loss="y^2", name="second"), path)
    assert S.load(path).name == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["new.json"]


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path) -> None:
    path = tmp_path / "shared.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o644)
    S.save(Scenario(loss="x^2"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_new_file_gets_the_usual_permissions(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        path = tmp_path / "fresh.json"
        S.save(Scenario(loss="x^2"), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def test_saved_text_is_plain_utf8_json(tmp_path) -> None:
    path = tmp_path / "s.json"
    S.save(S.from_dict(valid()), path)
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    document = json.loads(raw.decode("utf-8"))
    assert document["format"] == "gdstudio-scenario" and document["version"] == 1
    assert "Ünïcödé" in raw.decode("utf-8")


def test_a_fractional_step_size_is_refused() -> None:
    document = valid()
    document["runs"][1]["schedule"]["step_size"] = 2.5
    (line,) = problems(document)
    assert line.startswith("runs[1].schedule.step_size: ")


# --- insight tool settings ------------------------------------------------------------------------

INSIGHT = {"restarts": {"count": 7}, "basins": {"resolution": 40}, "race": {"budget": 1000},
           "sweep": {"param": "momentum", "metric": "steps_to_tolerance", "cells": 64, "steps": 300, "lr": [1e-05, 0.1],
                     "other": [0.0, 0.99]}}


def test_insight_settings_load_and_round_trip_byte_for_byte(tmp_path) -> None:
    document = valid() | {"insight": copy.deepcopy(INSIGHT)}
    scenario = S.from_dict(document)
    assert scenario.insight == S.InsightSettings(7, 40, 1000, S.SweepSettings("momentum", "steps_to_tolerance", 64, 300,
                                                                               (1e-5, 0.1), (0.0, 0.99)))
    assert S.to_dict(scenario)["insight"] == INSIGHT
    path = tmp_path / "with_insight.json"
    S.save(scenario, path)
    assert S.load(path) == scenario
    first = path.read_text(encoding="utf-8")
    S.save(S.load(path), path)
    assert path.read_text(encoding="utf-8") == first


def test_without_insight_a_file_loads_with_the_defaults_and_saves_without_the_key() -> None:
    scenario = S.from_dict(valid())
    assert scenario.insight == S.InsightSettings()
    assert "insight" not in S.to_dict(scenario)
    assert S.to_dict(S.from_dict(valid() | {"insight": {}})) == S.to_dict(scenario)


def test_only_insight_settings_that_differ_from_the_defaults_are_written() -> None:
    scenario = S.from_dict(valid() | {"insight": {"race": {"budget": 2000}, "sweep": {"cells": 16, "param": None}}})
    assert S.to_dict(scenario)["insight"] == {"sweep": {"cells": 16}}
    assert S.from_dict(S.to_dict(scenario)) == scenario


def test_a_scenario_the_loader_would_refuse_is_not_saved(tmp_path) -> None:
    path = tmp_path / "s.json"
    path.write_text("old")
    bad = Scenario("x^2 + y^2", runs=(RunSpec("a", "gd", {}, {"x": 1.0}), RunSpec("b", "gd", {}, {"x": 0.0, "y": float("nan")})))
    with pytest.raises(ScenarioError) as caught:
        S.save(bad, path)
    assert caught.value.problems == ["runs[1].start.y: must be a finite number, got nan"]
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["s.json"]
