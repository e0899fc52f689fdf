"""A small parser that turns untrusted loss text into a SymPy expression.

SymPy's own parsers (`sympify`, `parse_expr`) call `eval`, so text typed by a
user or read from a stranger's file never reaches them. This module scans the
text against a whitelist of tokens, parses it by recursive descent and builds
SymPy objects directly; it bounds the work of everything it builds, so no input
can run code, touch files or hang.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Callable

import sympy as sp

MAX_LENGTH = 2000
MAX_NUMERAL = 40
MAX_NAME = 64
MAX_DEPTH = 100
MAX_EXPONENT = 1000  # |p| in x^p, when x is not a number
MAX_DIGITS = 300  # numbers the parser builds exactly (like 9^9) stay below 10^300


class ExpressionError(ValueError):
    """A problem with a loss expression, pointing at a 1-based column when it can."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}" if column else message)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


# name -> (SymPy builder, allowed argument counts: (min, max or None for "any"))
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, int | None]]] = {
    "sin": (sp.sin, (1, 1)),
    "cos": (sp.cos, (1, 1)),
    "tan": (sp.tan, (1, 1)),
    "asin": (sp.asin, (1, 1)),
    "acos": (sp.acos, (1, 1)),
    "atan": (sp.atan, (1, 1)),
    "atan2": (sp.atan2, (2, 2)),
    "sinh": (sp.sinh, (1, 1)),
    "cosh": (sp.cosh, (1, 1)),
    "tanh": (sp.tanh, (1, 1)),
    "asinh": (sp.asinh, (1, 1)),
    "acosh": (sp.acosh, (1, 1)),
    "atanh": (sp.atanh, (1, 1)),
    "exp": (sp.exp, (1, 1)),
    "log": (sp.log, (1, 1)),
    "ln": (sp.log, (1, 1)),
    "log10": (lambda z: sp.log(z) / sp.log(10), (1, 1)),
    "log2": (lambda z: sp.log(z) / sp.log(2), (1, 1)),
    "sqrt": (sp.sqrt, (1, 1)),
    "abs": (sp.Abs, (1, 1)),
    "sign": (sp.sign, (1, 1)),
    "max": (sp.Max, (2, None)),
    "min": (sp.Min, (2, None)),
    "sigmoid": (_sigmoid, (1, 1)),
    "relu": (lambda z: sp.Max(z, 0), (1, 1)),
    "softplus": (lambda z: sp.log(1 + sp.exp(z)), (1, 1)),
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
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
            mantissa, _, power = value.lower().partition("e")
            if len(mantissa) > MAX_NUMERAL or abs(int(power or 0)) > MAX_DIGITS:
                raise ExpressionError(f"number '{_short(value)}' is too long", column)
        if kind == "name":
            if len(value) > MAX_NAME:
                raise ExpressionError(f"name '{_short(value)}' is too long (limit {MAX_NAME})", column)
            if keyword.iskeyword(value):
                raise ExpressionError(f"'{value}' is a reserved word, not a variable", column)
        tokens.append(Token(kind, value, column))
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


AGGREGATES = ("mean", "sum")


@dataclass(frozen=True)
class Aggregate:
    """mean(...) or sum(...) over the rows of a data set; `symbol` stands for it in the loss."""

    kind: str
    expr: sp.Expr  # per-row expression, in parameters and data columns
    symbol: sp.Symbol


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
                result = result * factor if token.text == "*" else result / factor
            elif token.kind in ("number", "name") or token.text == "(":
                previous = self.tokens[self.index - 1]
                if token.kind == "number" and previous.kind == "number":
                    raise ExpressionError(f"missing operator before the number '{token.text}'", token.column)
                result = result * self.unary()
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
        return _bounded_power(base, exponent, operator.column)

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
        self.aggregates.append(Aggregate(token.text, inner, symbol))
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
        return builder(*args)


def _short(value: object, limit: int = 24) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


def _digits(value: sp.Rational) -> float:
    """Decimal digits in a rational's numerator and denominator (a size, not a value)."""
    return max(len(str(abs(value.p))), len(str(value.q)))


def _bounded_power(base: sp.Expr, exponent: sp.Expr, column: int) -> sp.Expr:
    """x^p, refusing powers whose exact value or symbolic work would explode."""
    if exponent.is_Rational and abs(exponent) > MAX_EXPONENT and not base.is_Number:
        raise ExpressionError(f"exponent {_short(exponent)} is too large (limit {MAX_EXPONENT})", column)
    if base.is_Rational and exponent.is_Rational and base not in (0, 1, -1):
        size = abs(float(exponent)) * max(_digits(base), 1)
        if size > MAX_DIGITS:
            raise ExpressionError(f"number is too large: about {size:.3g} digits (limit {MAX_DIGITS})", column)
    if base.is_Number and exponent.is_Number and not exponent.is_Rational:
        magnitude = abs(float(exponent)) * math.log10(max(abs(float(base)), 1e-300))
        if magnitude > MAX_DIGITS:
            raise ExpressionError("number is too large", column)
    return sp.Pow(base, exponent)


def parse(text: str, symbols: Callable[[str], sp.Symbol], columns: frozenset[str] = frozenset()) -> ParsedExpression:
    """Parse untrusted text; `symbols` turns a name into its SymPy symbol; names in `columns`
    are data columns, allowed only inside mean(...) and sum(...)."""
    parser = _Parser(tokenize(text), symbols, columns)
    expr = parser.parse()
    return ParsedExpression(expr, parser.name_columns, parser.aggregates)
