"""numba's compiler where it is installed (a dependency), else the plain-Python reading of the
same functions: what compiled kernels declare themselves with (the scoring path's
``streams.predictive.model_trees`` and ``streams.io.avro_profiles_kernel``).

Invariant: ``jit(f)`` computes what ``f`` computes; compiled, it is cached on disk next to its
module and releases the GIL while it runs. ``COMPILED`` says which: without numba the same
code runs as Python (tests only: about a hundred times slower).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

try:
    import numba

    COMPILED: Final = True
    jit = cast(Callable[[F], F], numba.njit(cache=True, nogil=True))
except ImportError:  # the plain-Python reading of the same code
    COMPILED = False  # type: ignore[misc]

    def jit(function: F) -> F:
        return function
