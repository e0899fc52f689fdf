"""How a run ends, and how basins are labelled: plain numbers, without Numba, so that results can be shown
(and scenarios checked) before the compiled engine loads. The kernel (kernel.py, which re-exports them)
writes them."""

from __future__ import annotations

RUNNING, CONVERGED, MAX_STEPS, DIVERGED, ERROR, CANCELLED = range(6)
STATUS_NAMES = ("running", "converged", "max_steps", "diverged", "error", "cancelled")

# Why a run ended (EVENT[s, 0]); EVENT[s, 1] holds the value that triggered it. NO_DESCENT: Newton's line
# search found no step that lowers the loss (the gradient norm); HESSIAN_NONFINITE: no Newton direction.
GRAD_TOL, LOSS_TOL, STEP_LIMIT, LOSS_NONFINITE, LOSS_ABOVE, GRAD_NONFINITE, NO_DESCENT, HESSIAN_NONFINITE = range(1, 9)

DIVERGED_BASIN, UNRESOLVED_BASIN = -1, -2  # basin labels besides a minimum's index: diverged; reached no minimum
