"""Newton's constants and the notes it keeps per run, without Numba: the registry, the scenario checks and the
studio read them before (or without) loading the compiled engine."""

from __future__ import annotations

import numpy as np

ARMIJO_C = 1e-4  # sufficient decrease: J(θ − αd) ≤ J(θ) − c·α·∇Jᵀd
HALVINGS = 50  # α = lr, lr/2, ..., lr/2⁵⁰: below that θ − αd rounds to θ for any sensible d

# Per-run notes (the kernel's NOTE row): steps whose Hessian needed τ, the first of them, the last τ;
# steps the line search shortened, the most halvings one needed; batch steps where no α lowered the loss;
# the loss evaluations (each with gradient and Hessian) the line search made at trial points.
REPAIRS, FIRST_REPAIR, LAST_SHIFT, SHORTENED, MOST_HALVINGS, SKIPPED, TRIALS = range(7)
NOTES = 7

# What a searched step did (newton_update's result).
STEPPED, NO_DECREASE, NO_DIRECTION = range(3)


def describe_notes(note: np.ndarray) -> str:
    """What Newton had to do on the way, as clauses to append to a run's outcome ('' when nothing)."""
    text = ""
    repaired, shortened, skipped = int(note[REPAIRS]), int(note[SHORTENED]), int(note[SKIPPED])
    if repaired:
        text += (f"; the Hessian was not positive definite on {repaired} step{'s' if repaired > 1 else ''}"
                 f" (first at step {int(note[FIRST_REPAIR]) - 1}), so Newton added τ·I (last τ = {note[LAST_SHIFT]:.3g})")
    if shortened:
        text += (f"; the line search shortened {shortened} step{'s' if shortened > 1 else ''}"
                 f" (α down to lr/2^{int(note[MOST_HALVINGS])}) so that the loss fell")
    if skipped:
        text += (f"; on {skipped} batch{'es' if skipped > 1 else ''} no step along the Newton direction lowered"
                 f" the batch loss, so Newton stayed put")
    return text
