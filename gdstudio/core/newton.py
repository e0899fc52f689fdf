"""Damped Newton with the exact Hessian, and the backtracking line search that keeps its loss from rising.

The direction d solves (H + λI) d = ∇J, with H shifted by τI where it is not positive definite, so d
always points downhill; but a full step along it can still overshoot (Himmelblau from (−0.2, −0.9):
loss 181.5 → 2733.7). With `line_search` (the default) the step θ ← θ − αd starts at α = lr and halves
until the loss drops by at least c·α·∇Jᵀd (Armijo), evaluated on the rows the step uses. A full step
on a quadratic passes at once (c ≤ ½), so where pure Newton works it is unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import INLINE, JIT, njit
from .newton_notes import (ARMIJO_C, FIRST_REPAIR, HALVINGS, LAST_SHIFT, MOST_HALVINGS, NO_DECREASE, NO_DIRECTION, REPAIRS,
                           SHORTENED, STEPPED, TRIALS)


@njit(**JIT)
def _shifted_cholesky(a, shift, lower):
    """Cholesky factor of a + shift*I into `lower`; False when that matrix is not positive definite."""
    n = a.shape[0]
    for j in range(n):
        total = a[j, j] + shift
        for k in range(j):
            total -= lower[j, k] * lower[j, k]
        if not total > 0.0:
            return False
        lower[j, j] = math.sqrt(total)
        for i in range(j + 1, n):
            acc = a[i, j]
            for k in range(j):
                acc -= lower[i, k] * lower[j, k]
            lower[i, j] = acc / lower[j, j]
    return True


@njit(**JIT)
def newton_direction(g, hess, damping, t, note, d):
    """Solve (H + damping·I) d = g into d. Where that matrix is not positive definite (a saddle, a maximum,
    a flat direction), add τ·I, doubling τ until it is (Nocedal & Wright, Algorithm 3.3), so d points
    downhill. False when no finite τ works (a Hessian that is not finite)."""
    n = g.shape[0]
    lower = np.zeros((n, n))
    shift = damping
    if not _shifted_cholesky(hess, shift, lower):
        scale = 0.0
        for i in range(n):
            scale = max(scale, abs(hess[i, i]))
        shift = max(1e-3 * max(scale, 1.0), 2.0 * damping)
        while not _shifted_cholesky(hess, shift, lower):
            shift *= 2.0
            if not math.isfinite(shift):
                return False
        note[REPAIRS] += 1
        if note[REPAIRS] == 1:
            note[FIRST_REPAIR] = t
        note[LAST_SHIFT] = shift
    for i in range(n):  # forward: L y = g, y kept in d
        acc = g[i]
        for k in range(i):
            acc -= lower[i, k] * d[k]
        d[i] = acc / lower[i, i]
    for i in range(n - 1, -1, -1):  # backward: Lᵀ d = y
        acc = d[i]
        for k in range(i + 1, n):
            acc -= lower[k, i] * d[k]
        d[i] = acc / lower[i, i]
    return True


@njit(**JIT)
def _pure_step(p, g, damping, t, lr, hess, note):
    """θ ← θ − lr·d; a Hessian that no shift repairs makes θ NaN (the run then ends as diverged)."""
    n = p.shape[0]
    d = np.empty(n)
    if not newton_direction(g, hess, damping, t, note, d):
        for i in range(n):
            p[i] = math.nan
        return
    for i in range(n):
        p[i] = p[i] - lr * d[i]


@njit(**INLINE)
def newton_step(p, g, state, h, t, lr, hess, note):
    """The step rule of the registry (the pure step); the run kernel calls newton_update instead."""
    _pure_step(p, g, h[1], t, lr, hess, note)


@njit(**INLINE)
def newton_update(fg, p, g, h, t, lr, hess, note, data, rows, loss):
    """One Newton step from θ = p, where the loss on `rows` is `loss`: the pure step when h[2]
    (line_search) is off, else the first α of lr, lr/2, ... (HALVINGS halvings) meeting Armijo's
    condition. Returns STEPPED, NO_DECREASE (θ unchanged: no α lowered the loss before the step
    vanished in rounding or the halvings ran out) or NO_DIRECTION (the Hessian is not finite)."""
    if h[2] == 0:
        _pure_step(p, g, h[1], t, lr, hess, note)
        return STEPPED
    n = p.shape[0]
    d = np.empty(n)
    if not newton_direction(g, hess, h[1], t, note, d):
        return NO_DIRECTION
    slope = 0.0
    for i in range(n):
        slope += g[i] * d[i]
    trial, trial_g, trial_hess = np.empty(n), np.empty(n), np.empty((n, n))  # fg writes g and H: not the run's
    alpha = lr
    for halvings in range(HALVINGS + 1):
        moved = False
        for i in range(n):
            trial[i] = p[i] - alpha * d[i]
            moved = moved or trial[i] != p[i]
        if not moved:  # the step has vanished in rounding (or d = 0): no α left to try
            return NO_DECREASE
        note[TRIALS] += 1
        if fg(trial, trial_g, trial_hess, data, rows) <= loss - ARMIJO_C * alpha * slope:
            p[:] = trial
            if halvings:
                note[SHORTENED] += 1
                note[MOST_HALVINGS] = max(note[MOST_HALVINGS], halvings)
            return STEPPED
        alpha *= 0.5
    return NO_DECREASE
