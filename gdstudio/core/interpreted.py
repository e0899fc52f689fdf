"""The run kernel in plain Python, bit for bit the compiled one: the first steps of a first start.

Numba compiles the generic run kernel once per installation, for several seconds. Meanwhile a run can
step here: the very same functions (each Numba dispatcher's `py_func`, rebound so that they call one
another's Python versions) over an objective's `fg` generated from the same source. All state lives in
the kernel's arrays, so a run hands over to the compiled kernel between two chunks without a trace.

Bit for bit, because every operation is the same IEEE operation: NumPy scalars round as compiled code
does (division by zero gives inf, not an exception, under `np.errstate`), the math functions are the
same libm calls, `fma` is computed exactly, and what LLVM rewrites in compiled code is written the same
way here (an integer power by repeated multiplication as Numba does, x**2.0 as x*x, x**0.5 as a square
root, 2**x as exp2(x)). tests/test_interpreted.py holds the two kernels to it. Where Python raises
instead (math.exp(1000), log(0), a division of Python floats by zero), the chunk is undone and the run
waits for the compiled kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from types import FunctionType

import numpy as np
import sympy as sp

from . import kernel, newton, rules
from .codegen import _Printer, kernel_source
from .errors import ExpressionError
from .expression import Objective

MAX_ROWS = 10_000  # data rows per step beyond which Python is too slow to be worth it: such runs wait
_MUTABLE = ("P", "G", "HM", "ST", "T", "LAST", "STATUS", "EVENT", "NOTE", "PERM", "POS", "RNG", "ROWS")


class Uninterpretable(ExpressionError):
    """This objective's run cannot step in Python bit for bit: it waits for the compiled kernel."""


def exact_fma(a: float, b: float, c: float) -> float:
    """a·b + c rounded once, as llvm.fma: exactly in fractions (Python 3.11 has no math.fma)."""
    a, b, c = float(a), float(b), float(c)
    if not (math.isfinite(a) and math.isfinite(b)):
        return a * b + c  # the product is inf or NaN, as rounded: nothing to fuse
    if not math.isfinite(c):
        return c  # a finite exact product plus inf or NaN
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        return a * b + c  # then a·b is exact, and this gets the sign of the zero right
    try:
        return float(exact)  # (correctly rounded)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


@lru_cache(maxsize=1)
def python_advance() -> Callable:
    """kernel.advance with every function it calls in Python."""
    spaces = {module.__name__: dict(vars(module)) for module in (kernel, rules, newton)}
    rebuilt: dict[object, FunctionType] = {}

    def python(value: object) -> object:
        source = getattr(value, "py_func", value)  # (a function Numba compiles, made or not yet: jit.py)
        if not isinstance(source, FunctionType) or source.__module__ not in spaces:
            return value
        if value not in rebuilt:
            rebuilt[value] = FunctionType(source.__code__, spaces[source.__module__], source.__name__,
                                          source.__defaults__, source.__closure__)
        return rebuilt[value]

    for space in spaces.values():
        for name, value in space.items():
            space[name] = python(value)
        if "fma" in space:
            space["fma"] = exact_fma
        if "prange" in space:
            space["prange"] = range
    return spaces[kernel.__name__]["advance"]


def _ipow(x: float, n: int) -> float:
    """x**n for an integer literal n as Numba compiles it: multiplications by squaring, then 1/r if n < 0."""
    result, e = None, abs(n)
    while True:
        if e & 1:
            result = x if result is None else result * x
        e >>= 1
        if not e:
            break
        x = x * x
    result = 1.0 if result is None else result
    return 1.0 / result if n < 0 else result


def _fpow(x: float, y: float) -> float:
    """x**y for a literal y, with LLVM's rewrites of pow (exact ones, made without fast-math)."""
    if y == 2.0:
        return x * x
    if y == 0.5:
        return math.inf if x == -math.inf else abs(math.sqrt(x))
    if y == -1.0:
        return 1.0 / x
    return math.pow(x, y)


class _PythonPrinter(_Printer):
    """codegen's printer, with every power written as the compiled code computes it."""

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.base, expr.exp
        if exp == sp.S.Half or (expr.is_commutative and (-exp is sp.S.Half or exp is sp.S.NegativeOne)):
            return super()._print_Pow(expr, rational)  # math.sqrt(x), 1/math.sqrt(x), 1/x: the same in both
        if exp.is_Integer:
            if abs(int(exp)) > 0x10000:  # (Numba then calls pow(); never met in a derived loss)
                raise Uninterpretable(f"the power {exp} is too large to step in Python")
            return f"_ipow({self._print(base)}, {int(exp)})"
        if exp.is_Number:
            return f"_fpow({self._print(base)}, {self._print(exp)})"
        if base.is_Number:  # LLVM: pow(2**k, y) -> exp2(k*y) for a power of two (or its reciprocal)
            value = float(base)
            k = math.log2(value) if value > 0 else 0.0
            if k and k == int(k):
                return f"math.exp2(({self._print(exp)}) * {float(k)!r})"
        return f"math.pow({self._print(base)}, {self._print(exp)})"


def python_fg(objective: Objective, with_hessian: bool) -> Callable:
    """The objective's fg in Python, kept on it; Uninterpretable when a run of it would rather wait."""
    def make() -> Callable:
        rows = 0 if objective.data is None else objective.data.shape[1]
        if rows > MAX_ROWS:
            raise Uninterpretable(f"{rows:,} rows are too many to step in Python")
        namespace: dict[str, object] = {"math": math, "_ipow": _ipow, "_fpow": _fpow}
        source = kernel_source(objective, with_hessian, _PythonPrinter)
        exec(compile(source, "<gdstudio objective, Python>", "exec"), namespace)  # generated source, never user text
        return namespace["fg"]

    return objective.kept(f"python/{with_hessian}", make)


def advance(runs: kernel.KernelRuns, fg: Callable, rule: int, n: int, out: np.ndarray) -> bool:
    """runs.advance in Python. False, with nothing changed, where Python raised for a step (math.exp(1000),
    log(0), …) that compiled code computes as inf or NaN: that run should wait for the compiled kernel."""
    saved = {name: getattr(runs, name).copy() for name in _MUTABLE}
    try:
        with np.errstate(all="ignore"):
            runs.advance_with(python_advance(), fg, rule, n, out)
        return True
    except (ArithmeticError, ValueError):
        for name, values in saved.items():
            getattr(runs, name)[...] = values
        runs.COUNT[:] = 0  # (no rows made)
        return False
