"""Instruction semantics on compressed values, where the result stays compressed.

Each function returns a compressed result or ``None`` when it cannot (the
kernel then computes on arrays as usual).  Nothing here recognizes programs:
these are properties of values (uniform, affine in the lane index) that any
kernel with such values enjoys (contract §8).

Why the results are exact:

* ``add``/``sub``/``mul``/``shl`` on integers: wrapping to the type is a ring
  homomorphism, so ``wrap(b1 + s1 l) + wrap(b2 + s2 l) = wrap((b1 + b2) + (s1 + s2) l)``
  (and ``*`` by a uniform, ``<<`` by a uniform amount, likewise).
* CVT between integer types: narrowing and same-width reinterpretation wrap
  again (``wrap_n(wrap_m(x)) = wrap_n(x)`` for n <= m); widening keeps the value
  only if no lane of the piece wrapped, which :meth:`Affine.exact_on` checks.
* comparisons of an exact affine value with a uniform one are monotone in the
  lane index, so the predicate is a :class:`Cut`.
"""

from __future__ import annotations

from ..isa.table import Condition
from ..isa.types import DType
from .lanes import LaneSet
from .values import Affine, Cut

__all__ = ["arith", "convert", "compare"]


def _affine(x, ty: DType) -> Affine | None:
    return x if isinstance(x, Affine) and ty.is_int else None


def arith(name: str, ty: DType, a, b) -> Affine | None:
    """ADD, SUB, MUL, SHL of two compressed integer values (MUL/SHL: one side uniform)."""
    a, b = _affine(a, ty), _affine(b, ty if name != "SHL" else DType.U32)
    if a is None or b is None:
        return None
    if name == "ADD":
        return Affine(a.base + b.base, a.stride + b.stride, a.dtype)
    if name == "SUB":
        return Affine(a.base - b.base, a.stride - b.stride, a.dtype)
    if name == "MUL":
        if b.stride == 0:
            return Affine(a.base * b.base, a.stride * b.base, a.dtype)
        if a.stride == 0:
            return Affine(a.base * b.base, b.stride * a.base, a.dtype)
        return None
    if name == "SHL" and b.stride == 0:
        count = (b.base % (1 << 32)) % ty.bits
        return Affine(a.base << count, a.stride << count, a.dtype)
    return None


def convert(src: DType, dst: DType, a, n: int) -> Affine | None:
    """CVT of an affine integer value between integer types."""
    if not (isinstance(a, Affine) and src.is_int and dst.is_int):
        return None
    if dst.size <= src.size or a.exact_on(0, n):
        return Affine(a.base, a.stride, dst.storage)
    return None


_SWAP = {Condition.LT: Condition.GT, Condition.LE: Condition.GE, Condition.GT: Condition.LT,
         Condition.GE: Condition.LE, Condition.LTU: Condition.GTU, Condition.LEU: Condition.GEU,
         Condition.GTU: Condition.LTU, Condition.GEU: Condition.LEU}
_BASE = {Condition.LTU: Condition.LT, Condition.LEU: Condition.LE, Condition.GTU: Condition.GT,
         Condition.GEU: Condition.GE}


def _at_least(a: Affine, c: int) -> Cut:
    """The lanes where ``a(lane) >= c`` (``a`` exact and not uniform)."""
    if a.stride > 0:
        return Cut(-((a.base - c) // a.stride), above=True)      # ceil((c - base) / stride)
    return Cut((a.base - c) // -a.stride + 1, above=False)


def compare(ty: DType, cond: Condition, a, b, lanes: LaneSet) -> Cut | None:
    """SETcc of an exact affine integer value against a uniform one, as a :class:`Cut`."""
    if not (ty.is_int and lanes.is_range and isinstance(a, Affine) and isinstance(b, Affine)):
        return None
    if a.stride == 0 and b.stride != 0:
        a, b, cond = b, a, _SWAP.get(cond, cond)
    if a.stride == 0 or b.stride != 0 or not a.exact_on(lanes.lo, lanes.hi) \
            or not b.exact_on(0, 1):
        return None
    cond = _BASE.get(cond, cond)
    c = b.raw(0)
    if cond is Condition.GE:
        return _at_least(a, c)
    if cond is Condition.GT:
        return _at_least(a, c + 1)
    if cond in (Condition.LT, Condition.LE):
        cut = _at_least(a, c if cond is Condition.LT else c + 1)
        return Cut(cut.k, not cut.above)
    return None

