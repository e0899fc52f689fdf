"""The errors a loss can raise, shared by the parser, the derivatives and their users."""

from __future__ import annotations


class ExpressionError(ValueError):
    """A problem with a loss expression, pointing at a 1-based column when it can."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}" if column else message)

    def __reduce__(self) -> tuple:
        return type(self), (self.message, self.column)  # (pickled as made: a helper process sends refusals)


class HessianUnavailable(ExpressionError):
    """The exact Hessian (or its compiled code) is refused, almost always as too large; the loss itself is fine, and
    everything that needs only the gradient (gd, adam, …, the landscape) still works with it."""
