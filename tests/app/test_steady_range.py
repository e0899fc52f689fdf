"""A growing plot's range in steps (plots/steady_range.py)."""

import math

import pytest

from gdstudio.app.plots.steady_range import step_up, steady


@pytest.mark.parametrize(("value", "up"), [(1, 1), (1.01, 1.2), (1499, 1500), (1500, 1500), (1501, 2000), (3001, 4000),
                                           (8001, 10_000), (0.0031, 0.004), (7e-300, 8e-300)])
def test_step_up_takes_the_next_rung_of_the_ladder(value, up):
    assert step_up(value) == pytest.approx(up)


def test_every_step_is_at_most_a_third_more():  # (the curves fill at least three quarters of the width)
    values = [step_up(1.0)]
    while values[-1] < 1e6:
        values.append(step_up(values[-1] * 1.0001))
    assert all(1 < b / a <= 4 / 3 + 1e-9 for a, b in zip(values, values[1:]))


def test_a_log_range_is_rounded_out_to_quarter_decades():
    low, high = steady(0.0042, 1.7, log=True)
    assert math.log10(low) == pytest.approx(-2.5) and math.log10(high) == pytest.approx(0.25)
    assert steady(0.004, 1.75, log=True) == steady(0.0035, 1.7, log=True)  # (inside the same steps: the same range)


def test_a_linear_range_is_rounded_out_to_half_its_power_of_ten():
    assert steady(0.13, 7.2, log=False) == pytest.approx((0.0, 7.5))
    assert steady(-42.0, -41.0, log=False) == pytest.approx((-42.0, -41.0))
    assert steady(3.0, 3.0, log=False) == pytest.approx((3.0, 3.0))


@pytest.mark.parametrize(("low", "high", "log"), [(1e-3, 1e308, False), (-1.0, 2.0, True), (math.nan, 1.0, False),
                                                  (1.0, math.inf, True)])
def test_what_no_step_can_take_is_kept(low, high, log):
    result = steady(low, high, log)
    assert result == (low, high) or all(map(math.isfinite, result)) and result[0] <= low and high <= result[1]
