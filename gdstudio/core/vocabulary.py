"""The words a loss may use and the limits on its names, without SymPy.

The syntax check (syntax.py), the naming rule (checks.py) and the scenario loader need only the
names: they run before SymPy is imported, so that a mistyped loss is refused at once. What each
name builds in SymPy is functions.py's; it takes its names and argument counts from here.
"""

from __future__ import annotations

import keyword

MAX_NAME = 64  # characters of a variable's or a data column's name
MAX_VARIABLES = 256  # variables of one loss: a scenario may list no more, and a loss may use no more

AGGREGATES = ("mean", "sum")  # over the rows of a data set
# function name -> allowed argument counts: (least, most or None for "any")
ARITY: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                     "exp", "log", "ln", "log10", "log2", "sqrt", "abs", "sign"), (1, 1)),
    "atan2": (2, 2),
    "max": (2, None),
    "min": (2, None),
    "sigmoid": (1, 1),
    "relu": (1, 1),
    "softplus": (1, 1),
}
CONSTANT_NAMES = ("pi", "e")
COMPARISONS = ("max", "min", "relu")  # the functions with kinks


def taken_name(name: str) -> str | None:
    """What a name already means in a loss (a constant, a function, a keyword), or None: a variable or
    a data column by that name could never be used as one — `e` would silently be 2.718."""
    if name in CONSTANT_NAMES:
        return f"the constant {name}"
    if name in ARITY or name in AGGREGATES:
        return f"the function {name}()"
    if keyword.iskeyword(name):
        return "a reserved word"
    return None
