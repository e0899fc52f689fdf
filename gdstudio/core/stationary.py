"""Where a loss is stationary: every real point by exact algebra when the gradient is a small polynomial
system (a Gröbner basis gives every real root, including degenerate ones Newton crawls towards), and
otherwise the points Newton's method on ∇f = 0 converges to from many starts, all at once."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import sympy as sp

from .derivatives import size
from .expression import Objective

# Bézout bound (product of the gradient's degrees) up to which the exact solve is tried, by dimension:
# measured well under half a second; beyond it (a 3-D cubic system: ~10 s) Newton is used instead.
_SYMBOLIC_BEZOUT = {1: 60, 2: 16, 3: 8}
_SYMBOLIC_BUDGET = 0.5  # seconds; later eliminations are skipped once this is spent
_STARTS = {1: 201, 2: 900, 3: 1728}  # Newton starts by dimension (a grid); beyond 3, 2048 seeded random starts
CRITICAL_WORK = 300_000_000  # starts × iterations × (operations of ∇f and H + d³/3) a search may cost: a few seconds


def _polynomials(objective: Objective) -> list[sp.Poly] | None:
    """The gradient as polynomials with rational coefficients, or None when it is not one."""
    polys = []
    for g in objective.gradient:
        if not g.is_polynomial(*objective.symbols):
            return None
        try:
            p = sp.Poly(sp.nsimplify(g, rational=True), *objective.symbols)
        except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError):
            return None
        if p.domain not in (sp.ZZ, sp.QQ):  # e.g. pi in a coefficient
            return None
        polys.append(p)
    return polys


def _residual_ok(polys: list[sp.Poly], X: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Rows of X where each gradient component vanishes to rounding: |g_k| ≤ 1e-8 · Σ|terms of g_k|."""
    ok = np.ones(len(X), dtype=bool)
    with np.errstate(all="ignore"):
        for k, poly in enumerate(polys):
            scale = np.zeros(len(X))
            for monom, coeff in poly.terms():
                scale += abs(float(coeff)) * np.prod(np.abs(X) ** np.array(monom, dtype=np.float64), axis=1)
            ok &= np.abs(G[:, k]) <= 1e-8 * scale
    return ok


def symbolic_points(objective: Objective) -> np.ndarray | None:
    """Every real stationary point (M, d), when the gradient is a small polynomial system with finitely
    many roots; None when exact algebra does not apply or would be slow.

    Lex Gröbner bases eliminate all variables but one, in turn; the real roots of each univariate
    eliminant are the candidate coordinates, and the combinations where ∇f vanishes are the points.
    """
    d = objective.dimension
    polys = _polynomials(objective) if d in _SYMBOLIC_BEZOUT else None
    if polys is None:
        return None
    if any(p.is_zero for p in polys):
        return None  # f does not depend on a variable: a whole line of stationary points
    if any(p.total_degree() == 0 for p in polys):
        return np.empty((0, d))  # a component is a nonzero constant: nowhere stationary
    if math.prod(p.total_degree() for p in polys) > _SYMBOLIC_BEZOUT[d]:
        return None
    began = time.perf_counter()
    roots: list[list[float]] = []
    for k, last in enumerate(objective.symbols):
        if time.perf_counter() - began > _SYMBOLIC_BUDGET:
            return None
        if d == 1:
            eliminant = polys[0]
        else:
            order = [s for s in objective.symbols if s is not last] + [last]
            basis = sp.groebner([p.as_expr() for p in polys], *order, order="lex", domain=sp.QQ)
            if list(basis.exprs) == [1]:
                return np.empty((0, d))  # no common root, even complex
            eliminants = [g for g in basis.exprs if g.free_symbols <= {last}]
            if not eliminants:
                return None  # infinitely many roots (a curve of stationary points)
            eliminant = sp.Poly(eliminants[-1], last)
        roots.append(sorted({float(r) for r in eliminant.real_roots()}))
        if not roots[-1]:
            return np.empty((0, d))
    X = np.array(list(itertools.product(*roots)), dtype=np.float64).reshape(-1, d)
    return X[_residual_ok(polys, X, grad_rows(objective, X))]


def grad_rows(objective: Objective, X: np.ndarray) -> np.ndarray:
    return np.moveaxis(objective.grad(*X.T), 0, -1)  # (N, d)


def hess_rows(objective: Objective, X: np.ndarray) -> np.ndarray:
    return np.moveaxis(objective.hess(*X.T), -1, 0)  # (N, d, d)


def starts_in(lo: np.ndarray, hi: np.ndarray, count: int | None) -> np.ndarray:
    """A grid of cell centres over the box (random seeded points beyond 3 variables)."""
    d = len(lo)
    count = count or _STARTS.get(d, 2048)
    if d <= 3:
        per_axis = max(2, round(count ** (1.0 / d)))
        axes = [lo[i] + (np.arange(per_axis) + 0.5) * (hi[i] - lo[i]) / per_axis for i in range(d)]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    return np.random.default_rng(0).uniform(lo, hi, size=(count, d))


def _start_count(objective: Objective, iterations: int) -> int:
    """_STARTS, fewer where each step costs more (many data rows, a large Hessian): a search stays
    within CRITICAL_WORK, with at least 64 starts."""
    d = objective.dimension
    count = _STARTS.get(d, 2048)
    if objective.data is not None:  # every evaluation sums over the data rows
        count = min(count, 200_000 // max(objective.data.shape[1], 1))
    cost = size(objective.exprs("grad")) + size(objective.exprs("hess")) + d**3 // 3
    return int(max(64, min(count, CRITICAL_WORK // (iterations * cost))))


def newton_points(objective: Objective, lo: np.ndarray, hi: np.ndarray, starts: int | None, iterations: int) -> np.ndarray:
    """Newton's method on ∇f = 0 from a grid of starts, all at once; the converged points (M, d).

    The step uses the Hessian's pseudo-inverse (eigen-decomposition), so flat directions do not
    blow up, and is capped at a quarter of the view so one jump cannot throw a start far away.
    """
    width = hi - lo
    X = starts_in(lo, hi, starts or _start_count(objective, iterations))
    active = np.ones(len(X), dtype=bool)
    step_size = np.full(len(X), np.inf)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            x = X[idx]
            g, h = grad_rows(objective, x), hess_rows(objective, x)
            good = np.all(np.isfinite(g), axis=1) & np.all(np.isfinite(h), axis=(1, 2))
            h = np.where(good[:, None, None], 0.5 * (h + np.swapaxes(h, 1, 2)), 0.0)
            lam, Q = np.linalg.eigh(h)
            cutoff = 1e-12 * np.max(np.abs(lam), axis=1, keepdims=True)
            inv = np.where(np.abs(lam) > cutoff, 1.0 / np.where(lam == 0, 1.0, lam), 0.0)
            delta = np.einsum("nij,nj,nkj,nk->ni", Q, inv, Q, np.where(good[:, None], g, 0.0))
            scaled = np.linalg.norm(delta / width, axis=1)
            delta *= np.minimum(1.0, 0.25 / np.where(scaled > 0, scaled, 1.0))[:, None]
            X[idx] = x - delta
            step_size[idx] = np.where(good, np.minimum(scaled, 0.25), np.inf)
            outside = np.any(np.abs((X[idx] - lo) / width - 0.5) > 2.0, axis=1)
            active[idx] = good & ~outside & (scaled > 1e-15)
        inside = np.all((X >= lo - 1e-9 * width) & (X <= hi + 1e-9 * width), axis=1)
        candidates = X[inside & (step_size < 1e-8)]
        if not len(candidates):
            return candidates
        g = np.linalg.norm(grad_rows(objective, candidates), axis=1)
        g0 = np.nanmedian(np.linalg.norm(grad_rows(objective, starts_in(lo, hi, 64)), axis=1))
        return candidates[g <= 1e-6 * max(1.0, float(g0) if np.isfinite(g0) else 1.0)]
