"""A knob: a slider beside a number field of the run editor, to scrub a hyper-parameter.

Moving the knob writes its value into the field at once (`scrubbed`: the path follows live, see
app/live.py); letting go commits the field like a typed value (`released`), so a whole scrub is one
edit. A step taken with the keyboard or the wheel commits at once. The scale (log for a learning rate,
linear for a momentum or a β, …) is core.knobs'; it is re-centred on the value each time one is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QSlider

from ...core.knobs import POSITIONS, KnobScale, knob_scale
from ...core.optimizers import HyperParam


class Knob(QSlider):
    scrubbed = Signal()  # the field shows a new value while the knob is held
    released = Signal()  # the knob was let go (or stepped): commit the field

    def __init__(self, edit: QLineEdit, param: HyperParam, pair: bool = False) -> None:
        super().__init__(Qt.Orientation.Horizontal, objectName=f"knob_{edit.objectName().removeprefix('param_')}")
        self.edit, self.param, self.pair = edit, param, pair
        self.setRange(0, POSITIONS)
        self.setPageStep(POSITIONS // 20)
        self.setMinimumWidth(60)
        self.scale: KnobScale = knob_scale(param, 0.0, pair)
        self.setToolTip(f"drag to scrub {param.name}: the paths follow as you move")
        self.valueChanged.connect(self._moved)
        self.sliderReleased.connect(self.released)

    def show_value(self, value: float) -> None:
        """Sit where `value` is, on a scale re-centred on it, without telling anyone."""
        self.scale = knob_scale(self.param, value, self.pair)
        self.blockSignals(True)
        self.setValue(self.scale.position(value))
        self.blockSignals(False)

    def _moved(self, position: int) -> None:
        from .param_form import fmt

        self.edit.setText(fmt(self.scale.value(position)))
        if self.isSliderDown():
            self.scrubbed.emit()
        else:
            self.released.emit()
