"""Knobs: every position gives a value the parameter's check accepts, and a value maps back near its position."""

from __future__ import annotations

import pytest

from gdstudio.core.knobs import POSITIONS, knob_scale
from gdstudio.core.optimizers import OPTIMIZERS, _check_value
from gdstudio.core.schedules import SCHEDULES

PARAMS = [p for info in (*OPTIMIZERS.values(), *SCHEDULES.values()) for p in info.params if p.kind != "bool"]


@pytest.mark.parametrize("param", PARAMS, ids=lambda p: p.name)
def test_every_position_passes_the_check(param):
    default = param.default[1] if param.kind == "pair" else param.default
    scale = knob_scale(param, default, pair=param.kind == "pair")
    for position in range(0, POSITIONS + 1, 7):
        value = scale.value(position)
        if param.kind == "pair":
            _check_value(param, (value, value))
        else:
            _check_value(param, value)
    assert abs(scale.position(default) - scale.position(scale.value(scale.position(default)))) <= 1


def test_the_learning_rate_is_logarithmic_over_decades():
    lr = OPTIMIZERS["gd"].params[0]
    scale = knob_scale(lr, 0.01)
    assert scale.log and scale.low <= 1e-5 and scale.high >= 10
    assert scale.value(scale.position(0.01)) == pytest.approx(0.01, rel=0.02)
    half = scale.value(POSITIONS // 2)
    assert scale.low < half < scale.high and half == float(f"{half:.3g}")


def test_damping_may_be_zero_and_spans_decades():
    damping = next(p for p in OPTIMIZERS["newton"].params if p.name == "damping")
    scale = knob_scale(damping, 0.0)
    assert scale.value(0) == 0.0 and scale.position(0.0) == 0
    assert scale.value(1) > 0 and scale.value(POSITIONS) >= 1


def test_momentum_is_linear_and_steps_are_whole():
    momentum = next(p for p in OPTIMIZERS["sgd"].params if p.name == "momentum")
    assert knob_scale(momentum, 0.9).value(900) == 0.9
    step_size = SCHEDULES["step"].params[0]
    scale = knob_scale(step_size, 100.0)
    assert all(scale.value(p).is_integer() for p in range(0, POSITIONS + 1, 13))
