"""Exact derivatives of a loss: the gradient, always, and the Hessian only on demand, within a budget.

Every optimizer needs the gradient; only Newton, critical points, `derive` and the formula display
need the Hessian, so `Objective.hessian` derives it on first use, entry by entry with a running
size count, and refuses it (HessianUnavailable) as soon as the count passes MAX_HESSIAN_NODES:
a0*a1*…*a99 has 5,050 distinct entries of ~100 operations each, and deriving them all before any
check took over a minute. Entries that are identically zero cost nothing (most of a large Hessian).

A loss over a data set, L = F(θ, A) with aggregates A_k = agg_k e_k(θ, row), is split for the chain
rule: ∂L/∂θᵢ = F_θᵢ + Σ_k F_A_k · D_ki with D_ki = agg_k ∂e_k/∂θᵢ, and the Hessian adds the terms in
D2_kij = agg_k ∂²e_k/∂θᵢ∂θⱼ; `outer_*` are written in the symbols θ, A, D, D2 and `row_*` are the
per-row expressions whose aggregates those symbols stand for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import sympy as sp

from .errors import ExpressionError, HessianUnavailable
from .parse import Aggregate

MAX_DERIVED_NODES = 60000  # size of the gradient; beyond this, compiling it gets slow
MAX_HESSIAN_NODES = 60000  # size of the Hessian's distinct nonzero entries (with data: per-row and outer together)

Matrix = tuple[tuple[sp.Expr, ...], ...]


def size(exprs: Sequence[sp.Expr]) -> int:
    return sum(sp.count_ops(e, visual=False) + 1 for e in exprs)


def flat(matrix: Sequence[Sequence[sp.Expr]]) -> list[sp.Expr]:
    return [e for row in matrix for e in row]


def almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """Derivatives of sign (and second derivatives of abs/max) are Dirac deltas: zero almost everywhere, which is
    what a (sub)gradient method can use."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def _check(exprs: Sequence[sp.Expr], what: str, error: type[ExpressionError] = ExpressionError) -> None:
    for expr in exprs:
        if expr.has(sp.Derivative):
            raise error(f"the {what} cannot be worked out exactly (SymPy cannot differentiate a part of this loss)")
        if expr.has(sp.I, sp.zoo, sp.nan):
            raise error(f"the {what} is not a real number (the loss takes complex values)")


def diff(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """sp.diff, with the product and sum rules applied only to the terms that involve the symbol: SymPy
    differentiates every factor of a product (most give 0), 5 to 25 times slower on long products."""
    if symbol not in expr.free_symbols:
        return sp.S.Zero
    if expr.is_Add:
        return sp.Add(*[diff(arg, symbol) for arg in expr.args])
    if expr.is_Mul:
        args = expr.args
        return sp.Add(*[sp.Mul(*args[:k], diff(f, symbol), *args[k + 1:]) for k, f in enumerate(args) if symbol in f.free_symbols])
    return sp.diff(expr, symbol)


def _derivative(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """∂expr/∂symbol almost everywhere; zero at once where expr does not involve the symbol (most
    entries of a large Hessian)."""
    return almost_everywhere(diff(expr, symbol)) if symbol in expr.free_symbols else sp.S.Zero


def gradient(expr: sp.Expr, syms: Sequence[sp.Symbol]) -> tuple[sp.Expr, ...]:
    found = tuple(_derivative(expr, s) for s in syms)
    if size(found) > MAX_DERIVED_NODES:
        raise ExpressionError("the gradient is too complex to compile")
    _check(found, "gradient")
    return found


def too_large(n: int) -> str:
    return (f"the exact Hessian of this loss is too large ({n} variables, more than {MAX_HESSIAN_NODES:,} operations): "
            "newton, critical points and the curvature tools need it; first-order optimizers (gd, adam, …) still work")


class _Budget:
    """The running size of the Hessian entries derived so far; refuses as soon as it passes the limit."""

    def __init__(self, n: int) -> None:
        self.n, self.used = n, 0

    def __call__(self, entry: sp.Expr) -> sp.Expr:
        if entry != 0:
            self.used += sp.count_ops(entry, visual=False) + 1
            if self.used > MAX_HESSIAN_NODES:
                raise HessianUnavailable(too_large(self.n))
        return entry


def _symmetric(n: int, entry: Callable[[int, int], sp.Expr], budget: _Budget) -> Matrix:
    """A Hessian from its upper triangle: half the work, and exactly symmetric numbers."""
    upper = {(i, j): budget(entry(i, j)) for i in range(n) for j in range(i, n)}
    return tuple(tuple(upper[min(i, j), max(i, j)] for j in range(n)) for i in range(n))


def hessian(grad: Sequence[sp.Expr], syms: Sequence[sp.Symbol]) -> Matrix:
    """The Hessian of a loss without data from its gradient; HessianUnavailable past the budget."""
    found = _symmetric(len(syms), lambda i, j: _derivative(grad[i], syms[j]), _Budget(len(syms)))
    _check(flat(found), "Hessian", HessianUnavailable)
    return found


@dataclass(frozen=True)
class DataTerms:
    """The first-order chain rule through the aggregates (see the module's docstring)."""

    columns: tuple[str, ...]
    column_symbols: tuple[sp.Symbol, ...]
    symbols: tuple[sp.Symbol, ...]  # θ
    kinds: tuple[str, ...]  # "mean" or "sum", one per aggregate
    A: tuple[sp.Symbol, ...]
    D: tuple[tuple[sp.Symbol, ...], ...]  # [k][i]
    row_value: tuple[sp.Expr, ...]
    row_grad: tuple[tuple[sp.Expr, ...], ...]  # [k][i]
    outer_loss: sp.Expr
    outer_grad: tuple[sp.Expr, ...]

    def total(self, expr: sp.Expr, i: int, D2: dict[tuple[int, int, int], sp.Symbol] | None = None) -> sp.Expr:
        """The total derivative of expr (in θ, A, D) by θᵢ: dA_k/dθᵢ = D_ki and dD_kj/dθᵢ = D2_kji."""
        result = diff(expr, self.symbols[i])
        for s in sorted(expr.free_symbols & self.roles.keys(), key=str):
            kind, k, j = self.roles[s]
            inner = self.D[k][i] if kind == "A" else (D2 or {}).get((k, min(i, j), max(i, j)))
            if inner is not None:
                result += diff(expr, s) * inner
        return almost_everywhere(result)

    @cached_property
    def roles(self) -> dict[sp.Symbol, tuple[str, int, int]]:
        """What each aggregate symbol stands for: ("A", k, 0) or ("D", k, j)."""
        found = {a: ("A", k, 0) for k, a in enumerate(self.A)}
        return found | {d: ("D", k, j) for k, row in enumerate(self.D) for j, d in enumerate(row)}

    def shown(self, kind: str, row: sp.Expr) -> sp.Expr:
        """mean(2) is just 2; anything that varies by row keeps its mean(...) or sum(...)."""
        return row if kind == "mean" and not row.free_symbols & set(self.column_symbols) else sp.Function(kind)(row)

    def display(self) -> dict[sp.Symbol, sp.Expr]:
        """A and D as the mean(...)/sum(...) they stand for, for people."""
        found = {a: self.shown(kind, row) for a, kind, row in zip(self.A, self.kinds, self.row_value)}
        return found | {d: self.shown(kind, row[i]) for ds, kind, row in zip(self.D, self.kinds, self.row_grad)
                        for i, d in enumerate(ds)}


@dataclass(frozen=True)
class DataHessian:
    """The second-order terms, only for the nonzero per-row entries (i ≤ j): keys are (k, i, j)."""

    D2: dict[tuple[int, int, int], sp.Symbol]
    row_hess: dict[tuple[int, int, int], sp.Expr]
    outer_hess: Matrix

    def shown(self, terms: DataTerms) -> Matrix:
        display = terms.display() | {self.D2[key]: terms.shown(terms.kinds[key[0]], row) for key, row in self.row_hess.items()}
        return tuple(tuple(h.xreplace(display) for h in row) for row in self.outer_hess)


def data_terms(outer: sp.Expr, aggregates: list[Aggregate], syms: tuple[sp.Symbol, ...], columns: tuple[str, ...],
               column_symbols: tuple[sp.Symbol, ...]) -> DataTerms:
    """The first-order chain rule through the aggregates of `outer` (the loss with aggregates as symbols)."""
    n = len(syms)
    A = tuple(a.symbol for a in aggregates)
    D = tuple(tuple(sp.Symbol(f"_d{k}_{i}", real=True) for i in range(n)) for k in range(len(aggregates)))
    row_value = tuple(a.expr for a in aggregates)
    row_grad = tuple(gradient(a.expr, syms) for a in aggregates)
    terms = DataTerms(columns, column_symbols, syms, tuple(a.kind for a in aggregates), A, D, row_value, row_grad,
                      outer, ())
    outer_grad = tuple(terms.total(outer, i) for i in range(n))
    if size(outer_grad) > MAX_DERIVED_NODES:
        raise ExpressionError("the gradient is too complex to compile")
    _check(outer_grad, "gradient")
    return replace(terms, outer_grad=outer_grad)


def data_hessian(terms: DataTerms) -> DataHessian:
    """The second-order chain rule, within the same budget as `hessian`; HessianUnavailable past it."""
    syms, n = terms.symbols, len(terms.symbols)
    budget = _Budget(n)
    row_hess, D2 = {}, {}
    for k, grads in enumerate(terms.row_grad):
        for i in range(n):
            for j in range(i, n):
                entry = budget(_derivative(grads[i], syms[j]))
                if entry != 0:
                    row_hess[k, i, j], D2[k, i, j] = entry, sp.Symbol(f"_h{k}_{i}_{j}", real=True)
    outer_hess = _symmetric(n, lambda i, j: terms.total(terms.outer_grad[i], j, D2), budget)
    _check([*row_hess.values(), *flat(outer_hess)], "Hessian", HessianUnavailable)
    return DataHessian(D2, row_hess, outer_hess)
