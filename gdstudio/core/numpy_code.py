"""NumPy functions of SymPy expressions, for plots and analysis on grids: `lambdify(..., cse=True)` with
a printer that keeps every number a float and every user name out of the generated namespace."""

from __future__ import annotations

import builtins
import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import NamedTuple

import sympy as sp
from sympy.printing.numpy import NumPyPrinter


class _Printer(NumPyPrinter):
    """NumPy source in which every big number is a NumPy float (NumPy turns a Python integer beyond 64 bits into
    an object array that no ufunc accepts, and Python's own float ** overflows with an exception, not inf),
    and/or are nested in pairs (numpy.logical_and.reduce cannot mix a constant condition with an array one),
    Heaviside is numpy.heaviside (its Piecewise form makes SymPy simplify conditions, which can take minutes),
    and max/min/relu are numpy.maximum/numpy.minimum."""

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

    def _print_Maximum(self, expr: sp.Function) -> str:
        return self._pairwise("numpy.maximum", expr.args)

    def _print_Minimum(self, expr: sp.Function) -> str:
        return self._pairwise("numpy.minimum", expr.args)

    def _print_Relu(self, expr: sp.Function) -> str:
        return self._pairwise("numpy.maximum", (expr.args[0], sp.S.Zero))

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, {self._print(at_zero)})"


def _printer() -> _Printer:
    """A fresh printer (it collects the imports the function needs), set up as lambdify sets up its own."""
    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True, "user_functions": {}})


def safe_names(args: Sequence[sp.Symbol], exprs):
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


# What the generated functions see besides the names the printer imports for them (its module_imports, which lambdify
# imports one by one): SymPy's "numpy" namespace is made by `from numpy import *`, which in NumPy 2 imports every
# submodule NumPy names in `__all__` (f2py, ctypeslib, char, and through them email and importlib.metadata: 0.1-0.2 s
# of a first start's first derive, on the way to its landscape), to find nothing these functions use.
_NAMESPACE = {"I": 1j}  # (SymPy's NUMPY_DEFAULT)


class NumpySource(NamedTuple):
    """A generated function as data: its source and the names it imports ((module, name) pairs). Made where SymPy is
    (`source`), it becomes a function anywhere (`function`): the helper process generates what the studio runs."""

    text: str
    imports: tuple[tuple[str, str], ...]


def source(args: Sequence[sp.Symbol], exprs, cse: bool = True) -> NumpySource:
    """The source of a NumPy function of `args` computing `exprs` (an expression or a list of them)."""
    safe, renamed = safe_names(args, exprs)
    printer = _printer()
    # (docstring_limit=0: no docstring quoting the expression, whose text form took a third of the time, ~6 ms of a
    # Beale function's gradient and Hessian, on the way from the last keystroke to the contours)
    # (modules: see _NAMESPACE)
    made = sp.lambdify(safe, renamed, modules=[_NAMESPACE], printer=printer, cse=_real_cse if cse else False,
                       docstring_limit=0)
    imports = tuple((module, name) for module, names in sorted(printer.module_imports.items()) for name in sorted(names))
    return NumpySource(inspect.getsource(made), imports)  # (lambdify's documented way to see what it generated)


def function(made: NumpySource) -> Callable:
    """The function a `source` defines, in the namespace lambdify gives it (_NAMESPACE, builtins, range, the imports)."""
    namespace: dict = {**_NAMESPACE, "builtins": builtins, "range": range}
    for module, name in made.imports:
        namespace.setdefault(name, getattr(importlib.import_module(module), name))
    found: dict = {}
    exec(compile(made.text, "<gdstudio numpy function>", "exec"), namespace, found)  # (source our printer wrote)
    return found["_lambdifygenerated"]
