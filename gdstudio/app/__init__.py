"""The desktop studio (PySide6 + pyqtgraph): a view of gdstudio.core."""
