"""Many runs at once: per-start hyper-parameters, chunks with progress and cancel."""

import numpy as np
import pytest

from gdstudio.core import kernel as K
from gdstudio.core.batch import run_batch
from gdstudio.core.expression import parse_objective
from gdstudio.core.plan import RunPlan
from gdstudio.core.runner import run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
STOP = StopRules(max_steps=300, grad_tol=None)


def plan(objective, optimizer: str, hyper: dict | None = None, stop: StopRules = STOP, **run) -> RunPlan:
    return RunPlan(objective, RunSpec(optimizer, optimizer, hyper or {}, **run), stop)


def single(optimizer: str, hyper: dict) -> np.ndarray:
    spec = RunSpec("r", optimizer, hyper, {"x": -1.5, "y": 2.0})
    (run,) = run_scenario(Scenario(ROSENBROCK, runs=(spec,), stop=STOP))
    return run.trajectory.params[-1]


def test_per_start_hyper_parameters_match_single_runs() -> None:
    objective = parse_objective(ROSENBROCK)
    lrs, momenta, beta1s = np.array([1e-4, 2e-4, 5e-4]), np.array([0.0, 0.5, 0.9]), np.array([0.8, 0.9, 0.95])
    starts = np.tile([-1.5, 2.0], (3, 1))
    sgd = run_batch(plan(objective, "sgd"), starts, lr=lrs, columns={"momentum": momenta})
    adam = run_batch(plan(objective, "adam", {"lr": 0.01}), starts, columns={"beta1": beta1s})
    for i in range(3):
        np.testing.assert_array_equal(sgd.final[i], single("sgd", {"lr": lrs[i], "momentum": momenta[i]}))
        np.testing.assert_array_equal(adam.final[i], single("adam", {"lr": 0.01, "betas": [beta1s[i], 0.999]}))
    assert (sgd.status == K.MAX_STEPS).all() and (sgd.reason == K.STEP_LIMIT).all()


def test_bad_per_start_values_are_refused() -> None:
    with pytest.raises(ValueError, match="momentum"):
        run_batch(plan(parse_objective("x^2"), "sgd"), np.zeros((2, 1)), columns={"momentum": [0.5, -1.0]})


def test_chunks_report_progress_and_can_be_cancelled() -> None:
    objective = parse_objective("x^2")
    seen: list[tuple[int, int]] = []
    gd = plan(objective, "gd", {"lr": 1e-3})
    whole = run_batch(gd, np.ones((100, 1)))
    chunked = run_batch(gd, np.ones((100, 1)), chunk_steps=50, progress=lambda done, total: seen.append((done, total)))
    np.testing.assert_array_equal(whole.final, chunked.final)
    assert seen[-1] == (301, 301) and len(seen) == 7
    stopped = run_batch(gd, np.ones((100, 1)), chunk_steps=50, cancel=lambda: len(seen) >= 9,
                        progress=lambda done, total: seen.append((done, total)))
    # one status for a cancel everywhere: the runs it cut short are CANCELLED, with no loss (never RUNNING)
    assert (stopped.status == K.CANCELLED).all() and (stopped.steps == 100).all() and stopped.cancelled
    assert np.isnan(stopped.loss).all() and (stopped.reason == 0).all() and not whole.cancelled


def test_runs_on_batches_go_in_groups_that_bound_their_shuffles(monkeypatch) -> None:
    """Each run on batches keeps a permutation of every row: many starts over many rows are run a group
    at a time (the same runs, bit for bit), so memory stays bounded."""
    import gdstudio.core.batch as batch
    from gdstudio.core.data import generate

    data = generate({"kind": "noisy_line", "n": 1000, "seed": 2})
    objective = parse_objective("mean((w*x + b - y)^2)", None, data.columns, data.values)
    sgd = plan(objective, "gd", {"lr": 0.01}, StopRules(max_steps=200, grad_tol=None), batch_size=10, seed=5)
    starts = np.random.default_rng(0).uniform(-2, 2, (50, 2))
    whole = run_batch(sgd, starts)
    assert batch._groups(50, sgd) == [slice(0, 50)]
    monkeypatch.setattr(batch, "SHUFFLE_BUDGET", 7 * 1000)
    assert len(batch._groups(50, sgd)) == 8  # groups of 7 runs
    seen = []
    grouped = run_batch(sgd, starts, chunk_steps=100, progress=lambda done, total: seen.append((done, total)))
    for a, b in zip(whole.__dict__.values(), grouped.__dict__.values()):
        np.testing.assert_array_equal(a, b)
    assert seen[-1] == (8 * 201, 8 * 201) and seen == sorted(seen)
    assert batch._groups(50, plan(objective, "gd")) == [slice(0, 50)]  # full batches keep no permutation
