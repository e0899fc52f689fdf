"""A small parser that turns untrusted loss text into a SymPy expression.

SymPy's own parsers (`sympify`, `parse_expr`) call `eval`, so text typed by a
user or read from a stranger's file never reaches them. This module scans the
text against a whitelist of tokens, parses it by recursive descent and builds
SymPy objects directly; it bounds the work of everything it builds, so no input
can run code, touch files or hang.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .bounded import (
    FLOAT_RANGE,
    bounded_power,
    bounded_product,
    check_constant_call,
    float_ok,
    short,
)
from .errors import ExpressionError
from .functions import AGGREGATES, COMPARISONS, CONSTANTS, FUNCTIONS, taken_name

__all__ = ["ExpressionError", "parse", "taken_name", "tokenize"]

MAX_LENGTH = 2000
MAX_NUMERAL = 40
MAX_NAME = 64
MAX_DEPTH = 100
MAX_COMPARISONS = 8  # max/min/relu pairs in one loss: newton on a product of 8 max() compiles in ~2 s, of 16 in ~6 s

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])",
    re.ASCII,  # \d and \s mean ASCII digits and spaces: no look-alike digits from other scripts
)
_HINTS = {
    "_": "names cannot start with '_'",
    "[": "brackets are not allowed; use parentheses",
    "]": "brackets are not allowed; use parentheses",
    "{": "braces are not allowed; use parentheses",
    "}": "braces are not allowed; use parentheses",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    ".": "'.' may only appear inside a number",
    "=": "enter an expression, not an equation or assignment",
    "!": "factorials are not supported",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int  # 1-based


def tokenize(text: str) -> list[Token]:
    """Split text into whitelisted tokens; anything else is an error at its column."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is too long ({len(text)} characters, limit {MAX_LENGTH})")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        column = pos + 1
        if match is None:
            char = text[pos]
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            hint = _HINTS.get(char)
            raise ExpressionError(f"unexpected character {shown}" + (f" ({hint})" if hint else ""), column)
        kind, value = match.lastgroup, match.group()
        pos = match.end()
        if kind == "space":
            continue
        if kind == "number":
            _check_numeral(value, column)
        if kind == "name":
            if len(value) > MAX_NAME:
                raise ExpressionError(f"name '{short(value)}' is too long (limit {MAX_NAME})", column)
            if keyword.iskeyword(value):
                raise ExpressionError(f"'{value}' is a reserved word, not a variable", column)
        tokens.append(Token(kind, value, column))
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _check_numeral(text: str, column: int) -> None:
    """A number as typed: a mantissa of at most MAX_NUMERAL characters, and a value in FLOAT_RANGE
    (0 itself is fine; 1e-400 is not 0 but too small for a float)."""
    mantissa = text.lower().partition("e")[0]
    if len(mantissa) > MAX_NUMERAL:
        raise ExpressionError(f"number '{short(text)}' is too long", column)
    value = float(text)  # inf beyond the largest float, 0.0 below the smallest
    if not float_ok(value) or (value == 0 and mantissa.strip("0.")):
        raise ExpressionError(f"number '{short(text)}' is out of the range of floating-point numbers ({FLOAT_RANGE})", column)


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


class _Parser:
    """Recursive descent: sum := product (+|- product)*; product := unary ((*|/|juxtaposition) unary)*;
    unary := (+|-) unary | power; power := atom ((^|**) unary)?; atom := number | name | call | (sum)."""

    def __init__(self, tokens: list[Token], symbols: Callable[[str], sp.Symbol], columns: frozenset[str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.comparisons = 0  # max/min/relu pairs so far (MAX_COMPARISONS)
        self.symbols = symbols
        self.columns = columns
        self.name_columns: dict[str, int] = {}
        self.aggregates: list[Aggregate] = []
        self.inside: Token | None = None  # the mean/sum being parsed, if any

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, text: str, opened: Token | None = None) -> None:
        if self.token.text != text:
            where = f" to close the '(' at column {opened.column}" if opened else ""
            raise ExpressionError(f"expected '{text}'{where} but found {_describe(self.token)}", self.token.column)
        self.advance()

    def parse(self) -> sp.Expr:
        if self.token.kind == "end":
            raise ExpressionError("the expression is empty")
        expr = self.sum()
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected {_describe(self.token)}", self.token.column)
        return expr

    def nested(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested too deeply (limit {MAX_DEPTH} levels)", column)

    def sum(self) -> sp.Expr:
        terms = [self.product()]
        while self.token.text in ("+", "-"):
            sign = self.advance().text
            term = self.product()
            terms.append(term if sign == "+" else -term)
        return sp.Add(*terms)

    def product(self) -> sp.Expr:
        result = self.unary()
        while True:
            token = self.token
            if token.text in ("*", "/"):
                self.advance()
                factor = self.unary()
                if token.text == "/" and factor == 0:
                    raise ExpressionError("division by zero", token.column)
                result = bounded_product(result, factor, token.text, token.column)
            elif token.kind in ("number", "name") or token.text == "(":
                previous = self.tokens[self.index - 1]
                if token.kind == "number" and previous.kind == "number":
                    raise ExpressionError(f"missing operator before the number '{token.text}'", token.column)
                result = bounded_product(result, self.unary(), "*", token.column)
            else:
                return result

    def unary(self) -> sp.Expr:
        if self.token.text in ("+", "-"):
            token = self.advance()
            self.nested(token.column)
            operand = self.unary()
            self.depth -= 1
            return -operand if token.text == "-" else operand
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if self.token.text not in ("^", "**"):
            return base
        operator = self.advance()
        self.nested(operator.column)
        exponent = self.unary()
        self.depth -= 1
        return bounded_power(base, exponent, operator.column)

    def atom(self) -> sp.Expr:
        token = self.advance()
        if token.kind == "number":
            return sp.Rational(token.text) if any(c in token.text for c in ".eE") else sp.Integer(token.text)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            self.nested(token.column)
            inner = self.sum()
            self.expect(")", token)
            self.depth -= 1
            return inner
        if token.kind == "end":
            raise ExpressionError("the expression ends too early", token.column)
        raise ExpressionError(f"unexpected {_describe(token)}", token.column)

    def name(self, token: Token) -> sp.Expr:
        name = token.text
        calls = self.token.text == "("
        if name in AGGREGATES:
            if not calls:
                raise ExpressionError(f"'{name}' needs its argument in parentheses, like {name}((w*x - y)^2)", token.column)
            return self.aggregate(token)
        if name in FUNCTIONS:
            if not calls:
                raise ExpressionError(f"function '{name}' needs its argument in parentheses, like {name}(x)", token.column)
            return self.call(token)
        if calls:
            raise ExpressionError(f"unknown function '{name}' (to multiply, write {name}*(...))", token.column)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.columns and self.inside is None:
            raise ExpressionError(f"data column '{name}' must be inside mean(...) or sum(...)", token.column)
        self.name_columns.setdefault(name, token.column)
        return self.symbols(name)

    def aggregate(self, token: Token) -> sp.Expr:
        if not self.columns:
            raise ExpressionError(f"{token.text}(...) averages over a data set, and this scenario has none", token.column)
        if self.inside is not None:
            raise ExpressionError(f"{token.text}(...) cannot be nested inside {self.inside.text}(...)", token.column)
        opened = self.advance()
        self.nested(opened.column)
        self.inside = token
        inner = self.sum()
        self.inside = None
        self.expect(")", opened)
        self.depth -= 1
        symbol = sp.Symbol(f"_agg{len(self.aggregates)}", real=True)
        self.aggregates.append(Aggregate(token.text, inner, symbol, token.column))
        return symbol

    def call(self, token: Token) -> sp.Expr:
        builder, (least, most) = FUNCTIONS[token.text]
        opened = self.advance()
        self.nested(opened.column)
        args = [self.sum()]
        while self.token.text == ",":
            self.advance()
            args.append(self.sum())
        self.expect(")", opened)
        self.depth -= 1
        if len(args) < least or (most is not None and len(args) > most):
            wanted = f"{least}" if least == most else f"at least {least}"
            raise ExpressionError(f"{token.text}() takes {wanted} argument{'s' if least > 1 else ''}, got {len(args)}", token.column)
        if not any(arg.free_symbols for arg in args):
            check_constant_call(token.text, args, token.column)
        elif token.text in COMPARISONS:
            self.comparisons += max(len(args) - 1, 1)
            if self.comparisons > MAX_COMPARISONS:
                raise ExpressionError(f"too many comparisons: {token.text}() brings the loss's max/min/relu pairs past "
                                      f"{MAX_COMPARISONS} (each adds branches that newton and critical points compile and search)", token.column)
        return builder(*args)


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


def parse(text: str, symbols: Callable[[str], sp.Symbol], columns: frozenset[str] = frozenset()) -> ParsedExpression:
    """Parse untrusted text; `symbols` turns a name into its SymPy symbol; names in `columns`
    are data columns, allowed only inside mean(...) and sum(...)."""
    parser = _Parser(tokenize(text), symbols, columns)
    try:
        expr = parser.parse()
    except ExpressionError:
        raise
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:  # SymPy's own, on odd input
        raise ExpressionError(f"cannot build this expression ({type(error).__name__}: {short(error, 80)})") from None
    return ParsedExpression(expr, parser.name_columns, parser.aggregates)
