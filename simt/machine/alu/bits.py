"""AND OR XOR NOT SHL SHR on the eight integer types."""

from __future__ import annotations

import numpy as np

from ...isa.types import DType
from ._common import result, storage, unsigned_of

__all__ = ["and_", "or_", "xor", "not_", "shl", "shr"]


def and_(ty: DType, a, b):
    """Bitwise and."""
    return np.bitwise_and(storage(ty, a), storage(ty, b))


def or_(ty: DType, a, b):
    """Bitwise or."""
    return np.bitwise_or(storage(ty, a), storage(ty, b))


def xor(ty: DType, a, b):
    """Bitwise exclusive or."""
    return np.bitwise_xor(storage(ty, a), storage(ty, b))


def not_(ty: DType, a):
    """Bitwise complement."""
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
    bits = storage(ty, a).view(unsigned_of(ty))
    shifted = np.left_shift(bits, _count(ty, amount, bits.dtype))
    return result(np.asarray(shifted).view(ty.storage))


def shr(ty: DType, a, amount):
    """Shift right by ``amount mod bits``: arithmetic for signed types, logical for unsigned."""
    a = storage(ty, a)
    return np.right_shift(a, _count(ty, amount, a.dtype))
