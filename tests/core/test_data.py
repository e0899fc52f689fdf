"""Losses over data sets: aggregates, batches, scaling, data sources and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdstudio.core import scenario as S
from gdstudio.core.data import DataError, check_columns, generate, parse_csv, read_csv, scale
from gdstudio.core.expression import ExpressionError, parse_objective
from gdstudio.core.runner import run_scenario, scenario_objective

RNG = np.random.default_rng(7)
X = RNG.uniform(0, 10, 40)
Y = 2 * X + 1 + RNG.normal(0, 1, 40)


def line_objective(text: str = "mean((w*x + b - y)^2)"):
    return parse_objective(text, columns=("x", "y"), data=np.array([X, Y]))


def test_mean_squared_error_and_its_exact_derivatives() -> None:
    objective = line_objective("mean((w*x + b - y)^2) + 0.1*w^2")
    assert objective.variables == ("b", "w")
    b, w = 0.3, 0.5
    residual = w * X + b - Y
    assert objective.loss(b, w) == pytest.approx(np.mean(residual**2) + 0.1 * w**2, rel=1e-13)
    np.testing.assert_allclose(objective.grad(b, w), [np.mean(2 * residual), np.mean(2 * X * residual) + 0.2 * w], rtol=1e-12)
    np.testing.assert_allclose(objective.hess(b, w), [[2, np.mean(2 * X)], [np.mean(2 * X), np.mean(2 * X * X) + 0.2]], rtol=1e-12)


def test_nonlinear_function_of_an_aggregate_uses_the_chain_rule() -> None:
    objective = line_objective("sqrt(mean((w*x - y)^2))")
    w = 1.5
    rmse = np.sqrt(np.mean((w * X - Y) ** 2))
    assert objective.grad(w)[0] == pytest.approx(np.mean(X * (w * X - Y)) / rmse, rel=1e-12)
    h = 1e-5
    numeric = (objective.grad(w + h)[0] - objective.grad(w - h)[0]) / (2 * h)
    assert objective.hess(w)[0, 0] == pytest.approx(numeric, rel=1e-6)


def test_sum_and_grid_evaluation_broadcast() -> None:
    objective = line_objective("sum((w*x + b - y)^2)")
    W, B = np.meshgrid(np.linspace(0, 4, 7), np.linspace(-2, 2, 5))
    grid = objective.loss(B, W)
    assert grid.shape == (5, 7)
    assert grid[2, 3] == pytest.approx(np.sum((W[2, 3] * X + B[2, 3] - Y) ** 2), rel=1e-12)
    assert objective.grad(B, W).shape == (2, 5, 7)


@pytest.mark.parametrize("text, message", [
    ("x + mean(y)", "data column 'x' must be inside mean(...) or sum(...) at column 1"),
    ("mean(mean(x))", "mean(...) cannot be nested inside mean(...) at column 6"),
    ("mean x", "'mean' needs its argument in parentheses"),
])
def test_aggregate_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_objective(text, columns=("x", "y"))


def test_aggregate_without_data_is_a_clear_error() -> None:
    with pytest.raises(ExpressionError, match="has none"):
        parse_objective("mean((w*x - y)^2)")


def data_scenario(runs: list[dict], data: dict | None = None, loss: str = "mean((w*x + b - y)^2)", **stop) -> S.Scenario:
    return S.from_dict({
        "format": "gdstudio-scenario", "version": 1, "loss": loss,
        "data": data or {"columns": {"x": X.tolist(), "y": Y.tolist()}},
        "runs": runs, "stop": {"grad_tol": None, **stop},
    })


def test_full_batch_gradient_descent_is_the_textbook_update() -> None:
    scenario = data_scenario([{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.0, "b": 0.0}}], max_steps=50)
    (run,) = run_scenario(scenario)
    b, w = 0.0, 0.0
    for step in range(50):
        residual = w * X + b - Y
        np.testing.assert_allclose(run.trajectory.params[step], [b, w], rtol=1e-12, atol=1e-12)
        b, w = b - 0.01 * np.mean(2 * residual), w - 0.01 * np.mean(2 * X * residual)


def test_stochastic_epochs_visit_every_row_once() -> None:
    """With sum(w*x), batch size 1 and lr 1, each step subtracts one row's x: after one epoch the
    total subtracted is the sum of all rows (each row drawn once), whatever the shuffle."""
    x = [2.0**k for k in range(8)]  # distinct powers of two: every subset has its own sum
    runs = [{"optimizer": {"name": "gd", "lr": 1.0}, "start": {"w": 0.0}, "batch_size": 1, "seed": seed} for seed in (1, 2)]
    scenario = data_scenario(runs, {"columns": {"x": x}}, loss="sum(w*x)", max_steps=16, divergence=None)
    for run in run_scenario(scenario):
        w = run.trajectory.params[:, 0]
        assert w[8] == -sum(x) and w[16] == -2 * sum(x)
        steps = -np.diff(w)
        assert sorted(steps[:8]) == sorted(x) and sorted(steps[8:16]) == sorted(x)
        # the recorded loss is over all rows, not the batch
        np.testing.assert_array_equal(run.trajectory.loss, w * sum(x))
    first, second = run_scenario(scenario)
    assert not np.array_equal(first.trajectory.params, second.trajectory.params)  # seeds shuffle differently


def test_mini_batch_is_noisier_than_batch_and_replays_bit_for_bit() -> None:
    runs = [{"label": label, "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.0, "b": 0.0}, **extra}
            for label, extra in [("batch", {}), ("sgd", {"batch_size": 1, "seed": 3}), ("mini", {"batch_size": 8, "seed": 3}),
                                 ("drawn", {"batch_size": 8, "replacement": True, "seed": 3})]]
    scenario = data_scenario(runs, max_steps=2000)
    results = run_scenario(scenario)
    roughness = {r.label: np.abs(np.diff(r.trajectory.loss[-500:])).mean() for r in results}
    assert roughness["batch"] < roughness["mini"] < roughness["sgd"]
    again = run_scenario(scenario)
    assert all(np.array_equal(a.trajectory.rows, b.trajectory.rows) for a, b in zip(results, again))
    best = np.polyfit(X, Y, 1)
    final = results[0].trajectory.final()
    assert final["w"] == pytest.approx(best[0], rel=1e-2) and final["b"] == pytest.approx(best[1], rel=5e-2)


def test_recorded_batch_loss_is_the_loss_on_the_rows_the_step_used() -> None:
    """Batch size = rows - 1 without replacement: an epoch is two steps, all rows but one, then that
    one. Each recorded batch loss is the loss NumPy computes on exactly those rows."""
    n = len(X)
    runs = [{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.5, "b": -1.0}, "batch_size": n - 1, "seed": seed}
            for seed in (5, 6)]
    for run in run_scenario(data_scenario(runs, max_steps=6)):
        traj = run.trajectory
        assert traj.variables == ("b", "w")
        for epoch in range(3):
            first, second = 2 * epoch, 2 * epoch + 1
            # the one row left out of the first batch, found by the loss over the others
            matches = [j for j in range(n) if traj.batch_loss[first] == pytest.approx(
                line_objective().bind(np.array([np.delete(X, j), np.delete(Y, j)])).loss(*traj.params[first]), rel=1e-12)]
            assert len(matches) == 1
            (j,) = matches
            row = line_objective().bind(np.array([X[j : j + 1], Y[j : j + 1]]))
            assert traj.batch_loss[second] == pytest.approx(row.loss(*traj.params[second]), rel=1e-12)
            # and these are the batches the updates used
            residual = traj.params[second] @ [1.0, X[j]] - Y[j]
            np.testing.assert_allclose(traj.params[second + 1], traj.params[second] - 0.01 * 2 * residual * np.array([1.0, X[j]]),
                                       rtol=1e-12)
        np.testing.assert_allclose(traj.loss, [line_objective().loss(*p) for p in traj.params], rtol=1e-12)  # the full loss
        assert traj.batch_loss[-1] == traj.loss[-1]  # the last row takes no step: its batch is the full data


def test_batch_loss_with_batch_size_one_is_one_rows_loss_and_full_batches_record_the_loss_itself() -> None:
    rows = 6
    runs = [{"label": "sgd", "optimizer": {"name": "adam", "lr": 0.05}, "start": {"w": 0.0, "b": 0.0}, "batch_size": 1, "seed": 9},
            {"label": "drawn", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.0, "b": 0.0}, "batch_size": 1,
             "replacement": True, "seed": 9},
            {"label": "full", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.0, "b": 0.0}},
            {"label": "all rows", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0.0, "b": 0.0}, "batch_size": rows}]
    scenario = data_scenario(runs, {"columns": {"x": X[:rows].tolist(), "y": Y[:rows].tolist()}}, max_steps=40)
    sgd, drawn, full, every = run_scenario(scenario)
    for run in (sgd, drawn):
        traj = run.trajectory
        b, w = traj.params[:-1, 0], traj.params[:-1, 1]
        per_row = (w[:, None] * X[:rows] + b[:, None] - Y[:rows]) ** 2  # (steps, rows)
        close = np.isclose(per_row, traj.batch_loss[:-1, None], rtol=1e-12, atol=0)
        assert close.any(axis=1).all(), run.label
        assert not np.array_equal(traj.batch_loss[:-1], traj.loss[:-1])
        if run is sgd:  # without replacement: each epoch of six steps visits every row once
            drawn_rows = close.argmax(axis=1)
            for epoch in range(len(drawn_rows) // rows):
                assert sorted(drawn_rows[epoch * rows : (epoch + 1) * rows]) == list(range(rows))
    for run in (full, every):
        np.testing.assert_array_equal(run.trajectory.batch_loss, run.trajectory.loss)  # bit for bit
    np.testing.assert_array_equal(full.trajectory.rows, every.trajectory.rows)


def test_losses_without_data_record_the_loss_as_the_batch_loss() -> None:
    runs = [S.RunSpec("adam", "adam", {"lr": 0.02}, {"x": -1.5, "y": 2.0}), S.RunSpec("newton", "newton", {}, {"x": -1.5, "y": 2.0})]
    scenario = S.Scenario(loss="(1 - x)^2 + 100*(y - x^2)^2", runs=tuple(runs), stop=S.StopRules(max_steps=300))
    for run in run_scenario(scenario):
        assert len(run.trajectory) > 1
        np.testing.assert_array_equal(run.trajectory.batch_loss, run.trajectory.loss)


def test_scaling_makes_the_same_regression_converge_much_faster() -> None:
    runs = [{"label": "raw", "optimizer": {"name": "gd", "lr": 0.005}, "start": {"w": 0.0, "b": 0.0}},
            {"label": "scaled", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"w": 0.0, "b": 0.0}, "scale": {"x": "standard"}}]
    raw, scaled = run_scenario(data_scenario(runs, max_steps=20000, grad_tol=1e-6))
    assert raw.status == scaled.status == "converged"
    assert scaled.steps * 20 < raw.steps
    assert raw.trajectory.loss[-1] == pytest.approx(scaled.trajectory.loss[-1], rel=1e-6)  # the same fit


def test_scale_functions() -> None:
    dataset = check_columns({"x": [1.0, 2.0, 3.0, 6.0], "y": [0.0, 1.0, 0.0, 1.0]})
    standard = scale(dataset, {"x": "standard"})
    assert standard.column("x").mean() == pytest.approx(0) and standard.column("x").std() == pytest.approx(1)
    np.testing.assert_array_equal(standard.column("y"), dataset.column("y"))
    minmax = scale(dataset, {"x": "minmax"})
    assert minmax.column("x").min() == 0 and minmax.column("x").max() == 1
    with pytest.raises(DataError, match="no such column"):
        scale(dataset, {"z": "standard"})


def test_a_data_sets_column_spans_are_worked_out_once() -> None:
    dataset = check_columns({"x": [1.0, -2.0, 3.0, 6.0], "y": [0.5, 1.0, 0.0, 1.0]})
    assert dataset.spans == {"x": (-2.0, 6.0), "y": (0.0, 1.0)}
    assert dataset.spans is dataset.spans  # (a million rows' take milliseconds: the reading thread pays them)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("x,y\n", "no data rows"),
    ("x,y\n1,2\n3,abc\n", "row 3, column 2: not a number"),
    ("x,y\n1,2\n3\n", "row 3: 1 cells, expected 2"),
    ("1,2\n3,4\n", "row 1, column 1: not a valid name"),
    ("x,x\n1,2\n", "appears twice"),
    ("x,y\n1,nan\n", "row 2, column 2: not a number"),
    ("x,y,e\n1,2,3\n", "row 1, column 3: in a loss, e is the constant e: choose another name"),  # (was 2.718…, silently)
    ("pi,y\n1,2\n", "row 1, column 1: in a loss, pi is the constant pi"),
    ("x,sin\n1,2\n", "row 1, column 2: in a loss, sin is the function sin()"),
    ("x,mean\n1,2\n", "in a loss, mean is the function mean()"),
])
def test_csv_errors_name_row_and_column(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csv(text, "points.csv")


def test_csv_data_relative_to_the_scenario_file(tmp_path) -> None:
    (tmp_path / "points.csv").write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(X, Y)))
    document = {"format": "gdstudio-scenario", "version": 1, "loss": "mean((w*x + b - y)^2)", "data": {"csv": "points.csv"},
                "runs": [{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0, "b": 0}}]}
    (tmp_path / "s.json").write_text(json.dumps(document))
    scenario = S.load(tmp_path / "s.json")
    np.testing.assert_array_equal(scenario.data.dataset.column("x"), X)
    assert read_csv(tmp_path / "points.csv") == scenario.data.dataset
    S.save(scenario, tmp_path / "s.json")
    assert S.load(tmp_path / "s.json") == scenario
    assert json.loads((tmp_path / "s.json").read_text())["data"] == {"csv": "points.csv"}


def test_saving_into_another_folder_keeps_the_csv_it_names(tmp_path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "points.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "elsewhere" / "deeper").mkdir(parents=True)
    scenario = S.loads(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "mean((w*x - y)^2)",
                                   "data": {"csv": "data/points.csv"}}), base=tmp_path)
    moved = S.relocate(scenario, tmp_path, tmp_path / "elsewhere" / "deeper")
    assert moved.data.source == {"csv": "../../data/points.csv"}
    S.save(moved, tmp_path / "elsewhere" / "deeper" / "s.json")
    assert S.load(tmp_path / "elsewhere" / "deeper" / "s.json").data.dataset == scenario.data.dataset
    assert S.relocate(scenario, tmp_path, tmp_path) is scenario
    absolute = S.loads(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "mean(w*x)",
                                   "data": {"csv": str(tmp_path / "data" / "points.csv")}}))
    assert S.relocate(absolute, tmp_path, tmp_path / "elsewhere") is absolute


@pytest.mark.parametrize("data, path", [
    ({"csv": "missing.csv"}, "missing.csv: cannot read the file"),
    ({"columns": {"x": [1, 2], "y": [1]}}, "data.columns: columns have different lengths"),
    ({"columns": {"x": [1, "a"]}}, "data.columns.x[1]: must be a finite number"),
    ({"columns": {"x": []}}, "data.columns: the columns are empty"),
    ({"columns": {"x": [1], "e": [2]}}, "data.columns.e: in a loss, e is the constant e: choose another name"),
    ({"generate": {"kind": "spiral"}}, 'data.generate.kind: unknown generator "spiral"'),
    ({"generate": {"kind": "noisy_line", "n": 0}}, "data.generate.n: must be a whole number"),
    ({"csv": "a.csv", "columns": {"x": [1]}}, 'data: must have exactly one of'),
])
def test_data_section_errors(tmp_path, data: dict, path: str) -> None:
    document = {"format": "gdstudio-scenario", "version": 1, "loss": "mean(w*x)", "data": data}
    (tmp_path / "s.json").write_text(json.dumps(document))
    with pytest.raises(S.ScenarioError, match=path.replace("[", r"\[").replace("]", r"\]")):
        S.load(tmp_path / "s.json")


def test_run_options_need_data_and_known_columns() -> None:
    with pytest.raises(S.ScenarioError, match=r"runs\[0\].batch_size: needs a data set"):
        S.from_dict({"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "runs": [{"batch_size": 4}]})
    with pytest.raises(S.ScenarioError, match=r"runs\[0\].scale.z: no such data column"):
        data_scenario([{"scale": {"z": "standard"}}])


def test_generators_are_seeded() -> None:
    a = generate({"kind": "noisy_line", "n": 50, "seed": 4})
    assert a == generate({"kind": "noisy_line", "n": 50, "seed": 4})
    assert a != generate({"kind": "noisy_line", "n": 50, "seed": 5})
    blobs = generate({"kind": "two_blobs", "n": 10})
    assert blobs.columns == ("x1", "x2", "label") and set(blobs.column("label")) == {0.0, 1.0}


def test_scenario_objective_binds_the_data() -> None:
    scenario = data_scenario([])
    objective = scenario_objective(scenario)
    assert objective.columns == ("x", "y") and objective.data.shape == (2, len(X))


def test_polynomial_losses_evaluate_grids_without_touching_every_row_per_point() -> None:
    """Least squares expands into a few aggregated coefficients: the grid agrees with row-by-row
    sums, and a non-polynomial loss (logistic) still evaluates exactly row by row."""
    objective = line_objective("mean((w*x + b - y)^2) + 0.01*w^2")
    B, W = np.meshgrid(np.linspace(-2, 4, 9), np.linspace(0, 4, 7))
    direct = np.array([[np.mean((w * X + b - Y) ** 2) + 0.01 * w * w for b, w in zip(rb, rw)] for rb, rw in zip(B, W)])
    np.testing.assert_allclose(objective.loss(B, W), direct, rtol=1e-12)
    assert any(key.startswith("poly/0/") and value[1] is not None for key, value in objective._compiled.items())
    logistic = line_objective("mean(log(1 + exp(-(w*x + b - 10)*sign(y - 10))))")
    expected = np.mean(np.log(1 + np.exp(-(0.2 * X + 0.1 - 10) * np.sign(Y - 10))))
    assert logistic.loss(0.1, 0.2) == pytest.approx(expected, rel=1e-13)
    assert all(value[1] is None for key, value in logistic._compiled.items() if key.startswith("poly/"))


def test_the_loss_moment_sums_never_wait_for_the_hessians(monkeypatch):
    """Over a million rows the landscape's loss (its moment sums, ~0.2 s) waited behind the critical points'
    Hessian (~0.4 s), asked for first from another thread: each order is worked out under a lock of its own."""
    import threading

    from gdstudio.core.expression import Objective

    objective = line_objective()
    expand, hessian_begun, release = Objective._expand, threading.Event(), threading.Event()

    def slow_hessian(self, order: int):
        if order == 2:
            hessian_begun.set()
            release.wait(60)
        return expand(self, order)

    monkeypatch.setattr(Objective, "_expand", slow_hessian)
    hessian = threading.Thread(target=lambda: objective.hess(1.0, 0.0))
    hessian.start()
    assert hessian_begun.wait(60)
    loss_done = threading.Event()
    loss = threading.Thread(target=lambda: (objective.loss(1.0, 0.0), loss_done.set()))
    loss.start()
    found = loss_done.wait(15)  # (a bound on a hang: the old lock held it until the release below)
    release.set()
    hessian.join()
    loss.join()
    assert found, "the loss waited for the Hessian's expansion"
