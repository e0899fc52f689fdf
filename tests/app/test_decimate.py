"""The loss curve's incremental min/max decimation: same picture however the rows arrive."""

import numpy as np
import pytest

from gdstudio.app.plots.decimate import Decimator, _find


def test_incremental_equals_batch_and_keeps_extremes():
    rng = np.random.default_rng(1)
    values = rng.random(100_003)
    values[5000], values[77] = 50.0, np.nan
    steps = np.arange(len(values))
    live = Decimator(256)
    for n in (0, 1, 10, 500, 1000, 5001, 40_000, 100_003):
        x, y = live.update(steps[:n], values[:n])
    batch = Decimator(256)
    x2, y2 = batch.update(steps, values)
    assert np.array_equal(x, x2) and np.array_equal(y, y2, equal_nan=True)
    assert len(x) < 1100 and np.nanmax(y) == 50.0 and np.nanmin(y) == np.nanmin(values)
    assert np.all(np.diff(x) >= 0) and x[-1] == len(values) - 1
    dx, dy = live.detail(steps, values, 4000, 6000)
    assert 4000 - 2 <= dx[0] and dx[-1] <= 6002 and np.nanmax(dy) == 50.0


def test_short_curves_are_drawn_as_they_are_and_log_gaps():
    d = Decimator(log=True)
    x, y = d.update(np.arange(4), np.array([1.0, 0.0, -2.0, 3.0]))
    assert list(x) == [0, 1, 2, 3] and np.array_equal(y, [1.0, np.nan, np.nan, 3.0], equal_nan=True)


@pytest.mark.parametrize("side", ["left", "right"])
def test_finding_a_float_step_in_integer_steps_agrees_with_numpy(side):
    xs = np.array([-5, 0, 1, 1, 4, 9, 9, 10], dtype=np.int64)
    for x in (-np.inf, -6.0, -5.0, -0.5, 0.0, 0.999, 1.0, 1.2, 8.99, 9.0, 9.5, 10.0, 11.0, 1e300, np.inf):
        assert _find(xs, x, side) == np.searchsorted(xs.astype(float), x, side=side), (x, side)


def test_the_unfinished_bucket_is_drawn_by_its_extremes_and_its_last_row():
    """Its rows drawn as they were doubled the points of a long run's curve (a bucket of 2,048 rows, ~1 pixel)."""
    values = np.linspace(1.0, 2.0, 64 * 256 - 1)  # 63 buckets of 256 rows, and 255 rows in the unfinished one
    values[16_300] = 7.0
    d = Decimator(64)
    x, y = d.update(np.arange(len(values)), values)
    assert d.size == 256 and len(values) % d.size  # (rows left in an unfinished bucket)
    assert len(x) <= 2 * 64 + 3
    assert x[-1] == len(values) - 1 and y[-1] == values[-1] and np.nanmax(y) == 7.0
