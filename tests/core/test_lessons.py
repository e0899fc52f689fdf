"""The lesson library (scenarios/*.json): every example loads, runs, and really shows what its
description claims.

Each lesson's test checks its description's claims against the engine's own trajectories
(row k = the state after k updates), as relations or as the math the description quotes —
never as numbers copied from a run.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core.expression import parse_objective
from gdstudio.core.runner import RunProgress, ScenarioRunner, run_scenario, scenario_objective
from gdstudio.core.scenario import Scenario, load

FOLDER = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(p.name for p in FOLDER.glob("*.json"))
FINISHED = {"converged", "max_steps", "diverged"}
LESSONS = set(range(1, 13))  # the twelve lessons of issue 7
MAX_STEPS = 5000
# Lesson 4's unscaled run needs over 100,000 steps to reach the fit it is compared with: the file lets it
# finish, so the claim "both end at the same loss" is visible in the studio, not only in a test.
LONGER = {"04_feature_scaling.json": 200_000}


@cache
def scenario(name: str) -> Scenario:
    return load(FOLDER / name)


@cache
def outcome(name: str) -> tuple[Scenario, dict[str, RunProgress]]:
    """The file's scenario and its finished runs by label (each file runs once per session)."""
    s = scenario(name)
    return s, {run.label: run for run in run_scenario(s)}


def rerun(s: Scenario, labels: tuple[str, ...] | None = None, **stop) -> dict[str, RunProgress]:
    """The scenario again with changed stop rules, optionally only some of its runs."""
    runs = tuple(r for r in s.runs if labels is None or r.label in labels)
    return {run.label: run for run in run_scenario(replace(s, runs=runs, stop=replace(s.stop, **stop)))}


def spec(s: Scenario, label: str):
    return next(r for r in s.runs if r.label == label)


def distance(params: np.ndarray, point) -> np.ndarray:
    return np.linalg.norm(params - np.asarray(point, dtype=float), axis=-1)


def column(run: RunProgress, variable: str) -> np.ndarray:
    return run.trajectory.params[:, run.trajectory.variables.index(variable)]


def step_lengths(run: RunProgress) -> np.ndarray:
    return np.linalg.norm(np.diff(run.trajectory.params, axis=0), axis=1)


# ---------------------------------------------------------------- every file


def test_every_lesson_has_an_example():
    numbers = {int(name[:2]) for name in FILES}
    assert LESSONS <= numbers


def test_the_examples_menu_finds_every_file():
    """The studio lists gdstudio.scenarios through importlib.resources; it must see these files."""
    shipped = {entry.name for entry in files("gdstudio.scenarios").iterdir() if entry.name.endswith(".json")}
    assert shipped == set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_file_loads_and_is_presentable(name):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.json", name)
    s = scenario(name)
    assert s.name.startswith(f"{int(name[:2])} · ")
    assert s.description.count(". ") >= 1  # a short explanation, not a label
    objective = scenario_objective(s)  # bound to the file's data set when it has one
    assert set(s.view) == set(objective.variables)  # the picture frames every variable
    if s.data is not None:
        assert s.data.model and s.data.target in s.data.dataset.columns  # the data view can draw the fit
    labels = [r.label for r in s.runs]
    colors = [r.color for r in s.runs]
    assert s.runs and len(set(labels)) == len(labels)
    assert None not in colors and len(set(colors)) == len(colors)
    for run in s.runs:
        for variable, value in run.start.items():
            low, high = s.range_of(variable)
            assert low <= value <= high, f"{run.label} starts outside the view"
    assert s.stop.max_steps <= LONGER.get(name, MAX_STEPS)


@pytest.mark.parametrize("name", FILES)
def test_every_run_finishes_without_error(name):
    s, runs = outcome(name)
    assert len(runs) == len(s.runs)
    for run in runs.values():
        assert run.status in FINISHED, f"{run.label}: {run.reason}"
        assert run.status != "error" and run.reason
        assert len(run.trajectory) == run.steps + 1
        assert run.steps <= s.stop.max_steps


@pytest.mark.parametrize("name", FILES)
def test_every_file_runs_from_the_command_line(name, capsys):
    from gdstudio.cli import main

    assert main(["run", str(FOLDER / name), "--json", "--max-steps", "50"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert all(item["status"] != "error" for item in json.loads(out)["runs"])


# ---------------------------------------------------------------- the lessons


def test_01_every_step_is_x_minus_alpha_times_the_derivative():
    s, runs = outcome("01_update_rule.json")
    (run,) = runs.values()
    alpha, x0 = s.runs[0].hyper["lr"], s.runs[0].start["x"]
    x = run.trajectory.params[:, 0]
    assert x[0] == x0
    np.testing.assert_array_equal(x[1:], x[:-1] - alpha * (2 * x[:-1]))  # halving is exact in binary
    np.testing.assert_array_equal(x[1:], x[:-1] / 2)  # α = 0.25: "every step is x/2"
    np.testing.assert_allclose(run.trajectory.grad_norm, np.abs(2 * x), rtol=1e-15)
    np.testing.assert_allclose(run.trajectory.loss, x**2, rtol=1e-15)
    assert np.all(run.trajectory.lr == alpha)
    # It stops at the first k with |f'(x_k)| = |2 x0| / 2^k <= grad_tol: 23 halvings of the slope 8.
    assert run.status == "converged"
    assert run.steps == math.ceil(math.log2(abs(2 * x0) / s.stop.grad_tol)) == 23


def test_02_the_rate_alone_decides_converge_oscillate_or_diverge():
    s, runs = outcome("02_learning_rate.json")
    x = {label: run.trajectory.params[:, 0] for label, run in runs.items()}
    for r in s.runs:  # every run follows x <- (1 - 2α) x
        xs = x[r.label]
        np.testing.assert_allclose(xs[1:], (1 - 2 * r.hyper["lr"]) * xs[:-1], rtol=1e-12, atol=1e-300)

    small = runs["α = 0.002: too small"]
    assert small.status == "max_steps" and small.steps == s.stop.max_steps
    assert np.all(np.diff(x[small.label]) < 0) and x[small.label][-1] > 0.1 * x[small.label][0]  # still far from 0

    right, one, zigzag = runs["α = 0.1: just right"], runs["α = 0.5: one step"], runs["α = 0.9: zigzags in"]
    assert right.status == one.status == zigzag.status == "converged"
    assert np.all(np.diff(x[right.label]) < 0)
    assert one.steps == 1 and x[one.label][1] == 0.0
    xz = x[zigzag.label]
    assert np.all(np.sign(xz[1:]) == -np.sign(xz[:-1]))  # crosses the minimum every step
    assert zigzag.steps == right.steps  # factor −0.8 vs 0.8: exactly as fast
    np.testing.assert_allclose(np.abs(xz), np.abs(x[right.label]), rtol=1e-12)

    forever = runs["α = 1: oscillates forever"]
    assert forever.status == "max_steps"
    xf = x[forever.label]
    np.testing.assert_array_equal(xf, xf[0] * (-1.0) ** np.arange(len(xf)))  # 2, −2, 2, ... exactly

    diverging = runs["α = 1.1: diverges"]
    assert diverging.status == "diverged"
    assert np.all(np.diff(np.abs(x[diverging.label])) > 0)


def least_squares(s: Scenario) -> tuple[float, float, float]:
    """(w, b, loss) of the least-squares line through the file's points, by np.polyfit."""
    x, y = s.data.dataset.column("x"), s.data.dataset.column(s.data.target)
    w, b = np.polyfit(x, y, 1)
    return w, b, float(np.mean((w * x + b - y) ** 2))


def wb(run: RunProgress) -> np.ndarray:
    """The run's (w, b) at every step, whatever order the variables come in."""
    return np.stack([column(run, "w"), column(run, "b")], axis=1)


def roughness(run: RunProgress, after: int) -> float:
    """How much the loss curve jumps from step to step (mean |ΔJ|) once the first descent is over."""
    return float(np.abs(np.diff(run.trajectory.loss[after:])).mean())


def test_03_batch_stochastic_and_mini_batch_on_a_noisy_line():
    s, runs = outcome("03_batch_sgd_minibatch.json")
    batch, sgd, mini = runs["batch (all 100 points)"], runs["stochastic (1 point)"], runs["mini-batch (10 points)"]
    n = s.data.dataset.rows
    assert n == 100 and s.data.model == "w*x + b" and s.data.target == "y"
    assert s.loss == "mean((w*x + b - y)^2)"
    sizes = {run.label: spec(s, run.label).batch_size for run in (batch, sgd, mini)}
    assert sizes == {batch.label: None, sgd.label: 1, mini.label: 10}
    for r in s.runs:  # the same rate and start for all three, as the description says
        assert r.optimizer == "gd" and r.hyper == {"lr": 0.02} and r.start == {"w": -2.0, "b": -2.0}
    per_epoch = {batch.label: 1, sgd.label: n, mini.label: n // 10}  # steps per pass over the data
    w, b, best = least_squares(s)

    # Batch GD converges to the least-squares line itself, its loss falling every step.
    assert batch.status == "converged"
    np.testing.assert_allclose(wb(batch)[-1], (w, b), atol=1e-7)
    assert np.all(np.diff(batch.trajectory.loss) <= 1e-12)  # down every step (up to rounding at the bottom)
    # SGD and mini-batches end near it (SGD's last epoch averages onto it) but never settle.
    for run, excess in ((mini, 0.01), (sgd, 0.1)):
        assert run.status == "max_steps" and run.trajectory.grad_norm[-1] > 1e3 * s.stop.grad_tol
        assert best <= run.trajectory.loss[-1] < (1 + excess) * best, run.label
        last_epoch = wb(run)[-per_epoch[run.label]:].mean(axis=0)
        np.testing.assert_allclose(last_epoch, (w, b), atol=0.05, err_msg=run.label)
        assert np.count_nonzero(np.diff(run.trajectory.loss) > 1e-6) > 100  # the loss goes up again and again

    # The loss curves: SGD's is noisier than the mini-batch's, which is noisier than batch's.
    after = 100  # past the first descent of all three
    assert roughness(sgd, after) > 5 * roughness(mini, after) > 5 * roughness(batch, after)

    # Per epoch (each row seen once), SGD makes far more progress early on: after one epoch it is
    # closer to the best loss than batch GD after ten, and batch GD needs dozens of epochs to catch up.
    excess = {run.label: run.trajectory.loss[:: per_epoch[run.label]] - best for run in (batch, sgd, mini)}
    assert excess[sgd.label][1] < excess[mini.label][1] < excess[batch.label][1]
    assert 10 * excess[sgd.label][1] < excess[batch.label][10]
    assert np.flatnonzero(excess[batch.label] <= excess[sgd.label][1])[0] > 50

    # Replay: the same file gives the same steps bit for bit, however the run is chunked.
    again = {run.label: run for run in run_scenario(load(FOLDER / "03_batch_sgd_minibatch.json"))}
    runner = ScenarioRunner(s)
    while not runner.finished:
        runner.advance(37)
    for label, run in runs.items():
        np.testing.assert_array_equal(again[label].trajectory.rows, run.trajectory.rows)
        np.testing.assert_array_equal(runner.runs[[r.label for r in s.runs].index(label)].trajectory.rows, run.trajectory.rows)
    reseeded = replace(s, runs=(replace(spec(s, sgd.label), seed=2),))
    (other,) = run_scenario(reseeded)
    assert not np.array_equal(other.trajectory.params, sgd.trajectory.params)  # the seed picks the order


def test_04_scaling_turns_thin_ellipses_into_circles():
    s, runs = outcome("04_feature_scaling.json")
    scaled, raw, hasty = runs["standardised x, α = 0.1"], runs["raw x, α = 2.4·10⁻⁴"], runs["raw x, α = 0.1"]
    x = s.data.dataset.column("x")
    assert x.min() >= 0 and x.max() <= 100 and x.max() > 90  # a feature in the tens and hundreds
    assert spec(s, scaled.label).scale == {"x": "standard"} and not spec(s, raw.label).scale
    w, b, best = least_squares(s)

    # Long thin ellipses: the loss curves over 20,000 times more steeply one way than the other;
    # GD is stable only for α < 2 / (steepest curvature) ≈ 2.5·10⁻⁴. Scaled, the bowl is round.
    curvatures = np.linalg.eigvalsh(scenario_objective(s).hess(0.0, 0.0))
    assert curvatures[1] > 20_000 * curvatures[0]
    limit = 2 / curvatures[1]
    assert 2.4e-4 < limit < 2.5e-4
    assert spec(s, raw.label).hyper["lr"] < limit < spec(s, hasty.label).hyper["lr"]
    np.testing.assert_allclose(scaled.objective.hess(0.0, 0.0), 2 * np.eye(2), atol=1e-12)

    # The rate that suits scaled data blows the raw one up within two steps: raw x needs a far smaller rate.
    assert hasty.status == "diverged" and hasty.steps <= 2
    assert spec(s, hasty.label).hyper["lr"] >= 400 * spec(s, raw.label).hyper["lr"]

    # Just under the limit, raw GD zig-zags: for the first 200 steps w's update flips sign every step,
    # while scaled GD walks straight in (no update of w or b ever changes sign).
    dw = np.diff(column(raw, "w"))[:200]
    assert np.all(np.sign(dw[1:]) == -np.sign(dw[:-1]))
    for variable in ("w", "b"):
        steps = np.diff(column(scaled, variable))
        assert np.all(steps >= 0) or np.all(steps <= 0), variable

    # Steps to the tolerance: under 100 scaled, over 100,000 raw (the description's numbers), far over 10×.
    assert scaled.status == raw.status == "converged"
    assert scaled.steps < 100 < 100_000 < raw.steps
    assert raw.steps >= 10 * scaled.steps
    near = lambda run: int(np.flatnonzero(run.trajectory.loss <= best * (1 + 1e-6))[0])  # noqa: E731
    assert near(raw) >= 10 * near(scaled)  # the same holds for getting within 10⁻⁶ of the best loss

    # Both end at the same loss, on the same line: the scaled run's (w, b) are per standard deviation of x.
    assert raw.trajectory.loss[-1] == pytest.approx(best, rel=1e-9)
    assert scaled.trajectory.loss[-1] == pytest.approx(best, rel=1e-9)
    np.testing.assert_allclose(wb(raw)[-1], (w, b), rtol=1e-4)
    ws, bs = wb(scaled)[-1]
    np.testing.assert_allclose((ws / x.std(), bs - ws * x.mean() / x.std()), (w, b), rtol=1e-5)
    for run in (scaled, raw):  # and the whole path stays in the picture
        for variable in ("w", "b"):
            low, high = s.range_of(variable)
            assert low <= column(run, variable).min() and column(run, variable).max() <= high, (run.label, variable)


def test_05_momentum_and_nesterov_beat_gd_in_the_valley():
    s, runs = outcome("05_momentum.json")
    gd, momentum, nesterov = runs["GD"], runs["Momentum β = 0.9"], runs["Nesterov β = 0.9"]
    assert gd.status == momentum.status == nesterov.status == "converged"
    alpha = spec(s, "GD").hyper["lr"]
    assert 2 / 200 > alpha  # below GD's stability limit 2 / (largest curvature)
    p = gd.trajectory.params  # GD: x *= 1 − 2α (crawl), y *= 1 − 200α (small zigzag)
    np.testing.assert_allclose(p[1:, 0], (1 - 2 * alpha) * p[:-1, 0], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p[1:, 1], (1 - 200 * alpha) * p[:-1, 1], rtol=1e-12, atol=1e-300)
    assert 1 - 200 * alpha < 0 < 1 - 2 * alpha
    assert 4 * momentum.steps < gd.steps  # "over four times fewer steps"
    assert nesterov.steps < momentum.steps  # "fewer steps still"
    x_gd, x_m, x_n = (r.trajectory.params[:, 0] for r in (gd, momentum, nesterov))
    assert x_gd.max() < 0 < x_m.max()  # GD creeps up from x = −4; momentum swings past the minimum
    assert x_n.max() < x_m.max()  # Nesterov's swings are braked earlier
    assert np.count_nonzero(np.diff(np.sign(x_n))) < np.count_nonzero(np.diff(np.sign(x_m)))


def test_06_adaptive_methods_on_rosenbrock():
    s, runs = outcome("06_adaptive.json")
    minimum = (1.0, 1.0)
    hess = parse_objective(s.loss).hess(*minimum)
    curvatures = np.linalg.eigvalsh(hess)
    assert curvatures[1] > 1000 * curvatures[0]  # walls over a thousand times more curved than the floor

    gd, adagrad, rmsprop, adam, adamw = (runs[k] for k in ("GD", "Adagrad", "RMSprop", "Adam", "AdamW (λ = 0.01)"))
    assert adam.status == "converged"  # the only one to converge
    assert distance(adam.trajectory.params[-1], minimum) < 1e-5
    for run in (gd, adagrad, rmsprop, adamw):
        assert run.status == "max_steps", run.label
    for run in (adagrad, rmsprop, adam, adamw):  # every adaptive method ends lower than GD
        assert run.trajectory.loss[-1] < gd.trajectory.loss[-1], run.label
    assert distance(gd.trajectory.params[-1], minimum) > 0.05  # still far away

    # At twice GD's rate the first steps bounce up the walls.
    doubled = replace(s, runs=(replace(spec(s, "GD"), hyper={"lr": 2 * spec(s, "GD").hyper["lr"]}),),
                      stop=replace(s.stop, max_steps=20))
    (bouncing,) = run_scenario(doubled)
    assert bouncing.trajectory.loss[1:].max() > bouncing.trajectory.loss[0]
    assert np.all(np.diff(gd.trajectory.loss[:21]) < 0)  # while α itself goes downhill

    # Adagrad's steps shrink for good; RMSprop's stay about α long and it stops making progress.
    ada = step_lengths(adagrad)
    assert ada[-1000:].mean() < ada[:100].mean() / 100
    rms, alpha = step_lengths(rmsprop), spec(s, "RMSprop").hyper["lr"]
    assert alpha < rms[-1000:].mean() < 2 * alpha
    loss = rmsprop.trajectory.loss
    assert loss[-1] > 0.5 * loss[-1000]  # hopping around the minimum, no longer descending
    assert distance(rmsprop.trajectory.params[-1], minimum) < 10 * alpha

    # AdamW hovers just short of (1, 1): pulled towards 0 by its weight decay.
    final = adamw.trajectory.params[-1]
    assert np.all(final < 1.0)
    assert 100 * distance(adam.trajectory.params[-1], minimum) < distance(final, minimum) < 0.05
    assert adam.trajectory.loss[-1] < adamw.trajectory.loss[-1]


def test_07_decayed_rates_settle_where_a_constant_rate_keeps_hopping():
    s, runs = outcome("07_schedules.json")
    alpha = 0.1
    k = np.arange(s.stop.max_steps + 1)  # row k holds the rate of update k + 1
    constant, step = runs["constant α = 0.1"], runs["step decay (×0.5 every 100)"]
    exponential, cosine = runs["exponential decay (×0.99)"], runs["cosine decay to 0"]
    for run in runs.values():
        assert run.status == "max_steps" and spec(s, run.label).hyper["lr"] == alpha
    np.testing.assert_array_equal(constant.trajectory.lr, alpha)
    np.testing.assert_allclose(step.trajectory.lr, alpha * 0.5 ** (k // 100), rtol=1e-12)
    np.testing.assert_allclose(exponential.trajectory.lr, alpha * 0.99**k, rtol=1e-12)
    np.testing.assert_allclose(cosine.trajectory.lr, alpha * (1 + np.cos(np.pi * k / 600)) / 2, rtol=1e-9, atol=1e-15)
    assert cosine.trajectory.lr[-1] < 1e-12  # glides to 0 over the 600 steps
    for run in (step, exponential, cosine):
        assert np.all(np.diff(run.trajectory.lr) <= 0)

    # The constant rate hops across 0 in each coordinate: |c_k| + |c_k+1| = α with the sign flipping,
    # so of two consecutive points at least one is α/2 away or more.
    tail = constant.trajectory.params[-100:]
    assert np.all(np.sign(tail[1:]) == -np.sign(tail[:-1]))
    np.testing.assert_allclose(np.abs(tail[1:]) + np.abs(tail[:-1]), alpha, rtol=1e-9)
    assert np.all(np.maximum(distance(tail[1:], (0, 0)), distance(tail[:-1], (0, 0))) >= alpha / 2 - 1e-12)
    for run in (step, exponential, cosine):  # all three end far closer
        assert run.trajectory.loss[-1] < constant.trajectory.loss[-1] / 10, run.label

    # A smaller constant rate settles closer but travels slower (here 10× slower to cover the same ground).
    small = replace(s, runs=(replace(spec(s, constant.label), hyper={"lr": alpha / 10}),))
    (slow,) = run_scenario(small)
    arrival = lambda run: int(np.flatnonzero(run.trajectory.loss <= 0.5)[0])  # noqa: E731
    assert slow.trajectory.loss[-1] < constant.trajectory.loss[-1]
    assert arrival(slow) > 5 * arrival(constant)


HIMMELBLAU_MINIMA = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])


def test_08_seeded_random_starts_reach_all_four_minima():
    s, runs = outcome("08_local_minima.json")
    starts = np.array([run.trajectory.params[0] for run in runs.values()])
    assert all(not r.start for r in s.runs) and len({r.seed for r in s.runs}) == len(s.runs)
    for axis, variable in enumerate(("x", "y")):
        low, high = s.range_of(variable)
        assert np.all((low <= starts[:, axis]) & (starts[:, axis] <= high))
    assert len(np.unique(starts, axis=0)) == len(starts)
    again = np.array([run.trajectory.params[0] for run in rerun(s, max_steps=0).values()])
    np.testing.assert_array_equal(again, starts)  # same seed, same start
    reached = set()
    for run in runs.values():
        assert run.status == "converged", run.reason
        final = run.trajectory.params[-1]
        gaps = distance(HIMMELBLAU_MINIMA, final)
        assert gaps.min() < 1e-5 and run.trajectory.loss[-1] < 1e-10
        reached.add(int(gaps.argmin()))
    assert reached == {0, 1, 2, 3}


def test_09_gd_stalls_at_the_flat_saddle_momentum_and_adam_cross_it():
    s, runs = outcome("09_saddles_plateaus.json")
    minimum_loss = -27 / 256
    angles = np.array([np.pi / 3, np.pi, 5 * np.pi / 3])
    minima = 0.75 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    objective = parse_objective(s.loss)
    np.testing.assert_allclose(objective.loss(minima[:, 0], minima[:, 1]), minimum_loss, rtol=1e-12)
    np.testing.assert_allclose(objective.grad(minima[:, 0], minima[:, 1]), 0, atol=1e-12)

    ridge = runs["GD on the ridge"]
    alpha = spec(s, ridge.label).hyper["lr"]
    p = ridge.trajectory.params
    assert ridge.status == "max_steps"
    assert np.all(p[:, 1] == 0) and np.all(p[:, 0] > 0) and np.all(np.diff(p[:, 0]) < 0)
    k = ridge.steps
    assert 0.9 < p[-1, 0] * 3 * alpha * k < 1.0  # x_k ≈ 1 / (3αk)
    loss = ridge.trajectory.loss
    assert abs(loss[-1]) < 1e-6 and np.ptp(loss[k // 2 :]) < 1e-6  # a plateau at 0, far above −27/256

    near = runs["GD 0.001 off the ridge"]
    radius = lambda run: np.linalg.norm(run.trajectory.params, axis=1)  # noqa: E731
    lingering = np.count_nonzero(radius(near) < 0.1)
    assert near.status == "converged" and lingering > 100
    assert distance(minima, near.trajectory.params[-1]).min() < 1e-6

    for label in ("Momentum β = 0.9 on the ridge", "Adam on the ridge"):
        run = runs[label]
        assert run.status == "converged", run.reason
        assert distance(run.trajectory.params[-1], (-0.75, 0.0)) < 1e-6
        assert run.trajectory.loss[-1] == pytest.approx(minimum_loss, rel=1e-9)
        assert np.count_nonzero(radius(run) < 0.1) < lingering / 2  # crosses the flat spot
    # With a looser gradient test, GD on the ridge is declared converged — at the saddle.
    loose = rerun(s, ("GD on the ridge",), grad_tol=1e-6, max_steps=50_000)["GD on the ridge"]
    assert loose.status == "converged"
    assert distance(loose.trajectory.params[-1], (0, 0)) < 1e-3 and abs(loose.trajectory.loss[-1]) < 1e-9


def test_10_each_stopping_rule_and_what_it_cannot_see():
    s, runs = outcome("10_convergence_criteria.json")
    fast, slow, plain = runs["α = 0.2"], runs["α = 0.02"], runs["α = 0.2 on the plain"]
    assert fast.status == "converged" and "‖∇‖" in fast.reason
    assert slow.status == "max_steps" and slow.steps == s.stop.max_steps
    assert slow.trajectory.grad_norm[-1] > s.stop.grad_tol
    assert plain.status == "converged" and plain.steps == 0
    assert plain.trajectory.loss[0] > 1 - 1e-6  # the worst loss there is (the loss is below 1 everywhere)

    # Each 1000× tighter grad_tol costs α = 0.2 about 3·ln 10 / ln(1/0.6) more steps.
    per_1000 = 3 * math.log(10) / math.log(1 / abs(1 - 2 * 0.2))
    tolerances = (1e-3, 1e-6, 1e-9, 1e-12)
    replays = [rerun(s, grad_tol=tol) for tol in tolerances]
    steps = [r["α = 0.2"].steps for r in replays]
    gaps = [distance(r["α = 0.2"].trajectory.params[-1], (0, 0)) for r in replays]
    assert all(abs(b - a - per_1000) <= 1.5 for a, b in zip(steps, steps[1:]))
    assert all(b < a for a, b in zip(gaps, gaps[1:]))
    assert replays[2]["α = 0.2 on the plain"].status == "max_steps"  # 10⁻⁹: the plain no longer passes

    with_loss_tol = rerun(s, ("α = 0.2",), loss_tol=1e-10)["α = 0.2"]
    assert with_loss_tol.status == "converged" and "loss changed" in with_loss_tol.reason
    assert with_loss_tol.steps < fast.steps
    longer = rerun(s, ("α = 0.02",), max_steps=1000)["α = 0.02"]
    assert longer.status == "converged" and longer.steps > s.stop.max_steps


def test_11_newton_is_exact_on_a_quadratic():
    s, runs = outcome("11_newton.json")
    minimum = (1.0, 2.0)
    newton, half, gd = runs["Newton"], runs["Newton, α = 0.5"], runs["GD, α = 0.08"]
    assert newton.status == "converged" and newton.steps == 1
    np.testing.assert_allclose(newton.trajectory.params[1], minimum, atol=1e-12)
    assert gd.status == "converged" and gd.steps > 100
    # GD's steepest slope does not point at the minimum in this tilted, stretched bowl.
    start = gd.trajectory.params[0]
    down = -parse_objective(s.loss).grad(*start)
    towards = np.asarray(minimum) - start
    assert down @ towards / (np.linalg.norm(down) * np.linalg.norm(towards)) < 0.9
    # α = 0.5 halves the error every step.
    errors = distance(half.trajectory.params, minimum)
    big = errors[:-1] > 1e-9
    np.testing.assert_allclose(errors[1:][big] / errors[:-1][big], 0.5, rtol=1e-5)
    # From any start: one step.
    anywhere = replace(s, runs=tuple(replace(spec(s, "Newton"), start={}, seed=seed) for seed in range(5)))
    for run in run_scenario(anywhere):
        assert run.status == "converged" and run.steps == 1


def test_11_newton_takes_a_few_steps_on_rosenbrock():
    s, runs = outcome("11_newton_rosenbrock.json")
    newton, gd = runs["Newton"], runs["GD, α = 0.001"]
    assert newton.status == "converged" and newton.steps <= 10
    assert gd.status == "max_steps" and distance(gd.trajectory.params[-1], (1, 1)) > 0.01
    assert newton.trajectory.params[:, 1].min() < -2.5  # the leap out of the valley, to y ≈ −3
    errors = distance(newton.trajectory.params, (1, 1))
    assert errors[-1] < 1e-8
    close = np.flatnonzero(errors[:-1] < 1)[:-1]  # near the end the error (roughly) squares each step
    assert len(close) >= 2 and np.all(errors[close + 1] <= errors[close] ** 2)


def test_12_saturated_sigmoid_gd_crawls_adam_escapes():
    s, runs = outcome("12_vanishing_gradient.json")
    target = 0.9
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    fresh, stuck, adam = runs["GD from w = b = 0"], runs["GD from w = b = −3 (saturated)"], runs["Adam from w = b = −3 (saturated)"]
    z0 = 3 * column(stuck, "w")[0] + column(stuck, "b")[0]
    slope = sigmoid(z0) * (1 - sigmoid(z0))
    assert slope < 1e-5  # σ'(−12) ≈ 6·10⁻⁶, against 1/4 at z = 0
    # Chain rule: ∇J = 2(σ(z) − t)·σ'(z)·(3, 1).
    assert stuck.trajectory.grad_norm[0] == pytest.approx(2 * abs(sigmoid(z0) - target) * slope * math.sqrt(10), rel=1e-9)

    assert fresh.status == "converged" and fresh.steps < 100
    assert stuck.status == "max_steps"
    assert stuck.trajectory.grad_norm.max() < 1e-3 * fresh.trajectory.grad_norm.max()
    assert step_lengths(stuck).max() < 1e-4  # less than 10⁻⁴ per step
    assert stuck.trajectory.loss[-1] == pytest.approx(target**2, rel=1e-3)  # still (0 − 0.9)²

    assert adam.status == "converged" and adam.trajectory.loss[-1] < 1e-12
    assert 3 * column(adam, "w")[-1] + column(adam, "b")[-1] == pytest.approx(math.log(target / (1 - target)), abs=1e-6)  # σ(z) = 0.9
    # Adam's steps are about α per coordinate, so z = 3w + b rises by about 4α a step: from −12 to 0 in
    # about 12 / (4α) steps; it has left the plateau (lost half the loss) within a hundred.
    alpha = spec(s, adam.label).hyper["lr"]
    escaped = np.flatnonzero(adam.trajectory.loss < target**2 / 2)[0]
    assert escaped <= 100 and abs(escaped - 12 / (4 * alpha)) < 30
