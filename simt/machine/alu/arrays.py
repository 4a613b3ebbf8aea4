"""The ALU's array kernels: what an instruction computes when both operands are arrays.

Inside a launch the executor's operands are already arrays of the type's storage dtype,
of one length, and NumPy's floating-point errors are ignored (:func:`silenced`), so the
checks and conversions of the general functions (:func:`~simt.machine.alu.add` ...) can
be skipped: :func:`array_kernel` gives, for one function and type, a function of two
arrays with the same result bit for bit, or None where the general function must run.
Integer add, sub, mul, and, or, xor are their ufunc (integer loops wrap and never warn);
float add, sub, mul are their ufunc plus the check for lanes with two NaN operands
(:func:`~simt.machine.alu.arith.first_nan`); integer min and max their ufunc, float min
and max the exact ufunc form of :func:`~simt.machine.alu.minimum` for arrays of one
shape (``_ordinary``); unsigned shl and every shr the ufunc with the count reduced
once (``_shift``).  Integer kernels also take one NumPy scalar operand (it broadcasts;
the ufuncs wrap alike on scalars and arrays).

:func:`interval_kernel` gives the f32/f64 add, sub, mul, min and max kernels that also
take the operands' intervals and return the result's
(:mod:`~simt.machine.alu.intervals`): with an interval known for an operand, the NaN
checks it makes unnecessary are skipped.
"""

from __future__ import annotations

from typing import Callable

import math
import operator

import numpy as np

from ...isa.types import DType
from . import arith, bits, intervals
from ..thresholds import NAN_COUNT_MAX as _SHORT
from ._common import count_nonzero as _count_nonzero
from ._common import unsigned_of

_isnan, _min, _copyto, _or = np.isnan, np.minimum.reduce, np.copyto, np.bitwise_or

__all__ = ["array_kernel", "scalar_kernel", "interval_kernel", "same_kernel"]

_UFUNCS = {arith.add: np.add, arith.sub: np.subtract, arith.mul: np.multiply,
           bits.and_: np.bitwise_and, bits.or_: np.bitwise_or, bits.xor: np.bitwise_xor}
_FLOAT = (arith.add, arith.sub, arith.mul)


def array_kernel(fn: Callable, ty: DType) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """``fn(ty, a, b)`` for two storage arrays inside a launch, or None.

    ``fn`` is an in-launch or a checked form (:mod:`simt.machine.alu`).
    """
    fn = getattr(fn, "__wrapped__", fn)
    if fn is arith.minimum or fn is arith.maximum:
        return _min_max(fn, ty)
    if fn is bits.shl or fn is bits.shr:
        return _shift(fn, ty)
    ufunc = _UFUNCS.get(fn)
    if ufunc is None or ty.size < 4 and ty.is_float:
        return None
    if ty.is_int:
        return ufunc
    if fn not in _FLOAT:
        return None
    raw = np.dtype(np.uint32 if ty.size == 4 else np.uint64)
    quiet = raw.type(1 << (22 if ty.size == 4 else 51))
    storage = ty.storage

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = ufunc(a, b)
        # arith.first_nan's rule: where a is NaN the result is a quieted, whatever b is;
        # elsewhere a NaN result has one NaN source (b) or none, which the ufunc got
        # right.  So only a NaN in a needs a look (has_nan(a) written out: a call costs
        # ~0.1 us an instruction), and then the fix is made in place on the fresh
        # result.  NaNs are common, not rare, in the inactive positions of a masked span
        # (their values are dead and unspecified), so the fix is two passes.
        if a.shape[0] <= _SHORT:
            nan = _isnan(a)
            if not _count_nonzero(nan):
                return out
        else:
            low = _min(a)
            if low == low:
                return out
            nan = _isnan(a)
        _copyto(out, _or(a.view(raw), quiet).view(storage), where=nan)
        return out
    return kernel


def _shift(fn: Callable, ty: DType) -> Callable | None:
    """The kernel of SHL or SHR for ``ty`` (operands: values, then u32 amounts), or None.

    Either operand may be an array, the other one NumPy scalar; the result is that of
    :func:`~simt.machine.alu.bits.shl` / :func:`~simt.machine.alu.bits.shr`: the count
    ``amount mod bits`` in the values' dtype (a 0-d count once for a uniform amount),
    then the ufunc.  Unsigned left shifts and every right shift (arithmetic on the signed
    dtype, as ``shr``); a signed left shift takes the general function.
    """
    left = fn is bits.shl
    if left and not ty.is_unsigned:
        return None
    ufunc = np.left_shift if left else np.right_shift
    dtype, mask = ty.storage, ty.bits - 1
    u32, mask32 = np.uint32, np.uint32(mask)
    same = dtype == np.dtype(np.uint32)
    band = np.bitwise_and

    # the last uniform amount and its count as a 0-d array (a ufunc takes a 0-d array
    # faster than a scalar); one tuple, read and replaced at once
    memo = [(None, None)]

    def kernel(x, amount):
        if type(amount) is u32:
            last = memo[0]
            if last[0] is not amount:
                last = memo[0] = amount, np.array(int(amount) & mask, dtype)
            return ufunc(x, last[1])
        count = band(amount, mask32)
        return ufunc(x, count if same else count.astype(dtype))
    return kernel


_OPERATORS = {arith.add: operator.add, arith.sub: operator.sub, arith.mul: operator.mul,
              bits.and_: operator.and_, bits.or_: operator.or_, bits.xor: operator.xor,
              arith.minimum: min, arith.maximum: max}


def scalar_kernel(fn: Callable, ty: DType) -> Callable | None:
    """``fn(ty, a, b)`` for two NumPy scalars of ``ty.scalar`` inside a launch, or None
    (SHL and SHR: ``b`` a ``np.uint32`` amount).

    Integers: NumPy's scalar operators wrap like its array loops (the overflow they
    flag is ignored inside :func:`~simt.machine.alu.silenced`); ``min``/``max`` of two
    integers is the smaller/larger one.  Floats (f32, f64): add, sub, mul by the
    scalar operator, whose IEEE result is the loop's except for which NaN a NaN result
    keeps, so a NaN result takes the general function; min and max by comparisons,
    with the rules of :func:`~simt.machine.alu.minimum` (a NaN operand is ignored, two
    NaNs give the first, ``min(-0, +0) = -0``, ``max(-0, +0) = +0``).
    """
    fn = getattr(fn, "__wrapped__", fn)
    if (fn is bits.shl or fn is bits.shr) and ty.is_int:
        return _shift_scalar(fn, ty)
    op = _OPERATORS.get(fn)
    if op is None or (ty.is_float and ty.size < 4):
        return None
    if ty.is_int:
        return op
    if fn is arith.minimum or fn is arith.maximum:
        return _float_min if fn is arith.minimum else _float_max
    if fn not in _FLOAT:
        return None

    def kernel(a, b):
        out = op(a, b)
        return out if out == out else fn(ty, a, b)
    return kernel


def _shift_scalar(fn: Callable, ty: DType) -> Callable:
    """SHL or SHR of a NumPy scalar of ``ty`` by a ``np.uint32`` amount: the scalar steps
    of :func:`~simt.machine.alu.bits.shl` / :func:`~simt.machine.alu.bits.shr`, with the
    count scalars (``amount mod bits``, in the dtype those functions use) made once."""
    mask, storage = ty.bits - 1, ty.storage
    if fn is bits.shr:
        right = tuple(ty.scalar(k) for k in range(ty.bits))
        return lambda a, amount: a >> right[int(amount) & mask]
    raw = unsigned_of(ty)
    left = tuple(raw.type(k) for k in range(ty.bits))
    if ty.is_unsigned:
        return lambda a, amount: a << left[int(amount) & mask]
    return lambda a, amount: (a.view(raw) << left[int(amount) & mask]).view(storage)


def _float_min(a, b):
    if b != b or a < b or (a == b and math.copysign(1.0, a) < 0):
        return a
    return b


def _float_max(a, b):
    if b != b or a > b or (a == b and math.copysign(1.0, a) > 0):
        return a
    return b


def _min_max(fn: Callable, ty: DType) -> Callable | None:
    """The array kernel of minimum or maximum (integers: the ufunc; f32/f64: ``_ordinary``)."""
    ufunc = np.minimum if fn is arith.minimum else np.maximum
    if ty.is_int:
        return ufunc
    if ty.size < 4:
        return None
    ordinary = arith._ordinary

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = ordinary(ufunc, a, b)
        return fn(ty, a, b) if out is None else out
    return kernel


_INTERVAL_RULES = {arith.add: intervals.add, arith.sub: intervals.sub, arith.mul: intervals.mul}


def interval_kernel(fn: Callable, ty: DType) -> Callable | None:
    """``fn(ty, a, b)`` with intervals, for f32/f64 add, sub, mul, min and max; else None.

    The kernel is ``kernel(a, b, ia, ib, out=None) -> (result, interval)``: ``ia`` and
    ``ib`` are the operands' intervals (None: unknown), the result the one of ``fn`` bit
    for bit and the interval the result's (None: unknown).  With ``out`` (add, sub, mul:
    an array of the result's shape and dtype sharing no memory with the operands) the
    ufunc computes into it, and the result is ``out`` or, when NaNs had to be resolved,
    a fresh array for the caller to copy there.  Operands: two arrays of one length;
    for add, sub and mul also an array and a NumPy scalar that is a number (whose
    interval is :func:`~simt.machine.alu.intervals.of_scalar`).

    add, sub, mul: an operand with an interval holds no NaN, so no lane has two NaN
    operands and the ufunc's result stands (:func:`~simt.machine.alu.arith.first_nan`
    is needed only for two NaNs); with neither known, the check runs, and finding no
    NaN makes :data:`~simt.machine.alu.intervals.NUMBERS` the result's interval.  min,
    max: the exact ufunc form with the fixes the intervals rule out skipped.
    """
    fn = getattr(fn, "__wrapped__", fn)
    if not ty.is_float or ty.size < 4:
        return None
    largest = intervals.LARGEST[ty.storage]
    if fn is arith.minimum or fn is arith.maximum:
        ufunc = np.minimum if fn is arith.minimum else np.maximum
        rule = intervals.minimum if fn is arith.minimum else intervals.maximum
        ordinary = arith._ordinary
        swapped, zeros = intervals.SWAPPED, intervals.ZEROS

        def extreme(a: np.ndarray, b: np.ndarray, ia, ib):
            # a +0 may meet a -0 only if one operand may hold +0 and the other -0
            za = zeros if ia is None else ia[2]
            zb = zeros if ib is None else ib[2]
            out = ordinary(ufunc, a, b, ia is not None and ib is not None,
                           not za & swapped[zb])
            if out is None:
                return fn(ty, a, b), None
            return out, rule(ia, ib)
        return extreme
    rule = _INTERVAL_RULES.get(fn)
    if rule is None:
        return None
    ufunc = _UFUNCS[fn]
    first_nan = arith.first_nan
    # the last (ia, ib, result interval), one tuple read and replaced at once (launches in
    # threads may share the kernel): loops repeat the same intervals
    memo = [(None, None, None)]

    def kernel(a, b, ia, ib, out=None):
        out = ufunc(a, b) if out is None else ufunc(a, b, out)
        if ia is None:
            if ib is not None:
                return out, None
            # has_nan(out) written out (a call costs ~0.1 us an instruction)
            if out.shape[0] <= _SHORT:
                if not _count_nonzero(_isnan(out)):
                    return out, intervals.NUMBERS
            else:
                low = _min(out)
                if low == low:
                    return out, intervals.NUMBERS
            return first_nan(ty, a, b, out), None
        if ib is None:
            return out, None
        last = memo[0]
        if (ia is last[0] or ia == last[0]) and (ib is last[1] or ib == last[1]):
            return out, last[2]
        found = rule(ia, ib, largest)
        memo[0] = ia, ib, found
        return out, found
    return kernel


def same_kernel(fn: Callable, ty: DType) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """``fn(ty, a, a)`` for f32/f64 add, sub and mul whose two operands are one register
    (the same array twice), inside a launch; else None.  The bare ufunc: no NaN check.

    Exact: the operands hold the same bits in every lane, so a lane with a NaN operand
    has two NaNs of one payload, and whichever of the two the loop returns (NumPy's
    loops may swap the operands, the reason for
    :func:`~simt.machine.alu.arith.first_nan`) is that payload quieted -- what
    ``first_nan`` gives (``a`` quieted where ``a`` is NaN).  Lanes with no NaN operand
    are the loop's IEEE result either way.  The same assumption as the interval path,
    where one operand is known to hold no NaN: the loop returns one operand's NaN,
    quieted.  The result's interval is unknown (no check looked for NaNs).
    """
    fn = getattr(fn, "__wrapped__", fn)
    if fn not in _FLOAT or not ty.is_float or ty.size < 4:
        return None
    return _UFUNCS[fn]
