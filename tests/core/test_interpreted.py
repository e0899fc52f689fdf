"""The Python tier (interpreted.py) is the compiled kernel bit for bit: a run that steps in Python first and
hands over to the compiled kernel midway is the run the compiled kernel makes alone, for every optimizer and
variant, schedule, clipping and batching, over losses that use every kind of power and function."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from gdstudio.core import interpreted
from gdstudio.core.expression import parse_objective
from gdstudio.core.jit import fma
from gdstudio.core.runner import ScenarioRunner
from gdstudio.core.scenario import RunSpec, Scenario, StopRules, load

LESSONS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.json"))
STEPS, PYTHON_STEPS = 240, 120  # Python steps the first half, the compiled kernel the rest
NO_STOP = StopRules(max_steps=STEPS, grad_tol=None, loss_tol=None, divergence=None)

VARIANTS = [
    ("gd", {"lr": 0.01}), ("sgd", {"lr": 0.01, "momentum": 0.9}),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.001, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("rmsprop", {"lr": 0.01}), ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.01}),
    ("adadelta", {"lr": 1.0, "weight_decay": 0.01}), ("adam", {"lr": 0.05}),
    ("adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01}), ("adamw", {"lr": 0.05}),
    ("nadam", {"lr": 0.05, "decoupled_weight_decay": True, "weight_decay": 0.1}), ("adamax", {"lr": 0.05}),
    ("radam", {"lr": 0.05, "weight_decay": 0.01}), ("newton", {"lr": 1.0}),
    ("newton", {"lr": 0.5, "line_search": False, "damping": 0.1}),
]
SCHEDULES = [("constant", {}), ("step", {"step_size": 7, "gamma": 0.5}), ("exponential", {"gamma": 0.97}),
             ("inverse_time", {"decay": 0.05}), ("cosine", {"T_max": 50, "eta_min": 0.001}),
             ("warmup", {"start_factor": 0.2, "total_iters": 30})]
CLIPS = [(None, None), ("norm", 1.0), ("value", 0.5)]
# every way the generated code writes a power (x^n by squaring, x^2.0, x^1.5, 2^x as exp2, 10^x, x^(-n)) and a function
ZOO = ("softplus(x) + sqrt(x^2 + y^2 + 1) + atan(x*y) + tanh(y)^3 + abs(x - 1) + max(x, y^2) + relu(y - 0.5)"
       " + sigmoid(x*y) + 2^(x/3) + 0.5^y + 10^(y/9) + 0.1*(x^4 + y^4) + cosh(0.1*x) + log10(2 + y^2)"
       " + atan2(y, x + 3) + (x^2 + 1)^1.5 + (y^2 + 1)^2.0 + (x^2 + 2)^(-3) + exp(-x^2)*sin(3*y) + log2(3 + cos(x))")


def bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


def handed_over(scenario: Scenario, objective=None) -> tuple[list, list]:
    """(compiled alone, Python then compiled) runs of the scenario."""
    alone = ScenarioRunner(scenario, objective).run_to_end()
    mixed = ScenarioRunner(scenario, objective)
    n = 1
    while pending := [r for r in mixed.runs if not r.done and r.steps < PYTHON_STEPS and r.python_fg is not None]:
        for run in pending:
            run.advance(n, interpret=True)
        n = min(2 * n + 1, 40)  # chunks of every size, so chunk ends fall anywhere
    return alone, mixed.run_to_end()


def assert_same(alone: list, mixed: list) -> None:
    for a, b in zip(alone, mixed, strict=True):
        assert a.trajectory.rows.shape == b.trajectory.rows.shape, a.label
        assert np.array_equal(bits(a.trajectory.rows), bits(b.trajectory.rows)), a.label
        for name in ("P", "ST", "NOTE", "EVENT", "STATUS", "T"):
            assert np.array_equal(bits(getattr(a.kernel, name)), bits(getattr(b.kernel, name))), (a.label, name)
        assert a.reason == b.reason


def runs_of(start: dict[str, float], schedule: tuple[str, dict], **extra) -> tuple[RunSpec, ...]:
    return tuple(RunSpec(f"{name} {hyper} {clip}", optimizer=name, hyper=hyper, start=start, schedule=schedule[0],
                         schedule_params=schedule[1], clip_kind=clip, clip_value=value, **extra)
                 for i, (name, hyper) in enumerate(VARIANTS) for clip, value in [CLIPS[i % len(CLIPS)]])


@pytest.mark.parametrize("loss", ["(1 - x)^2 + 100*(y - x^2)^2", ZOO])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=[s for s, _ in SCHEDULES])
def test_every_optimizer_and_schedule_steps_in_python_bit_for_bit(loss: str, schedule: tuple[str, dict]) -> None:
    objective = parse_objective(loss, ("x", "y"))
    scenario = Scenario(loss=loss, variables=("x", "y"), runs=runs_of({"x": -1.2, "y": 1.1}, schedule), stop=NO_STOP)
    alone, mixed = handed_over(scenario, objective)
    assert_same(alone, mixed)
    waited = [run.label for run in mixed if run.python_fg is None]
    assert all("maximize" in label for label in waited)  # only a run climbing to an overflow waits for the kernel


@pytest.mark.parametrize("batch", [None, 1, 8, "8 with replacement"])
@pytest.mark.parametrize("loss", ["mean((w*x + b - y)^2)", "mean(log(1 + exp(-(w*x + b - y)^2))) + sum(abs(w*x - y))/100"])
def test_data_losses_and_their_batches_step_in_python_bit_for_bit(loss: str, batch) -> None:
    lesson = load(LESSONS[2])  # 03: a noisy line of 100 points
    size, replacement = (8, True) if batch == "8 with replacement" else (batch, False)
    runs = runs_of({"w": 0.3, "b": -0.2}, SCHEDULES[batch is None], batch_size=size, replacement=replacement, seed=5)
    scenario = replace(lesson, loss=loss, runs=runs, stop=NO_STOP)
    alone, mixed = handed_over(scenario)
    assert_same(alone, mixed)
    assert all(run.python_fg is not None for run in mixed)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_hands_over_bit_for_bit(path: Path) -> None:
    lesson = load(path)
    alone, mixed = handed_over(replace(lesson, stop=replace(lesson.stop, max_steps=STEPS)))
    assert_same(alone, mixed)
    assert any(run.python_fg is not None for run in mixed)


def test_a_step_python_cannot_take_is_undone_and_the_compiled_kernel_takes_it() -> None:
    # exp(x) overflows after a few steps uphill: compiled code gets inf (the run diverges), Python an OverflowError
    scenario = Scenario(loss="exp(x) + y^2", variables=("x", "y"), stop=NO_STOP,
                        runs=(RunSpec("up", hyper={"lr": 100.0, "maximize": True}, optimizer="sgd", start={"x": 1.0, "y": 1.0}),))
    alone, mixed = handed_over(scenario)
    assert mixed[0].python_fg is None  # it stopped stepping in Python,
    assert mixed[0].status == "diverged" and "loss became inf" in mixed[0].reason  # and the kernel finished it
    assert_same(alone, mixed)


def test_big_data_waits_for_the_compiled_kernel() -> None:
    x = np.linspace(0, 1, interpreted.MAX_ROWS + 1)
    objective = parse_objective("mean((w*x - y)^2)", ("w",), ("x", "y"), np.stack([x, 2 * x]))
    with pytest.raises(interpreted.Uninterpretable, match="rows are too many"):
        interpreted.python_fg(objective, False)


_llvm_fma = fma.made()  # (Numba's intrinsic, which the kernel's modules get once it is compiled: jit.py)


@njit
def _compiled_fma(a, b, c):
    return _llvm_fma(a, b, c)


def test_fma_is_rounded_once_as_llvm_does() -> None:
    rng = np.random.default_rng(7)
    big, tiny = 1.7e308, 5e-324
    edges = [(big, 2.0, -big), (big, 2.0, 1.0), (-0.0, 1.0, -0.0), (0.0, -1.0, 0.0), (1.0, -1.0, 1.0), (tiny, 0.5, 0.0),
             (math.inf, 0.0, 1.0), (math.inf, 1.0, -math.inf), (big, big, -math.inf), (math.nan, 1.0, 1.0), (3.0, 1.0, math.nan),
             (1 + 2**-52, 1 - 2**-52, -1.0), (0.1, 10.0, -1.0)]
    cases = edges + [tuple(v) for v in rng.normal(0, 1, (3000, 3)) * rng.choice([1e-300, 1e-8, 1.0, 1e150], (3000, 3))]
    for a, b, c in cases:
        assert bits(np.float64(interpreted.exact_fma(a, b, c))) == bits(np.float64(_compiled_fma(a, b, c))), (a, b, c)
