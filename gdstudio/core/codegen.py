"""Scalar source for an objective's loss, gradient and Hessian, compiled with Numba.

The run kernels call `fg(p, g, hess)` once per step: it reads the parameters from
`p`, writes the gradient into `g` (and the Hessian into `hess` when asked to at
generation time) and returns the loss. Common subexpressions are shared (cse).
User names never reach the generated source: variables become `_v0, _v1, ...`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from . import objective_kernels
from .derivatives import MAX_DERIVED_NODES, size
from .errors import ExpressionError, HessianUnavailable
from .expression import Objective
from .kernel import signatures

_SAFE_INT = 2**53
MAX_COMPILE_COST = 2000  # compile_cost of a kernel: at most about 8 s of Numba (gd on a0*a1*…*a99 is 1,500)
MAX_KEPT_KERNELS = 1000  # losses whose compiled kernel Numba's cache keeps (prune_kept_kernels)
MAX_NEWTON_VARIABLES = 64  # Newton keeps a d×d Hessian per run and factors it every step: 10,000 runs stay near 330 MB


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

    def _print_Maximum(self, expr: sp.Function) -> str:
        return f"max({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Minimum(self, expr: sp.Function) -> str:
        return f"min({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Relu(self, expr: sp.Function) -> str:
        return f"max({self._print(expr.args[0])}, 0.0)"


def kernel_source(objective: Objective, with_hessian: bool, printer_class: type[_Printer] = _Printer) -> str:
    """Source of `fg(p, g, hess, data, rows)` for this objective: rows index the batch of data
    columns (data[j, row]) that mean(...) and sum(...) run over. With the Hessian, only its nonzero
    entries are computed (a diagonal Hessian writes its diagonal), into a zeroed matrix."""
    n = objective.dimension
    if with_hessian and n > MAX_NEWTON_VARIABLES:
        raise HessianUnavailable(f"newton solves with the exact {n} × {n} Hessian at every step of every run, and takes at "
                                 f"most {MAX_NEWTON_VARIABLES} variables; use a first-order optimizer (gd, adam, …)")
    entries = objective.hessian_entries() if with_hessian else []  # HessianUnavailable when refused
    outer = [*objective.exprs("loss"), *objective.exprs("grad"), *(e for _, _, e in entries)]
    moments = objective.moments(2 if with_hessian else 1)
    _check(size([*outer, *(row for _, _, row in moments)]), MAX_DERIVED_NODES, with_hessian, "operations")
    rename = {s: sp.Symbol(f"_v{i}", real=True) for i, s in enumerate(objective.symbols)}
    if objective.data_terms:
        rename |= {c: sp.Symbol(f"_w{j}", real=True) for j, c in enumerate(objective.data_terms.column_symbols)}
    printer = printer_class({"standard": "python3"})
    temps, reduced = _cse(objective, f"{with_hessian}", outer, rename, "_c")
    lines = ["def fg(p, g, hess, data, rows):", *(f"    _v{i} = p[{i}]" for i in range(n))]
    lines += _aggregate_lines(objective, with_hessian, moments, rename, printer)
    lines += [f"    {temp} = {printer.doprint(value)}" for temp, value in temps]
    lines += [f"    g[{i}] = {printer.doprint(reduced[1 + i])}" for i in range(n)]
    if with_hessian and len(entries) < n * (n + 1) // 2:
        lines.append("    hess[:, :] = 0.0")
    lines += [f"    hess[{i}, {j}] = {printer.doprint(value)}" for (i, j, _), value in zip(entries, reduced[1 + n :])]
    if any(i != j for i, j, _ in entries):  # the lower triangle mirrors the upper: exactly symmetric, in one loop
        lines += ["    for _i in range(1, p.shape[0]):", "        for _j in range(_i):", "            hess[_i, _j] = hess[_j, _i]"]
    lines.append(f"    return {printer.doprint(reduced[0])}")
    source = "\n".join(lines) + "\n"
    _check(compile_cost(source), MAX_COMPILE_COST, with_hessian, "units of compile work")
    return source


def compile_cost(source: str) -> int:
    """Numba's compile time in units of about 4 ms on this project's 2-core machine: it grows with the
    statements and branches (each `x if c else y` is one), and a quarter as fast with the operations
    (measured on kernels of sums of squares, long products, products of max() and of sin())."""
    return source.count("\n") + source.count(" if ") + len(re.findall(r"[-+*/,]", source)) // 4


def _cse(objective: Objective, key: str, exprs: list[sp.Expr], rename: dict[sp.Symbol, sp.Symbol],
         prefix: str) -> tuple[list, list[sp.Expr]]:
    """Common subexpressions, kept on the objective: the compiled kernel's source and the Python tier's share them."""
    key = f"cse/{prefix}/{key}"
    if key not in objective._compiled:
        objective._compiled[key] = sp.cse([sp.sympify(e).xreplace(rename) for e in exprs], symbols=sp.numbered_symbols(prefix),
                                          optimizations="basic")
    return objective._compiled[key]


def _aggregate_lines(objective: Objective, with_hessian: bool, moments: list, rename: dict[sp.Symbol, sp.Symbol],
                     printer: _Printer) -> list[str]:
    """The loop over the batch's rows that sums every moment (none without data)."""
    if not moments:
        return []
    temps, reduced = _cse(objective, f"{with_hessian}", [row for _, _, row in moments], rename, "_r")
    lines = [f"    {m} = 0.0" for m, _, _ in moments]
    body = [f"            _w{j} = data[{j}, _k]" for j in range(len(objective.columns))]
    body += [f"            {temp} = {printer.doprint(value)}" for temp, value in temps]
    body += [f"            {m} += {printer.doprint(value)}" for (m, _, _), value in zip(moments, reduced)]
    # The full batch reads the columns in order (no gather), which the compiler vectorises.
    lines += ["    if rows.shape[0] == data.shape[1]:", "        for _k in range(data.shape[1]):", *body]
    lines += ["    else:", "        for _i in range(rows.shape[0]):", "            _k = rows[_i]", *body]
    lines += [f"    {m} = {m} / rows.shape[0]" for m, kind, _ in moments if kind == "mean"]
    return lines


def _check(found: int, limit: int, with_hessian: bool, unit: str) -> None:
    """Refuse code that would take too long to write (cse) or to compile (Numba)."""
    if found <= limit:
        return
    if with_hessian:
        raise HessianUnavailable(f"the exact Hessian of this loss is too large to compile for newton ({found:,} {unit} "
                                 f"with the gradient, limit {limit:,}); use a first-order optimizer (gd, adam, …)")
    raise ExpressionError(f"the gradient of this loss is too large to compile ({found:,} {unit}, limit {limit:,})")


_COMPILING = threading.Lock()  # (Numba compiles one function at a time anyway)
_FLAGS = dict(nogil=True, error_model="numpy", no_cpython_wrapper=True)


def compiled_ready(objective: Objective, with_hessian: bool) -> bool:
    """Whether compiled_kernel would answer at once."""
    return f"kernel/{with_hessian}" in objective._compiled


def _named(source: str) -> tuple[str, str]:
    """The kernel's name, `fg_` and a hash of its source (and of the flags it is compiled with: they are not in Numba's
    key), and its source defining that name."""
    name = f"fg_{hashlib.sha256((repr(_FLAGS) + source).encode()).hexdigest()[:32]}"
    return name, source.replace("def fg(", f"def {name}(", 1)


def cache_folder() -> Path:
    """Numba's cache (gdstudio/core/__init__.py chooses it, before Numba reads it once)."""
    return Path(os.environ["NUMBA_CACHE_DIR"])


def source_file(name: str, source: str) -> Path:
    """The file a kernel's source is kept in, beside Numba's cache (written once, atomically): Numba caches only
    functions that come from a file, and keys its entries by that file's path and timestamp. The file itself is never
    executed: `compile_source` runs the source it was given, and the cache holds what that source compiled to."""
    folder = cache_folder() / "objectives"
    path = folder / f"{name}.py"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        part.write_text(source)
        os.replace(part, path)
    return path


def prune_kept_kernels(limit: int = MAX_KEPT_KERNELS) -> int:
    """Numba's cache keeps every loss's kernel (~30 KB each, source and entry): past `limit` of them, the oldest half
    goes, sources and cache entries, and such a loss compiles again when next used. The number that went."""
    cache = cache_folder()
    try:
        sources = sorted((cache / "objectives").glob("fg_*.py"), key=lambda path: path.stat().st_mtime)
        if len(sources) <= limit:
            return 0
        gone = sources[: len(sources) - limit // 2]
        entries = list(cache.glob("objectives_*"))  # (Numba's folder of index and data files for that folder)
        for source in gone:
            for entry in (found for folder in entries for found in folder.glob(f"{source.stem}.*")):
                entry.unlink(missing_ok=True)
            source.unlink(missing_ok=True)
    except OSError:  # (another process pruning at the same time, or a cache that cannot be written: left as it is)
        return 0
    return len(gone)


@lru_cache(maxsize=64)
def compile_source(source: str) -> Callable:
    """The source compiled, or loaded from Numba's cache when any process compiled it before (a loss typed again, a
    lesson run from the command line, the kernel a helper process compiled: app/helper.py)."""
    name, source = _named(source)
    try:
        path = str(source_file(name, source))
    except OSError:  # (no cache to write in: compiled for this process alone)
        path = ""
    exec(compile(source, path or "<gdstudio objective>", "exec"), vars(objective_kernels))  # our source, never user text
    from numba import njit

    # Only the run kernel calls it (through its address), so no Python wrapper is built.
    return njit(signatures()[0], cache=bool(path), **_FLAGS)(getattr(objective_kernels, name))


def compiled_kernel(objective: Objective, with_hessian: bool) -> Callable:
    """The Numba-compiled `fg`, kept on the objective and shared between identical ones; a refusal
    (ExpressionError, HessianUnavailable for newton) is kept too, so asking again costs nothing."""
    with _COMPILING:  # (a second thread asking for the same kernel waits for it, instead of compiling it again)
        return objective.kept(f"kernel/{with_hessian}", lambda: compile_source(kernel_source(objective, with_hessian)))


def adopt_kernel(objective: Objective, with_hessian: bool, made: str | ExpressionError) -> Callable:
    """`compiled_kernel` from what another process made of the same loss: its source (compiled there into Numba's
    cache, so this loads it) or its refusal."""

    def load() -> Callable:
        if isinstance(made, ExpressionError):
            raise made
        return compile_source(made)

    with _COMPILING:
        return objective.kept(f"kernel/{with_hessian}", load)
