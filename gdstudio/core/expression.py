"""Objective: a loss with its exact gradient and Hessian, compiled for NumPy.

SymPy derives the derivatives once; plots evaluate them on grids through
`lambdify(..., cse=True)`, and the run kernels use the scalar source that
`codegen` writes from the same expressions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy as sp

from .parse import ExpressionError, parse

__all__ = ["ExpressionError", "Objective", "parse_objective"]

MAX_NODES = 3000  # size of the loss tree; beyond this, derivation and compilation get slow
MAX_DERIVED_NODES = 60000  # size of gradient + Hessian together


def natural_key(name: str) -> tuple:
    """w2 before w10: split digits off so they compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _size(exprs: Sequence[sp.Expr]) -> int:
    return sum(sp.count_ops(e, visual=False) + 1 for e in exprs)


def _almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """Derivatives of sign (and second derivatives of abs/max) are Dirac deltas: zero almost everywhere, which is
    what a (sub)gradient method can use."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


@dataclass(frozen=True, eq=False)
class Objective:
    """A parsed loss over named variables, with exact derivatives and fast evaluation."""

    text: str
    variables: tuple[str, ...]
    symbols: tuple[sp.Symbol, ...]
    expr: sp.Expr
    gradient: tuple[sp.Expr, ...]
    hessian: tuple[tuple[sp.Expr, ...], ...]
    _compiled: dict[str, Callable] = field(default_factory=dict, repr=False)

    @property
    def dimension(self) -> int:
        return len(self.variables)

    def _numpy(self, which: str) -> Callable:
        if which not in self._compiled:
            exprs = {"loss": self.expr, "grad": list(self.gradient), "hess": [e for row in self.hessian for e in row]}[which]
            self._compiled[which] = sp.lambdify(self.symbols, exprs, modules="numpy", cse=True)
        return self._compiled[which]

    def compile(self) -> Objective:
        """Compile every NumPy function now (they are otherwise compiled on first use)."""
        for which in ("loss", "grad", "hess"):
            self._numpy(which)
        return self

    def _evaluate(self, which: str, coords: Sequence[float | np.ndarray]) -> np.ndarray:
        if len(coords) != self.dimension:
            raise ValueError(f"expected {self.dimension} coordinates ({', '.join(self.variables)}), got {len(coords)}")
        arrays = [np.asarray(c, dtype=np.float64) for c in coords]
        with np.errstate(all="ignore"):
            values = self._numpy(which)(*arrays)
            if which == "loss":
                return np.broadcast_arrays(np.asarray(values, dtype=np.float64), *arrays)[0].astype(np.float64, copy=False)
            parts = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in values], *arrays)[: len(values)]
        return np.array(parts, dtype=np.float64)

    def loss(self, *coords: float | np.ndarray) -> np.ndarray:
        """Loss at broadcast coordinates (one array or scalar per variable)."""
        return self._evaluate("loss", coords)

    def grad(self, *coords: float | np.ndarray) -> np.ndarray:
        """Gradient, shape (n, *broadcast shape); constant entries are broadcast."""
        return self._evaluate("grad", coords)

    def hess(self, *coords: float | np.ndarray) -> np.ndarray:
        """Hessian, shape (n, n, *broadcast shape)."""
        flat = self._evaluate("hess", coords)
        return flat.reshape((self.dimension, self.dimension) + flat.shape[1:])

    def at(self, point: Sequence[float]) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, gradient and Hessian at one point."""
        return float(self.loss(*point)), self.grad(*point), self.hess(*point)


def parse_objective(text: str, variables: Sequence[str] | None = None) -> Objective:
    """Parse untrusted loss text and derive its gradient and Hessian.

    Variables are the free names in natural order, or `variables` when given (then every
    name the loss uses must be among them). Raises ExpressionError with a column.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the loss must be text, got {type(text).__name__}")
    if variables is not None:
        for name in variables:
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name):
                raise ExpressionError(f"invalid variable name {name!r}")
    symbols: dict[str, sp.Symbol] = {}

    def symbol(name: str) -> sp.Symbol:
        return symbols.setdefault(name, sp.Symbol(name, real=True))

    parsed = parse(text, symbol)
    expr = parsed.expr
    used = sorted((s.name for s in expr.free_symbols), key=natural_key)
    if variables is None:
        names = tuple(used)
    else:
        names = tuple(variables)
        for name in used:
            if name not in names:
                raise ExpressionError(f"unknown variable '{name}' (expected one of: {', '.join(names)})", parsed.name_columns.get(name))
    if not names:
        raise ExpressionError("the loss has no variables to optimise")
    if expr.has(sp.zoo, sp.nan, sp.I) or not expr.is_extended_real in (True, None):
        raise ExpressionError("the loss is not a real number (it contains a division by zero, a complex value or nan)")
    if _size([expr]) > MAX_NODES:
        raise ExpressionError(f"the loss is too complex (more than {MAX_NODES} operations)")
    syms = tuple(symbol(n) for n in names)
    gradient = tuple(_almost_everywhere(sp.diff(expr, s)) for s in syms)
    if _size(gradient) > MAX_DERIVED_NODES:
        raise ExpressionError("the gradient is too complex to compile")
    hessian = tuple(tuple(_almost_everywhere(sp.diff(g, s)) for s in syms) for g in gradient)
    if _size([e for row in hessian for e in row]) > MAX_DERIVED_NODES:
        raise ExpressionError("the Hessian is too complex to compile")
    return Objective(text, names, syms, expr, gradient, hessian)
