"""The grammar of loss text, checked without SymPy: whitelisted tokens, recursive descent to a small tree.

Every refusal that needs no arithmetic (a stray character, a missing ')', an unknown function, a
wrong number of arguments, a data column outside mean(...), a name too long, nesting too deep) is
made here, before SymPy is imported, so a mistyped loss on the command line is refused at once.
parse.py then builds SymPy objects from the tree, refusing what only exact arithmetic can tell
(1/(x-x), 9^9^9^9, acos(2)); the text itself is never evaluated.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .checks import check_name
from .errors import ExpressionError
from .vocabulary import AGGREGATES, ARITY, CONSTANT_NAMES, MAX_NAME, MAX_VARIABLES, taken_name

__all__ = ["ExpressionError", "Syntax", "check_loss", "parse_tree", "tokenize"]

MAX_LENGTH = 2000
MAX_NUMERAL = 40
MAX_DEPTH = 100
MAX_MAGNITUDE = 308  # every nonzero number in a loss is a float of at least 10^-308 ...
LARGEST = sys.float_info.max  # ... and at most the largest one, 1.797e308 (so 1e308 is fine, 2e308 is not)
FLOAT_RANGE = f"1e-{MAX_MAGNITUDE} ≤ |value| ≤ 1.797e308"  # (rounded down: LARGEST is 1.7976931…e308)

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


def short(value: object, limit: int = 24) -> str:
    """A value for a message: a refused number may have thousands of digits."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def float_ok(value: float) -> bool:
    """0, or a float of a size a loss may hold (FLOAT_RANGE; float() is correctly rounded, so this is exact)."""
    return value == 0 or 10.0**-MAX_MAGNITUDE <= abs(value) <= LARGEST


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


# The tree: sums and products are flat lists (a chain of a thousand terms is no deeper than one), and
# each node keeps the column its arithmetic is reported at when SymPy refuses it.

@dataclass(frozen=True, slots=True)
class Number:
    text: str  # as typed: an exact integer, or an exact rational when it has a '.' or an exponent


@dataclass(frozen=True, slots=True)
class Name:
    name: str  # a variable, or a data column inside mean(...)/sum(...)


@dataclass(frozen=True, slots=True)
class Constant:
    name: str  # pi or e


@dataclass(frozen=True, slots=True)
class Negative:
    operand: Node


@dataclass(frozen=True, slots=True)
class Sum:
    terms: tuple[tuple[bool, Node], ...]  # (subtracted, term), two or more


@dataclass(frozen=True, slots=True)
class Product:
    first: Node
    rest: tuple[tuple[str, Node, int], ...]  # ("*" or "/", factor, column of the operator or of the juxtaposed factor)


@dataclass(frozen=True, slots=True)
class Power:
    base: Node
    exponent: Node
    column: int  # of ^ or **


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]  # as many as ARITY allows
    column: int


@dataclass(frozen=True, slots=True)
class Aggregate:
    kind: str  # mean or sum
    inner: Node  # the per-row expression
    column: int


Node = Number | Name | Constant | Negative | Sum | Product | Power | Call | Aggregate


@dataclass(frozen=True)
class Syntax:
    """Loss text that passed every check that needs no arithmetic."""

    root: Node
    name_columns: dict[str, int]  # first column where each variable or data column appears


class _Parser:
    """Recursive descent: sum := product (+|- product)*; product := unary ((*|/|juxtaposition) unary)*;
    unary := (+|-) unary | power; power := atom ((^|**) unary)?; atom := number | name | call | (sum)."""

    def __init__(self, tokens: list[Token], columns: Collection[str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.columns = columns
        self.name_columns: dict[str, int] = {}
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

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ExpressionError("the expression is empty")
        node = self.sum()
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected {_describe(self.token)}", self.token.column)
        return node

    def nested(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested too deeply (limit {MAX_DEPTH} levels)", column)

    def sum(self) -> Node:
        terms = [(False, self.product())]
        while self.token.text in ("+", "-"):
            sign = self.advance().text
            terms.append((sign == "-", self.product()))
        return terms[0][1] if len(terms) == 1 else Sum(tuple(terms))

    def product(self) -> Node:
        first = self.unary()
        rest: list[tuple[str, Node, int]] = []
        while True:
            token = self.token
            if token.text in ("*", "/"):
                self.advance()
                rest.append((token.text, self.unary(), token.column))
            elif token.kind in ("number", "name") or token.text == "(":
                previous = self.tokens[self.index - 1]
                if token.kind == "number" and previous.kind == "number":
                    raise ExpressionError(f"missing operator before the number '{token.text}'", token.column)
                rest.append(("*", self.unary(), token.column))
            else:
                return Product(first, tuple(rest)) if rest else first

    def unary(self) -> Node:
        if self.token.text in ("+", "-"):
            token = self.advance()
            self.nested(token.column)
            operand = self.unary()
            self.depth -= 1
            return Negative(operand) if token.text == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.token.text not in ("^", "**"):
            return base
        operator = self.advance()
        self.nested(operator.column)
        exponent = self.unary()
        self.depth -= 1
        return Power(base, exponent, operator.column)

    def atom(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Number(token.text)
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

    def name(self, token: Token) -> Node:
        name = token.text
        calls = self.token.text == "("
        if name in AGGREGATES:
            if not calls:
                raise ExpressionError(f"'{name}' needs its argument in parentheses, like {name}((w*x - y)^2)", token.column)
            return self.aggregate(token)
        if name in ARITY:
            if not calls:
                raise ExpressionError(f"function '{name}' needs its argument in parentheses, like {name}(x)", token.column)
            return self.call(token)
        if calls:
            raise ExpressionError(f"unknown function '{name}' (to multiply, write {name}*(...))", token.column)
        if name in CONSTANT_NAMES:
            return Constant(name)
        if name in self.columns and self.inside is None:
            raise ExpressionError(f"data column '{name}' must be inside mean(...) or sum(...)", token.column)
        self.name_columns.setdefault(name, token.column)
        return Name(name)

    def aggregate(self, token: Token) -> Node:
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
        return Aggregate(token.text, inner, token.column)

    def call(self, token: Token) -> Node:
        least, most = ARITY[token.text]
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
        return Call(token.text, tuple(args), token.column)


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


def parse_tree(text: str, columns: Collection[str] = frozenset()) -> Syntax:
    """Check untrusted text against the grammar; names in `columns` are data columns, allowed only
    inside mean(...) and sum(...). Raises ExpressionError with a column."""
    parser = _Parser(tokenize(text), columns)
    try:
        root = parser.parse()
    except RecursionError as error:  # (only when called from an already deep stack: the depth is bounded)
        raise ExpressionError(f"cannot build this expression ({type(error).__name__}: {short(error, 80)})") from None
    return Syntax(root, parser.name_columns)


def check_names(variables: Sequence[str] | None, columns: Sequence[str]) -> None:
    """One naming rule for variables and data columns (the scenario loader applies the same)."""
    if variables is not None and len(variables) > MAX_VARIABLES:
        raise ExpressionError(f"too many variables ({len(variables):,}, limit {MAX_VARIABLES})")
    for name in [*(variables or ()), *columns]:
        problem = check_name(name)
        if problem and isinstance(name, str) and taken_name(name):
            raise ExpressionError(problem)  # "in a loss, e is the constant e: choose another name"
        if problem:
            raise ExpressionError(f"a variable or data column name is {problem}")
    twice = [name for name, count in Counter(variables or ()).items() if count > 1]
    if twice:
        raise ExpressionError(f"variable {twice[0]} is listed twice")


def check_loss(text: object, variables: Sequence[str] | None = None, columns: Sequence[str] = ()) -> Syntax:
    """Everything parse_objective refuses before it needs SymPy, with the same messages and columns:
    the text's type, the names of its variables and data columns, and its grammar."""
    if not isinstance(text, str):
        raise ExpressionError(f"the loss must be text, got {type(text).__name__}")
    check_names(variables, columns)
    return parse_tree(text, frozenset(columns))
