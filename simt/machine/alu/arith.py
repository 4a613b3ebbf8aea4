"""ADD SUB MUL DIV MAD MIN MAX ABS NEG: integers wrap, floats follow IEEE 754."""

from __future__ import annotations

import numpy as np

from ...isa.types import DType
from ._common import quiet, result, storage, unsigned_of

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
    with quiet():
        return np.add(storage(ty, a), storage(ty, b))


def sub(ty: DType, a, b):
    """``a - b``; integers wrap, floats IEEE."""
    with quiet():
        return np.subtract(storage(ty, a), storage(ty, b))


def mul(ty: DType, a, b):
    """``a * b``; integers keep the low ``bits`` bits of the product, floats IEEE."""
    with quiet():
        return np.multiply(storage(ty, a), storage(ty, b))


def div(ty: DType, a, b):
    """``a / b``.

    Integers truncate toward zero and ``MIN / -1 = MIN``.  Lanes whose divisor is 0
    get an unspecified value (the caller faults them before writing anything).
    Floats follow IEEE (``x / 0`` is ``±inf`` or NaN).
    """
    a, b = storage(ty, a), storage(ty, b)
    with quiet():
        if ty.is_float:
            return np.true_divide(a, b)
        if ty.is_unsigned:
            return result(np.floor_divide(a, np.where(b == 0, 1, b).astype(b.dtype)))
        return result(_signed_div(a, b))


def _signed_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Truncating signed division; ``b == -1`` is a wrapping negation, ``b == 0`` gives ``a``."""
    safe = np.where((b == 0) | (b == -1), 1, b).astype(b.dtype)
    q, r = np.divmod(a, safe)
    q = q + ((r != 0) & ((a < 0) != (safe < 0))).astype(q.dtype)
    return np.where(b == -1, np.negative(a), q)


def mad(ty: DType, a, b, c):
    """``a * b + c`` rounded twice for floats (the product is rounded to ``ty`` first)."""
    with quiet():
        return np.add(np.multiply(storage(ty, a), storage(ty, b)), storage(ty, c))


def minimum(ty: DType, a, b):
    """Minimum; for floats a single NaN operand is ignored (``np.fmin``)."""
    fn = np.fmin if ty.is_float else np.minimum
    return fn(storage(ty, a), storage(ty, b))


def maximum(ty: DType, a, b):
    """Maximum; for floats a single NaN operand is ignored (``np.fmax``)."""
    fn = np.fmax if ty.is_float else np.maximum
    return fn(storage(ty, a), storage(ty, b))


def abs_(ty: DType, a):
    """Absolute value: signed integers wrap (``abs(MIN) = MIN``); floats clear the sign bit."""
    if ty.is_float:
        return _sign_bit(ty, a, np.bitwise_and, ~_sign_mask(ty))
    with quiet():
        return np.abs(storage(ty, a))


def neg(ty: DType, a):
    """Negation: signed integers wrap (``-MIN = MIN``); floats flip the sign bit."""
    if ty.is_float:
        return _sign_bit(ty, a, np.bitwise_xor, _sign_mask(ty))
    with quiet():
        return np.negative(storage(ty, a))


def _sign_mask(ty: DType):
    return unsigned_of(ty).type(1 << (ty.bits - 1))


def _sign_bit(ty: DType, a, op, mask):
    """Apply ``op(bits, mask)`` to the raw bits of float values (NaN payloads survive)."""
    bits = storage(ty, a).view(unsigned_of(ty))
    return result(np.asarray(op(bits, mask)).view(ty.storage))
