"""Objective: a loss with its exact gradient and Hessian, compiled for NumPy.

SymPy derives the derivatives once; plots evaluate them on grids through
`lambdify(..., cse=True)`, and the run kernels use the scalar source that
`codegen` writes from the same expressions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Callable

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .parse import Aggregate, ExpressionError, parse

__all__ = ["ExpressionError", "Objective", "parse_objective"]

MAX_VARIABLES = 256  # variables of one loss: a scenario may list no more, and a loss may use no more
MAX_NODES = 3000  # size of the loss tree; beyond this, derivation and compilation get slow
MAX_DERIVED_NODES = 60000  # size of gradient + Hessian together
MAX_EXPANSION_TERMS = 64  # a polynomial per-row loss with more terms is summed row by row instead


def natural_key(name: str) -> tuple:
    """w2 before w10: split digits off so they compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _size(exprs: Sequence[sp.Expr]) -> int:
    return sum(sp.count_ops(e, visual=False) + 1 for e in exprs)


class _Printer(NumPyPrinter):
    """NumPy source in which every big number is a NumPy float (NumPy turns a Python integer beyond 64 bits into
    an object array that no ufunc accepts, and Python's own float ** overflows with an exception, not inf),
    and/or are nested in pairs (numpy.logical_and.reduce cannot mix a constant condition with an array one),
    and Heaviside is numpy.heaviside (its Piecewise form makes SymPy simplify conditions, which can take minutes)."""

    def _number(self, value: int) -> str:
        if abs(value) < 2**53:
            return str(value)
        try:
            number = repr(float(value))
        except OverflowError:
            number = ("-" if value < 0 else "") + "inf"
        return f"{self._module_format('numpy.float64')}({number!r})"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return self._number(expr.p)

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"{self._number(expr.p)}/{self._number(expr.q)}"

    def _pairwise(self, function: str, args: Sequence[sp.Basic]) -> str:
        name = self._module_format(function)
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"{name}({text}, {self._print(arg)})"
        return text

    def _print_And(self, expr: sp.And) -> str:
        return self._pairwise("numpy.logical_and", expr.args)

    def _print_Or(self, expr: sp.Or) -> str:
        return self._pairwise("numpy.logical_or", expr.args)

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, {self._print(at_zero)})"


def _printer() -> _Printer:
    """A fresh printer (it collects the imports the function needs), set up as lambdify sets up its own."""
    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True, "user_functions": {}})


def _safe_names(args: Sequence[sp.Symbol], exprs):
    """The arguments renamed _a0, _a1, ... (no user name starts with '_'): lambdify puts every symbol's
    name in the function's namespace, so a variable named arctan or maximum hid NumPy's function."""
    safe = [sp.Symbol(f"_a{i}", real=True) for i in range(len(args))]
    mapping = dict(zip(args, safe))

    def rename(e):
        return [rename(x) for x in e] if isinstance(e, (list, tuple)) else sp.sympify(e).xreplace(mapping)

    return safe, rename(exprs)


def _real_cse(exprs):
    """cse whose temporaries are real: with plain symbols, SymPy rebuilding Heaviside(-t**997) asks for im(t**997)
    and expands a binomial of degree 997 (minutes). Names start with '_', which no user name can."""
    return sp.cse(exprs, symbols=sp.numbered_symbols("_t", real=True), list=False)


def _almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """Derivatives of sign (and second derivatives of abs/max) are Dirac deltas: zero almost everywhere, which is
    what a (sub)gradient method can use."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


@dataclass(frozen=True)
class DataTerms:
    """A loss over a data set, split for the chain rule: L = F(θ, A) with A_k = agg_k e_k(θ, row).

    Then ∂L/∂θᵢ = F_θᵢ + Σ_k F_A_k · D_ki with D_ki = agg_k ∂e_k/∂θᵢ, and the Hessian adds the
    terms in D2_kij = agg_k ∂²e_k/∂θᵢ∂θⱼ; `outer_*` are written in the symbols θ, A, D, D2 and
    `row_*` are the per-row expressions whose aggregates those symbols stand for.
    """

    columns: tuple[str, ...]
    column_symbols: tuple[sp.Symbol, ...]
    kinds: tuple[str, ...]  # "mean" or "sum", one per aggregate
    A: tuple[sp.Symbol, ...]
    D: tuple[tuple[sp.Symbol, ...], ...]  # [k][i]
    D2: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]  # [k][i][j]
    row_value: tuple[sp.Expr, ...]
    row_grad: tuple[tuple[sp.Expr, ...], ...]
    row_hess: tuple[tuple[tuple[sp.Expr, ...], ...], ...]
    outer_loss: sp.Expr
    outer_grad: tuple[sp.Expr, ...]
    outer_hess: tuple[tuple[sp.Expr, ...], ...]

    def moment_symbols(self, order: int) -> list[sp.Symbol]:
        """A, then D (order >= 1), then D2 (order 2), flattened in that order."""
        found = list(self.A)
        if order >= 1:
            found += [d for row in self.D for d in row]
        if order >= 2:
            found += [d for block in self.D2 for row in block for d in row]
        return found

    def moment_kinds(self, order: int) -> list[str]:
        """The aggregate kind ("mean" or "sum") of each of moment_symbols(order)."""
        n = len(self.D[0]) if self.D else 0
        counts = [1] + ([n] if order >= 1 else []) + ([n * n] if order >= 2 else [])
        return [kind for count in counts for kind in self.kinds for _ in range(count)]

    def row_exprs(self, order: int) -> list[sp.Expr]:
        """The per-row expressions matching moment_symbols(order)."""
        found = list(self.row_value)
        if order >= 1:
            found += [e for row in self.row_grad for e in row]
        if order >= 2:
            found += [e for block in self.row_hess for row in block for e in row]
        return found


_ORDER = {"loss": 0, "grad": 1, "hess": 2}


@dataclass(frozen=True, eq=False)
class Objective:
    """A parsed loss over named variables, with exact derivatives and fast evaluation.

    With a data set, `expr`, `gradient` and `hessian` show aggregates as mean(...)/sum(...) for
    people; `data_terms` holds what the numbers are computed from, and `data` the bound rows.
    """

    text: str
    variables: tuple[str, ...]
    symbols: tuple[sp.Symbol, ...]
    expr: sp.Expr
    gradient: tuple[sp.Expr, ...]
    hessian: tuple[tuple[sp.Expr, ...], ...]
    data_terms: DataTerms | None = None
    data: np.ndarray | None = field(default=None, repr=False)  # (columns, rows)
    _compiled: dict[str, Callable] = field(default_factory=dict, repr=False)

    @property
    def dimension(self) -> int:
        return len(self.variables)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.data_terms.columns if self.data_terms else ()

    def bind(self, data: np.ndarray) -> Objective:
        """The same objective over these rows ((columns, rows) array); compiled code is shared."""
        data = np.ascontiguousarray(data, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] != len(self.columns) or data.shape[1] < 1:
            raise ValueError(f"expected data of shape ({len(self.columns)}, rows >= 1), got {data.shape}")
        return replace(self, data=data)

    def _numpy(self, which: str) -> Callable:
        if which not in self._compiled:
            terms = self.data_terms
            if terms is None:
                args, exprs = self.symbols, {"loss": self.expr, "grad": list(self.gradient), "hess": flat(self.hessian)}[which]
            elif which.startswith("rows/"):
                order = _ORDER[which[5:]]
                args, exprs = (*self.symbols, *terms.column_symbols), terms.row_exprs(order)
            else:
                args = (*self.symbols, *terms.moment_symbols(_ORDER[which]))
                exprs = {"loss": terms.outer_loss, "grad": list(terms.outer_grad), "hess": flat(terms.outer_hess)}[which]
            safe, exprs = _safe_names(args, exprs)
            self._compiled[which] = sp.lambdify(safe, exprs, modules="numpy", printer=_printer(), cse=_real_cse)
        return self._compiled[which]

    def compile(self) -> Objective:
        """Compile every NumPy function now (they are otherwise compiled on first use)."""
        for which in ("loss", "grad", "hess"):
            self._numpy(which)
            if self.data_terms:
                self._numpy("rows/" + which)
        return self

    def _moments(self, order: int, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Aggregates of the per-row expressions at every point.

        Where a per-row expression is a polynomial in the parameters (least squares, polynomial
        fits), its coefficients are aggregated over the rows once, and each point costs a few
        multiplications whatever the number of rows; otherwise rows are summed in chunks."""
        if self.data is None:
            raise ValueError("this loss averages over a data set: bind the data first")
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        expansions = self._expansions(order)
        if expansions is not None:
            totals = []
            for terms in expansions:
                total = np.zeros(shape)
                for powers, weight in terms:
                    total = total + weight * np.prod([a**k for a, k in zip(arrays, powers) if k], axis=0)
                totals.append(total)
            return totals
        points = [np.broadcast_to(a, shape)[..., None] for a in arrays]
        rows = self.data.shape[1]
        chunk = max(1, min(rows, 2_000_000 // max(1, int(np.prod(shape)))))
        function = self._numpy(f"rows/{list(_ORDER)[order]}")
        totals: list[np.ndarray] | None = None
        for begin in range(0, rows, chunk):
            columns = [c[begin : begin + chunk] for c in self.data]
            values = function(*points, *columns)
            sums = [np.broadcast_to(v, shape + (len(columns[0]) if columns else 1,)).sum(axis=-1) for v in values]
            totals = sums if totals is None else [t + v for t, v in zip(totals, sums)]
        assert totals is not None
        kinds = self.data_terms.moment_kinds(order)
        return [t / rows if kind == "mean" else t for t, kind in zip(totals, kinds)]

    def _expansions(self, order: int) -> list[list[tuple[tuple[int, ...], float]]] | None:
        """Per moment, (parameter powers, aggregated coefficient) terms; None when not polynomial."""
        key = f"poly/{order}/{hashlib.blake2b(self.data.tobytes(), digest_size=16).hexdigest()}"
        if key not in self._compiled:
            self._compiled[key] = self._expand(order)
        return self._compiled[key]

    def _expand(self, order: int) -> list[list[tuple[tuple[int, ...], float]]] | None:
        terms = self.data_terms
        expansions = []
        with np.errstate(all="ignore"):
            for expr, kind in zip(terms.row_exprs(order), terms.moment_kinds(order)):
                try:
                    poly = sp.Poly(expr, *self.symbols)
                except sp.PolynomialError:
                    return None
                if len(poly.terms()) > MAX_EXPANSION_TERMS or any(c.has(*self.symbols) for _, c in poly.terms()):
                    return None
                moment = []
                for powers, coefficient in poly.terms():
                    values = sp.lambdify(*_safe_names(terms.column_symbols, coefficient), modules="numpy")(*self.data)
                    total = float(np.sum(np.broadcast_to(values, self.data.shape[1:])))
                    moment.append((powers, total / self.data.shape[1] if kind == "mean" else total))
                expansions.append(moment)
        return expansions

    def _evaluate(self, which: str, coords: Sequence[float | np.ndarray]) -> np.ndarray:
        if len(coords) != self.dimension:
            raise ValueError(f"expected {self.dimension} coordinates ({', '.join(self.variables)}), got {len(coords)}")
        arrays = [np.asarray(c, dtype=np.float64) for c in coords]
        with np.errstate(all="ignore"):
            extra = self._moments(_ORDER[which], arrays) if self.data_terms else []
            values = self._numpy(which)(*arrays, *extra)
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


def flat(matrix: Sequence[Sequence[sp.Expr]]) -> list[sp.Expr]:
    return [e for row in matrix for e in row]


def _symmetric(n: int, entry: Callable[[int, int], sp.Expr]) -> tuple[tuple[sp.Expr, ...], ...]:
    """A Hessian from its upper triangle: half the work, and exactly symmetric numbers."""
    upper = {(i, j): entry(i, j) for i in range(n) for j in range(i, n)}
    return tuple(tuple(upper[min(i, j), max(i, j)] for j in range(n)) for i in range(n))


def _check_size(exprs: Sequence[sp.Expr], what: str) -> None:
    if _size(exprs) > MAX_DERIVED_NODES:
        raise ExpressionError(f"the {what} is too complex to compile")
    for expr in exprs:
        if expr.has(sp.Derivative):
            raise ExpressionError(f"the {what} cannot be worked out exactly (SymPy cannot differentiate a part of this loss)")
        if expr.has(sp.I, sp.zoo, sp.nan):
            raise ExpressionError(f"the {what} is not a real number (the loss takes complex values)")


def _derivatives(expr: sp.Expr, syms: Sequence[sp.Symbol]) -> tuple[tuple[sp.Expr, ...], tuple[tuple[sp.Expr, ...], ...]]:
    gradient = tuple(_almost_everywhere(sp.diff(expr, s)) for s in syms)
    _check_size(gradient, "gradient")
    hessian = _symmetric(len(syms), lambda i, j: _almost_everywhere(sp.diff(gradient[i], syms[j])))
    _check_size(flat(hessian), "Hessian")
    return gradient, hessian


def _data_terms(outer: sp.Expr, aggregates: list[Aggregate], syms: tuple[sp.Symbol, ...], columns: tuple[str, ...],
                column_symbols: tuple[sp.Symbol, ...]) -> tuple[DataTerms, sp.Expr, tuple, tuple]:
    """Chain rule through the aggregates; returns the terms and the display forms."""
    n, K = len(syms), range(len(aggregates))
    A = tuple(a.symbol for a in aggregates)
    D = tuple(tuple(sp.Symbol(f"_d{k}_{i}", real=True) for i in range(n)) for k in K)
    D2 = tuple(tuple(tuple(sp.Symbol(f"_h{k}_{i}_{j}", real=True) for j in range(n)) for i in range(n)) for k in K)
    row_value = tuple(a.expr for a in aggregates)
    row_grad = tuple(_derivatives(a.expr, syms)[0] for a in aggregates)
    row_hess = tuple(_symmetric(n, lambda i, j, g=grads: _almost_everywhere(sp.diff(g[i], syms[j]))) for grads in row_grad)
    # dA_k/dθ_i = D_ki and dD_ki/dθ_j = D2_kij: total derivatives of F(θ, A(θ)).
    def total(expr: sp.Expr, i: int) -> sp.Expr:
        result = sp.diff(expr, syms[i]) + sum((sp.diff(expr, A[k]) * D[k][i] for k in K), sp.S.Zero)
        return result + sum((sp.diff(expr, D[k][j]) * D2[k][j][i] for k in K for j in range(n)), sp.S.Zero)
    outer_grad = tuple(_almost_everywhere(total(outer, i)) for i in range(n))
    _check_size(outer_grad, "gradient")
    outer_hess = _symmetric(n, lambda i, j: _almost_everywhere(total(outer_grad[i], j)))
    _check_size(flat(outer_hess), "Hessian")
    columns_used = set(column_symbols)

    def shown(kind: str, row: sp.Expr) -> sp.Expr:
        """mean(2) is just 2; anything that varies by row keeps its mean(...) or sum(...)."""
        return row if kind == "mean" and not row.free_symbols & columns_used else sp.Function(kind)(row)

    display = {A[k]: shown(a.kind, row_value[k]) for k, a in enumerate(aggregates)}
    display |= {D[k][i]: shown(a.kind, row_grad[k][i]) for k, a in enumerate(aggregates) for i in range(n)}
    display |= {D2[k][i][j]: shown(a.kind, row_hess[k][i][j]) for k, a in enumerate(aggregates) for i in range(n) for j in range(n)}
    terms = DataTerms(columns, column_symbols, tuple(a.kind for a in aggregates), A, D, D2, row_value, row_grad, row_hess,
                      outer, outer_grad, outer_hess)
    shown_grad = tuple(g.xreplace(display) for g in outer_grad)
    shown_hess = tuple(tuple(h.xreplace(display) for h in row) for row in outer_hess)
    return terms, outer.xreplace(display), shown_grad, shown_hess


def parse_objective(text: str, variables: Sequence[str] | None = None, columns: Sequence[str] = (),
                    data: np.ndarray | None = None) -> Objective:
    """Parse untrusted loss text and derive its gradient and Hessian.

    Variables are the free names in natural order, or `variables` when given (then every
    name the loss uses must be among them). Names in `columns` are data columns, used inside
    mean(...) or sum(...); `data` ((columns, rows)) binds their values. Raises ExpressionError
    with a column.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the loss must be text, got {type(text).__name__}")
    for name in [*(variables or ()), *columns]:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name):
            raise ExpressionError(f"invalid variable name {name!r}")
    symbols: dict[str, sp.Symbol] = {}

    def symbol(name: str) -> sp.Symbol:
        return symbols.setdefault(name, sp.Symbol(name, real=True))

    columns = tuple(columns)
    try:
        objective = _parse_objective(text, variables, columns, symbol)
    except ExpressionError:
        raise
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:  # SymPy's own, on odd input
        raise ExpressionError(f"cannot derive this loss ({type(error).__name__}: {str(error)[:80]})") from None
    return objective.bind(data) if data is not None and objective.data_terms else objective


def _parse_objective(text: str, variables: Sequence[str] | None, columns: tuple[str, ...],
                     symbol: Callable[[str], sp.Symbol]) -> Objective:
    parsed = parse(text, symbol, frozenset(columns))
    expr = parsed.expr
    free = set().union(expr.free_symbols, *(a.expr.free_symbols for a in parsed.aggregates))
    used = sorted((s.name for s in free if s.name not in columns and not s.name.startswith("_")), key=natural_key)
    if variables is None:
        names = tuple(used)
    else:
        names = tuple(variables)
        for name in used:
            if name not in names:
                raise ExpressionError(f"unknown variable '{name}' (expected one of: {', '.join(names)})", parsed.name_columns.get(name))
    if not names:
        raise ExpressionError("the loss has no variables to optimise")
    for part in [expr, *(a.expr for a in parsed.aggregates)]:
        if part.has(sp.zoo, sp.nan, sp.I) or part.is_extended_real is False:
            raise ExpressionError("the loss is not a real number (it contains a division by zero, a complex value or nan)")
    if _size([expr, *(a.expr for a in parsed.aggregates)]) > MAX_NODES:
        raise ExpressionError(f"the loss is too complex (more than {MAX_NODES} operations)")
    syms = tuple(symbol(n) for n in names)
    if not parsed.aggregates:
        gradient, hessian = _derivatives(expr, syms)
        objective = Objective(text, names, syms, expr, gradient, hessian)
    else:
        terms, shown, gradient, hessian = _data_terms(expr, parsed.aggregates, syms, columns, tuple(symbol(c) for c in columns))
        objective = Objective(text, names, syms, shown, gradient, hessian, terms)
    return objective
