"""Every real stationary point of a loss whose gradient is a small polynomial system, by exact algebra:
a Gröbner basis gives every real root, including degenerate ones Newton crawls towards."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import sympy as sp

from .expression import Objective

# Bézout bound (product of the gradient's degrees) up to which the exact solve is tried, by dimension:
# measured well under half a second; beyond it (a 3-D cubic system: ~10 s) Newton is used instead.
_SYMBOLIC_BEZOUT = {1: 60, 2: 16, 3: 8}
_SYMBOLIC_BUDGET = 0.5  # seconds; later eliminations are skipped once this is spent


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
    return X[_residual_ok(polys, X, np.moveaxis(objective.grad(*X.T), 0, -1))]
