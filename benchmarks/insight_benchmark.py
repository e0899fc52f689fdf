"""Insight tools' speed, as ratios against per-run loops measured in the same run (machines are noisy).

    python benchmarks/insight_benchmark.py

Targets (issue "Insight tools ..."):
  1. a 64×64 learning-rate × momentum sweep of 500 steps on Rosenbrock in under 2 s;
  2. vectorised runs over >= 10,000 starts/cells at >= 30 million run-steps/s, against a Python
     loop of single-start run_batch calls;
  3. critical points of the presets' kind of loss in well under a second.
"""

from __future__ import annotations

import time

import numpy as np

from gdstudio.core.analysis import critical_points
from gdstudio.core.batch import run_batch
from gdstudio.core.expression import parse_objective
from gdstudio.core.plan import RunPlan
from gdstudio.core.scenario import RunSpec, StopRules
from gdstudio.core.sweeps import basins, log_rates, sweep_2d, sweep_chunk

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"


def best_of(repeats: int, function):
    """Fastest of several timings (the least disturbed by other work) and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def sweep_section() -> None:
    objective = parse_objective(ROSENBROCK)
    lrs, betas = log_rates(1e-5, 1e-2, 64), np.linspace(0.0, 0.99, 64)
    stop = StopRules(max_steps=500)
    start = [-1.5, 2.0]
    studio = {"rows_per_call": len(betas), "chunk_steps": sweep_chunk(len(betas) * len(lrs))}  # as the Sweeps dialog runs it
    sgd = RunPlan(objective, RunSpec("sgd", "sgd"), stop)
    sweep_2d(sgd, start, lrs[:2], "momentum", betas[:2], **studio)  # compile once
    elapsed, sweep = best_of(3, lambda: sweep_2d(sgd, start, lrs, "momentum", betas, **studio))
    by_row, rows = best_of(3, lambda: sweep_2d(sgd, start, lrs, "momentum", betas))
    steps = int(sweep.steps.sum())
    assert np.array_equal(rows.final_loss, sweep.final_loss, equal_nan=True)  # the same runs, however grouped
    cells = [(lr, b) for b in betas for lr in lrs]
    sample = cells[:: len(cells) // 256][:256]
    loop, loop_steps = best_of(1, lambda: sum(
        int(run_batch(RunPlan(objective, RunSpec("sgd", "sgd", {"momentum": b}), stop), np.array([start]), lr=np.array([lr])).steps[0])
        for lr, b in sample))
    print("1. 64×64 sweep, SGD lr (log 1e-5..1e-2) × momentum (0..0.99), 500 steps, Rosenbrock")
    print(f"   sweep_2d as the studio runs it: {elapsed:6.3f} s  (target < 2 s), {steps / elapsed / 1e6:6.1f} M run-steps/s "
          f"(one call, {studio['chunk_steps']} steps a chunk)")
    print(f"   sweep_2d row by row (64 calls): {by_row:6.3f} s, {steps / by_row / 1e6:6.1f} M run-steps/s")
    print(f"   per-cell loop (256 cells)     : {loop_steps / loop / 1e6:6.2f} M run-steps/s  -> whole grid ≈ {loop * len(cells) / len(sample):5.1f} s")
    print(f"   ratio sweep_2d / per-cell loop: {steps / elapsed / (loop_steps / loop):6.1f} x\n")


def basins_section() -> None:
    objective = parse_objective(HIMMELBLAU)
    view = {"x": (-5, 5), "y": (-5, 5)}
    stop = StopRules(max_steps=500, grad_tol=None, loss_tol=None, divergence=None)  # every start does all 500 steps
    minima = [p for p in critical_points(objective, view) if p.kind == "minimum"]
    adam = RunPlan(objective, RunSpec("adam", "adam", {"lr": 0.05}), stop)
    basins(adam, view, 4, minima)  # compile once
    elapsed, result = best_of(3, lambda: basins(adam, view, 100, minima))
    steps = int(result.steps.sum())
    starts = np.random.default_rng(0).uniform(-5, 5, (200, 2))
    loop, loop_steps = best_of(1, lambda: sum(
        int(run_batch(adam, s[None, :]).steps[0]) for s in starts))
    whole, _ = best_of(3, lambda: basins(adam, view, 100))
    print("2. basins of attraction, Himmelblau, 100×100 = 10,000 starts of Adam, 500 steps each")
    print(f"   basins (one run_batch call)   : {elapsed:6.3f} s, {steps / elapsed / 1e6:6.1f} M run-steps/s (target >= 30)")
    print(f"   per-start loop (200 starts)   : {loop_steps / loop / 1e6:6.2f} M run-steps/s")
    print(f"   ratio basins / per-start loop : {steps / elapsed / (loop_steps / loop):6.1f} x")
    print(f"   basins incl. finding minima   : {whole:6.3f} s\n")


def critical_section() -> None:
    print("3. critical points (best of 3)")
    for text, view in [(HIMMELBLAU, {"x": (-5, 5), "y": (-5, 5)}), (ROSENBROCK, None), ("x^3 - 3*x*y^2", None),
                       ("sin(x)*cos(y) + 0.1*(x^2 + y^2)", {"x": (-5, 5), "y": (-5, 5)}),
                       ("x^2 + y^2 + z^2 + x*y*z", None)]:
        objective = parse_objective(text).compile()
        exact, points = best_of(3, lambda: critical_points(objective, view))
        newton, _ = best_of(3, lambda: critical_points(objective, view, symbolic=False))
        how = "exact" if points and points[0].exact else "Newton"
        print(f"   {text:36s} {len(points):2d} points  default ({how:6s}) {1000 * exact:6.1f} ms   Newton only {1000 * newton:6.1f} ms")


def main() -> None:
    print("gdstudio insight benchmark (ratios against per-run loops measured in this run)\n")
    sweep_section()
    basins_section()
    critical_section()


if __name__ == "__main__":
    main()
