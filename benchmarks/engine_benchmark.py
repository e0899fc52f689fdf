"""Engine speed, as ratios against baselines measured in the same run (machines are noisy).

    python benchmarks/engine_benchmark.py

Targets (issue "Engine, CLI, scenario files..."):
  1. one 2-D Adam run on Rosenbrock, every step recorded: >= 250,000 steps/s and >= 100x a
     torch-style per-step NumPy loop;
  2. derive + compile of each preset <= 100 ms median;
  3. 10,000 starts of one optimizer at once: >= 30 million run-steps/s.
Data sets (issue "Losses over data"):
  4. a full-batch step of a linear model on 100,000 rows: >= 50x a per-row Python loop, and
     no more than a few NumPy passes over the data.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from gdstudio.core.batch import run_batch
from gdstudio.core.codegen import _compile, compiled_kernel, kernel_source
from gdstudio.core.expression import parse_objective
from gdstudio.core.plan import RunPlan
from gdstudio.core.runner import ScenarioRunner, run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules, from_dict

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"


def best_of(repeats: int, function) -> float:
    """Fastest of several timings: the least disturbed by other work on the machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def torch_style_loop(steps: int) -> None:
    """What a careful user writes with NumPy: lambdified gradient, Adam as torch does it, per step."""
    objective = parse_objective(ROSENBROCK).compile()
    lr, beta1, beta2, eps = 0.02, 0.9, 0.999, 1e-8
    p = np.array([-1.5, 2.0])
    m, v = np.zeros(2), np.zeros(2)
    record = np.empty((steps + 1, 5))
    for t in range(1, steps + 1):
        loss = objective.loss(*p)
        g = objective.grad(*p)
        record[t - 1] = (loss, np.linalg.norm(g), lr, *p)
        m += (1 - beta1) * (g - m)
        v = v * beta2 + (1 - beta2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        p = p - lr / (1 - beta1**t) * m / denom


def single_run(steps: int) -> None:
    run = RunSpec("adam", "adam", {"lr": 0.02}, {"x": -1.5, "y": 2.0})
    stop = StopRules(max_steps=steps, grad_tol=None, loss_tol=None, divergence=None)
    (result,) = run_scenario(Scenario(ROSENBROCK, runs=(run,), stop=stop))
    assert result.steps == steps and len(result.trajectory) == steps + 1


def main() -> None:
    print("gdstudio engine benchmark (ratios against baselines measured in this run)\n")
    main_data()
    objective = parse_objective(ROSENBROCK)
    compiled_kernel(objective, False)
    single_run(10)  # warm the compiled kernel

    baseline_steps, steps = 2_000, 1_000_000
    baseline = best_of(3, lambda: torch_style_loop(baseline_steps)) / baseline_steps
    ours = best_of(3, lambda: single_run(steps)) / steps
    print("1. Adam on Rosenbrock, one run, every step recorded")
    print(f"   torch-style NumPy loop : {1 / baseline:12,.0f} steps/s")
    print(f"   gdstudio               : {1 / ours:12,.0f} steps/s   (target >= 250,000)")
    print(f"   ratio                  : {baseline / ours:12,.1f} x       (target >= 100 x)\n")

    try:
        from gdstudio.core.presets import load_presets
        presets = [(p.name, p.loss, p.variables) for p in load_presets()]
    except ImportError:
        presets = [("Rosenbrock", ROSENBROCK, None)]
    print("2. derive (gradient + Hessian) and compile (NumPy + Numba) per preset")
    medians = []
    for name, loss, variables in presets:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            obj = parse_objective(loss, variables).compile()
            _compile.__wrapped__(kernel_source(obj, False))  # bypass the cache: a real compile each time
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
        print(f"   {name:28s} {1000 * medians[-1]:7.1f} ms")
    print(f"   median over presets: {1000 * statistics.median(medians):.1f} ms, worst {1000 * max(medians):.1f} ms (target <= 100 ms)\n")

    starts = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(10_000, 2))
    many_steps = 200
    stop = StopRules(max_steps=many_steps, grad_tol=None, loss_tol=None, divergence=None)
    adam = RunPlan(objective, RunSpec("adam", "adam", {"lr": 0.01}), stop)
    run_batch(adam, starts[:10])
    elapsed = best_of(3, lambda: run_batch(adam, starts))
    per_run_loop = best_of(1, lambda: [run_batch(adam, starts[i : i + 1]) for i in range(500)]) / 500
    print("3. 10,000 starts of Adam on Rosenbrock, 200 steps each")
    print(f"   batched   : {len(starts) * many_steps / elapsed / 1e6:8.1f} million run-steps/s (target >= 30)")
    print(f"   one by one: {many_steps / per_run_loop / 1e6:8.1f} million run-steps/s (a loop of single-start calls)")


def data_steps(rows: int, steps: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, rows)
    y = 2 * x + 1 + rng.normal(0, 1, rows)
    scenario = from_dict({"format": "gdstudio-scenario", "version": 1, "loss": "mean((w*x + b - y)^2)",
                          "data": {"columns": {"x": x.tolist(), "y": y.tolist()}},
                          "runs": [{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0, "b": 0}}],
                          "stop": {"max_steps": steps, "grad_tol": None}})
    runner = ScenarioRunner(scenario)
    runner.advance(1)  # compile outside the timing
    return runner, x, y


def main_data() -> None:
    rows = 100_000
    runner, x, y = data_steps(rows, 10_000)
    ours = best_of(3, lambda: runner.advance(20)) / 20

    def per_row_loop() -> None:
        w = b = 0.0
        gw = gb = 0.0
        for xi, yi in zip(x.tolist(), y.tolist()):
            r = w * xi + b - yi
            gw += 2 * xi * r
            gb += 2 * r

    def numpy_pass() -> None:
        r = 0.5 * x + 0.1 - y
        (2 * x * r).mean(), (2 * r).mean(), (r * r).mean()

    naive = best_of(1, per_row_loop)
    vectorised = best_of(5, numpy_pass)
    print("4. one full-batch step, linear model, 100,000 rows (loss + gradient)")
    print(f"   per-row Python loop : {1000 * naive:8.2f} ms")
    print(f"   NumPy, one pass     : {1000 * vectorised:8.2f} ms")
    print(f"   gdstudio            : {1000 * ours:8.2f} ms  = {naive / ours:.0f}x the loop (target >= 50x), "
          f"{ours / vectorised:.1f} NumPy passes\n")


if __name__ == "__main__":
    main()
