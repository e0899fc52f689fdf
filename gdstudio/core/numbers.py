"""The one test of "a finite number" that JSON values, CSV cells and hyper-parameters share."""

from __future__ import annotations

import math


def is_finite_number(value: object) -> bool:
    """int or float (not bool) with a finite float value; integers beyond the float range are not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int like 10**400 has no float value
        return False
