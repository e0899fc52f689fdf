"""pyqtgraph views: the landscape and the loss curve."""
