"""The optimizer registry: names, hyper-parameters, defaults, formulas and their checks.

Names and defaults follow torch.optim (torch 2.13); the update rules themselves, compiled, are in
rules.py (torch's, operation by operation) and newton.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .newton_notes import ARMIJO_C, HALVINGS
from .numbers import is_finite_number


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
    step: str  # its compiled rule in rules.py (without Numba here: the studio shows the registry before loading the engine)
    code: int = -1  # position in STEP_RULE_NAMES (and rules.STEP_RULES), set by the registry
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


LR = "learning rate"
WD = "L2 penalty added to the gradient (weight_decay · θ)"
MAX = "climb the loss instead of descending it"
EPS = "added to the denominator for numerical stability"
BETAS = "decay rates of the running averages of the gradient and of its square"


def _adam_family(name: str, title: str, lr: float, weight_decay: float, decoupled: bool | None, formula: str, step: str) -> OptimizerInfo:
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
            "θ ← θ − α ∇J(θ)", "gd_step",
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
            "b ← μ b + (1 − τ) g;  θ ← θ − α (g + μ b if nesterov else b)", "sgd_step",
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
            "s ← s + g²;  θ ← θ − α g / (√s + ε)", "adagrad_step",
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
            "v ← α v + (1 − α) g²;  θ ← θ − lr · g / (√v + ε)", "rmsprop_step",
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
            "v ← ρ v + (1 − ρ) g²;  Δ ← √(u + ε)/√(v + ε) · g;  u ← ρ u + (1 − ρ) Δ²;  θ ← θ − lr Δ", "adadelta_step",
        ),
        _adam_family("adam", "Adam", 1e-3, 0.0, False, "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − α (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)", "adam_step"),
        _adam_family("adamw", "AdamW", 1e-3, 1e-2, True, "θ ← θ(1 − αλ);  then the Adam step", "adam_step"),
        _adam_family("nadam", "NAdam", 2e-3, 0.0, None, "μ_t = β₁(1 − ½·0.96^(t·ψ));  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  "
                                                               "θ ← θ − α (μ_{t+1} m/(1 − μ_1⋯μ_{t+1}) + (1 − μ_t) g/(1 − μ_1⋯μ_t)) / (√(v/(1−β₂ᵗ)) + ε)", "nadam_step"),
        _adam_family("adamax", "Adamax", 2e-3, 0.0, None, "m ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ − α/(1 − β₁ᵗ) · m / u", "adamax_step"),
        _adam_family("radam", "RAdam", 1e-3, 0.0, None, "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  ρ_t = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ), ρ∞ = 2/(1−β₂) − 1;  "
                                                               "θ ← θ − α m/(1−β₁ᵗ) · r_t/(√(v/(1−β₂ᵗ)) + ε) while ρ_t > 5, "
                                                               "r_t = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t));  θ ← θ − α m/(1−β₁ᵗ) before", "radam_step"),
        OptimizerInfo(
            "newton", "Newton (exact Hessian)",
            (
                HyperParam("lr", 1.0, "step length along the Newton direction (the longest the line search tries)", strict=True),
                HyperParam("damping", 0.0, "λ in (H + λI) d = ∇J (Levenberg damping)"),
                HyperParam("line_search", True, f"backtracking (Armijo): halve α (at most {HALVINGS} times) until the loss drops"
                                                " by at least c·α·∇Jᵀd, so it never rises; off: always the step lr·d"),
            ),
            (),
            "solve (H + λI) d = ∇J  (H shifted by τI where not positive definite);  "
            f"α = lr, halved until J(θ − αd) ≤ J(θ) − c·α·∇Jᵀd, c = {ARMIJO_C:g} (line search);  θ ← θ − α d", "newton_step",
            needs_hessian=True,
        ),
    ]
}


# The compiled rules of rules.STEP_RULES, in its order: a run's OptimizerInfo.code picks one.
STEP_RULE_NAMES = ("gd_step", "sgd_step", "adagrad_step", "rmsprop_step", "adadelta_step", "adam_step", "nadam_step", "adamax_step",
                   "radam_step", "newton_step")
OPTIMIZERS = {name: replace(info, code=STEP_RULE_NAMES.index(info.step)) for name, info in OPTIMIZERS.items()}


def optimizer(name: object) -> OptimizerInfo:
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[name]
