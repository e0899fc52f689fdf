"""Sweeps, basins, races and restarts against answers known in closed form."""

import numpy as np
import pytest

from gdstudio.core import kernel as K
from gdstudio.core.analysis import CriticalPoint
from gdstudio.core.expression import parse_objective
from gdstudio.core.newton_notes import TRIALS
from gdstudio.core.plan import RunPlan
from gdstudio.core.scenario import RunSpec, StopRules
from gdstudio.core.sweeps import (DIVERGED, UNRESOLVED, basins, log_rates, lr_sweep, race, random_restarts, start_vector,
                                  sweep_2d, sweep_chunk)

HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
HIMMELBLAU_MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
BOX5 = {"x": (-5, 5), "y": (-5, 5)}


def plan(objective, optimizer: str, stop: StopRules = StopRules(), hyper: dict | None = None) -> RunPlan:
    return RunPlan(objective, RunSpec(optimizer, optimizer, hyper or {}), stop)


@pytest.fixture(scope="module")
def himmelblau():
    return parse_objective(HIMMELBLAU)


# ---------------------------------------------------------------- learning-rate sweeps


def test_x_squared_lr_sweep_has_its_edge_at_1():
    """GD on x² multiplies x by (1 − 2·lr): it shrinks below lr = 1, flips forever at 1, grows above."""
    lrs = np.concatenate([log_rates(0.01, 0.98, 12), [1.0], log_rates(1.02, 10, 12)])
    result = lr_sweep(plan(parse_objective("x^2"), "gd", StopRules(max_steps=2000)), {"x": 1.0}, lrs)
    names = result.status_names
    assert list(names[:12]) == ["converged"] * 12
    assert names[12] == "max_steps" and result.final_loss[12] == 1.0 and result.final[12, 0] == 1.0  # 2000 flips: back at +1
    assert list(names[13:]) == ["diverged"] * 12
    assert np.all(np.isnan(result.steps_to_tolerance[12:]))
    assert result.lrs is not None and result.final.shape == (25, 1)


def test_too_small_just_right_too_large():
    lrs = log_rates(1e-3, 3.0, 25)
    result = lr_sweep(plan(parse_objective("x^2"), "gd", StopRules(max_steps=50)), [1.0], lrs)
    assert result.final_loss[0] > 0.8  # too small: barely moved in 50 steps
    best = result.best()
    assert 0.3 < lrs[best] < 0.7 and result.final_loss[best] == pytest.approx(0.0, abs=1e-15)  # lr = 0.5 is one Newton step
    assert result.status_names[-1] == "diverged"  # too large
    falling = result.final_loss[(lrs < 0.5) & (result.final_loss > 1e-12)]
    assert len(falling) > 10 and np.all(np.diff(falling) < 0)  # loss falls as the rate grows, up to the sweet spot


def test_sweep_validates_rates_and_start():
    objective = parse_objective("x^2 + y^2")
    for bad in ([], [0.1, -1.0], [np.inf]):
        with pytest.raises(ValueError):
            lr_sweep(plan(objective, "gd"), [1, 1], bad)
    with pytest.raises(ValueError, match="needs a value for y"):
        start_vector(objective, {"x": 1})
    with pytest.raises(ValueError):
        start_vector(objective, [1, 2, 3])
    with pytest.raises(ValueError):
        log_rates(1, 0.1, 5)


def test_2d_sweep_finds_the_momentum_stability_edge():
    """Heavy-ball momentum on x² + 10y² is stable exactly for lr < 2(1 + β)/20."""
    lrs = log_rates(0.01, 1.0, 21)
    betas = np.array([0.0, 0.3, 0.6, 0.9])
    calls = []
    sweep = sweep_2d(plan(parse_objective("x^2 + 10*y^2"), "sgd", StopRules(max_steps=20000)), [1.0, 1.0], lrs, "momentum", betas,
                     progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k * 20001, 4 * 20001) for k in (1, 2, 3, 4)] and not sweep.cancelled  # row-steps: 20,001 rows each
    assert sweep.final_loss.shape == sweep.steps.shape == sweep.status.shape == (4, 21)
    bound = 2 * (1 + betas[:, None]) / 20
    assert np.all(sweep.status_names[lrs < 0.97 * bound] == "converged")
    assert np.all(sweep.status_names[lrs > 1.03 * bound] == "diverged")
    assert np.all(np.isfinite(sweep.steps_to_tolerance[lrs < 0.97 * bound]))
    assert sweep.hyper_at(2, 5) == {"lr": lrs[5], "momentum": 0.6, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0,
                                    "maximize": False}


def test_2d_sweep_over_beta1_and_cancel():
    lrs = log_rates(1e-3, 1.0, 8)
    asked = []

    def cancel():
        asked.append(1)
        return len(asked) > 2  # two rows, then stop

    adam = plan(parse_objective(ROSENBROCK), "adam", StopRules(max_steps=200), {"betas": (0.8, 0.99)})
    sweep = sweep_2d(adam, [-1.5, 2.0], lrs, "beta1", [0.0, 0.5, 0.9, 0.95], cancel=cancel)
    assert sweep.cancelled
    assert np.all(np.isfinite(sweep.final_loss[:2])) and np.all(np.isnan(sweep.final_loss[2:]))
    assert np.all(sweep.status[2:] == K.CANCELLED)
    assert sweep.hyper_at(1, 0)["betas"] == (0.5, 0.99)  # beta2 kept from the base settings
    whole = sweep_2d(adam, [-1.5, 2.0], lrs, "beta1", [0.0, 0.5])
    np.testing.assert_array_equal(whole.final_loss, sweep.final_loss[:2])  # a row is the same run, cancelled or not


def test_a_long_sweep_is_cancelled_between_chunks_of_steps():
    """One call for the whole grid, a few hundred steps at a time: progress moves and a cancel is obeyed
    within a chunk, not at the end of a million steps. Cells that had finished keep their results."""
    import time

    lrs = log_rates(1e-4, 1e-2, 8)
    sweep_2d(plan(parse_objective(ROSENBROCK), "sgd", StopRules(max_steps=2)), [-1.5, 2.0], lrs[:2], "momentum", [0.0, 0.5],
             rows_per_call=2)  # compile first: the bound below is about the cancel, not Numba
    calls, began = [], time.perf_counter()
    sweep = sweep_2d(plan(parse_objective(ROSENBROCK), "sgd", StopRules(max_steps=1_000_000, grad_tol=None)), [-1.5, 2.0], lrs,
                     "momentum", np.linspace(0.0, 0.9, 8), progress=lambda done, total: calls.append((done, total)),
                     cancel=lambda: len(calls) >= 3, rows_per_call=8, chunk_steps=sweep_chunk(64))
    assert sweep.cancelled and len(calls) == 3 and calls[-1] == (8 * 3 * sweep_chunk(64), 8 * 1_000_001)
    assert np.all(sweep.status[np.isnan(sweep.final_loss)] == K.CANCELLED)
    assert time.perf_counter() - began < 30  # (1M steps × 64 cells take minutes)
    curve = lr_sweep(plan(parse_objective(ROSENBROCK), "gd", StopRules(max_steps=1_000_000, grad_tol=None)), [-1.5, 2.0], lrs,
                     cancel=lambda: True, chunk_steps=100)
    assert np.all(curve.status == K.CANCELLED) and np.all(np.isnan(curve.final_loss))


def test_2d_sweep_rejects_unknown_or_invalid_parameters():
    objective = parse_objective("x^2")
    with pytest.raises(ValueError, match="not a hyper-parameter sgd can sweep"):
        sweep_2d(plan(objective, "sgd"), [1.0], [0.1], "beta1", [0.5])
    with pytest.raises(ValueError, match="momentum"):
        sweep_2d(plan(objective, "sgd"), [1.0], [0.1], "momentum", [0.5, 1.5])
    with pytest.raises(ValueError):
        sweep_2d(plan(objective, "gd"), [1.0], [0.1], "lr", [0.5])


# ---------------------------------------------------------------- basins of attraction


def minimum_index(result, target):
    (index,) = [i for i, p in enumerate(result.minima) if np.allclose(p.coords, target, atol=1e-5)]
    return index


@pytest.mark.parametrize(("optimizer", "hyper"), [("gd", {"lr": 0.01}), ("adam", {"lr": 0.05})])
def test_himmelblau_basins(himmelblau, optimizer, hyper):
    result = basins(plan(himmelblau, optimizer, StopRules(max_steps=5000), hyper), BOX5, 40)
    assert result.labels.shape == (40, 40) and result.axes == ("x", "y")
    assert len(result.minima) == 4 and set(np.unique(result.labels)) == {0, 1, 2, 3}
    xs, ys = result.coords
    for target in HIMMELBLAU_MINIMA:
        index = minimum_index(result, target)
        near = (np.abs(xs[None, :] - target[0]) < 0.6) & (np.abs(ys[:, None] - target[1]) < 0.6)
        assert near.sum() >= 16 and np.all(result.labels[near] == index), target
    assert sum(result.counts().values()) == 1600 and min(result.counts().values()) > 300
    # row = y, column = x: the start of cell (row, column) is (xs[column], ys[row])
    row, column = 30, 5
    assert np.allclose(result.minima[result.labels[row, column]].coords, result.final[row, column], atol=1e-2)


def test_basins_label_divergence_and_unknown_minima(himmelblau):
    top = CriticalPoint({"y": 2.0, "x": 3.0}, 0.0, "minimum", (1.0, 1.0))  # named coordinates, in any order
    only_one = basins(plan(himmelblau, "gd", StopRules(max_steps=5000), {"lr": 0.01}), BOX5, 20, minima=[top])
    assert set(np.unique(only_one.labels)) == {0, UNRESOLVED} and len(only_one.minima) == 1
    wild = basins(plan(himmelblau, "gd", StopRules(max_steps=5000), {"lr": 0.03}), BOX5, 20)
    assert DIVERGED in wild.labels and np.all(wild.status[wild.labels == DIVERGED] == K.DIVERGED)


def test_basins_discover_minima_outside_the_view(himmelblau):
    """A view around (3, 2) alone: starts near its edge roll to minima outside it, which join the list."""
    result = basins(plan(himmelblau, "gd", StopRules(max_steps=5000), {"lr": 0.01}), {"x": (0, 5), "y": (-1, 4)}, 16)
    assert len(result.minima) >= 2 and np.allclose(result.minima[0].coords, (3, 2))
    assert UNRESOLVED not in result.labels


def test_one_variable_and_three_variable_basins():
    double_well = parse_objective("x^4 - 2*x^2")
    line = basins(plan(double_well, "gd", StopRules(max_steps=5000), {"lr": 0.01}), {"x": (-2, 2)}, 40)
    left, right = minimum_index(line, (-1.0,)), minimum_index(line, (1.0,))
    assert line.labels.shape == (40,) and line.axes == ("x",)
    assert np.all(line.labels[:20] == left) and np.all(line.labels[20:] == right)
    bowl = parse_objective("(x^2 - 1)^2 + y^2 + (z - 2)^2")
    plane = basins(plan(bowl, "gd", StopRules(max_steps=5000), {"lr": 0.01}), {"x": (-2, 2), "y": (-1, 1), "z": (0, 4)}, (16, 8),
                   axes=("x", "y"), fixed={"z": 0.5})
    assert plane.labels.shape == (8, 16) and np.allclose(plane.final[..., 2], 2, atol=1e-4)  # z moved freely to 2
    assert np.all(plane.labels[:, :8] == minimum_index(plane, (-1, 0, 2))) and np.all(plane.labels[:, 8:] == minimum_index(plane, (1, 0, 2)))
    with pytest.raises(ValueError):
        basins(plan(bowl, "gd"), None, 4, axes=("x", "w"))


# ---------------------------------------------------------------- race


def test_race_is_fair_and_ranked():
    objective = parse_objective(ROSENBROCK)
    runs = [RunSpec(name, name, hyper) for name, hyper in [("gd", {"lr": 0.001}), ("adam", {"lr": 0.02}), ("newton", {}),
                                                            ("gd", {"lr": 0.01}), ("adam", {"lr": 0.02})]]
    entries = race(objective, runs, {"x": -1.5, "y": 2.0}, 20000)
    assert [e.label for e in entries] == ["newton", "adam #2", "adam #5", "gd #1", "gd #4"]
    assert [e.rank for e in entries] == [1, 2, 2, 4, 5]  # identical settings tie
    assert [e.status for e in entries] == ["converged", "converged", "converged", "max_steps", "diverged"]
    assert entries[1].steps == entries[2].steps and entries[1].final_loss == entries[2].final_loss
    for e in entries:
        assert e.steps <= 20000 and e.wall_time > 0
        assert tuple(e.run.trajectory.params[0]) == (-1.5, 2.0)  # the same start for all
        assert len(e.run.trajectory) == e.steps + 1  # the last point is evaluated too
        assert e.grad_evals == e.steps + 1 + (e.run.kernel.NOTE[0, TRIALS] if e.name == "newton" else 0)  # + line search
    assert entries[3].final_loss < 1e-3 and entries[0].steps < 25  # Newton, with its line search


def test_race_time_budget():
    entries = race(parse_objective(ROSENBROCK), [RunSpec("gd", "gd", {"lr": 0.001}), RunSpec("adam", "adam", {"lr": 0.001})],
                   [-1.5, 2.0], 10**8, StopRules(grad_tol=None), time_budget=0.02, chunk=500)
    assert [e.status for e in entries] == ["time_limit"] * 2 and all(0.02 <= e.wall_time < 5 for e in entries)
    assert all("time budget" in e.reason for e in entries)
    with pytest.raises(ValueError):
        race(parse_objective("x^2"), [], [1.0], 10)
    with pytest.raises(ValueError):
        race(parse_objective("x^2"), [RunSpec("gd", "gd", {"lr": -1})], [1.0], 10)


# ---------------------------------------------------------------- random restarts


def test_random_restarts_are_seeded(himmelblau):
    stop = StopRules(max_steps=3000)
    adam = plan(himmelblau, "adam", stop, {"lr": 0.05})
    first = random_restarts(adam, BOX5, 64, 7)
    again = random_restarts(adam, BOX5, 64, 7)
    other = random_restarts(adam, BOX5, 64, 8)
    np.testing.assert_array_equal(first.starts, again.starts)
    np.testing.assert_array_equal(first.final, again.final)
    assert not np.array_equal(first.starts, other.starts)
    assert first.starts.shape == (64, 2) and np.all(np.abs(first.starts) <= 5)
    assert first.loss.shape == first.steps.shape == first.status.shape == (64,)
    reached = {tuple(np.round(x, 3)) for x in first.final}
    assert {tuple(np.round(m, 3)) for m in HIMMELBLAU_MINIMA} == reached  # 64 restarts find all four minima
    assert first.loss[first.best()] == first.loss.min()
    with pytest.raises(ValueError):
        random_restarts(adam, BOX5, 0, 7)


def test_2d_sweep_rows_grouped_per_call_are_the_same_runs():
    lrs = log_rates(1e-4, 1e-2, 16)
    objective = parse_objective(ROSENBROCK)
    adam = plan(objective, "adam", StopRules(max_steps=300))
    one = sweep_2d(adam, [-1.5, 2.0], lrs, "beta1", np.linspace(0.0, 0.95, 7))
    calls = []
    grouped = sweep_2d(adam, [-1.5, 2.0], lrs, "beta1", np.linspace(0.0, 0.95, 7),
                       progress=lambda done, total: calls.append((done, total)), rows_per_call=3)
    assert calls == [(3 * 301, 7 * 301), (6 * 301, 7 * 301), (7 * 301, 7 * 301)]
    for a, b in ((one.final_loss, grouped.final_loss), (one.steps, grouped.steps), (one.status, grouped.status)):
        np.testing.assert_array_equal(a, b)
    asked = []
    cut = sweep_2d(plan(objective, "sgd", StopRules(max_steps=100)), [-1.5, 2.0], lrs, "momentum", np.linspace(0.0, 0.9, 7),
                   cancel=lambda: asked.append(1) or len(asked) > 1, rows_per_call=3)
    assert cut.cancelled and np.all(np.isfinite(cut.final_loss[:3])) and np.all(cut.status[3:] == K.CANCELLED)
