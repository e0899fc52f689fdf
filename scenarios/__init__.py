"""Example scenarios, one per lesson (read with importlib.resources)."""
