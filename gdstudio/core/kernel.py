"""The compiled run loop: evaluate, record, test the stopping rules, clip, step.

One call advances S independent runs (S = 1 for a scenario's run, thousands for
sweeps and basins) by up to n steps each. Everything a run needs to resume lives
in the arrays passed in, so splitting a run into chunks never changes its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .jit import JIT, njit, prange, realize
from .newton import newton_update
from .newton_notes import NO_DECREASE, NO_DIRECTION, NOTES, SKIPPED
from .outcomes import (CANCELLED, CONVERGED, DIVERGED, ERROR, GRAD_NONFINITE, GRAD_TOL, HESSIAN_NONFINITE,  # noqa: F401
                       LOSS_ABOVE, LOSS_NONFINITE, LOSS_TOL, MAX_STEPS, NO_DESCENT, RUNNING, STATUS_NAMES, STEP_LIMIT)
from .rules import NEWTON, apply_step, learning_rate
from .trajectory import BATCH_LOSS, GRAD_NORM, LOSS, LR, PARAMS


@lru_cache(maxsize=1)
def signatures() -> tuple[object, object]:
    """Numba's signatures of an objective's fg(p, g, hess, data, rows) -> loss (every objective's compiled kernel:
    see codegen) and of `advance` (made once Numba is imported: jit.py)."""
    from numba import types

    f1, f2, f3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
    i1, i2, u1 = types.int64[::1], types.int64[:, ::1], types.uint64[::1]
    fg = types.float64(f1, f1, f2, f2, i1)
    return fg, types.void(types.FunctionType(fg), types.int64, f2, f2, f3, f3, f2, f2, f2, f1, i1, f1, i1, f2, f2,
                          types.int64, f3, i1, f2, i1, i1, i1, i2, i1, u1, i2)


# Layout of the STOP vector (a disabled tolerance is -1, a disabled threshold inf).
MAX_STEPS_AT, GRAD_TOL_AT, LOSS_TOL_AT, DIVERGENCE_AT = range(4)

# Layout of the CLIP vector: kind (0 none, 1 by norm, 2 by value) and its value.
CLIP_NONE, CLIP_NORM, CLIP_VALUE = 0, 1, 2


@njit(nogil=True, error_model="numpy", inline="always")
def _stop_reason(f, gn, t, last, stop):
    """(status, reason, value) for the point just evaluated at step t; RUNNING to go on."""
    if not math.isfinite(f):
        return DIVERGED, LOSS_NONFINITE, f
    if f > stop[DIVERGENCE_AT]:
        return DIVERGED, LOSS_ABOVE, f
    if not math.isfinite(gn):
        return ERROR, GRAD_NONFINITE, gn
    if gn <= stop[GRAD_TOL_AT]:
        return CONVERGED, GRAD_TOL, gn
    if t > 0 and abs(f - last) <= stop[LOSS_TOL_AT]:
        return CONVERGED, LOSS_TOL, abs(f - last)
    if t >= stop[MAX_STEPS_AT]:
        return MAX_STEPS, STEP_LIMIT, t
    return RUNNING, 0, 0.0


@njit(nogil=True, error_model="numpy", inline="always")
def _norm(g):
    """Euclidean norm; rescaled only when the plain sum of squares overflows, so a huge but
    finite gradient keeps a finite norm and ordinary ones round exactly as before."""
    total = 0.0
    for i in range(g.shape[0]):
        total += g[i] * g[i]
    if total != math.inf:
        return math.sqrt(total)
    largest = 0.0
    for i in range(g.shape[0]):
        largest = max(largest, abs(g[i]))
    if not math.isfinite(largest):
        return largest
    total = 0.0
    for i in range(g.shape[0]):
        total += (g[i] / largest) * (g[i] / largest)
    return largest * math.sqrt(total)


@njit(nogil=True, error_model="numpy", inline="always")
def _clip(g, gn, clip):
    """torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on one gradient."""
    if clip[0] == CLIP_NORM:
        coef = min(clip[1] / (gn + 1e-6), 1.0)
        for i in range(g.shape[0]):
            g[i] = g[i] * coef
    elif clip[0] == CLIP_VALUE:
        for i in range(g.shape[0]):
            g[i] = min(max(g[i], -clip[1]), clip[1])


@njit(nogil=True, error_model="numpy", inline="always")
def _random(RNG, s):
    """SplitMix64: a tiny, well-mixed generator whose whole state is one integer per run."""
    z = RNG[s] + np.uint64(0x9E3779B97F4A7C15)
    RNG[s] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(nogil=True, error_model="numpy", inline="always")
def _next_batch(s, size, replace, PERM, POS, RNG, ROWS):
    """Fill ROWS[s] with the next batch; returns its length (the last one of an epoch may be short)."""
    rows = PERM.shape[1]
    if replace:
        for i in range(size):
            ROWS[s, i] = np.int64(_random(RNG, s) % np.uint64(rows))
        return size
    if POS[s] == 0:  # a new epoch: Fisher-Yates shuffle of this run's order
        for i in range(rows - 1, 0, -1):
            j = np.int64(_random(RNG, s) % np.uint64(i + 1))
            PERM[s, i], PERM[s, j] = PERM[s, j], PERM[s, i]
    count = min(size, rows - POS[s])
    for i in range(count):
        ROWS[s, i] = PERM[s, POS[s] + i]
    POS[s] = 0 if POS[s] + count >= rows else POS[s] + count
    return count


@njit(nogil=True, error_model="numpy", inline="always")
def _advance_run(s, fg, rule, P, G, HM, ST, H, SCHED, CLIP, STOP, T, LAST, STATUS, EVENT, NOTE, n, OUT, COUNT,
                 DATA, ALL, BATCH, REPLACE, PERM, POS, RNG, ROWS):
    """Advance run s by up to n steps.

    fg: the objective's compiled kernel; rule: the optimizer's code (OptimizerInfo.code).
    P, G: (S, d) parameters and gradient; HM: (S, d, d) Hessian; ST: (S, k, d) optimizer
    state; H: (S, h) hyper-parameters; SCHED: (S, 4) schedule; CLIP: (S, 2); STOP: (4,);
    T: steps done; LAST: previous loss; STATUS, EVENT (S, 2) as above; NOTE (S, newton.NOTES).
    OUT: (S, n, PARAMS + d) recorded rows (columns as in trajectory.py), or (S, 0, PARAMS + d) to
    record nothing; COUNT: rows written.
    DATA: (columns, N) data set and ALL = arange(N) (both empty without data). BATCH: rows per
    step (0 = all); REPLACE: draw with replacement; PERM, POS: each run's shuffled order and place
    in the epoch; RNG: each run's random state; ROWS: (S, batch) scratch for the drawn rows.
    The recorded loss and gradient norm are always over the full data set, so runs with
    different batch sizes compare fairly; the optimizer steps with the batch gradient. The
    recorded batch loss is the loss on the rows that step drew (the full loss when every row is
    used, and on a run's last row, which takes no step). Newton's line search evaluates its trial points
    on the rows of the step; when no trial lowers the full-batch loss the run ends there (converged: a
    next step would be the same), while a batch where none does is skipped.
    """
    COUNT[s] = 0
    if STATUS[s] != RUNNING:
        return
    record = OUT.shape[1] > 0
    p, g, hess, state, hyper, sched, clip, note = P[s], G[s], HM[s], ST[s], H[s], SCHED[s], CLIP[s], NOTE[s]
    for _ in range(n):
        t = T[s]
        f = fg(p, g, hess, DATA, ALL)
        gn = _norm(g)
        lr = learning_rate(hyper[0], sched, t + 1)
        if record:
            row = OUT[s, COUNT[s]]
            row[LOSS], row[GRAD_NORM], row[LR], row[BATCH_LOSS] = f, gn, lr, f
            for i in range(p.shape[0]):
                row[PARAMS + i] = p[i]
            COUNT[s] += 1
        status, reason, value = _stop_reason(f, gn, t, LAST[s], STOP)
        LAST[s] = f
        if status != RUNNING:
            STATUS[s], EVENT[s, 0], EVENT[s, 1] = status, reason, value
            return
        rows, step_loss = ALL, f  # the rows this step uses, and the loss on them
        if BATCH[s] > 0:
            count = _next_batch(s, BATCH[s], REPLACE[s], PERM, POS, RNG, ROWS)
            rows = ROWS[s, :count]
            step_loss = fg(p, g, hess, DATA, rows)
            if record:
                OUT[s, COUNT[s] - 1, BATCH_LOSS] = step_loss
            gn = _norm(g)
        _clip(g, gn, clip)
        if rule == NEWTON:
            outcome = newton_update(fg, p, g, hyper, t + 1, lr, hess, note, DATA, rows, step_loss)
            if outcome == NO_DIRECTION:
                STATUS[s], EVENT[s, 0], EVENT[s, 1] = ERROR, HESSIAN_NONFINITE, gn
                return
            if outcome == NO_DECREASE:
                if BATCH[s] == 0:  # the next step would try the very same points
                    STATUS[s], EVENT[s, 0], EVENT[s, 1] = CONVERGED, NO_DESCENT, gn
                    return
                note[SKIPPED] += 1
        else:
            apply_step(rule, p, g, state, hyper, t + 1, lr, hess, note)
        T[s] = t + 1


def advance(fg, rule, P, G, HM, ST, H, SCHED, CLIP, STOP, T, LAST, STATUS, EVENT, NOTE, n, OUT, COUNT,
            DATA, ALL, BATCH, REPLACE, PERM, POS, RNG, ROWS):
    """Advance every running run by up to n steps, one after another (see _advance_run)."""
    for s in range(P.shape[0]):
        _advance_run(s, fg, rule, P, G, HM, ST, H, SCHED, CLIP, STOP, T, LAST, STATUS, EVENT, NOTE, n, OUT, COUNT,
                     DATA, ALL, BATCH, REPLACE, PERM, POS, RNG, ROWS)


def _advance_parallel(fg, rule, P, G, HM, ST, H, SCHED, CLIP, STOP, T, LAST, STATUS, EVENT, NOTE, n, OUT, COUNT,
                      DATA, ALL, BATCH, REPLACE, PERM, POS, RNG, ROWS):
    """The same on every core: runs are independent, so threads never change their numbers."""
    for s in prange(P.shape[0]):
        _advance_run(s, fg, rule, P, G, HM, ST, H, SCHED, CLIP, STOP, T, LAST, STATUS, EVENT, NOTE, n, OUT, COUNT,
                     DATA, ALL, BATCH, REPLACE, PERM, POS, RNG, ROWS)


@lru_cache(maxsize=1)
def compiled_advance():
    """`advance`, compiled (or loaded from Numba's cache) on first use rather than at import: a first start
    compiles it for several seconds, and meanwhile the first runs step in Python (interpreted.py)."""
    return _compiled(advance)


def _compiled(function: Callable, **options) -> Callable:
    """`function` compiled with `advance`'s signature, once every function it calls is made by Numba (jit.py)."""
    import numba

    realize()
    return numba.njit(signatures()[1], **JIT, **options)(function)


def compiled_ready() -> bool:
    return compiled_advance.cache_info().currsize > 0


@lru_cache(maxsize=1)
def advance_parallel():
    """Compiled on first use: threads only pay off for many runs, and scenario runs never need it."""
    return _compiled(_advance_parallel, parallel=True)


PARALLEL_FROM = 64  # runs per call from which the threaded kernel is used


class KernelRuns:
    """The arrays `advance` works on, for S runs of one optimizer over one objective."""

    def __init__(self, starts: np.ndarray, state: np.ndarray, hyper: np.ndarray, sched: np.ndarray, clip: np.ndarray,
                 stop: np.ndarray, data: np.ndarray | None = None, batch: np.ndarray | None = None,
                 replace: np.ndarray | None = None, seeds: np.ndarray | None = None) -> None:
        S, d = starts.shape
        self.P = np.ascontiguousarray(starts, dtype=np.float64).copy()
        self.G, self.HM = np.zeros((S, d)), np.zeros((S, d, d))
        self.ST, self.H, self.SCHED, self.CLIP, self.STOP = state, hyper, sched, clip, stop
        self.T, self.LAST = np.zeros(S, np.int64), np.zeros(S)
        self.STATUS, self.EVENT, self.NOTE = np.zeros(S, np.int64), np.zeros((S, 2)), np.zeros((S, NOTES))
        self.COUNT = np.zeros(S, np.int64)
        self.DATA = np.zeros((0, 0)) if data is None else np.ascontiguousarray(data, dtype=np.float64)
        rows = self.DATA.shape[1]
        self.ALL = np.arange(rows, dtype=np.int64)
        self.BATCH = np.zeros(S, np.int64) if batch is None else np.asarray(batch, np.int64)
        self.BATCH = np.where(self.BATCH >= rows, 0, self.BATCH)  # a batch of every row is the full batch
        self.REPLACE = np.zeros(S, np.int64) if replace is None else np.asarray(replace, np.int64)
        minibatch = bool(self.BATCH.any())
        self.PERM = np.tile(self.ALL, (S, 1)) if minibatch else np.zeros((S, 0), np.int64)
        self.POS = np.zeros(S, np.int64)
        self.RNG = np.zeros(S, np.uint64) if seeds is None else np.asarray(seeds, np.uint64).copy()
        self.ROWS = np.zeros((S, int(self.BATCH.max(initial=0))), np.int64)

    def advance(self, fg, rule: int, n: int, out: np.ndarray) -> None:
        self.advance_with(advance_parallel() if len(self.P) >= PARALLEL_FROM else compiled_advance(), fg, rule, n, out)

    def advance_with(self, kernel: Callable, fg: Callable, rule: int, n: int, out: np.ndarray) -> None:
        """`advance` by a given implementation of it: the compiled kernel, or interpreted.py's Python one."""
        kernel(fg, rule, self.P, self.G, self.HM, self.ST, self.H, self.SCHED, self.CLIP, self.STOP, self.T, self.LAST,
               self.STATUS, self.EVENT, self.NOTE, n, out, self.COUNT, self.DATA, self.ALL, self.BATCH, self.REPLACE,
               self.PERM, self.POS, self.RNG, self.ROWS)
