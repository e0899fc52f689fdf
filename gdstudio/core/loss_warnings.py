"""What a person should check about a loss that parses: a mean(...)/sum(...) over no data column, a parameter named
like an unused column (a misspelt column silently becomes a parameter); and names in the order people number them."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parse import ParsedExpression


def natural_key(name: str) -> tuple:
    """w2 before w10: split digits off so they compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def listing(names: Sequence[str]) -> str:
    return ", ".join(names[:8]) + (", …" if len(names) > 8 else "")


def _similar(name: str, columns: Sequence[str]) -> str | None:
    """The column a parameter's name looks like a typo of (xx, X or x3 for x, x2), or None."""
    stem = re.sub(r"\d+", "", name)
    for column in columns:
        if column.lower() == name.lower() or (stem and re.sub(r"\d+", "", column) == stem):
            return column
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    return close[0] if close else None


def loss_warnings(parsed: ParsedExpression, columns: tuple[str, ...]) -> tuple[str, ...]:
    """A mean(...)/sum(...) over no data column, and parameters in one named like an unused column
    (a misspelt column silently becomes a parameter)."""
    found = []
    used = {s.name for a in parsed.aggregates for s in a.expr.free_symbols}
    unused = [c for c in columns if c not in used]
    for aggregate in parsed.aggregates:
        names = sorted({s.name for s in aggregate.expr.free_symbols}, key=natural_key)
        if not set(names) & set(columns):
            found.append(f"{aggregate.kind}(...) at column {aggregate.column} uses no data column, so it is the same "
                         f"for every row (the data has columns {listing(columns)})")
        for name in names:
            if name not in columns and (column := _similar(name, unused)):
                found.append(f"'{name}' in {aggregate.kind}(...) is a parameter, not a data column: did you mean "
                             f"'{column}'? (the data has columns {listing(columns)})")
    return tuple(dict.fromkeys(found))
