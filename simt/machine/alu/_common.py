"""Shared helpers of the ALU: quiet NumPy, coercion to storage, integer limits.

The family modules' functions assume NumPy's floating-point errors are ignored,
as they are inside :func:`silenced` (every launch runs in it): they use NumPy's
scalar arithmetic and bare ufuncs, which would warn otherwise.  Callers outside
a launch use the checked forms of :mod:`simt.machine.alu`, which enter
:func:`silenced` per call.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ...isa.types import INT, DType

__all__ = ["INT_MIN", "INT_MAX", "apply", "has_nan", "quiet", "silenced", "storage",
           "unsigned_of", "result", "scalars", "checked", "count_nonzero"]

INT_MIN: dict[DType, int] = {t: -(1 << (t.bits - 1)) if t.is_signed_int else 0 for t in INT}
INT_MAX: dict[DType, int] = {t: (1 << (t.bits - 1 if t.is_signed_int else t.bits)) - 1
                             for t in INT}

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}


class _Silenced(threading.local):
    depth = 0


_silenced = _Silenced()


class quiet:
    """A context in which NumPy emits no floating-point or overflow warnings.

    Inside :func:`silenced` the error state is already ``ignore``, so entering
    costs nothing; entering ``np.errstate`` per instruction would cost about a
    microsecond.  (Only the fused multiply-add's internals still use it.)
    """

    __slots__ = ("_state",)

    def __enter__(self) -> None:
        if _silenced.depth:
            self._state = None
        else:
            self._state = np.errstate(all="ignore")
            self._state.__enter__()

    def __exit__(self, *exc) -> None:
        if self._state is not None:
            self._state.__exit__(*exc)


@contextlib.contextmanager
def silenced():
    """Ignore NumPy floating-point errors for a whole launch (see :class:`quiet`)."""
    with np.errstate(all="ignore"):
        _silenced.depth += 1
        try:
            yield
        finally:
            _silenced.depth -= 1


def scalars(ty: DType, a, b=None) -> bool:
    """Whether ``a`` (and ``b``) are NumPy scalars of ``ty.storage``.

    Functions then compute with NumPy's scalar arithmetic (Python operators), the
    same IEEE and wrapping arithmetic as its array loops at a tenth of a ufunc
    call's cost; it may set floating-point flags, which :func:`silenced` ignores.
    """
    t = ty.scalar
    return type(a) is t and (b is None or type(b) is t)


def checked(fn):
    """``fn`` made safe to call outside a launch: each call runs inside :func:`silenced`."""
    def call(*args, **kwargs):
        with np.errstate(all="ignore"):
            _silenced.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                _silenced.depth -= 1
    call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    call.__module__, call.__wrapped__ = fn.__module__, fn
    return call


def storage(ty: DType, x) -> np.ndarray:
    """``x`` as an array of ``ty.storage`` (no copy when it already is one).

    Scalars become 0-d arrays, so integer arithmetic runs in ufunc loops, which wrap
    silently (NumPy's scalar arithmetic would warn on overflow).
    """
    dtype = ty.storage
    if type(x) is np.ndarray and (x.dtype is dtype or x.dtype == dtype):
        return x
    return np.asarray(x, dtype=dtype)


def apply(ty: DType, ufunc, *args):
    """``ufunc(*args)`` (inside :func:`silenced`, float warnings are ignored)."""
    return ufunc(*args)


def unsigned_of(ty: DType) -> np.dtype:
    """The unsigned integer dtype as wide as ``ty`` (for bit manipulation)."""
    return _UNSIGNED[ty.size]


from ..thresholds import NAN_COUNT_MAX as _SHORT  # noqa: E402  (up to this many, count NaNs)
try:    # NumPy's C function itself: np.count_nonzero adds a Python-level dispatch per call
    from numpy._core._multiarray_umath import count_nonzero
except ImportError:                 # pragma: no cover - another NumPy layout
    count_nonzero = np.count_nonzero
_isnan, _count_nonzero, _min = np.isnan, count_nonzero, np.minimum.reduce


def has_nan(x: np.ndarray) -> bool:
    """Whether any element of the float array ``x`` is NaN.

    NumPy's own loops, never BLAS (whose threads would make the check's cost depend on
    the machine's load): a short array counts its NaNs, a long one takes its minimum,
    which is NaN exactly when an element is (one read, no temporary).  Neither warns.
    """
    if x.size <= _SHORT:
        return bool(_count_nonzero(_isnan(x)))
    m = _min(x, axis=None)
    return bool(m != m)


def result(x: np.ndarray):
    """``x`` itself, or the NumPy scalar it holds when it is 0-d."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x
