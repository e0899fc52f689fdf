"""Numba settings shared by the compiled update rules, and the fused multiply-add torch's kernels use."""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

JIT = dict(cache=True, nogil=True, error_model="numpy")
# Small helpers are inlined into their callers: a call passing Numba arrays costs more than they do.
INLINE = dict(JIT, inline="always")


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (llvm.fma). torch's CPU kernels compute `x.add(y, alpha=a)`, `addcmul` and
    `lerp` this way (compiled with contraction, or with explicit fmadd in their vector paths), so the
    update rules use it where torch does to get its numbers bit for bit."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, sig, args):
        return builder.fma(*args)

    return signature, codegen
