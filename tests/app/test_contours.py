"""The landscape's contour lines: the serial algorithm's, made holding little of the interpreter lock."""

import contourpy
import numpy as np

from gdstudio.app.plots.contours import _lines, line_maker


def test_the_lines_are_the_serial_algorithms_point_for_point():
    xs, ys = np.linspace(-2, 2, 180), np.linspace(-1, 3, 170)
    X, Y = np.meshgrid(xs, ys)
    z = np.where(X * Y > 1, np.nan, (1 - X) ** 2 + 100 * (Y - X**2) ** 2)  # (a hole of NaN: masked)
    levels = np.geomspace(0.5, np.nanmax(z), 24)
    serial = contourpy.contour_generator(xs, ys, np.ma.masked_invalid(z), line_type=contourpy.LineType.Separate)
    pieces = [piece for level in levels for line in serial.lines(level) for piece in (line, [[np.nan, np.nan]])]
    expected = np.concatenate(pieces)
    lx, ly = _lines(xs, ys, z, levels)
    assert np.array_equal(lx, expected[:, 0], equal_nan=True) and np.array_equal(ly, expected[:, 1], equal_nan=True)


def test_the_lines_are_made_on_the_calling_thread_by_the_algorithm_that_lets_go_of_the_interpreter_lock():
    """(benchmarks/lock_holders.py measures what the serial algorithm's lock cost another thread)"""
    xs = np.linspace(0, 1, 20)
    maker = line_maker(xs, xs, np.add.outer(xs, xs))
    assert isinstance(maker, contourpy.ThreadedContourGenerator) and maker.thread_count == 1
    assert maker.chunk_count == (1, 1)
