"""Untrusted loss text to a SymPy expression, in two passes.

SymPy's own parsers (`sympify`, `parse_expr`) call `eval`, so text typed by a user or read from a
stranger's file never reaches them. syntax.py checks the text against a whitelist of tokens and a
grammar without importing SymPy; this module builds SymPy objects from its tree, node by node in
the order they were written, and bounds the work of everything it builds (bounded.py), so no input
can run code, touch files or hang.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import sympy as sp

from . import syntax as S
from .bounded import bounded_power, bounded_product, check_constant_call, short
from .errors import ExpressionError
from .functions import COMPARISONS, CONSTANTS, FUNCTIONS
from .syntax import MAX_DEPTH, MAX_LENGTH, MAX_NUMERAL, Syntax, Token, parse_tree, tokenize
from .vocabulary import MAX_NAME, taken_name

__all__ = ["MAX_COMPARISONS", "MAX_DEPTH", "MAX_LENGTH", "MAX_NAME", "MAX_NUMERAL", "Aggregate", "ExpressionError",
           "ParsedExpression", "Token", "build", "parse", "taken_name", "tokenize"]

MAX_COMPARISONS = 8  # max/min/relu pairs in one loss: newton on a product of 8 max() compiles in ~2 s, of 16 in ~6 s


@dataclass(frozen=True)
class Aggregate:
    """mean(...) or sum(...) over the rows of a data set; `symbol` stands for it in the loss."""

    kind: str
    expr: sp.Expr  # per-row expression, in parameters and data columns
    symbol: sp.Symbol
    column: int = 0  # where mean/sum is written (1-based)


@dataclass
class ParsedExpression:
    expr: sp.Expr  # aggregates appear as their symbols
    name_columns: dict[str, int]  # first column where each name appears
    aggregates: list[Aggregate]


class _Builder:
    """SymPy objects from a syntax tree. The checks that need exact arithmetic live here: a division
    by what is zero, a constant too large or no real float, too many max/min/relu pairs (a call
    counts when an argument has a free symbol once SymPy has simplified it, so max(x - x, 1) does not)."""

    def __init__(self, symbols: Callable[[str], sp.Symbol]) -> None:
        self.symbols = symbols
        self.comparisons = 0  # max/min/relu pairs so far (MAX_COMPARISONS)
        self.aggregates: list[Aggregate] = []

    def build(self, node: S.Node) -> sp.Expr:
        match node:
            case S.Number(text):
                return sp.Rational(text) if any(c in text for c in ".eE") else sp.Integer(text)
            case S.Name(name):
                return self.symbols(name)
            case S.Constant(name):
                return CONSTANTS[name]
            case S.Negative(operand):
                return -self.build(operand)
            case S.Sum(terms):
                built = []
                for subtracted, term in terms:
                    value = self.build(term)
                    built.append(-value if subtracted else value)
                return sp.Add(*built)
            case S.Product(first, rest):
                return self.product(first, rest)
            case S.Power(base, exponent, column):
                base_value = self.build(base)
                return bounded_power(base_value, self.build(exponent), column)
            case S.Call():
                return self.call(node)
            case S.Aggregate(kind, inner, column):
                symbol = sp.Symbol(f"_agg{len(self.aggregates)}", real=True)
                self.aggregates.append(Aggregate(kind, self.build(inner), symbol, column))
                return symbol
        raise TypeError(f"not a syntax node: {type(node).__name__}")  # (a bug, never user input)

    def product(self, first: S.Node, rest: tuple[tuple[str, S.Node, int], ...]) -> sp.Expr:
        result = self.build(first)
        for operator, node, column in rest:
            factor = self.build(node)
            if operator == "/" and factor == 0:
                raise ExpressionError("division by zero", column)
            result = bounded_product(result, factor, operator, column)
        return result

    def call(self, node: S.Call) -> sp.Expr:
        args = [self.build(arg) for arg in node.args]
        if not any(arg.free_symbols for arg in args):
            check_constant_call(node.name, args, node.column)
        elif node.name in COMPARISONS:
            self.comparisons += max(len(args) - 1, 1)
            if self.comparisons > MAX_COMPARISONS:
                raise ExpressionError(f"too many comparisons: {node.name}() brings the loss's max/min/relu pairs past "
                                      f"{MAX_COMPARISONS} (each adds branches that newton and critical points compile and search)",
                                      node.column)
        return FUNCTIONS[node.name][0](*args)


def build(tree: Syntax, symbols: Callable[[str], sp.Symbol]) -> ParsedExpression:
    """The SymPy expression of checked text; `symbols` turns a name into its SymPy symbol."""
    builder = _Builder(symbols)
    try:
        expr = builder.build(tree.root)
    except ExpressionError:
        raise
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:  # SymPy's own, on odd input
        raise ExpressionError(f"cannot build this expression ({type(error).__name__}: {short(error, 80)})") from None
    return ParsedExpression(expr, dict(tree.name_columns), builder.aggregates)


def parse(text: str, symbols: Callable[[str], sp.Symbol], columns: Collection[str] = frozenset()) -> ParsedExpression:
    """Parse untrusted text; `symbols` turns a name into its SymPy symbol; names in `columns`
    are data columns, allowed only inside mean(...) and sum(...)."""
    return build(parse_tree(text, frozenset(columns)), symbols)
