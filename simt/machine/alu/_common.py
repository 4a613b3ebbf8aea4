"""Shared helpers of the ALU: quiet NumPy, coercion to storage, integer limits."""

from __future__ import annotations

import numpy as np

from ...isa.types import INT, DType

__all__ = ["INT_MIN", "INT_MAX", "apply", "quiet", "storage", "unsigned_of", "result"]

INT_MIN: dict[DType, int] = {t: -(1 << (t.bits - 1)) if t.is_signed_int else 0 for t in INT}
INT_MAX: dict[DType, int] = {t: (1 << (t.bits - 1 if t.is_signed_int else t.bits)) - 1
                             for t in INT}

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}


def quiet() -> np.errstate:
    """A context in which NumPy emits no floating-point or overflow warnings."""
    return np.errstate(all="ignore")


def storage(ty: DType, x) -> np.ndarray:
    """``x`` as an array of ``ty.storage`` (no copy when it already is one).

    Scalars become 0-d arrays, so integer arithmetic runs in ufunc loops, which wrap
    silently (NumPy's scalar arithmetic would warn on overflow).
    """
    dtype = ty.storage
    if type(x) is np.ndarray and x.dtype == dtype:
        return x
    return np.asarray(x, dtype=dtype)


def apply(ty: DType, ufunc, *args):
    """``ufunc(*args)``, with float warnings (inf - inf, overflow ...) silenced for floats.

    Integer ufunc loops on arrays never warn except for division, which sets its own
    error state; skipping ``np.errstate`` for them keeps small steps cheap.
    """
    if ty.is_float:
        with quiet():
            return ufunc(*args)
    return ufunc(*args)


def unsigned_of(ty: DType) -> np.dtype:
    """The unsigned integer dtype as wide as ``ty`` (for bit manipulation)."""
    return _UNSIGNED[ty.size]


def result(x: np.ndarray):
    """``x`` itself, or the NumPy scalar it holds when it is 0-d."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x
