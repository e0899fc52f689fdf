"""The optimizer registry: names, hyper-parameters, defaults and update rules.

Names, defaults and formulas follow torch.optim's single-tensor implementations
(torch 2.13) operation by operation, so the same settings give the same numbers
to rounding. Each rule is a Numba function with one signature,

    step(p, g, state, h, t, lr, hess, note)

p: parameters (updated in place), g: gradient (may be overwritten), state: (k, n)
per-coordinate buffers, h: hyper-parameters flattened in registry order, t: the
1-based step number, lr: this step's learning rate (the schedule's), hess: the
exact Hessian (Newton only), note: per-run counters a rule may fill (Newton
records how often it had to repair the Hessian).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from numba import njit

from .numbers import is_finite_number

JIT = dict(cache=True, nogil=True, error_model="numpy")
# Small helpers are inlined into their callers: a call passing Numba arrays costs more than they do.
INLINE = dict(JIT, inline="always")


@dataclass(frozen=True)
class HyperParam:
    name: str
    default: float | bool | tuple[float, float]
    help: str
    low: float = 0.0  # smallest allowed value (inclusive unless strict)
    high: float = math.inf
    strict: bool = False  # low itself is not allowed (lr > 0)
    integer: bool = False  # a count of steps

    @property
    def kind(self) -> str:
        if isinstance(self.default, bool):
            return "bool"
        return "pair" if isinstance(self.default, tuple) else "float"


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    title: str
    params: tuple[HyperParam, ...]
    state: tuple[str, ...]  # names of the per-coordinate buffers
    formula: str
    step: Callable
    code: int = -1  # position in STEP_RULES, set by the registry
    needs_hessian: bool = False
    initial_state: Callable[[Mapping[str, object]], tuple[float, ...]] | None = None

    def defaults(self) -> dict[str, object]:
        return {p.name: p.default for p in self.params}

    def check(self, values: Mapping[str, object]) -> dict[str, object]:
        """Complete values with defaults and validate them; raises ValueError naming the parameter."""
        known = {p.name: p for p in self.params}
        for name in values:
            if name not in known:
                raise ValueError(f"{name}: unknown hyper-parameter of {self.name} (known: {', '.join(known)})")
        merged = self.defaults() | dict(values)
        for name, param in known.items():
            merged[name] = _check_value(param, merged[name])
        if merged.get("nesterov") and (merged["momentum"] <= 0 or merged["dampening"] != 0):
            raise ValueError("nesterov: Nesterov momentum needs a momentum above 0 and zero dampening (as in torch)")
        return merged

    def sweepable(self) -> list[str]:
        """The numeric hyper-parameters a sweep can put beside lr ("beta1"/"beta2" for the halves of betas)."""
        names = [p.name for p in self.params if p.kind == "float" and p.name != "lr"]
        return ["beta1", "beta2", *names] if any(p.name == "betas" for p in self.params) else names

    def flatten(self, values: Mapping[str, object]) -> np.ndarray:
        """Hyper-parameters as the float vector `h` the step rule reads."""
        flat: list[float] = []
        for param in self.params:
            value = values[param.name]
            flat.extend(value if isinstance(value, (tuple, list)) else [value])
        return np.array(flat, dtype=np.float64)

    def column(self, name: str) -> slice:
        """Where a hyper-parameter sits in `flatten`'s vector ("beta1"/"beta2" for the halves of betas)."""
        position = 0
        for param in self.params:
            width = 2 if param.kind == "pair" else 1
            if param.name == name:
                return slice(position, position + width)
            if param.name == "betas" and name in ("beta1", "beta2"):
                return slice(position + (name == "beta2"), position + (name == "beta2") + 1)
            position += width
        raise ValueError(f"{name}: unknown hyper-parameter of {self.name} (known: {', '.join(p.name for p in self.params)})")

    def state_array(self, values: Mapping[str, object], runs: int, dimension: int) -> np.ndarray:
        """Fresh (runs, k, d) state buffers (k >= 1 so the kernel always gets a real array)."""
        state = np.zeros((runs, max(len(self.state), 1), dimension))
        if self.initial_state:
            state[:, : len(self.state)] = np.array(self.initial_state(values))[None, :, None]
        return state




def _shown(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(param: HyperParam, value: object) -> object:
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{param.name}: must be true or false, got {_shown(value)}")
        return value
    if param.kind == "pair":
        if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(is_finite_number(v) for v in value)):
            raise ValueError(f"{param.name}: must be a pair of numbers, got {_shown(value)}")
        for v in value:
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{param.name}: each value must be in [0, 1), got {v!r}")
        return (float(value[0]), float(value[1]))
    if not is_finite_number(value):
        kind = "positive number" if param.strict and param.low == 0 else "number"
        raise ValueError(f"{param.name}: must be a {kind}, got {_shown(value)}")
    value = float(value)
    if param.integer and not value.is_integer():
        raise ValueError(f"{param.name}: must be a whole number, got {value:g}")
    if value < param.low or (param.strict and value == param.low) or value > param.high:
        bound = f"> {param.low:g}" if param.strict else f">= {param.low:g}"
        upper = f" and <= {param.high:g}" if math.isfinite(param.high) else ""
        raise ValueError(f"{param.name}: must be {bound}{upper}, got {value:g}")
    return value


@njit(**INLINE)
def _lerp(start, end, weight):
    """torch.lerp's two-sided formula, so moving averages round as torch's do."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


@njit(**INLINE)
def gd_step(p, g, state, h, t, lr, hess, note):
    for i in range(p.shape[0]):
        p[i] = p[i] - lr * g[i]


@njit(**INLINE)
def sgd_step(p, g, state, h, t, lr, hess, note):
    momentum, dampening, nesterov, weight_decay, maximize = h[1], h[2], h[3], h[4], h[5]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        if momentum != 0:
            if t == 1:
                state[0, i] = d
            else:
                state[0, i] = state[0, i] * momentum + (1 - dampening) * d
            d = d + momentum * state[0, i] if nesterov else state[0, i]
        p[i] = p[i] + -lr * d


@njit(**INLINE)
def adagrad_step(p, g, state, h, t, lr, hess, note):
    lr_decay, weight_decay, eps, maximize = h[1], h[2], h[4], h[5]
    clr = lr / (1 + (t - 1) * lr_decay)
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        state[0, i] = state[0, i] + 1.0 * d * d
        p[i] = p[i] + -clr * (d / (math.sqrt(state[0, i]) + eps))


@njit(**INLINE)
def rmsprop_step(p, g, state, h, t, lr, hess, note):
    alpha, eps, weight_decay, momentum, centered, maximize = h[1], h[2], h[3], h[4], h[5], h[6]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        state[0, i] = state[0, i] * alpha + (1 - alpha) * d * d
        if centered:
            state[1, i] = _lerp(state[1, i], d, 1 - alpha)
            avg = math.sqrt(state[0, i] + -1.0 * state[1, i] * state[1, i]) + eps
        else:
            avg = math.sqrt(state[0, i]) + eps
        if momentum > 0:
            state[2, i] = state[2, i] * momentum + d / avg
            p[i] = p[i] + -lr * state[2, i]
        else:
            p[i] = p[i] + -lr * (d / avg)


@njit(**INLINE)
def adadelta_step(p, g, state, h, t, lr, hess, note):
    rho, eps, weight_decay, maximize = h[1], h[2], h[3], h[4]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        state[0, i] = state[0, i] * rho + (1 - rho) * d * d
        std = math.sqrt(state[0, i] + eps)
        delta = math.sqrt(state[1, i] + eps) / std * d
        state[1, i] = state[1, i] * rho + (1 - rho) * delta * delta
        p[i] = p[i] + -lr * delta


@njit(**INLINE)
def adam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                p[i] = p[i] * (1 - lr * weight_decay)
            else:
                d = d + weight_decay * p[i]
        state[0, i] = _lerp(state[0, i], d, 1 - beta1)
        state[1, i] = state[1, i] * beta2 + (1 - beta2) * d * d
        if amsgrad:
            state[2, i] = max(state[2, i], state[1, i])
            denom = math.sqrt(state[2, i]) / bias_correction2_sqrt + eps
        else:
            denom = math.sqrt(state[1, i]) / bias_correction2_sqrt + eps
        p[i] = p[i] + -step_size * (state[0, i] / denom)


@njit(**INLINE)
def nadam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize = h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    bias_correction2 = 1 - beta2**t
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
    mu_product = (state[2, 0] if t > 1 else 1.0) * mu
    mu_product_next = mu_product * mu_next
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                p[i] = p[i] * (1 - lr * weight_decay)
            else:
                d = d + weight_decay * p[i]
        state[2, i] = mu_product
        state[0, i] = _lerp(state[0, i], d, 1 - beta1)
        state[1, i] = state[1, i] * beta2 + (1 - beta2) * d * d
        denom = math.sqrt(state[1, i] / bias_correction2) + eps
        p[i] = p[i] + (-lr * (1.0 - mu) / (1.0 - mu_product)) * (d / denom)
        p[i] = p[i] + ((-lr * mu_next) / (1.0 - mu_product_next)) * (state[0, i] / denom)


@njit(**INLINE)
def adamax_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, maximize = h[1], h[2], h[3], h[4], h[5]
    clr = lr / (1 - beta1**t)
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        state[0, i] = _lerp(state[0, i], d, 1 - beta1)
        state[1, i] = max(state[1, i] * beta2, abs(d) + eps)
        p[i] = p[i] + -clr * (state[0, i] / state[1, i])


@njit(**INLINE)
def radam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, decoupled, maximize = h[1], h[2], h[3], h[4], h[5], h[6]
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
    rect = 0.0
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                p[i] = p[i] * (1 - lr * weight_decay)
            else:
                d = d + weight_decay * p[i]
        state[0, i] = _lerp(state[0, i], d, 1 - beta1)
        state[1, i] = state[1, i] * beta2 + (1 - beta2) * d * d
        corrected = state[0, i] / bias_correction1
        if rho_t > 5.0:
            adaptive = (bias_correction2**0.5) / (math.sqrt(state[1, i]) + eps)
            p[i] = p[i] + -1.0 * (corrected * lr * adaptive * rect)
        else:
            p[i] = p[i] + -1.0 * (corrected * lr)


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
def newton_step(p, g, state, h, t, lr, hess, note):
    """Damped Newton: solve (H + damping·I) d = g. Where that matrix is not positive
    definite (a saddle, a maximum, a flat direction), add τ·I, doubling τ until it is
    (Nocedal & Wright, Algorithm 3.3), so every step still goes downhill."""
    damping = h[1]
    n = p.shape[0]
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
                for i in range(n):
                    p[i] = math.nan
                return
        note[0] += 1
        if note[0] == 1:
            note[1] = t
        note[2] = shift
    y = np.empty(n)
    for i in range(n):  # forward: L y = g
        acc = g[i]
        for k in range(i):
            acc -= lower[i, k] * y[k]
        y[i] = acc / lower[i, i]
    for i in range(n - 1, -1, -1):  # backward: Lᵀ d = y, d kept in y
        acc = y[i]
        for k in range(i + 1, n):
            acc -= lower[k, i] * y[k]
        y[i] = acc / lower[i, i]
    for i in range(n):
        p[i] = p[i] - lr * y[i]


LR = "learning rate"
WD = "L2 penalty added to the gradient (weight_decay · θ)"
MAX = "climb the loss instead of descending it"
EPS = "added to the denominator for numerical stability"
BETAS = "decay rates of the running averages of the gradient and of its square"


def _adam_family(name: str, title: str, lr: float, weight_decay: float, decoupled: bool | None, formula: str, step: Callable) -> OptimizerInfo:
    params = [
        HyperParam("lr", lr, LR, strict=True),
        HyperParam("betas", (0.9, 0.999), BETAS),
        HyperParam("eps", 1e-8, EPS, strict=True),
        HyperParam("weight_decay", weight_decay, WD),
    ]
    if name in ("adam", "adamw"):
        params += [HyperParam("amsgrad", False, "use the running maximum of v (AMSGrad)"), HyperParam("maximize", False, MAX)]
        params += [HyperParam("decoupled_weight_decay", bool(decoupled), "shrink θ directly (AdamW) instead of adding to the gradient")]
    state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    if name == "nadam":
        params += [
            HyperParam("momentum_decay", 4e-3, "how fast the momentum schedule μ_t approaches β₁"),
            HyperParam("decoupled_weight_decay", False, "shrink θ directly instead of adding to the gradient"),
            HyperParam("maximize", False, MAX),
        ]
        state = ("exp_avg", "exp_avg_sq", "mu_product")
    if name == "radam":
        params += [
            HyperParam("decoupled_weight_decay", False, "shrink θ directly instead of adding to the gradient"),
            HyperParam("maximize", False, MAX),
        ]
        state = ("exp_avg", "exp_avg_sq")
    if name == "adamax":
        params += [HyperParam("maximize", False, MAX)]
        state = ("exp_avg", "exp_inf")
    return OptimizerInfo(name, title, tuple(params), state, formula, step)


OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in [
        OptimizerInfo(
            "gd", "Gradient descent", (HyperParam("lr", 0.01, LR, strict=True),), (),
            "θ ← θ − α ∇J(θ)", gd_step,
        ),
        OptimizerInfo(
            "sgd", "SGD with momentum (torch.optim.SGD)",
            (
                HyperParam("lr", 1e-3, LR, strict=True),
                HyperParam("momentum", 0.0, "momentum factor μ", high=1.0),
                HyperParam("dampening", 0.0, "dampening of the momentum buffer", high=1.0),
                HyperParam("nesterov", False, "Nesterov momentum: look ahead along the buffer"),
                HyperParam("weight_decay", 0.0, WD),
                HyperParam("maximize", False, MAX),
            ),
            ("momentum_buffer",),
            "b ← μ b + (1 − τ) g;  θ ← θ − α (g + μ b if nesterov else b)", sgd_step,
        ),
        OptimizerInfo(
            "adagrad", "Adagrad",
            (
                HyperParam("lr", 1e-2, LR, strict=True),
                HyperParam("lr_decay", 0.0, "learning-rate decay: α / (1 + (t − 1)·lr_decay)"),
                HyperParam("weight_decay", 0.0, WD),
                HyperParam("initial_accumulator_value", 0.0, "starting value of the sum of squared gradients"),
                HyperParam("eps", 1e-10, EPS, strict=True),
                HyperParam("maximize", False, MAX),
            ),
            ("sum",),
            "s ← s + g²;  θ ← θ − α g / (√s + ε)", adagrad_step,
            initial_state=lambda v: (float(v["initial_accumulator_value"]),),
        ),
        OptimizerInfo(
            "rmsprop", "RMSprop",
            (
                HyperParam("lr", 1e-2, LR, strict=True),
                HyperParam("alpha", 0.99, "smoothing constant of the squared-gradient average", high=1.0),
                HyperParam("eps", 1e-8, EPS, strict=True),
                HyperParam("weight_decay", 0.0, WD),
                HyperParam("momentum", 0.0, "momentum factor", high=1.0),
                HyperParam("centered", False, "divide by the variance instead of the second moment"),
                HyperParam("maximize", False, MAX),
            ),
            ("square_avg", "grad_avg", "momentum_buffer"),
            "v ← α v + (1 − α) g²;  θ ← θ − lr · g / (√v + ε)", rmsprop_step,
        ),
        OptimizerInfo(
            "adadelta", "Adadelta",
            (
                HyperParam("lr", 1.0, LR, strict=True),
                HyperParam("rho", 0.9, "decay of the running averages", high=1.0),
                HyperParam("eps", 1e-6, EPS, strict=True),
                HyperParam("weight_decay", 0.0, WD),
                HyperParam("maximize", False, MAX),
            ),
            ("square_avg", "acc_delta"),
            "v ← ρ v + (1 − ρ) g²;  Δ ← √(u + ε)/√(v + ε) · g;  u ← ρ u + (1 − ρ) Δ²;  θ ← θ − lr Δ", adadelta_step,
        ),
        _adam_family("adam", "Adam", 1e-3, 0.0, False, "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − α (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)", adam_step),
        _adam_family("adamw", "AdamW", 1e-3, 1e-2, True, "θ ← θ(1 − αλ);  then the Adam step", adam_step),
        _adam_family("nadam", "NAdam", 2e-3, 0.0, None, "μ_t = β₁(1 − ½·0.96^(t·ψ));  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  "
                                                               "θ ← θ − α (μ_{t+1} m/(1 − μ_1⋯μ_{t+1}) + (1 − μ_t) g/(1 − μ_1⋯μ_t)) / (√(v/(1−β₂ᵗ)) + ε)", nadam_step),
        _adam_family("adamax", "Adamax", 2e-3, 0.0, None, "m ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ − α/(1 − β₁ᵗ) · m / u", adamax_step),
        _adam_family("radam", "RAdam", 1e-3, 0.0, None, "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  ρ_t = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ), ρ∞ = 2/(1−β₂) − 1;  "
                                                               "θ ← θ − α m/(1−β₁ᵗ) · r_t/(√(v/(1−β₂ᵗ)) + ε) while ρ_t > 5, "
                                                               "r_t = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t));  θ ← θ − α m/(1−β₁ᵗ) before", radam_step),
        OptimizerInfo(
            "newton", "Newton (exact Hessian)",
            (
                HyperParam("lr", 1.0, "step length along the Newton direction", strict=True),
                HyperParam("damping", 0.0, "λ in (H + λI) d = ∇J (Levenberg damping)"),
            ),
            (),
            "solve (H + λI) d = ∇J;  θ ← θ − α d  (H shifted by τI where not positive definite)", newton_step,
            needs_hessian=True,
        ),
    ]
}


STEP_RULES = (gd_step, sgd_step, adagrad_step, rmsprop_step, adadelta_step, adam_step, nadam_step, adamax_step, radam_step, newton_step)
OPTIMIZERS = {name: replace(info, code=STEP_RULES.index(info.step)) for name, info in OPTIMIZERS.items()}


@njit(**JIT)
def apply_step(code, p, g, state, h, t, lr, hess, note):
    """Dispatch to STEP_RULES[code]; a branch per rule lets the run kernel be compiled once."""
    if code == 0:
        gd_step(p, g, state, h, t, lr, hess, note)
    elif code == 1:
        sgd_step(p, g, state, h, t, lr, hess, note)
    elif code == 2:
        adagrad_step(p, g, state, h, t, lr, hess, note)
    elif code == 3:
        rmsprop_step(p, g, state, h, t, lr, hess, note)
    elif code == 4:
        adadelta_step(p, g, state, h, t, lr, hess, note)
    elif code == 5:
        adam_step(p, g, state, h, t, lr, hess, note)
    elif code == 6:
        nadam_step(p, g, state, h, t, lr, hess, note)
    elif code == 7:
        adamax_step(p, g, state, h, t, lr, hess, note)
    elif code == 8:
        radam_step(p, g, state, h, t, lr, hess, note)
    elif code == 9:
        newton_step(p, g, state, h, t, lr, hess, note)


def optimizer(name: object) -> OptimizerInfo:
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[name]
