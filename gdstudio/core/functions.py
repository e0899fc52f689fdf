"""What a loss may call: its functions, their float twins for constant arguments, its constants, and
the functions with kinks (max, min, relu), whose derivatives follow PyTorch's conventions.

Kink conventions (the subgradient a run uses where the derivative jumps), as in PyTorch's autograd
(tools/autograd/derivatives.yaml):

- relu'(0) = 0 (torch: `threshold_backward(grad, result, 0)` passes the gradient only where the output is > 0);
- max(a, b) and min(a, b) at a tie give each argument half the gradient (torch.maximum / torch.minimum:
  `where(self == other, grad / 2, grad)`); more arguments are a balanced tree of pairs, so a tie of
  three gives ¼, ¼, ½ (as nested torch.maximum calls do);
- abs'(0) = sign(0) = 0 (torch: `grad * self.sgn()`), and sign' = 0 everywhere (torch: `zeros_like`);
- second derivatives at a kink (Dirac deltas) are 0, as torch's double backward gives.

max, min and relu are plain SymPy functions rather than sp.Max/sp.Min: those compare their arguments
every time they are built, and rebuilding a derivative full of them (renaming symbols, common
subexpressions) took most of a minute for 16 of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy as sp

from .vocabulary import AGGREGATES, ARITY, COMPARISONS, taken_name

__all__ = ["AGGREGATES", "COMPARISONS", "CONSTANTS", "EXPONENTIAL", "FLOAT", "FUNCTIONS", "Maximum", "Minimum", "Relu",
           "taken_name"]


class _Kink(sp.Function):
    """A function with a kink, shown by the name a loss uses. Real, as sp.Max is: it compares numbers
    (a loss whose arguments are not real is refused, or nan where they are not)."""

    shown = ""
    is_extended_real = True

    def _sympystr(self, printer) -> str:
        return f"{self.shown}({printer.stringify(self.args, ', ')})"

    def _pretty(self, printer):
        return printer._print_Function(self, func_name=self.shown)

    def _latex(self, printer, exp: str | None = None) -> str:
        name = {"max": r"\max", "min": r"\min"}.get(self.shown, rf"\operatorname{{{self.shown}}}")
        text = rf"{name}\left({', '.join(printer._print(arg) for arg in self.args)}\right)"
        return f"{text}^{{{exp}}}" if exp else text


class Maximum(_Kink):
    """max(a, b); at a tie each argument gets half the gradient (torch.maximum)."""

    nargs = 2
    shown = "max"

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_number and b.is_number:
            return sp.Max(a, b)
        return a if a == b else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        return sp.Heaviside(a - b) if argindex == 1 else sp.Heaviside(b - a)


class Minimum(_Kink):
    """min(a, b); at a tie each argument gets half the gradient (torch.minimum)."""

    nargs = 2
    shown = "min"

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_number and b.is_number:
            return sp.Min(a, b)
        return a if a == b else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        return sp.Heaviside(b - a) if argindex == 1 else sp.Heaviside(a - b)


class Relu(_Kink):
    """max(z, 0) with relu'(0) = 0 (torch.relu), not ½ as max(z, 0) has at its tie."""

    nargs = 1
    shown = "relu"

    @classmethod
    def eval(cls, z: sp.Expr) -> sp.Expr | None:
        return sp.Max(z, 0) if z.is_number else None

    is_extended_nonnegative = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)


def _pairwise(function: type[Maximum | Minimum], constant: type[sp.Max | sp.Min]) -> Callable[..., sp.Expr]:
    """max/min of many arguments as a balanced tree of two-argument ones. SymPy's n-ary Max
    differentiates into n Heavisides of (n−1)-ary Maxes (minutes for 15 arguments), and at a tie of
    three its "subgradient" (½, ½, ½) is none; pairs give a true one, ¼, ¼, ½."""

    def build(*args: sp.Expr) -> sp.Expr:
        if not any(arg.free_symbols for arg in args):
            return constant(*args)
        level = list(args)
        while len(level) > 1:
            level = [function(*level[i:i + 2]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        return level[0]

    return build


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


# name -> what it builds in SymPy (its names and argument counts are vocabulary.ARITY's)
_BUILDERS: dict[str, Callable[..., sp.Expr]] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "atan2": sp.atan2,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "exp": sp.exp, "log": sp.log, "ln": sp.log,
    "log10": lambda z: sp.log(z) / sp.log(10),
    "log2": lambda z: sp.log(z) / sp.log(2),
    "sqrt": sp.sqrt, "abs": sp.Abs, "sign": sp.sign,
    "max": _pairwise(Maximum, sp.Max),
    "min": _pairwise(Minimum, sp.Min),
    "sigmoid": _sigmoid,
    "relu": Relu,
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
}
# name -> (SymPy builder, allowed argument counts: (min, max or None for "any"))
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, int | None]]] = {
    name: (_BUILDERS[name], arity) for name, arity in ARITY.items()}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}  # (the names are vocabulary.CONSTANT_NAMES; a test checks they agree)


def _float_sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


# Float versions of FUNCTIONS: a call whose arguments are all constants is first evaluated in floats, so a
# constant that is not a real float (acos(2), log(-1), exp(10^300)) is refused at its column before SymPy's
# exact arithmetic gets to it (which can hang, recurse without end or raise its own errors).
FLOAT: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "asinh": math.asinh,
    "acosh": math.acosh, "atanh": math.atanh, "exp": math.exp, "log": math.log, "ln": math.log, "log10": math.log10,
    "log2": math.log2, "sqrt": math.sqrt, "abs": abs, "sign": lambda z: float((z > 0) - (z < 0)), "max": max,
    "min": min, "sigmoid": _float_sigmoid, "relu": lambda z: max(z, 0.0),
    "softplus": lambda z: max(z, 0.0) + math.log1p(math.exp(-abs(z))),
}
EXPONENTIAL = {"exp", "sinh", "cosh", "tanh", "sigmoid", "softplus"}
