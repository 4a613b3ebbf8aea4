"""AND OR XOR NOT SHL SHR on the eight integer types."""

from __future__ import annotations

import numpy as np

from ...isa.types import DType
from ._common import result, scalars, storage, unsigned_of

__all__ = ["and_", "or_", "xor", "not_", "shl", "shr"]


def and_(ty: DType, a, b):
    """Bitwise and."""
    if scalars(ty, a, b):
        return a & b
    return np.bitwise_and(storage(ty, a), storage(ty, b))


def or_(ty: DType, a, b):
    """Bitwise or."""
    if scalars(ty, a, b):
        return a | b
    return np.bitwise_or(storage(ty, a), storage(ty, b))


def xor(ty: DType, a, b):
    """Bitwise exclusive or."""
    if scalars(ty, a, b):
        return a ^ b
    return np.bitwise_xor(storage(ty, a), storage(ty, b))


def not_(ty: DType, a):
    """Bitwise complement."""
    if scalars(ty, a):
        return ~a
    return np.invert(storage(ty, a))


def _count(ty: DType, amount, dtype: np.dtype) -> np.ndarray:
    """The shift count ``amount mod bits(ty)`` (``amount`` is a u32 register value)."""
    return (np.asarray(amount, dtype=np.uint32) & np.uint32(ty.bits - 1)).astype(dtype)


def shl(ty: DType, a, amount):
    """Shift left by ``amount mod bits``; bits shifted out are lost.

    Parameters
    ----------
    ty
        An integer type; ``a`` holds ``ty.storage`` values.
    a
        The values to shift.
    amount
        ``uint32`` shift amounts (the REF requires a u32 register for every ``ty``).
    """
    bits = unsigned_of(ty)
    if type(amount) is np.uint32:       # one amount for every lane: a scalar count
        count = bits.type(int(amount) & (ty.bits - 1))
        if scalars(ty, a):
            if ty.is_unsigned:
                return a << count
            return (a.view(bits) << count).view(ty.storage)
    else:
        count = _count(ty, amount, bits)
    x = storage(ty, a)
    if ty.is_unsigned:
        return np.left_shift(x, count)
    return result(np.asarray(np.left_shift(x.view(bits), count)).view(ty.storage))


def shr(ty: DType, a, amount):
    """Shift right by ``amount mod bits``: arithmetic for signed types, logical for unsigned."""
    if type(amount) is np.uint32:
        count = ty.scalar(int(amount) & (ty.bits - 1))
        if scalars(ty, a):
            return a >> count
    else:
        count = _count(ty, amount, ty.storage)
    return np.right_shift(storage(ty, a), count)
