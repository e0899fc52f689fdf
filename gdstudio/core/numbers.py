"""The one test of "a finite number" that JSON values, CSV cells and hyper-parameters share."""

from __future__ import annotations

import math
import re


def is_finite_number(value: object) -> bool:
    """int or float (not bool) with a finite float value; integers beyond the float range are not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int like 10**400 has no float value
        return False


# A number as text, everywhere a person or a file writes one (CSV cells, --at, --max-steps, --lr, the
# view): ASCII digits only (Python's float() also takes '１', '٣' and '1_000'), an optional sign,
# fraction and exponent. Loss text has its own tokenizer with the same digits.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
MAX_NUMBER_TEXT = 400  # longer is no number a float can tell apart from a shorter one


def parse_float(text: str) -> float:
    """A finite float from text like '1.5', '-2e-3' or ' 7 '; ValueError naming what is wrong otherwise.
    Magnitudes up to the float range are fine (1e308); beyond it (1e309) is refused, not made inf."""
    stripped = text.strip(" \t\r\n")
    if len(stripped) > MAX_NUMBER_TEXT:
        raise ValueError(f"a number of {len(stripped):,} characters is too long")
    if not _DECIMAL.fullmatch(stripped):
        raise ValueError("not a number (plain digits, e.g. 12, -0.5 or 1e-3)")
    value = float(stripped)
    if not math.isfinite(value):
        raise ValueError("out of the range of floating-point numbers (|value| ≤ 1.7e308)")
    return value


def parse_whole(text: str) -> int:
    """A whole number from text like '100', '1e6' or '2.0' (the same digits as parse_float)."""
    value = parse_float(text)
    if value != int(value):
        raise ValueError("not a whole number")
    return int(value)
