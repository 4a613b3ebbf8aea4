"""ReduceAdd/Min/Max/Mul: a sequential left fold over consecutive registers of a lane."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...isa.types import DType
from ._common import INT_MAX, INT_MIN, result
from .arith import add, maximum, minimum, mul

__all__ = ["reduce", "identity"]

_STEP = {"add": add, "mul": mul, "min": minimum, "max": maximum}


def identity(op: str, ty: DType):
    """The fold's start value: 0, 1, the type's MAX (+inf) for min, MIN (-inf) for max."""
    if op == "add":
        value = 0
    elif op == "mul":
        value = 1
    elif ty.is_float:
        value = np.inf if op == "min" else -np.inf
    else:
        value = INT_MAX[ty] if op == "min" else INT_MIN[ty]
    return ty.storage.type(value)


def reduce(op: str, ty: DType, rows: Sequence, lanes: int | None = None):
    """Fold ``op`` over ``rows`` in register order, starting from the identity.

    Parameters
    ----------
    op
        ``"add"``, ``"min"``, ``"max"`` or ``"mul"``.
    ty
        I32, I64, F32 or F64 (any numeric type works).
    rows
        One array (or scalar) of ``ty.storage`` per source register, in register order.
    lanes
        The lane count: the result is broadcast to ``(lanes,)`` when given.

    Returns
    -------
    numpy.ndarray or numpy scalar
        ``((identity op rows[0]) op rows[1]) ...`` with each step one call of
        :func:`add`, :func:`mul`, :func:`minimum` or :func:`maximum`: integers wrap,
        floats are combined sequentially in IEEE arithmetic (not pairwise), min/max
        ignore NaN (so an all-NaN float min is ``+inf``).  No rows give the identity.
    """
    step = _STEP[op]
    acc = identity(op, ty)
    for row in rows:
        acc = step(ty, acc, row)
    if lanes is not None:
        return np.broadcast_to(acc, (lanes,)).copy()
    return result(acc)
