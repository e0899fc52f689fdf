"""The exact numbers the loss parser builds, bounded: every constant stays a float (FLOAT_RANGE), exact
powers and products stay small, and a call whose arguments are all constants is first evaluated in
floats, so a constant that is no real float (acos(2), exp(10^300)) is refused at its column before
SymPy's exact arithmetic gets to it (which can hang, recurse without end or raise its own errors)."""

from __future__ import annotations

import math

import sympy as sp

from .errors import ExpressionError
from .functions import EXPONENTIAL, FLOAT
from .syntax import FLOAT_RANGE, LARGEST, MAX_MAGNITUDE, float_ok, short

__all__ = ["FLOAT_RANGE", "LARGEST", "MAX_DIGITS", "MAX_EXPONENT", "MAX_EXP_ARGUMENT", "MAX_MAGNITUDE", "bounded_power",
           "bounded_product", "check_constant_call", "float_ok", "short"]

MAX_EXPONENT = 1000  # |p| in x^p, when x is not a number
MAX_DIGITS = 300  # numbers the parser builds exactly (like 9^9) stay below 10^300
MAX_EXP_ARGUMENT = 1000.0  # exp(z) of a constant: beyond this, exact evaluation explodes and floats overflow


def _digits(value: sp.Rational) -> float:
    """Decimal digits of the larger of a rational's numerator and denominator (a size, not a value)."""
    return math.log10(max(abs(value.p), value.q))


def _rational_ok(number: sp.Rational) -> bool:
    """_float_ok for an exact number, without converting one of a thousand digits to a float."""
    size = math.log10(abs(number.p)) - math.log10(number.q) if number else 0.0
    if abs(size) > MAX_MAGNITUDE + 1:
        return False
    return abs(size) < MAX_MAGNITUDE - 1 or float_ok(float(number))


def _constant(value: sp.Expr, what: str, column: int) -> float:
    """The float value of a constant the parser built (each of its parts was checked when it was built)."""
    try:
        number = float(value)
    except TypeError:  # complex
        raise ExpressionError(f"{what} is not a real number", column) from None
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not float_ok(number):
        raise ExpressionError(f"{what} is out of the range of floating-point numbers", column)
    return number


def check_constant_call(name: str, args: list[sp.Expr], column: int) -> None:
    values = [_constant(arg, f"the argument of {name}()", column) for arg in args]
    if name in EXPONENTIAL and abs(values[0]) > MAX_EXP_ARGUMENT:
        raise ExpressionError(f"{name}() of a constant beyond ±{MAX_EXP_ARGUMENT:g} is out of range", column)
    try:
        result = FLOAT[name](*values)
    except (ValueError, ZeroDivisionError):
        raise ExpressionError(f"{name}() is undefined here (not a real number)", column) from None
    except OverflowError:
        raise ExpressionError(f"{name}() of this constant is too large", column) from None
    if not math.isfinite(result):
        raise ExpressionError(f"{name}() of this constant is too large", column)


def _check_numbers(expr: sp.Expr, column: int, everywhere: bool) -> None:
    """Every exact number stays a float: refuse 1e300*1e300 and the like. Looks at the leading coefficient,
    or (when a number was just multiplied in and SymPy may have distributed it) at every number."""
    numbers = expr.atoms(sp.Rational) if everywhere else [expr.as_coeff_Mul()[0]]
    for number in numbers:
        if number.is_Rational and not _rational_ok(number):
            raise ExpressionError(f"the number {short(number)} is out of the range of floating-point numbers", column)
    for power in expr.atoms(sp.exp):  # SymPy merges exp(700)*exp(700) into exp(1400), past every float
        if power.args[0].is_number and not _exp_ok(float(power.args[0])):
            raise ExpressionError(f"the number {short(power)} is out of the range of floating-point numbers", column)


def _exp_ok(z: float) -> bool:
    """Whether exp(z) is a float a loss may hold: neither past the largest float nor below 10^-308."""
    return -MAX_MAGNITUDE <= z * math.log10(math.e) <= math.log10(LARGEST)


def bounded_product(left: sp.Expr, right: sp.Expr, operator: str, column: int) -> sp.Expr:
    result = left * right if operator == "*" else left / right
    _check_numbers(result, column, everywhere=left.is_Number or right.is_Number)
    return result


def _check_exponents(expr: sp.Expr, column: int) -> None:
    """(x^999)^999 is x^998001: bound the exponents of the result, not only of what was typed."""
    for factor in sp.Mul.make_args(expr):
        if factor.is_Pow and factor.exp.is_Rational and abs(factor.exp) > MAX_EXPONENT and factor.base.free_symbols:
            raise ExpressionError(f"exponent {short(factor.exp)} is too large (limit {MAX_EXPONENT})", column)


def bounded_power(base: sp.Expr, exponent: sp.Expr, column: int) -> sp.Expr:
    """x^p, refusing powers whose exact value or symbolic work would explode."""
    if exponent.is_Rational and abs(exponent) > MAX_EXPONENT and not base.is_Number:
        raise ExpressionError(f"exponent {short(exponent)} is too large (limit {MAX_EXPONENT})", column)
    if base.is_Rational and exponent.is_Rational and base not in (0, 1, -1):
        size = abs(float(exponent)) * _digits(base)
        if size > MAX_DIGITS:
            raise ExpressionError(f"number is too large: about {size:.3g} digits (limit {MAX_DIGITS})", column)
    if base.is_Number and exponent.is_Number and not exponent.is_Rational:
        magnitude = abs(float(exponent)) * math.log10(max(abs(float(base)), 1e-300))
        if magnitude > MAX_DIGITS:
            raise ExpressionError("number is too large", column)
    if not base.free_symbols:
        number = _constant(base, "the base", column)
        if not exponent.free_symbols:
            power = _constant(exponent, "the exponent", column)
            try:
                value = math.pow(number, power)
            except (ValueError, ZeroDivisionError):
                raise ExpressionError("this power is undefined (not a real number)", column) from None
            except OverflowError:
                raise ExpressionError("number is too large", column) from None
            if not float_ok(value):
                raise ExpressionError("number is out of the range of floating-point numbers", column)
        elif number < 0:
            raise ExpressionError("a negative number to a variable power is not a real number", column)
    result = sp.Pow(base, exponent)
    _check_exponents(result, column)
    _check_numbers(result, column, everywhere=False)
    return result
