"""gdstudio: a desktop lab for gradient descent."""

__version__ = "0.1.0"
