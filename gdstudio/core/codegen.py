"""Scalar source for an objective's loss, gradient and Hessian, compiled with Numba.

The run kernels call `fg(p, g, hess)` once per step: it reads the parameters from
`p`, writes the gradient into `g` (and the Hessian into `hess` when asked to at
generation time) and returns the loss. Common subexpressions are shared (cse).
User names never reach the generated source: variables become `_v0, _v1, ...`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import sympy as sp
from numba import njit
from sympy.printing.pycode import PythonCodePrinter

from .expression import Objective, flat
from .kernel import FG_SIGNATURE

_SAFE_INT = 2**53


def _float_literal(value: float) -> str:
    """repr, except that a number beyond the double range is written as math.inf, not `inf`."""
    return repr(value) if math.isfinite(value) else ("-math.inf" if value < 0 else "math.inf")


class _Printer(PythonCodePrinter):
    """Python's printer, with integers too big for 64 bits written as floats for Numba."""

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(expr.p) if abs(expr.p) < _SAFE_INT else _float_literal(float(expr))

    def _print_Float(self, expr: sp.Float) -> str:
        return _float_literal(float(expr))

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"({self._print_Integer(sp.Integer(expr.p))}/{self._print_Integer(sp.Integer(expr.q))})"

    def _print_Half(self, expr: sp.Rational) -> str:
        return "0.5"


def kernel_source(objective: Objective, with_hessian: bool) -> str:
    """Source of `fg(p, g, hess, data, rows)` for this objective: rows index the batch of data
    columns (data[j, row]) that mean(...) and sum(...) run over."""
    n = objective.dimension
    params = [sp.Symbol(f"_v{i}", real=True) for i in range(n)]
    rename = dict(zip(objective.symbols, params))
    printer = _Printer({"standard": "python3"})
    lines = ["def fg(p, g, hess, data, rows):"]
    lines += [f"    {name} = p[{i}]" for i, name in enumerate(params)]
    terms = objective.data_terms
    if terms is None:
        outer = [objective.expr, *objective.gradient, *(flat(objective.hessian) if with_hessian else [])]
    else:
        order = 2 if with_hessian else 1
        rename |= {c: sp.Symbol(f"_w{j}", real=True) for j, c in enumerate(terms.column_symbols)}
        moments = terms.moment_symbols(order)
        temps, reduced = sp.cse([e.xreplace(rename) for e in terms.row_exprs(order)],
                                symbols=sp.numbered_symbols("_r"), optimizations="basic")
        lines += [f"    {m} = 0.0" for m in moments]
        body = [f"            _w{j} = data[{j}, _k]" for j in range(len(terms.columns))]
        body += [f"            {temp} = {printer.doprint(value)}" for temp, value in temps]
        body += [f"            {m} += {printer.doprint(value)}" for m, value in zip(moments, reduced)]
        # The full batch reads the columns in order (no gather), which the compiler vectorises.
        lines += ["    if rows.shape[0] == data.shape[1]:", "        for _k in range(data.shape[1]):", *body]
        lines += ["    else:", "        for _i in range(rows.shape[0]):", "            _k = rows[_i]", *body]
        lines += [f"    {m} = {m} / rows.shape[0]" for m, kind in zip(moments, terms.moment_kinds(order)) if kind == "mean"]
        outer = [terms.outer_loss, *terms.outer_grad, *(flat(terms.outer_hess) if with_hessian else [])]
    temps, reduced = sp.cse([sp.sympify(e).xreplace(rename) for e in outer],
                            symbols=sp.numbered_symbols("_c"), optimizations="basic")
    lines += [f"    {temp} = {printer.doprint(value)}" for temp, value in temps]
    lines += [f"    g[{i}] = {printer.doprint(reduced[1 + i])}" for i in range(n)]
    for k, value in enumerate(reduced[1 + n :]):
        lines.append(f"    hess[{k // n}, {k % n}] = {printer.doprint(value)}")
    lines.append(f"    return {printer.doprint(reduced[0])}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=64)
def _compile(source: str) -> Callable:
    namespace: dict[str, object] = {"math": math}
    exec(compile(source, "<gdstudio objective>", "exec"), namespace)  # our generated source, never user text
    # Only the run kernel calls it (through its address), so no Python wrapper is built.
    return njit(FG_SIGNATURE, nogil=True, error_model="numpy", no_cpython_wrapper=True)(namespace["fg"])


def compiled_kernel(objective: Objective, with_hessian: bool) -> Callable:
    """The Numba-compiled `fg`, kept on the objective and shared between identical ones."""
    key = f"kernel/{with_hessian}"
    if key not in objective._compiled:
        objective._compiled[key] = _compile(kernel_source(objective, with_hessian))
    return objective._compiled[key]
