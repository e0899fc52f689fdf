"""What the insight tools share: how critical points look and how numbers are shown."""

from __future__ import annotations

from ...core.optimizers import optimizer

KIND_STYLE = {  # symbol, colour, size: ★ minimum, ▲ maximum, ✕ saddle, ◆ degenerate
    "minimum": ("star", "#ffd700", 20),
    "maximum": ("t1", "#ff4d4d", 15),
    "saddle": ("x", "#f0f0f0", 15),
    "degenerate": ("d", "#ff9f1c", 13),
}
KIND_GLYPH = {"minimum": "★", "maximum": "▲", "saddle": "✕", "degenerate": "◆"}
KIND_PLURAL = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles", "degenerate": "degenerate points"}


def count_of(n: int, kind: str) -> str:
    """'1 minimum', '4 minima'."""
    return f"{n} {kind if n == 1 else KIND_PLURAL[kind]}"


def fmt(value: float) -> str:
    return f"{value:.4g}"


def show_value(widget, value) -> None:
    """Put the document's value in a box without the box writing it back (which would mark it unsaved)."""
    widget.blockSignals(True)
    widget.setValue(value)
    widget.blockSignals(False)


def compact_hyper(name: str, hyper: dict) -> dict:
    """Only the settings that differ from the optimizer's defaults (what a scenario file stores)."""
    defaults = optimizer(name).defaults()
    out = {}
    for key, value in hyper.items():
        if key == "lr" or defaults.get(key) != value:
            out[key] = value
    return out
