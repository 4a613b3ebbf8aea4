"""ADD SUB MUL DIV MAD MIN MAX ABS NEG: integers wrap, floats follow IEEE 754."""

from __future__ import annotations

import math
import operator

import numpy as np

from ...isa.types import DType
from ..thresholds import NAN_COUNT_MAX as _SHORT
from ._common import apply, count_nonzero, has_nan, result, scalars, storage, unsigned_of

__all__ = ["add", "sub", "mul", "div", "mad", "minimum", "maximum", "abs_", "neg"]


def add(ty: DType, a, b):
    """``a + b``; integers wrap modulo ``2**bits``, floats round to nearest even.

    Parameters
    ----------
    ty
        The instruction type; ``a`` and ``b`` hold ``ty.storage`` values.
    a, b
        Arrays (or scalars) of ``ty.storage``; they broadcast.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The sum, of ``ty.storage``.
    """
    return _arith(ty, np.add, a, b)


def sub(ty: DType, a, b):
    """``a - b``; integers wrap, floats IEEE."""
    return _arith(ty, np.subtract, a, b)


def mul(ty: DType, a, b):
    """``a * b``; integers keep the low ``bits`` bits of the product, floats IEEE."""
    return _arith(ty, np.multiply, a, b)


_OPERATORS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul}


def _arith(ty: DType, ufunc, a, b):
    ta, tb = type(a), type(b)
    if ta is tb and ta is ty.scalar:
        out = _OPERATORS[ufunc](a, b)
        if not ty.is_float or out == out:   # a NaN takes the general path (operand order)
            return out
    elif ta is np.ndarray and tb is np.ndarray and a.dtype is ty.storage \
            and b.dtype is ty.storage and a.ndim and b.ndim:
        out = ufunc(a, b)
        if not ty.is_float or not has_nan(out):
            return out
        return first_nan(ty, a, b, out)
    elif ((ta is np.ndarray and tb is ty.scalar and a.dtype is ty.storage and a.ndim)
          or (tb is np.ndarray and ta is ty.scalar and b.dtype is ty.storage and b.ndim)):
        # an array and one uniform value: a number beside every lane means no lane has
        # two NaN operands, so the loop's result stands
        out = ufunc(a, b)
        if not ty.is_float or (a == a if ta is ty.scalar else b == b):
            return out
    a, b = storage(ty, a), storage(ty, b)
    out = apply(ty, ufunc, a, b)
    return first_nan(ty, a, b, out) if ty.is_float else out


def first_nan(ty: DType, a, b, out):
    """Where both operands are NaN, the first one, quieted (as x86 and the REF return).

    NumPy's loops do not keep operand order for NaNs: vector-scalar and some tail
    elements of ``add``/``multiply`` compute ``b op a``.  Lanes with one NaN operand
    are right either way, so only results that are NaN need a look (one reduction).
    """
    if type(out) is not np.ndarray or out.ndim == 0:
        if out == out:                                  # a number
            return out
    elif (a.ndim == 0 and a == a) or (b.ndim == 0 and b == b):
        return out                      # a uniform operand that is a number: no lane has two NaNs
    elif not has_nan(out) or (a.ndim and not has_nan(a)):
        return out          # with no NaN in a, a NaN result has its one right source already
    # a NaN a gives a quieted, whatever b is (and one NaN operand gives that one anyway)
    bits = unsigned_of(ty)
    quieted = (np.asarray(a).view(bits) | bits.type(1 << (22 if ty is DType.F32 else 51))
               ).view(ty.storage)
    return result(np.where(np.isnan(a), quieted, out))


def div(ty: DType, a, b):
    """``a / b``.

    Integers truncate toward zero and ``MIN / -1 = MIN``.  Lanes whose divisor is 0
    get an unspecified value (the caller faults them before writing anything).
    Floats follow IEEE (``x / 0`` is ``±inf`` or NaN).
    """
    if scalars(ty, a, b):
        if ty.is_float:
            out = a / b
            if out == out:      # a NaN takes the general path (operand order)
                return out
        elif b:
            if ty.is_unsigned:
                return a // b
            x, y = int(a), int(b)      # truncate toward zero, then wrap (MIN / -1)
            q = abs(x) // abs(y)
            return _wrap(ty, q if (x < 0) == (y < 0) else -q)
    a, b = storage(ty, a), storage(ty, b)
    if ty.is_float:
        return first_nan(ty, a, b, np.true_divide(a, b))
    if ty.is_unsigned:
        return result(np.floor_divide(a, np.where(b == 0, 1, b).astype(b.dtype)))
    return result(_signed_div(a, b))


def _signed_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Truncating signed division; ``b == -1`` is a wrapping negation, ``b == 0`` gives ``a``."""
    safe = np.where((b == 0) | (b == -1), 1, b).astype(b.dtype)
    q, r = np.divmod(a, safe)
    q = q + ((r != 0) & ((a < 0) != (safe < 0))).astype(q.dtype)
    return np.where(b == -1, np.negative(a), q)


def _wrap(ty: DType, x: int) -> np.generic:
    """The integer ``x`` wrapped to ``ty``, as a NumPy scalar."""
    bits = ty.bits
    x &= (1 << bits) - 1
    if ty.is_signed_int and x >= 1 << (bits - 1):
        x -= 1 << bits
    return ty.scalar(x)


def mad(ty: DType, a, b, c):
    """``a * b + c`` rounded twice for floats (the product is rounded to ``ty`` first)."""
    if ty.is_float:
        return add(ty, mul(ty, a, b), c)
    if scalars(ty, a, b) and type(c) is ty.scalar:
        return a * b + c
    return apply(ty, _mad, storage(ty, a), storage(ty, b), storage(ty, c))


def _mad(a, b, c):
    return np.add(np.multiply(a, b), c)


def minimum(ty: DType, a, b):
    """Minimum; for floats a NaN operand (quiet or signalling) is ignored.

    Both NaN gives NaN (the first operand, bit for bit).  The REF leaves the sign of
    ``min(-0.0, +0.0)`` unspecified; here it is ``-0.0`` (IEEE 754-2019
    ``minimumNumber``).  The choice is made by comparisons and a select, so the result
    is always one of the operands' exact bit patterns -- ``np.fmin`` is not used
    because its scalar and SIMD paths disagree on signalling NaNs and signed zeros.
    """
    if not ty.is_float and scalars(ty, a, b):
        return a if a <= b else b
    a, b = storage(ty, a), storage(ty, b)
    if not ty.is_float:
        return np.minimum(a, b)
    if a.ndim == 0 and b.ndim == 0:     # one value each (uniform operands): decide in Python
        x, y = float(a), float(b)
        return a[()] if y != y or x < y or (x == y and math.copysign(1.0, x) < 0) else b[()]
    fast = _ordinary(np.minimum, a, b)
    if fast is not None:
        return fast
    return _select(a, b, np.less(a, b) | (np.equal(a, b) & np.signbit(a)))


def maximum(ty: DType, a, b):
    """Maximum; for floats a NaN operand is ignored and ``max(-0.0, +0.0) = +0.0``."""
    if not ty.is_float and scalars(ty, a, b):
        return a if a >= b else b
    a, b = storage(ty, a), storage(ty, b)
    if not ty.is_float:
        return np.maximum(a, b)
    if a.ndim == 0 and b.ndim == 0:
        x, y = float(a), float(b)
        return a[()] if y != y or x > y or (x == y and math.copysign(1.0, x) > 0) else b[()]
    fast = _ordinary(np.maximum, a, b)
    if fast is not None:
        return fast
    return _select(a, b, np.greater(a, b) | (np.equal(a, b) & ~np.signbit(a)))


def _ordinary(ufunc, a: np.ndarray, b: np.ndarray, numbers: bool = False,
              one_zero: bool = False) -> np.ndarray | None:
    """``ufunc(a, b)`` (np.minimum or np.maximum) made exact, for two arrays of one shape.

    NumPy's minimum and maximum return one operand exactly for numbers; NaN lanes
    take the other operand (``b`` NaN: ``a``, so two NaNs give ``a``), and equal
    operands the AND (max) or OR (min) of their bit patterns: the same number, and
    for -0 and +0 the right zero.  Both propagate a NaN operand, so the operands are
    looked at only when the result holds a NaN: no NaN and no zero result (the usual
    case) costs three calls.  The caller may know more (the operands' intervals,
    :mod:`simt.machine.alu.intervals`): ``numbers``, that neither operand holds a NaN
    (no NaN to fix); ``one_zero``, that no lane has a ``+0`` and a ``-0`` operand (two
    equal zeros then have one sign, which NumPy's result has: no zero to fix).
    """
    if a.shape != b.shape or a.ndim != 1:
        return None
    out = ufunc(a, b)
    if not numbers and has_nan(out):
        if has_nan(a):
            out = np.where(np.isnan(a), b, out)
        if has_nan(b):
            out = np.where(np.isnan(b), a, out)
    if one_zero:
        return out
    if (count_nonzero(out) != out.size if out.size <= _SHORT   # NumPy counts long float
            else count_nonzero(np.equal(out, _ZERO[out.dtype]))):  # arrays slowly
        equal = np.equal(a, b)
        if equal.any():
            bits = a.dtype.itemsize == 4 and np.uint32 or np.uint64
            join = np.bitwise_and if ufunc is np.maximum else np.bitwise_or
            out = np.where(equal, join(a.view(bits), b.view(bits)).view(a.dtype), out)
    return out


def _zero(dtype) -> np.ndarray:
    zero = np.zeros((), dtype)
    zero.flags.writeable = False
    return zero


# a 0-d zero of each float dtype: NumPy compares with it faster than with the Python 0
_ZERO = {np.dtype(t): _zero(t) for t in (np.float32, np.float64)}


def _select(a: np.ndarray, b: np.ndarray, a_wins: np.ndarray):
    """``a`` where it wins or ``b`` is NaN, else ``b``."""
    return result(np.where(a_wins | np.isnan(b), a, b))


def abs_(ty: DType, a):
    """Absolute value: signed integers wrap (``abs(MIN) = MIN``); floats clear the sign bit."""
    if ty.is_float:
        return _sign_bit(ty, a, np.bitwise_and, ~_sign_mask(ty))
    if scalars(ty, a):
        return abs(a)
    return np.abs(storage(ty, a))


def neg(ty: DType, a):
    """Negation: signed integers wrap (``-MIN = MIN``); floats flip the sign bit."""
    if ty.is_float:
        return _sign_bit(ty, a, np.bitwise_xor, _sign_mask(ty))
    if scalars(ty, a):
        return -a
    return np.negative(storage(ty, a))


def _sign_mask(ty: DType):
    return _SIGN_MASKS[ty]


_SIGN_MASKS = {t: unsigned_of(t).type(1 << (t.bits - 1)) for t in (DType.F32, DType.F64)}


def _sign_bit(ty: DType, a, op, mask):
    """Apply ``op(bits, mask)`` to the raw bits of float values (NaN payloads survive)."""
    if scalars(ty, a):
        return _BIT_OPERATORS[op](a.view(unsigned_of(ty)), mask).view(ty.storage)
    x = storage(ty, a)
    if x.ndim:      # into a fresh array of the float type, which a row can adopt as is
        out = np.empty(x.shape, ty.storage)
        op(x.view(unsigned_of(ty)), mask, out=out.view(unsigned_of(ty)))
        return out
    return result(np.asarray(op(x.view(unsigned_of(ty)), mask)).view(ty.storage))


_BIT_OPERATORS = {np.bitwise_and: operator.and_, np.bitwise_xor: operator.xor}
