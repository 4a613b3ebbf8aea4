"""SETcc: compare two registers into a predicate."""

from __future__ import annotations

import operator

import numpy as np

from ...isa.table import BY_NAME, Condition
from ...isa.types import DType
from ._common import scalars, storage

__all__ = ["setcc", "cond_supported", "compare_ufunc", "compare_operator"]

_COMPARE = {
    Condition.EQ: np.equal, Condition.NE: np.not_equal,
    Condition.LT: np.less, Condition.LE: np.less_equal,
    Condition.GT: np.greater, Condition.GE: np.greater_equal,
    Condition.LTU: np.less, Condition.LEU: np.less_equal,
    Condition.GTU: np.greater, Condition.GEU: np.greater_equal,
}
_OPERATORS = {np.equal: operator.eq, np.not_equal: operator.ne, np.less: operator.lt,
              np.less_equal: operator.le, np.greater: operator.gt,
              np.greater_equal: operator.ge}
_SCALAR_COMPARE = {cond: _OPERATORS[fn] for cond, fn in _COMPARE.items()}
_SETCC_TYPES = BY_NAME["SETcc"].types


def cond_supported(ty: DType, cond: Condition) -> bool:
    """Whether ``set<cond>.<ty>`` executes: LTU/LEU/GTU/GEU only on unsigned integers."""
    return ty in _SETCC_TYPES and (ty.is_unsigned or not cond.unsigned_only)


def setcc(ty: DType, cond: Condition, a, b):
    """``a cond b`` as a bool array.

    Integers compare as ordinary (signed or unsigned) numbers; the ``u`` conditions
    equal their plain forms on unsigned types.  Floats compare IEEE-ordered: any NaN
    makes every condition false except NE, which is true.
    """
    if scalars(ty, a, b):
        return _SCALAR_COMPARE[cond](a, b)
    return _COMPARE[cond](storage(ty, a), storage(ty, b))


def compare_ufunc(cond: Condition):
    """The ufunc :func:`setcc` compares arrays of one storage dtype with (or a 0-d array)."""
    return _COMPARE[cond]


def compare_operator(cond: Condition):
    """The operator :func:`setcc` compares two NumPy scalars of the type with."""
    return _SCALAR_COMPARE[cond]
