"""The shipped presets must be true to their word.

Every preset is parsed by the engine itself, and its stated minima are checked
with the engine's own derivatives: a preset whose "minimum" is not stationary,
not convex, has the wrong value or lies outside its view would teach the wrong
lesson on screen.  Tests are parametrised by preset name so a failure says
which landscape is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdstudio.core.expression import parse_objective
from gdstudio.core.presets import Preset, load_presets

PRESETS: dict[str, Preset] = {p.name: p for p in load_presets()}
NAMES = sorted(PRESETS)
WITH_MINIMA = [name for name in NAMES if PRESETS[name].minima]

# Minima that sit on a non-differentiable point (Ackley's cone tip): the
# gradient there is 0/0, so they are checked by sampling a ring instead.
KINKED = {"Ackley"}

GRAD_TOL = 1e-6
EIG_TOL = 1e-6
GRID_POINTS = {1: 401, 2: 161, 3: 31}


def _coords(preset: Preset, point: dict[str, float]) -> list[float]:
    return [float(point[v]) for v in preset.variables]


def _objective(preset: Preset):
    return parse_objective(preset.loss, preset.variables)


def _loss(obj, coords) -> float:
    return float(np.asarray(obj.loss(*coords), dtype=float))


def _grad(obj, coords) -> np.ndarray:
    grad = np.asarray(obj.grad(*coords))
    assert grad.shape == (len(coords),)
    return grad


def _hess(obj, coords) -> np.ndarray:
    hess = np.asarray(obj.hess(*coords), dtype=float)
    assert hess.shape == (len(coords), len(coords))
    return hess


def test_there_are_enough_presets() -> None:
    assert len(load_presets()) >= 15


def test_names_are_unique() -> None:
    names = [p.name for p in load_presets()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"duplicate preset names: {duplicates}"


@pytest.mark.parametrize("name", NAMES)
def test_fields_are_consistent(name: str) -> None:
    preset = PRESETS[name]
    assert preset.loss.strip()
    assert preset.description.strip()
    assert isinstance(preset.variables, tuple) and preset.variables
    assert set(preset.view) == set(preset.variables)
    assert set(preset.start) == set(preset.variables)
    for var, (low, high) in preset.view.items():
        assert math.isfinite(low) and math.isfinite(high) and low < high, var


@pytest.mark.parametrize("name", NAMES)
def test_start_and_minima_lie_inside_view(name: str) -> None:
    preset = PRESETS[name]
    points = [("start", preset.start)] + [(f"minimum {k}", m[0]) for k, m in enumerate(preset.minima)]
    for label, point in points:
        assert set(point) == set(preset.variables), label
        for var in preset.variables:
            low, high = preset.view[var]
            assert low <= point[var] <= high, f"{label}: {var}={point[var]} outside [{low}, {high}]"


@pytest.mark.parametrize("name", NAMES)
def test_loss_parses_and_evaluates(name: str) -> None:
    preset = PRESETS[name]
    obj = _objective(preset)
    assert tuple(obj.variables) == preset.variables
    n = len(preset.variables)
    start = _coords(preset, preset.start)

    value = _loss(obj, start)
    assert math.isfinite(value)
    grad = _grad(obj, start)
    assert grad.dtype == np.float64
    assert np.all(np.isfinite(grad))
    hess = _hess(obj, start)
    assert np.all(np.isfinite(hess))
    np.testing.assert_allclose(hess, hess.T, rtol=1e-9, atol=1e-9)

    # The engine's gradient agrees with its own loss (central differences).
    for i in range(n):
        h = 1e-6 * max(1.0, abs(start[i]))
        up, down = list(start), list(start)
        up[i] += h
        down[i] -= h
        numeric = (_loss(obj, up) - _loss(obj, down)) / (2 * h)
        assert numeric == pytest.approx(grad[i], rel=1e-4, abs=1e-4 * max(1.0, abs(value))), preset.variables[i]

    # Broadcasting: array coordinates of compatible shapes give an array of
    # the broadcast shape, equal pointwise to scalar evaluation.
    rng = np.random.default_rng(0)
    shapes = [tuple(4 if j == i else 1 for j in range(n)) for i in range(n)]
    arrays = []
    for var, shape in zip(preset.variables, shapes):
        low, high = preset.view[var]
        arrays.append(rng.uniform(low, high, size=shape))
    full = np.broadcast_shapes(*shapes)
    losses = np.asarray(obj.loss(*arrays), dtype=float)
    assert losses.shape == full
    grads = np.asarray(obj.grad(*arrays), dtype=float)
    assert grads.shape == (n, *full)
    for index in [(0,) * n, (3,) * n, tuple(range(n))]:
        point = [float(np.broadcast_to(a, full)[index]) for a in arrays]
        assert losses[index] == pytest.approx(_loss(obj, point), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grads[(slice(None), *index)], _grad(obj, point), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_start_is_not_a_minimum(name: str) -> None:
    preset = PRESETS[name]
    obj = _objective(preset)
    start = np.array(_coords(preset, preset.start))
    assert np.linalg.norm(_grad(obj, list(start))) > 1e-3, "nothing to descend from the start"
    for point, _ in preset.minima:
        assert np.linalg.norm(start - np.array(_coords(preset, point))) > 1e-3


@pytest.mark.parametrize("name", WITH_MINIMA)
def test_minima_are_true_minima(name: str) -> None:
    preset = PRESETS[name]
    obj = _objective(preset)
    n = len(preset.variables)
    seen: list[np.ndarray] = []
    for k, (point, stated) in enumerate(preset.minima):
        coords = _coords(preset, point)
        label = f"minimum {k} at {point}"
        assert all(np.linalg.norm(np.array(coords) - s) > 1e-6 for s in seen), f"{label} listed twice"
        seen.append(np.array(coords))

        value = _loss(obj, coords)
        assert value == pytest.approx(stated, rel=1e-9, abs=1e-9), label

        if name in KINKED:
            # No derivative at a kink: every nearby point must be higher instead.
            rng = np.random.default_rng(k)
            directions = np.vstack([np.eye(n), -np.eye(n), rng.normal(size=(32, n))])
            directions /= np.linalg.norm(directions, axis=1, keepdims=True)
            for radius in (1e-2, 1e-4, 1e-6):
                for d in directions:
                    assert _loss(obj, list(np.array(coords) + radius * d)) > value, f"{label}: lower at r={radius}"
            continue

        grad = _grad(obj, coords)
        assert np.linalg.norm(grad) < GRAD_TOL, f"{label}: |grad| = {np.linalg.norm(grad):.3g}"
        hess = _hess(obj, coords)
        eigenvalues = np.linalg.eigvalsh(0.5 * (hess + hess.T))
        scale = max(1.0, float(np.max(np.abs(eigenvalues))))
        assert eigenvalues.min() >= -EIG_TOL * scale, f"{label}: Hessian eigenvalues {eigenvalues}"


@pytest.mark.parametrize("name", WITH_MINIMA)
def test_lowest_listed_minimum_is_lowest_in_view(name: str) -> None:
    """A dense grid over the view never beats the best listed minimum, so the global one is listed."""
    preset = PRESETS[name]
    obj = _objective(preset)
    count = GRID_POINTS[len(preset.variables)]
    axes = [np.linspace(*preset.view[v], count) for v in preset.variables]
    grid = np.meshgrid(*axes, indexing="ij", sparse=True)
    values = np.asarray(obj.loss(*grid), dtype=float)
    best = min(loss for _, loss in preset.minima)
    assert np.all(np.isfinite(values))
    assert values.min() >= best - 1e-9 * max(1.0, abs(best)), (
        f"grid reaches {values.min()} below the best listed minimum {best}"
    )
