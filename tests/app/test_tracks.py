"""A run's path on the landscape, traced by the compiled tracer (core/trace.py) point for point as with NumPy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gdstudio.app.plots import tracks
from gdstudio.app.plots.tracks import Track
from gdstudio.core.trace import FAR, compiled_tracer

from .helpers import HANG


def batches(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rows as runs make them: a walk that converges inside a cell, wanders, diverges to far away and to inf and NaN,
    in batches of every size (none finite, one row, many), some of them strided columns of a wider array."""
    rng = np.random.default_rng(seed)
    out = []
    x = y = 0.3
    for k in range(60):
        n = int(rng.integers(0, 400)) if k % 7 else 1
        scale = [1e-6, 1e-3, 0.05, 3.0][k % 4]
        xs = x + np.cumsum(rng.normal(0, scale, n))
        ys = y + np.cumsum(rng.normal(0, scale, n))
        if k % 5 == 3 and n:
            xs[rng.integers(0, n, 3)] = rng.choice([np.nan, np.inf, -np.inf, 1e300, -5e6], 3)
        if k % 11 == 10:
            xs[:] = np.nan
        if k % 3 == 0:  # (a column of the run's rows: strided)
            rows = np.empty((n, 3))
            rows[:, 0], rows[:, 2] = xs, ys
            xs, ys = rows[:, 0], rows[:, 2]
        out.append((xs, ys))
        finite = np.isfinite(xs) & np.isfinite(ys)
        if finite.any():
            x, y = xs[finite][-1], ys[finite][-1]
            x, y = (x, y) if abs(x) < 50 and abs(y) < 50 else (0.3, 0.3)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_tracer_keeps_the_points_numpy_keeps(seed, monkeypatch):
    compiled = compiled_tracer()
    made = {}
    for name, use in (("numpy", None), ("compiled", compiled)):
        monkeypatch.setattr(tracks, "tracer", lambda use=use: use)
        track = Track((2 / 1500, 2 / 1500), (0.0, 0.0), (2.0, 2.0))
        track.max_points = 2000  # (coarsened along the way too)
        answers = [track.feed(xs, ys) for xs, ys in batches(seed)]
        made[name] = (answers, track.first, track.end, track.last_cell, track.cell, *track.path())
    numpy, fast = made["numpy"], made["compiled"]
    assert numpy[:5] == fast[:5]
    assert np.array_equal(numpy[5], fast[5]) and np.array_equal(numpy[6], fast[6])
    assert len(numpy[5]) > 100 and np.abs(numpy[5]).max() <= FAR * 2 + 1  # (far points were pulled in)


def test_the_engine_loads_the_tracer_with_the_run_kernel():
    """In its own thread (never the GUI thread, which traces with NumPy until then); a fresh process, since this one
    may have loaded both already."""
    code = ("from gdstudio.app.plots.tracks import tracer; from gdstudio.app import engine; assert tracer() is None; "
            "engine.load_kernel(); print(tracer() is not None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG)
    assert done.stdout.strip() == "True", done.stderr
