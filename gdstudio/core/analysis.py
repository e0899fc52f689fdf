"""Insight into a loss and a run: stationary points, the stable step size, and what went wrong.

Critical points come from exact algebra when the gradient is a small polynomial system,
and otherwise from Newton's method on ∇f = 0 started from a grid over the view (`stationary`).
Each point is classified by the eigenvalues of the exact Hessian.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import HessianUnavailable
from .expression import Objective
from .scenario import DEFAULT_RANGE
from .stationary import grad_rows, hess_rows, newton_points, starts_in, symbolic_points

__all__ = ["CriticalPoint", "StepDiagnosis", "critical_points", "diagnose_run", "stable_step", "view_box"]

KINDS = ("minimum", "maximum", "saddle", "degenerate")
MAX_CRITICAL_VARIABLES = 20  # the search and its Hessians grow as d³ per start; beyond, samples say little anyway
PLATEAU_SHRINK = 1e-5  # a gradient this far below the run's largest is tiny whatever the loss's units


@dataclass(frozen=True)
class CriticalPoint:
    point: dict[str, float]
    loss: float
    kind: str  # one of KINDS
    eigenvalues: tuple[float, ...]  # of the Hessian, ascending
    exact: bool = False  # found by exact algebra rather than Newton

    @property
    def coords(self) -> np.ndarray:
        return np.array(list(self.point.values()), dtype=np.float64)


def view_box(objective: Objective, view: Mapping[str, tuple[float, float]] | None) -> tuple[np.ndarray, np.ndarray]:
    """Low and high corners of the view; variables it leaves out get the scenario default range."""
    view = view or {}
    unknown = set(view) - set(objective.variables)
    if unknown:
        raise ValueError(f"view names unknown variables: {', '.join(sorted(unknown))}")
    lo, hi = np.array([[float(v) for v in view.get(n, DEFAULT_RANGE)] for n in objective.variables]).T
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError("every view range must be finite with low < high")
    return lo, hi


def _deduplicate(X: np.ndarray, width: np.ndarray, tol: float, grad_norm: np.ndarray) -> np.ndarray:
    """One point per cluster (distance in view units below tol), the one with the smallest gradient."""
    keep: list[int] = []
    for i in np.argsort(grad_norm, kind="stable"):
        if not keep or np.min(np.max(np.abs(X[keep] - X[i]) / width, axis=1)) > tol:
            keep.append(int(i))
    return X[sorted(keep, key=lambda i: tuple(X[i]))]


def classify(eigenvalues: np.ndarray, tol: float) -> str:
    """Minimum / maximum by the Hessian's definiteness, saddle when indefinite, else degenerate."""
    if np.all(eigenvalues > tol):
        return "minimum"
    if np.all(eigenvalues < -tol):
        return "maximum"
    if np.any(eigenvalues > tol) and np.any(eigenvalues < -tol):
        return "saddle"
    return "degenerate"


def critical_points(objective: Objective, view: Mapping[str, tuple[float, float]] | None = None, *,
                    starts: int | None = None, iterations: int = 80, symbolic: bool = True,
                    eig_tol: float | None = None, merge_tol: float = 1e-6, limit: int = 200) -> list[CriticalPoint]:
    """Stationary points of the loss inside the view, classified, sorted by loss; HessianUnavailable
    (one line saying why) beyond MAX_CRITICAL_VARIABLES or when the exact Hessian is refused.

    `eig_tol`: eigenvalues with |λ| ≤ eig_tol count as zero (default 1e-6 · max(1, typical |λ|max
    over the view)). `merge_tol`: points closer than this fraction of the view are one point.
    A loss with a whole curve of stationary points yields samples of it, at most `limit` points.
    """
    lo, hi = view_box(objective, view)
    width = hi - lo
    if objective.dimension > MAX_CRITICAL_VARIABLES:
        raise HessianUnavailable(f"critical points are searched in at most {MAX_CRITICAL_VARIABLES} variables, and this "
                                 f"loss has {objective.dimension}: each step of the search solves with the exact Hessian")
    objective.hessian_entries()  # HessianUnavailable now, before any search, when the Hessian is refused
    X = symbolic_points(objective) if symbolic else None
    exact = X is not None
    if X is None:
        X = newton_points(objective, lo, hi, starts, iterations)
    X = X[np.all((X >= lo - 1e-9 * width) & (X <= hi + 1e-9 * width), axis=1)]
    if not len(X):
        return []
    with np.errstate(all="ignore"):
        X = _deduplicate(X, width, merge_tol, np.linalg.norm(grad_rows(objective, X), axis=1))[:limit]
        X = np.where(np.abs(X) < 1e-9 * width, 0.0, X)  # 3e-16 is 0 to the eye and in the table
        lam = np.linalg.eigvalsh(hess_rows(objective, X)) + 0.0  # no -0.0 in tables
        loss = objective.loss(*X.T)
        if eig_tol is None:
            typical = np.nanmedian(np.max(np.abs(np.linalg.eigvalsh(hess_rows(objective, starts_in(lo, hi, 64)))), axis=1))
            eig_tol = 1e-6 * max(1.0, float(typical) if np.isfinite(typical) else 1.0)
    points = [
        CriticalPoint(dict(zip(objective.variables, map(float, x))), float(f), classify(ev, eig_tol), tuple(map(float, ev)), exact)
        for x, f, ev in zip(X, loss, lam)
        if np.isfinite(f) and np.all(np.isfinite(ev))
    ]
    return sorted(points, key=lambda p: (p.loss, tuple(p.point.values())))


# ---------------------------------------------------------------- step size and run diagnosis


@dataclass(frozen=True)
class StepDiagnosis:
    """The local curvature at a point and the learning rates that stay stable there.

    On a quadratic with Hessian eigenvalues λ, plain GD multiplies the error along each
    eigenvector by (1 − αλ): it shrinks only while α < 2/λmax. Heavy-ball momentum β widens
    this to 2(1 + β)/λmax, torch's Nesterov form to 2(1 + β)/((1 + 2β)λmax).
    """

    point: tuple[float, ...]
    eigenvalues: tuple[float, ...]  # ascending
    unavailable: str = ""  # why the eigenvalues are nan when the exact Hessian is refused (too large)

    @property
    def lambda_max(self) -> float:
        return self.eigenvalues[-1]

    @property
    def lambda_min(self) -> float:
        return self.eigenvalues[0]

    @property
    def gd_limit(self) -> float:
        """Largest stable plain-GD learning rate, 2/λmax (inf where the loss curves down everywhere)."""
        return 2.0 / self.lambda_max if self.lambda_max > 0 else math.inf

    def momentum_limit(self, beta: float, nesterov: bool = False, dampening: float = 0.0) -> float:
        """Largest stable rate for torch.optim.SGD with this momentum (dampening scales the gradient by 1 − τ)."""
        if self.lambda_max <= 0:
            return math.inf
        if nesterov:
            return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * self.lambda_max)
        return 2.0 * (1.0 + beta) / ((1.0 - dampening) * self.lambda_max) if dampening < 1 else math.inf

    @property
    def best_gd_lr(self) -> float | None:
        """2/(λmax + λmin): the rate that contracts slowest and fastest directions equally (convex points only)."""
        return 2.0 / (self.lambda_max + self.lambda_min) if self.lambda_min > 0 else None

    @property
    def condition_number(self) -> float | None:
        return self.lambda_max / self.lambda_min if self.lambda_min > 0 else None

    def limit_for(self, optimizer_name: str, hyper: Mapping[str, object]) -> tuple[float, str] | None:
        """(largest stable lr, how it is computed) for optimizers with a curvature bound; None for
        adaptive ones (Adam, RMSprop, ...), whose effective step depends on their running state."""
        if optimizer_name == "gd":
            return self.gd_limit, "2/λmax"
        if optimizer_name == "sgd":
            decay = float(hyper.get("weight_decay", 0.0))  # adds decay·I to the Hessian the step sees
            if decay:
                shifted = StepDiagnosis(self.point, tuple(v + decay for v in self.eigenvalues))
                found = shifted.limit_for("sgd", {k: v for k, v in hyper.items() if k != "weight_decay"})
                joint = ", " if " with " in found[1] else " with "
                return found[0], found[1] + f"{joint}weight decay {_fmt(decay)} added to λmax"
            beta = float(hyper.get("momentum", 0.0))
            if beta == 0:
                return self.gd_limit, "2/λmax"
            if hyper.get("nesterov", False):
                return self.momentum_limit(beta, nesterov=True), f"2(1+β)/((1+2β)λmax) with β = {_fmt(beta)}"
            tau = float(hyper.get("dampening", 0.0))
            text = f"2(1+β)/λmax with β = {_fmt(beta)}" if tau == 0 else f"2(1+β)/((1−τ)λmax) with β = {_fmt(beta)}, τ = {_fmt(tau)}"
            return self.momentum_limit(beta, dampening=tau), text
        # Newton's default line search halves any step that would climb: only the pure step has an edge.
        if optimizer_name == "newton" and self.lambda_min > 0 and hyper.get("line_search", True) is False:
            damping = float(hyper.get("damping", 0.0))  # (H + δI)⁻¹H scales eigen-direction λ by λ/(λ + δ)
            return 2.0 * (1.0 + damping / self.lambda_max), "2(1 + δ/λmax)" if damping else "2"
        return None


def _fmt(value: float) -> str:
    """Short numbers for messages: 0.2, 1, 1e-6, 2.5e+03."""
    text = f"{value:.3g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def _where(point: Sequence[float]) -> str:
    return "(" + ", ".join(_fmt(v + 0.0) for v in point) + ")"


def stable_step(objective: Objective, point: Mapping[str, float] | Sequence[float]) -> StepDiagnosis:
    """Hessian eigenvalues at a point, for the stable-step bounds; nan where the Hessian is undefined, or
    everywhere (saying why in `unavailable`) when it is refused: the curvature tools then stay quiet."""
    x = np.array([point[n] for n in objective.variables] if isinstance(point, Mapping) else point, dtype=np.float64)
    try:
        with np.errstate(all="ignore"):
            h = objective.hess(*x)
    except HessianUnavailable as error:
        return StepDiagnosis(tuple(map(float, x)), (math.nan,) * len(x), error.message)
    if not np.all(np.isfinite(h)):
        return StepDiagnosis(tuple(map(float, x)), (math.nan,) * len(x))
    lam = np.linalg.eigvalsh(0.5 * (h + h.T)) + 0.0
    return StepDiagnosis(tuple(map(float, x)), tuple(map(float, lam)))


def against_bound(diag: StepDiagnosis, lr: float, optimizer_name: str,
                  hyper: Mapping[str, object]) -> tuple[str, float, str] | None:
    """How lr stands against the curvature bound where `diag` was taken: ("<" | "=" | ">", the bound, how it
    is computed), "=" within 1e-9 relative (on the edge); None for optimizers without a fixed bound."""
    found = diag.limit_for(optimizer_name, hyper)
    if found is None:
        return None
    limit, formula = found
    return ("=" if math.isclose(lr, limit, rel_tol=1e-9) else "<" if lr < limit else ">"), limit, formula


def _step_message(objective: Objective, point: np.ndarray, lr: float, optimizer_name: str, hyper: Mapping[str, object]) -> str | None:
    diag = stable_step(objective, point)
    if not np.isfinite(diag.lambda_max) or not np.isfinite(lr):
        return None
    found = against_bound(diag, lr, optimizer_name, hyper)
    if found is None or not math.isfinite(found[1]) or found[0] == "<":
        return None
    relation, limit, formula = found
    head = formula.split(" with ")[0]
    detail = f" ({formula.split(' with ')[1]})" if " with " in formula else ""
    bound = _fmt(limit) if head == _fmt(limit) else f"{head} = {_fmt(limit)}"
    if relation == "=":
        return (f"lr {_fmt(lr)} = {bound} near {_where(point)}{detail}: on the edge of stability, "
                "steps bounce back and forth without shrinking")
    return f"lr {_fmt(lr)} > {bound} near {_where(point)}{detail}: steps overshoot"


def _oscillation(params: np.ndarray, variables: Sequence[str], window: int) -> str | None:
    """Sign flips of successive update vectors' components over the last `window` updates."""
    rows = params[np.all(np.isfinite(params), axis=1)][-(window + 1):]
    if len(rows) < 6:
        return None
    delta = np.diff(rows, axis=0)
    flipping, shrinking = [], []
    for i, name in enumerate(variables):
        d = delta[:, i]
        noise = 1e-12 * (1.0 + np.max(np.abs(rows[:, i])))
        d = d[np.abs(d) > noise]
        if len(d) < 5:
            continue
        if np.mean(np.sign(d[1:]) != np.sign(d[:-1])) >= 0.8:
            flipping.append(name)
            quarter = max(len(d) // 4, 1)
            shrinking.append(np.mean(np.abs(d[-quarter:])) < 0.9 * np.mean(np.abs(d[:quarter])))
    if not flipping:
        return None
    names = flipping[0] if len(flipping) == 1 else ", ".join(flipping[:-1]) + " and " + flipping[-1]
    if all(shrinking):
        return f"damped oscillation: successive steps flip sign in {names} while shrinking (zig-zag towards the minimum)"
    return f"oscillating: successive steps flip sign in {names}"


def _not_a_minimum(objective: Objective, point: np.ndarray, here: float, best: float) -> tuple[str | None, bool]:
    """Why a point with a tiny gradient is no minimum (negative curvature, or a loss well above the best
    known), or None; and whether it clearly curves up (a local minimum, when the loss is above the best)."""
    diag = stable_step(objective, point)
    scale = 1e-6 * max(1.0, abs(diag.lambda_max)) if np.isfinite(diag.lambda_max) else 1e-6
    if np.isfinite(diag.lambda_min) and diag.lambda_min < -scale:
        return f"the Hessian has a negative eigenvalue {_fmt(diag.lambda_min)}, a saddle or a ridge", False
    curving_up = bool(diag.lambda_min > scale)
    if here - best > 1e-3 * max(1.0, abs(best)):
        return f"loss {_fmt(here)} there, {_fmt(best)} is reachable", curving_up
    return None, curving_up


def lowest_finite(values: np.ndarray) -> float | None:
    """The lowest finite value, without copying millions of rows (fmin skips nan); None if there is none."""
    low = float(np.fmin.reduce(values)) if len(values) else math.nan
    if math.isinf(low):  # (a run that diverged to −∞, or only ±∞)
        finite = values[np.isfinite(values)]
        low = float(finite.min()) if finite.size else math.nan
    return None if math.isnan(low) else low


def _plateau(objective: Objective, trajectory, tol: float, min_steps: int, best_loss: float | None) -> str | None:
    """The longest stretch with a tiny ‖∇‖ when it is long and not at a minimum; or a run that stopped
    with a tiny gradient where there is no minimum. Tiny is below `tol` or PLATEAU_SHRINK of the run's
    largest ‖∇‖, whichever is larger (a gradient's size depends on the loss's units; how far it fell
    does not). The best known loss is the run's own lowest or `best_loss`, whichever is lower."""
    norms = np.asarray(trajectory.grad_norm)
    finite_norms = norms[np.isfinite(norms)]
    if finite_norms.size:
        tol = max(tol, PLATEAU_SHRINK * float(finite_norms.max()))
    small = norms < tol
    if not small.any():
        return None
    params, losses = np.asarray(trajectory.params), np.asarray(trajectory.loss)
    own = lowest_finite(losses)
    best = min(math.inf if own is None else own, math.inf if best_loss is None else best_loss)
    step = np.asarray(getattr(trajectory, "steps", np.arange(len(small))))  # long runs keep thinned older rows
    edges = np.flatnonzero(np.diff(np.concatenate([[0], small.astype(np.int8), [0]])))
    lengths = step[edges[1::2] - 1] - step[edges[::2]] + 1
    k = int(np.argmax(lengths))
    first, last = int(edges[2 * k]), int(edges[2 * k + 1]) - 1
    if lengths[k] >= min_steps:
        middle = (first + last) // 2
        why, _ = _not_a_minimum(objective, params[middle], float(losses[middle]), best)
        if why:
            return (f"plateau: ‖∇‖ < {_fmt(tol)} for {lengths[k]} steps while far from any minimum "
                    f"(steps {step[first]}–{step[last]} near {_where(params[middle])}: {why})")
    if small[-1]:
        why, curving_up = _not_a_minimum(objective, params[-1], float(losses[-1]), best)
        if why and curving_up:  # a minimum, not the best
            return f"stopped in a local minimum (near {_where(params[-1])}: {why})"
        if why:
            return f"stopped where ‖∇‖ < {_fmt(tol)} but not at a minimum (near {_where(params[-1])}: {why})"
    return None


def diagnose_run(objective: Objective, trajectory, optimizer_name: str, hyper: Mapping[str, object] | None = None, *,
                 window: int = 20, plateau_tol: float = 1e-6, plateau_steps: int = 500,
                 best_loss: float | None = None) -> list[str]:
    """What a person should know about a run, as sentences: a learning rate above the stable bound at the
    start or near the end, oscillation over the last `window` updates, a long plateau away from minima.

    `trajectory` has .params (T, d), .loss, .grad_norm and .lr (a core Trajectory); `best_loss` is the
    lowest loss known elsewhere (e.g. the best critical point), for telling plateaus from minima.
    """
    hyper = dict(hyper or {})
    params = np.asarray(trajectory.params)
    if len(params) == 0:
        return []
    messages: list[str] = []
    lrs = np.asarray(trajectory.lr)
    finite = np.flatnonzero(np.all(np.isfinite(params), axis=1) & np.isfinite(np.asarray(trajectory.loss)))
    for row in dict.fromkeys(finite[[0, -1]] if len(finite) else []):  # start, then the last finite point
        text = _step_message(objective, params[row], float(lrs[row]), optimizer_name, hyper)
        if text and not any(text.split(" near ")[0] == m.split(" near ")[0] for m in messages):
            messages.append(text)
    for text in (_oscillation(params, objective.variables, window),
                 _plateau(objective, trajectory, plateau_tol, plateau_steps, best_loss)):
        if text:
            messages.append(text)
    return messages
