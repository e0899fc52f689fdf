"""Objective: a loss with its exact gradient and (on demand) Hessian, compiled for NumPy.

SymPy derives the gradient when the loss is parsed and the Hessian on first use (`derivatives`);
plots evaluate them on grids through `lambdify(..., cse=True)` (`numpy_code`), and the run kernels
use the scalar source that `codegen` writes from the same expressions.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from . import derivatives, numpy_code
from .derivatives import (
    DataHessian,
    DataTerms,
    Matrix,
    data_hessian,
    data_terms,
    flat,
    size,
)
from .errors import ExpressionError, HessianUnavailable
from .loss_warnings import listing, loss_warnings, natural_key
from .parse import build
from .syntax import Syntax, check_loss
from .vocabulary import MAX_VARIABLES

__all__ = ["MAX_VARIABLES", "ExpressionError", "HessianUnavailable", "Objective", "flat", "parse_objective"]

_EXPANDING = threading.Lock()  # finds or makes each expansion's own lock (see Objective._expansions)
MAX_NODES = 3000  # size of the loss tree; beyond this, derivation and compilation get slow
MAX_EXPANSION_TERMS = 64  # a polynomial per-row loss with more terms is summed row by row instead
MAX_EXPANDED = 1000  # terms of the full expansion (columns too), bounded before SymPy expands anything
_ORDER = {"loss": 0, "grad": 1, "hess": 2}


@dataclass(frozen=True, eq=False)
class Objective:
    """A parsed loss over named variables, with exact derivatives and fast evaluation.

    With a data set, `expr`, `gradient` and `hessian` show aggregates as mean(...)/sum(...) for
    people; `data_terms` holds what the numbers are computed from, and `data` the bound rows.
    `warnings` are things about the loss a person should check (a mean over no data column).
    """

    text: str
    variables: tuple[str, ...]
    symbols: tuple[sp.Symbol, ...]
    expr: sp.Expr
    gradient: tuple[sp.Expr, ...]
    data_terms: DataTerms | None = None
    data: np.ndarray | None = field(default=None, repr=False)  # (columns, rows)
    warnings: tuple[str, ...] = ()
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)  # shared by bound copies

    @property
    def dimension(self) -> int:
        return len(self.variables)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.data_terms.columns if self.data_terms else ()

    @property
    def hessian(self) -> Matrix:
        """The exact Hessian (aggregates shown as mean/sum), derived on first use; HessianUnavailable
        when it is too large, which only the paths that need it (Newton, critical points) feel."""
        return self._second()[0]

    def _second(self) -> tuple[Matrix, DataHessian | None]:
        """The Hessian as shown and, with data, its chain-rule terms: derived once for all bound copies
        (the refusal too, so a second use does not redo the work)."""

        def derive() -> tuple[Matrix, DataHessian | None]:
            try:
                if self.data_terms is None:
                    return derivatives.hessian(self.gradient, self.symbols), None
                second = data_hessian(self.data_terms)
                return second.shown(self.data_terms), second
            except HessianUnavailable:
                raise
            except (ArithmeticError, RecursionError, TypeError, ValueError) as error:  # SymPy's own, on odd input
                raise HessianUnavailable(f"cannot derive the Hessian of this loss ({type(error).__name__}: "
                                         f"{str(error)[:80]})") from None

        return self.kept("second", derive)

    def hessian_entries(self) -> list[tuple[int, int, sp.Expr]]:
        """(i, j, entry) for the Hessian's nonzero entries with i <= j, in θ and (with data) the moment
        symbols: what code computes. The rest of the matrix is zero or their mirror image."""
        shown, second = self._second()
        matrix = second.outer_hess if second else shown
        return [(i, j, matrix[i][j]) for i in range(self.dimension) for j in range(i, self.dimension) if matrix[i][j] != 0]

    def exprs(self, which: str) -> list[sp.Expr]:
        """'loss' (one expression), 'grad' or 'hess' (`hessian_entries`), in θ and the moment symbols."""
        if which == "hess":
            return [e for _, _, e in self.hessian_entries()]
        terms = self.data_terms
        if which == "loss":
            return [terms.outer_loss if terms else self.expr]
        return list(terms.outer_grad if terms else self.gradient)

    def moments(self, order: int) -> list[tuple[sp.Symbol, str, sp.Expr]]:
        """(symbol, "mean" or "sum", per-row expression) for every aggregate a derivative of this order
        reads: A, then D (order >= 1), then the nonzero D2 (order 2). Empty without data."""
        terms = self.data_terms
        if terms is None:
            return []
        found = list(zip(terms.A, terms.kinds, terms.row_value))
        if order >= 1:
            found += [(d, kind, row[i]) for ds, kind, row in zip(terms.D, terms.kinds, terms.row_grad) for i, d in enumerate(ds)]
        if order >= 2:
            second = self._second()[1]
            found += [(second.D2[key], terms.kinds[key[0]], row) for key, row in second.row_hess.items()]
        return found

    def bind(self, data: np.ndarray) -> Objective:
        """The same objective over these rows ((columns, rows) array); compiled code (and the Hessian) is shared."""
        data = np.ascontiguousarray(data, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] != len(self.columns) or data.shape[1] < 1:
            raise ValueError(f"expected data of shape ({len(self.columns)}, rows >= 1), got {data.shape}")
        return replace(self, data=data)

    def kept(self, key: str, make: Callable[[], Any]) -> Any:
        """make(), once for this loss and its bound copies; a refusal (an ExpressionError) is kept and raised again."""
        if key not in self._compiled:
            try:
                self._compiled[key] = make()
            except ExpressionError as error:
                self._compiled[key] = error
        found = self._compiled[key]
        if isinstance(found, ExpressionError):
            raise type(found)(found.message, found.column)
        return found

    def _source(self, which: str) -> numpy_code.NumpySource:
        def make() -> numpy_code.NumpySource:
            if which.startswith("rows/"):
                moments = self.moments(_ORDER[which[5:]])
                args, exprs = (*self.symbols, *self.data_terms.column_symbols), [row for _, _, row in moments]
            else:
                args = (*self.symbols, *(m for m, _, _ in self.moments(_ORDER[which])))
                exprs = self.exprs(which)
            return numpy_code.source(args, exprs[0] if which == "loss" else exprs)

        return self.kept(f"source/{which}", make)

    def _numpy(self, which: str) -> Callable:
        return self.kept(which, lambda: numpy_code.function(self._source(which)))

    def portable(self) -> Portable:
        """This loss as another process can take it (pickled): its expressions, and what is derived and generated from
        them alone, the Hessian, the NumPy functions' sources, the moment sums' plans, whatever `kept` holds as plain
        data (a text form): `Portable.objective` rebuilds it in a millisecond, where deriving it takes tens."""
        return Portable({name: getattr(self, name) for name in _PORTABLE_FIELDS},
                        {key: value for key, value in self._compiled.items() if key.startswith(_PORTABLE_KEPT)})

    def compile(self, functions: tuple[str, ...] = ("loss", "grad", "hess")) -> Objective:
        """Compile these NumPy functions now (they are otherwise compiled on first use), with data their moment sums'
        plans too; the Hessian's only when it can be had."""
        for which in functions:
            try:
                self._numpy(which)
                if self.data_terms:
                    self._numpy("rows/" + which)
                    self._plan(_ORDER[which])
            except HessianUnavailable:
                pass
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
        totals = totals if totals is not None else []
        return [t / rows if kind == "mean" else t for t, (_, kind, _) in zip(totals, self.moments(order))]

    def rows_per_point(self) -> int:
        """Data rows one evaluation of the loss reads: 0 without data, or when its per-row loss is a polynomial in
        the parameters (moment sums, aggregated once), else every row: what a landscape over many rows costs."""
        if self.data is None or self._expansions(0) is not None:
            return 0
        return self.data.shape[1]

    def _expansions(self, order: int) -> list[list[tuple[tuple[int, ...], float]]] | None:
        """Per moment, (parameter powers, aggregated coefficient) terms; None when not polynomial. Kept per
        data set (by identity: the entry holds the rows, so their id cannot be reused while it lives) and
        worked out once, however many threads ask at the same time (the landscape's strips, the panels). Each
        order has a lock of its own: the landscape's loss over a million rows (~0.2 s) waited behind the critical
        points' Hessian (~0.4 s), which is not drawn first."""
        key = f"poly/{order}/{id(self.data)}"
        with _EXPANDING:
            lock = self._compiled.setdefault(f"lock/{key}", threading.Lock())
        with lock:
            found = self._compiled.get(key)
            if found is None or found[0] is not self.data:
                found = self._compiled[key] = (self.data, self._expand(order))
        return found[1]

    def _expand(self, order: int) -> list[list[tuple[tuple[int, ...], float]]] | None:
        plan = self._plan(order)
        if plan is None:
            return None
        polys, coefficients = plan
        rows = self.data.shape[1]
        with np.errstate(all="ignore"):
            values = self.kept(f"coefficients/{order}", lambda: numpy_code.function(coefficients))(*self.data) if coefficients else []
            totals = iter([float(np.sum(np.broadcast_to(v, (rows,)))) for v in values])
        return [[(powers, next(totals) / (rows if kind == "mean" else 1)) for powers in terms] for kind, terms in polys]

    def _plan(self, order: int) -> tuple[list[tuple[str, list[tuple[int, ...]]]], numpy_code.NumpySource | None] | None:
        """Moment sums' plan, whatever the data: per moment its kind and the parameter powers of its terms, and the
        source of every term's coefficient, a function of the columns (one pass of code generation, not one per
        term); None when some moment is no (small) polynomial in the parameters."""

        def make() -> tuple | None:
            params = set(self.symbols)
            polys = []
            for _, kind, expr in self.moments(order):
                bound = _terms_bound(expr, params, MAX_EXPANDED)
                if bound is None or bound > MAX_EXPANDED:  # (w*x + b - y)^1000 would be 501,501 terms
                    return None
                try:
                    poly = sp.Poly(expr, *self.symbols)
                except sp.PolynomialError:
                    return None
                if len(poly.terms()) > MAX_EXPANSION_TERMS or any(c.has(*self.symbols) for _, c in poly.terms()):
                    return None
                polys.append((kind, poly.terms()))
            coefficients = [c for _, terms in polys for _, c in terms]
            made = numpy_code.source(self.data_terms.column_symbols, coefficients, cse=False) if coefficients else None
            return [(kind, [powers for powers, _ in terms]) for kind, terms in polys], made

        return self.kept(f"plan/{order}", make)

    def _values(self, which: str, coords: Sequence[float | np.ndarray]) -> tuple[Any, tuple[int, ...]]:
        if len(coords) != self.dimension:
            raise ValueError(f"expected {self.dimension} coordinates ({', '.join(self.variables)}), got {len(coords)}")
        arrays = [np.asarray(c, dtype=np.float64) for c in coords]
        with np.errstate(all="ignore"):
            extra = self._moments(_ORDER[which], arrays) if self.data_terms else []
            return self._numpy(which)(*arrays, *extra), np.broadcast_shapes(*(a.shape for a in arrays))

    def loss(self, *coords: float | np.ndarray) -> np.ndarray:
        """Loss at broadcast coordinates (one array or scalar per variable)."""
        value, shape = self._values("loss", coords)
        return np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), shape))

    def grad(self, *coords: float | np.ndarray) -> np.ndarray:
        """Gradient, shape (n, *broadcast shape); constant entries are broadcast."""
        values, shape = self._values("grad", coords)
        return np.array([np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for v in values], dtype=np.float64)

    def hess(self, *coords: float | np.ndarray) -> np.ndarray:
        """Hessian, shape (n, n, *broadcast shape); HessianUnavailable when it is too large."""
        values, shape = self._values("hess", coords)
        found = np.zeros((self.dimension, self.dimension) + shape)
        for (i, j, _), value in zip(self.hessian_entries(), values):
            found[i, j] = found[j, i] = np.asarray(value, dtype=np.float64)
        return found

    def at(self, point: Sequence[float]) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, gradient and Hessian at one point."""
        return float(self.loss(*point)), self.grad(*point), self.hess(*point)


_PORTABLE_FIELDS = ("text", "variables", "symbols", "expr", "gradient", "data_terms", "warnings")
_PORTABLE_KEPT = ("second", "source/", "plan/", "text form")


@dataclass(frozen=True)
class Portable:
    """An objective without its data and compiled code: what one process that derived a loss hands to another
    (app/helper.py). SymPy rebuilds pickled expressions without deriving anything again."""

    fields: dict[str, Any]
    kept: dict[str, Any]

    def objective(self, data: np.ndarray | None = None) -> Objective:
        """The objective (bound to `data` when it has data columns); its NumPy functions made from their sources."""
        objective = Objective(**self.fields, _compiled=dict(self.kept))
        return objective.bind(data) if data is not None and objective.data_terms else objective


def _terms_bound(expr: sp.Expr, params: set[sp.Symbol], limit: int) -> int | None:
    """An upper bound on the terms of expr expanded in all its symbols (limit + 1 once past `limit`), or
    None when it is no polynomial in the parameters: lets `_expand` refuse before SymPy expands."""
    if expr.is_Atom:
        return 1
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base = _terms_bound(expr.base, params, limit)
        return None if base is None else min(math.comb(base + int(expr.exp) - 1, int(expr.exp)), limit + 1)
    if not (expr.is_Add or expr.is_Mul):  # a function of the parameters is no polynomial; of the columns, a coefficient
        return None if expr.free_symbols & params else 1
    total = 0 if expr.is_Add else 1
    for arg in expr.args:
        count = _terms_bound(arg, params, limit)
        if count is None:
            return None
        total = min(total + count if expr.is_Add else total * count, limit + 1)
    return total


def parse_objective(text: str, variables: Sequence[str] | None = None, columns: Sequence[str] = (),
                    data: np.ndarray | None = None) -> Objective:
    """Parse untrusted loss text and derive its gradient (the Hessian comes on first use).

    Variables are the free names in natural order, or `variables` when given (then every
    name the loss uses must be among them). Names in `columns` are data columns, used inside
    mean(...) or sum(...); `data` ((columns, rows)) binds their values. Raises ExpressionError
    with a column.
    """
    checked = check_loss(text, variables, columns)  # (what needs no SymPy: syntax.check_loss says the same first)
    symbols: dict[str, sp.Symbol] = {}

    def symbol(name: str) -> sp.Symbol:
        return symbols.setdefault(name, sp.Symbol(name, real=True))

    columns = tuple(columns)
    try:
        objective = _parse_objective(text, checked, variables, columns, symbol)
    except ExpressionError:
        raise
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:  # SymPy's own, on odd input
        raise ExpressionError(f"cannot derive this loss ({type(error).__name__}: {str(error)[:80]})") from None
    return objective.bind(data) if data is not None and objective.data_terms else objective


def _parse_objective(text: str, checked: Syntax, variables: Sequence[str] | None, columns: tuple[str, ...],
                     symbol: Callable[[str], sp.Symbol]) -> Objective:
    parsed = build(checked, symbol)
    expr = parsed.expr
    free = set().union(expr.free_symbols, *(a.expr.free_symbols for a in parsed.aggregates))
    used = sorted((s.name for s in free if s.name not in columns and not s.name.startswith("_")), key=natural_key)
    if variables is None:
        names = tuple(used)
        if len(names) > MAX_VARIABLES:
            raise ExpressionError(f"too many variables ({len(names):,}, limit {MAX_VARIABLES})")
    else:
        names = tuple(variables)
        for name in used:
            if name not in names:
                raise ExpressionError(f"unknown variable '{name}' (expected one of: {listing(names)})", parsed.name_columns.get(name))
    if not names:
        raise ExpressionError("the loss has no variables to optimise")
    for part in [expr, *(a.expr for a in parsed.aggregates)]:
        if part.has(sp.zoo, sp.nan, sp.I) or part.is_extended_real is False:
            raise ExpressionError("the loss is not a real number (it contains a division by zero, a complex value or nan)")
    if size([expr, *(a.expr for a in parsed.aggregates)]) > MAX_NODES:
        raise ExpressionError(f"the loss is too complex (more than {MAX_NODES} operations)")
    syms = tuple(symbol(n) for n in names)
    if not parsed.aggregates:
        return Objective(text, names, syms, expr, derivatives.gradient(expr, syms))
    terms = data_terms(expr, parsed.aggregates, syms, columns, tuple(symbol(c) for c in columns))
    display = terms.display()
    return Objective(text, names, syms, expr.xreplace(display), tuple(g.xreplace(display) for g in terms.outer_grad),
                     terms, warnings=loss_warnings(parsed, columns))
