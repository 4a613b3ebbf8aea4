"""The ALU's array kernels: what an instruction computes when both operands are arrays.

Inside a launch the executor's operands are already arrays of the type's storage dtype,
of one length, and NumPy's floating-point errors are ignored (:func:`silenced`), so the
checks and conversions of the general functions (:func:`~simt.machine.alu.add` ...) can
be skipped: :func:`array_kernel` gives, for one function and type, a function of two
arrays with the same result bit for bit, or None where the general function must run.
Integer add, sub, mul, and, or, xor are their ufunc (integer loops wrap and never warn);
float add, sub, mul are their ufunc plus the check for lanes with two NaN operands
(:func:`~simt.machine.alu.arith.first_nan`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...isa.types import DType
from . import arith, bits
from ._common import has_nan

__all__ = ["array_kernel"]

_UFUNCS = {arith.add: np.add, arith.sub: np.subtract, arith.mul: np.multiply,
           bits.and_: np.bitwise_and, bits.or_: np.bitwise_or, bits.xor: np.bitwise_xor}
_FLOAT = (arith.add, arith.sub, arith.mul)


def array_kernel(fn: Callable, ty: DType) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """``fn(ty, a, b)`` for two storage arrays inside a launch, or None.

    ``fn`` is an in-launch or a checked form (:mod:`simt.machine.alu`).
    """
    fn = getattr(fn, "__wrapped__", fn)
    ufunc = _UFUNCS.get(fn)
    if ufunc is None or ty.size < 4 and ty.is_float:
        return None
    if ty.is_int:
        return ufunc
    if fn not in _FLOAT:
        return None
    first_nan = arith.first_nan

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = ufunc(a, b)
        if has_nan(out):        # a NaN somewhere: which operand it came from
            return first_nan(ty, a, b, out)
        return out
    return kernel
