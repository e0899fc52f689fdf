"""Presets and other data shipped with gdstudio (read with importlib.resources)."""
