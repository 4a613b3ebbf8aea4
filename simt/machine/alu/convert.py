"""CVT and MOV_IMM.

CVT follows Rust ``as`` on the pairs of :data:`simt.isa.table.CVT_PAIRS`: integers
sign-extend, zero-extend, wrap or reinterpret; integers convert to floats with one
round-to-nearest-even (NumPy's direct casts, never via another float type); floats
convert to integers by truncating toward zero and saturating, NaN giving 0; f64 -> f32
rounds to nearest even.  The extension pairs f16/bf16 <-> f32 go through
``np.float16`` / ``ml_dtypes.bfloat16`` on the raw 16-bit patterns (round to nearest
even).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...isa.table import CVT_PAIRS
from ...isa.types import DType
from ._common import INT_MAX, INT_MIN, result, scalars, storage, unsigned_of

__all__ = ["cvt", "cvt_supported", "mov_imm", "scalar_converter"]

_HALF = frozenset((DType.F16, DType.BF16))     # their .numpy: float16, bfloat16


def cvt_supported(src_ty: DType, dst_ty: DType) -> bool:
    """Whether ``cvt.<dst_ty>.<src_ty>`` exists."""
    return (src_ty, dst_ty) in CVT_PAIRS


def cvt(src_ty: DType, dst_ty: DType, a):
    """Convert values of ``src_ty`` (in its storage dtype) to ``dst_ty``'s storage dtype.

    Raises
    ------
    ValueError
        If the pair is not in ``CVT_PAIRS`` (callers check :func:`cvt_supported` first).
    """
    convert = _CONVERTERS.get((src_ty, dst_ty))
    if convert is None:
        raise ValueError(f"CVT from {src_ty.text} to {dst_ty.text} is not supported")
    if convert is _cast and scalars(src_ty, a):
        return a.astype(dst_ty.storage)     # a NumPy scalar casts with the arrays' loops
    if convert is _float_to_int and scalars(src_ty, a):
        x = float(a)
        if x != x:
            return dst_ty.scalar(0)
        return dst_ty.scalar(min(max(math.trunc(x) if abs(x) != math.inf else
                                     (INT_MAX[dst_ty] if x > 0 else INT_MIN[dst_ty]),
                                     INT_MIN[dst_ty]), INT_MAX[dst_ty]))
    return result(convert(src_ty, dst_ty, storage(src_ty, a)))


def scalar_converter(src_ty: DType, dst_ty: DType) -> Callable | None:
    """``cvt(src_ty, dst_ty, a)`` for one NumPy scalar ``a`` of ``src_ty.scalar``, bound
    once (the pair's converter looked up at decode, not per call); None for a pair that
    does not exist."""
    convert = _CONVERTERS.get((src_ty, dst_ty))
    if convert is None:
        return None
    if convert is _cast:
        storage = dst_ty.storage
        return lambda a: a.astype(storage)  # a NumPy scalar casts with the arrays' loops
    return lambda a: cvt(src_ty, dst_ty, a)


def _cast(src: DType, dst: DType, x: np.ndarray) -> np.ndarray:
    """Integer wrap / extension / reinterpretation, int -> float, f32 <-> f64, identity."""
    return x.astype(dst.storage, copy=True)


def _from_half(src: DType, dst: DType, x: np.ndarray) -> np.ndarray:
    return x.view(src.numpy).astype(dst.storage)


def _to_half(src: DType, dst: DType, x: np.ndarray) -> np.ndarray:
    return x.astype(dst.numpy).view(np.uint16)


def _float_to_int(src: DType, dst: DType, x: np.ndarray) -> np.ndarray:
    """Truncate toward zero, saturate to ``dst``'s range, NaN -> 0."""
    low = src.storage.type(INT_MIN[dst])          # 0 or -2**(bits-1): exact
    past = src.storage.type(INT_MAX[dst] + 1)     # 2**bits or 2**(bits-1): exact
    if x.ndim and np.count_nonzero((x >= low) & (x < past)) == x.size:
        return x.astype(dst.storage)    # every value in range (no NaN): the cast truncates
    t = np.trunc(x)
    inside = (t >= low) & (t < past)              # False for NaN
    out = np.where(inside, t, 0).astype(dst.storage)
    out = np.where(t >= past, dst.storage.type(INT_MAX[dst]), out)
    return np.where(t < low, dst.storage.type(INT_MIN[dst]), out)


def _converter(src: DType, dst: DType) -> Callable[[DType, DType, np.ndarray], np.ndarray]:
    if src in _HALF:
        return _from_half
    if dst in _HALF:
        return _to_half
    if src.is_float and dst.is_int:
        return _float_to_int
    return _cast


_CONVERTERS = {pair: _converter(*pair) for pair in CVT_PAIRS}


def mov_imm(ty: DType, value: int):
    """The immediate ``value`` (a u64) as a ``ty.storage`` scalar.

    The low ``8 * size`` bits of ``value`` are the result's bit pattern: two's complement
    for signed integers, IEEE bits for f32/f64, the raw 16 bits for f16/bf16.
    """
    raw = int(value) & ((1 << ty.bits) - 1)
    return np.array(raw, dtype=unsigned_of(ty)).view(ty.storage)[()]
