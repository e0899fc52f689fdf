"""Formulas drawn by matplotlib's mathtext (app/typeset.py)."""

import logging

from gdstudio.app.typeset import draw_latex


def test_a_formula_is_drawn_and_matplotlib_says_nothing_of_its_font_cache():
    """A first start on a busy machine printed "Matplotlib is building the font cache" on the terminal (after 5 s of
    building it): the studio says what it loads on its status line, and shows its formulas as text meanwhile."""
    png = draw_latex(r"\frac{\partial f}{\partial x} = 2x", "#000000", 1.0)
    assert png is not None and png.startswith(b"\x89PNG")
    assert not logging.getLogger("matplotlib.font_manager").isEnabledFor(logging.WARNING)
