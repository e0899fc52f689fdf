"""The desktop studio (PySide6 + pyqtgraph) on top of the Qt-free engine in gdstudio.core."""

from . import compat as _compat  # noqa: F401  (must run before the studio makes many Qt calls)
