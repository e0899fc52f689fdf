"""The namespace every loss's compiled kernel is defined in (core/codegen.py), each as `fg_<hash of its source>`.

A real module, so that a kernel Numba loads from its disk cache finds the module it was compiled in (Numba imports it
by name); a name of its own per kernel, since Numba names machine code after module and function.
"""

import math  # noqa: F401  (the kernels' only global)
