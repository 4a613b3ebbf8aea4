"""Instruction semantics on compressed values, where the result stays compressed.

:data:`RULES` is the one table of which instructions may keep a compressed
result: a kernel binds its rule once, at decode (:func:`bind`), and the rule
returns a compressed result or ``None`` when it cannot (the kernel then
computes on arrays as usual).  Rules work on the forms' ``parts()`` (the
protocol of :mod:`simt.machine.values`), so any integer form composes with any
other.  Nothing here recognizes programs: these are properties of values
(uniform, affine in the lane index, digits of it) that any kernel with such
values enjoys (docs/performance.md).

Why the results are exact:

* ``add``/``sub``/``mul``/``shl`` on integers: wrapping to the type is a ring
  homomorphism, so ``wrap(b1 + s1 l) + wrap(b2 + s2 l) = wrap((b1 + b2) + (s1 + s2) l)``
  (and ``*`` by a uniform, ``<<`` by a uniform amount, likewise).  The same holds
  component-wise for tiled values ``base + inner (l mod P) + outer (l div P)`` with
  one period ``P``; an affine value is the tiled value with ``outer = stride P``.
* CVT between integer types: narrowing and same-width reinterpretation wrap
  again (``wrap_n(wrap_m(x)) = wrap_n(x)`` for n <= m); widening keeps the value
  only if no lane of the piece wrapped, which :meth:`Affine.exact_on` checks.
* comparisons of an integer form with a uniform one, when no lane wraps: if
  the form's bounds lie on one side every lane agrees (a :class:`Const`); if
  the form varies with one digit ``(lane // u) % r`` only (an affine value, a
  tiled one that varies only with the lane's index in its tile or only with
  the tile, threadIdx.y of a 2-D block) it is monotone in that digit, so the
  predicate is a :class:`Cut`: a half-line (``<``, ``>=`` ...) or a window of
  one digit value (``==``, ``!=``) of ``lane % (u r)``.
* :class:`Digits` (``base + sum(c_k * digit_k(lane))`` over a mixed-radix lane):
  a digit ``(lane // u) % r`` splits at any ``e`` with ``u | e`` and
  ``e | u r`` into ``(lane // u) % (e/u) + (e/u) * ((lane // e) % (u r / e))``,
  so two values whose digit boundaries form one divisibility chain are
  rewritten over the same digits, where ``+``, ``-``, ``*`` and ``<<`` by a uniform
  act coefficient-wise as above.
* SHR, DIV and AND by a uniform ``d``: split the digits until every coefficient
  is a multiple of ``d`` (the high part ``H``) or belongs to a digit of finite
  radix (the low part ``L``), and write ``base = d B + b0`` with ``0 <= b0 < d``.
  When ``0 <= b0 + L < d`` for every digit value, ``x = d (B + H/d) + (b0 + L)``
  gives ``floor(x / d) = B + H/d`` and ``x mod d = b0 + L`` exactly.  SHR (floor
  for both signednesses) and DIV (truncation: only when no lane is negative)
  also need the unwrapped value not to wrap over the piece; AND with ``d - 1``
  does not, since ``d`` divides the type's modulus.
"""

from __future__ import annotations

from math import gcd
from typing import Any, Callable, Sequence

import numpy as np

from ..isa.table import Condition
from ..isa.types import DType
from .lanes import LaneSet
from .values import Affine, Const, Cut, Digits, Parts, Tiled, digits, int_range, tiled

__all__ = ["RULES", "bind", "arith", "split", "bit", "convert", "compare", "comparer",
           "COMPRESS_MIN_LANES"]

#: Pieces with fewer lanes compute affine values as arrays instead: on a few dozen
#: lanes one NumPy call costs less than the Python arithmetic on a compressed value and
#: its later materialization (measured on 32 lanes: about 1.5 us per instruction saved).
from .thresholds import COMPRESS_MIN_LANES  # noqa: E402

#: A rule bound to one instruction: ``rule(values, lanes, n)`` with the operand values
#: (arrays or compressed forms), the issue's lanes and the piece's lane count; it returns
#: the compressed result, or None when the kernel must compute on arrays.
Rule = Callable[[Sequence[Any], LaneSet, int], Any]


def _parts(x) -> Parts | None:
    """The digits of an integer form; None for arrays and other forms."""
    parts = getattr(x, "parts", None)
    return None if parts is None else parts()


def _uniform_int(x) -> int | None:
    """The unwrapped value of a uniform integer form, else None."""
    if type(x) is Affine:       # the uniform integer form, spelled out
        return x.base if x.stride == 0 else None
    p = _parts(x)
    return p[0] if p is not None and not any(p[1]) else None


def _linear(sign: int) -> Callable:
    """ADD (``sign`` 1) or SUB (-1) of two integer forms, over their common digits."""
    def rule(ty: DType, a, b):
        ka, kb = type(a), type(b)
        if ka is Affine and kb is Affine:     # the usual case, spelled out
            return Affine(a.base + sign * b.base, a.stride + sign * b.stride, a.dtype)
        if ka is Tiled and kb is Affine and b.stride == 0 and a.period > 1 and \
                a.outer != a.inner * a.period:  # a tiled value and a uniform one: the base moves
            return Tiled(a.base + sign * b.base, a.inner, a.outer, a.period, a.dtype)
        pa, pb = _parts(a), _parts(b)
        if pa is None or pb is None:
            return None
        if not any(pb[1]):          # a uniform term: only the base moves
            return digits(pa[0] + sign * pb[0], pa[1], pa[2], a.dtype)
        if not any(pa[1]):
            return digits(pa[0] + sign * pb[0], tuple(sign * y for y in pb[1]), pb[2], a.dtype)
        if pa[2] != pb[2]:
            cuts = _cuts(pa) | _cuts(pb)
            pa, pb = _refine(pa, cuts), _refine(pb, cuts)
            if pa is None or pb is None:
                return None
        return digits(pa[0] + sign * pb[0], tuple(x + sign * y for x, y in zip(pa[1], pb[1])),
                      pa[2], a.dtype)
    return rule


def _mul(ty: DType, a, b):
    """MUL of an integer form by a uniform one: every coefficient scales."""
    if type(a) is Affine and type(b) is Affine:         # the usual case, spelled out
        if a.stride == 0 or b.stride == 0:
            return Affine(a.base * b.base, a.stride * b.base + b.stride * a.base, a.dtype)
        return None
    k, p = _uniform_int(b), _parts(a)
    if k is None:
        k, p = _uniform_int(a), _parts(b)
    if k is None or p is None:
        return None
    return digits(p[0] * k, tuple(c * k for c in p[1]), p[2], a.dtype)


def _shl(ty: DType, a, b):
    """SHL of an integer form by a uniform amount (a u32, taken modulo the width)."""
    if type(a) is Affine and type(b) is Affine and b.stride == 0:     # spelled out
        return Affine(a.base << ((b.base % (1 << 32)) % ty.bits),
                      a.stride << ((b.base % (1 << 32)) % ty.bits), a.dtype)
    k, p = _uniform_int(b), _parts(a)
    if k is None or p is None:
        return None
    count = (k % (1 << 32)) % ty.bits
    if type(a) is Affine:
        return Affine(a.base << count, a.stride << count, a.dtype)
    return digits(p[0] << count, tuple(c << count for c in p[1]), p[2], a.dtype)


_ARITH = {"ADD": _linear(1), "SUB": _linear(-1), "MUL": _mul, "SHL": _shl}


def arith(name: str, ty: DType, a, b) -> Affine | Tiled | Digits | None:
    """ADD, SUB, MUL, SHL of integer forms (MUL, SHL: one side uniform)."""
    rule = _ARITH.get(name)
    return None if rule is None or not ty.is_int else rule(ty, a, b)


def split(name: str, ty: DType, a, b, n: int) -> Affine | Tiled | Digits | None:
    """DIV, SHR and AND of an affine, tiled or digits value by a uniform power of two
    (any divisor for DIV): its quotient or remainder, as digits of the lane.

    For ``a = base + lane`` with ``base`` a multiple of ``d`` and no lane of the piece
    (``n`` lanes) negative or wrapping, ``a // d = base/d + lane // d`` and
    ``a mod d = lane mod d``, which are :class:`Tiled` with period ``d``: how a
    global lane id becomes a block index and a lane index in its block.  Other
    values go through the digit rule of this module's docstring.
    """
    k, p = _uniform_int(b), _parts(a)
    if not ty.is_int or k is None or p is None:
        return None
    c = k % (1 << (32 if name == "SHR" else ty.bits))
    if name == "SHR":
        d = 1 << (c % ty.bits)
    elif name == "AND":
        d = c + 1
        if d & c:               # not a mask of low bits
            return None
    else:
        d = c if not ty.is_signed_int or c < (1 << (ty.bits - 1)) else 0
    if d <= 0:
        return None
    base = p[0]
    if not (p[1] == (1,) and base >= 0 and base % d == 0 and a.exact_on(0, n)):
        return _split_digits(name, a, d, n)
    # the lane itself: a block index and a lane in the block, spelled out
    if d >= n:      # one tile holds every lane: the lane itself, or one value
        return Affine(0, 1, a.dtype) if name == "AND" else Affine(base // d, 0, a.dtype)
    if name == "AND":
        return tiled(0, 1, 0, d, a.dtype)
    return tiled(base // d, 0, 1, d, a.dtype)


def _cuts(parts: Parts) -> set[int]:
    """The digit boundaries (units above 1) of a value."""
    out, u = set(), 1
    for r in parts[2][:-1]:
        u *= r
        out.add(u)
    return out


def _refine(parts: Parts, cuts: set[int]) -> Parts | None:
    """The same value over digits split at every unit of ``cuts``; None when a cut does
    not divide into a digit (the boundaries do not form a divisibility chain)."""
    base, coefs, radices = parts
    out_c: list[int] = []
    out_r: list[int | None] = []
    u = 1
    for c, r in zip(coefs, radices):
        end = None if r is None else u * r
        prev = u
        for e in sorted(e for e in cuts if e > u and (end is None or e < end)):
            if e % prev:
                return None
            out_c.append(c * (prev // u))
            out_r.append(e // prev)
            prev = e
        if end is not None and end % prev:
            return None
        out_c.append(c * (prev // u))
        out_r.append(None if end is None else end // prev)
        u = prev if end is None else end
    return base, tuple(out_c), tuple(out_r)


def _trim(parts: Parts, n: int) -> Parts:
    """The same values over lanes ``[0, n)`` with no digit wider than the piece.

    A digit whose unit is at least ``n`` is 0 on every lane, and one whose
    ``unit * radix`` is at least ``n`` never wraps around its radix, so it is
    ``lane // unit`` (radix None) and every later digit is 0.
    """
    base, coefs, radices = parts
    u = 1
    for k, r in enumerate(radices):
        if k and u >= n:
            return base, coefs[:k], radices[:k - 1] + (None,)
        if r is not None and u * r >= n:
            return base, coefs[:k + 1], radices[:k] + (None,)
        u = u * r if r is not None else u
    return parts


def _split_digits(name: str, a, d: int, n: int) -> Affine | Tiled | Digits | None:
    """``a // d`` (SHR, DIV) or ``a mod d`` (AND) by the digit rule, else None."""
    parts = _parts(a)
    if parts is None or n < 1:
        return None
    parts = _trim(parts, n)
    if name != "AND":
        low, high = Digits(*parts, a.dtype).bounds(0, n)
        tmin, tmax = int_range(a.dtype)
        if low < tmin or high > tmax or (name == "DIV" and low < 0):
            return None
    cuts, u = set(), 1
    for c, r in zip(parts[1], parts[2]):
        if c % d:
            s = d // gcd(c, d)
            if r is None or (s < r and r % s == 0):
                cuts.add(u * s)
        u = u * r if r is not None else u
    refined = _refine(parts, cuts)
    if refined is None:
        return None
    base, coefs, radices = refined
    high_base, low = divmod(base, d)
    low_min = low_max = low
    high_coefs, low_coefs = [], []
    u = 1
    for c, r in zip(coefs, radices):
        if c % d == 0:
            high_coefs.append(c // d)
            low_coefs.append(0)
        elif r is None:
            return None
        else:
            top = min(r - 1, (n - 1) // u)      # the digit's largest value over the piece
            low_min += min(0, c * top)
            low_max += max(0, c * top)
            high_coefs.append(0)
            low_coefs.append(c)
        u = u * r if r is not None else u
    if low_min < 0 or low_max >= d:
        return None
    if name == "AND":
        return digits(*_trim((low, tuple(low_coefs), radices), n), a.dtype)
    return digits(*_trim((high_base, tuple(high_coefs), radices), n), a.dtype)


def _bit(parts: Parts, m: int, n: int) -> tuple[int, Parts, int | None] | None:
    """``(bm, refined, j)`` with bit ``m`` of the value over lanes ``[0, n)`` equal to
    ``bm`` (``j`` None) or to ``bm XOR digit_j`` of ``refined`` (a digit of radix 2);
    None when bit ``m`` is not one digit of the lane.

    The digits are split so that every coefficient is a multiple of ``2^(m+1)``,
    an odd multiple of ``2^m`` on a digit of radix 2, or belongs to a low part
    ``L`` (finite radices); with ``base = 2^(m+1) B + bm 2^m + b0`` and
    ``0 <= b0 + L < 2^m`` for every digit value, the value is
    ``2^(m+1) (B + ...) + 2^m (bm + sum of the radix-2 digits) + (b0 + L)``, so
    bit ``m`` is ``bm`` XOR those digits: one of them at most is accepted.  This
    holds for the unwrapped integer (two's complement, Python ints), and
    wrapping to the type keeps every bit below its width.
    """
    d = 1 << m
    parts = _trim(parts, n)
    cuts, u = set(), 1
    for c, r in zip(parts[1], parts[2]):
        if c % (2 * d):
            s = (d // gcd(c, d)) if c % d else 1    # where c * digit reaches a multiple of d
            for e in (s, 2 * s) if s > 1 else (2,):
                if r is None or (e < r and r % e == 0):
                    cuts.add(u * e)
        u = u * r if r is not None else u
    refined = _refine(parts, cuts)
    if refined is None:
        return None
    base, coefs, radices = refined
    high, b0 = divmod(base, d)
    low_min = low_max = b0
    j, u = None, 1
    for k, (c, r) in enumerate(zip(coefs, radices)):
        if c % d:
            if r is None:
                return None
            top = min(r - 1, (n - 1) // u)      # the digit's largest value over the piece
            low_min += min(0, c * top)
            low_max += max(0, c * top)
        elif c % (2 * d):
            top = (n - 1) // u if r is None else min(r - 1, (n - 1) // u)
            if top == 0:
                pass                            # 0 on every lane of the piece
            elif j is not None or r != 2:
                return None
            else:
                j = k
        u = u * r if r is not None else u
    if low_min < 0 or low_max >= d:
        return None
    return high % 2, refined, j


def bit(name: str, ty: DType, a, b, n: int) -> Affine | Tiled | Digits | None:
    """XOR (``a ^ 2^m``) or AND (``a & 2^m``) of an integer form by a uniform power of
    two whose bit ``m`` of ``a`` is one digit of the lane (:func:`_bit`).

    With ``t`` that bit, ``a ^ 2^m = a + 2^m - 2^(m+1) t`` and ``a & 2^m = 2^m t``
    for every integer; ``t = bm + digit - 2 bm digit`` is linear in the digit, so
    both results are digits of the lane (a negative coefficient where a digit
    flips).  Exact on wrapped values too: bit ``m`` below the type's width is the
    same bit of the unwrapped value, and wrapping is a ring homomorphism.
    """
    k, p = _uniform_int(b), _parts(a)
    if k is None or p is None or n < 1:
        return None
    c = k % (1 << ty.bits)
    if c == 0:
        return a if name == "XOR" else Affine(0, 0, a.dtype)
    if c & (c - 1):
        return None
    m = c.bit_length() - 1
    got = _bit(p, m, n)
    if got is None:
        return None
    bm, (base, coefs, radices), j = got
    # t = bm + s * digit_j with s = 1 - 2 bm (no digit: t = bm)
    s = 1 - 2 * bm
    if name == "XOR":
        base, scale = base + c - 2 * c * bm, -2 * c * s
        coefs = tuple(x + scale if i == j else x for i, x in enumerate(coefs))
    else:
        base = c * bm
        coefs = tuple(c * s if i == j else 0 for i in range(len(coefs)))
    return digits(*_trim((base, coefs, radices), n), a.dtype)


def convert(src: DType, dst: DType, a, n: int) -> Affine | Tiled | Digits | None:
    """CVT of an affine, tiled or digits integer value between integer types."""
    if not (src.is_int and dst.is_int) or _parts(a) is None:
        return None
    if not (dst.size <= src.size or a.exact_on(0, n)):
        return None
    return a.retyped(dst.storage)


_SWAP = {Condition.LT: Condition.GT, Condition.LE: Condition.GE, Condition.GT: Condition.LT,
         Condition.GE: Condition.LE, Condition.LTU: Condition.GTU, Condition.LEU: Condition.GEU,
         Condition.GTU: Condition.LTU, Condition.GEU: Condition.LEU}
_BASE = {Condition.LTU: Condition.LT, Condition.LEU: Condition.LE, Condition.GTU: Condition.GT,
         Condition.GEU: Condition.GE}
_TRUE, _FALSE = Const(np.bool_(True)), Const(np.bool_(False))
# the members as module globals: an Enum member read off its class costs ~0.1 us (Python 3.11)
_EQ, _NE, _LT, _LE, _GE = Condition.EQ, Condition.NE, Condition.LT, Condition.LE, Condition.GE


def _at_least(base: int, stride: int, c: int) -> tuple[int, bool]:
    """``(k, above)``: ``base + stride * key >= c`` exactly when ``key >= k`` (above) or
    ``key < k`` (``stride != 0``)."""
    if stride > 0:
        return -((base - c) // stride), True        # ceil((c - base) / stride)
    return (base - c) // -stride + 1, False


def _decided(cond: Condition, low: int, high: int, c: int) -> bool | None:
    """The comparison of every value in ``[low, high]`` with ``c`` when all agree, else None."""
    if cond is _EQ or cond is _NE:
        return None if low <= c <= high else cond is _NE
    if cond is _LT or cond is _GE:
        answer = high < c if high < c or low >= c else None
    else:
        answer = high <= c if high <= c or low > c else None
    return None if answer is None else answer == (cond is _LT or cond is _LE)


def _one_digit(p: Parts, n: int) -> tuple[int, int, int, int | None] | None:
    """``(base, coef, unit, radix)`` when the value over lanes ``[0, n)`` varies with one
    digit ``(lane // unit) % radix`` only (radix None: ``lane // unit``), else None."""
    base, coefs, radices = _trim(p, n)
    found, u = None, 1
    for c, r in zip(coefs, radices):
        if c:
            if found is not None:
                return None
            found = base, c, u, r
        u = u * r if r is not None else u
    return found


def compare(ty: DType, cond: Condition, a, b, lanes: LaneSet) -> Cut | Const | None:
    """SETcc of two integer forms, as a :class:`Cut` or a :class:`Const`.

    Exact when no lane of either form wraps over the lanes' hull ``[lo, hi)``
    (their bounds lie in the type's range), so the comparison acts on unwrapped
    ints, signed or not alike: ``a cond b`` is ``a - b cond 0``, and the
    difference of two forms is a form (:func:`arith`, over their common digits;
    its unwrapped ints need no range of their own).  Against a uniform value
    ``c``: if the form's bounds lie on one side every lane agrees (a Const); if
    the form varies with one digit ``d = (lane // u) % r`` only, ``base + s d`` is
    monotone in ``d``, so the predicate is ``d`` in a half-line or (``==``,
    ``!=``) a window of one digit value, and ``d`` in ``[k0, k1)`` is
    ``lane % (u r)`` in ``[k0 u, k1 u)`` (``lane`` in it for the last digit): a
    Cut.  Anything else (a form varying with several digits, as a 2-D row index)
    is left to the arrays.
    """
    return comparer(ty, cond)(a, b, lanes)


def comparer(ty: DType, cond: Condition) -> Callable:
    """:func:`compare` for one type and condition, ``run(a, b, lanes)``: what depends on
    them alone (the type's range, the condition's plain and swapped forms) is found
    once, when an instruction is decoded, and the usual operands (an affine or tiled
    value against a uniform one) take :func:`_against` directly."""
    if not ty.is_int:
        return _nothing
    tmin, tmax = int_range(ty.storage)
    swapped = _SWAP.get(cond, cond)
    plain, plain_swapped = _BASE.get(cond, cond), _BASE.get(swapped, swapped)

    def run(a, b, lanes: LaneSet) -> Cut | Const | None:
        lo, hi = lanes.lo, lanes.hi
        if hi <= lo or (not lanes.is_range and len(lanes) == 0):
            return None
        ka, kb = type(a), type(b)
        if (ka is Affine or ka is Tiled) and kb is Affine and b.stride == 0:
            return _against(plain, a, b.base, lo, hi, tmin, tmax)
        if ka is Affine and a.stride == 0 and (kb is Affine or kb is Tiled):
            return _against(plain_swapped, b, a.base, lo, hi, tmin, tmax)
        return _compare(ty, cond, a, b, lo, hi, tmin, tmax)
    return run


def _nothing(a, b, lanes: LaneSet) -> None:
    return None


def _compare(ty: DType, cond: Condition, a, b, lo: int, hi: int, tmin: int, tmax: int
             ) -> Cut | Const | None:
    """:func:`compare` over the lanes' hull ``[lo, hi)`` (``hi > lo``), by the digits."""
    c, other = _uniform_int(b), _uniform_int(a)
    if c is not None and other is not None:
        return None             # both uniform: the scalar path's case
    if c is None and other is not None:
        c, a, cond = other, b, _SWAP.get(cond, cond)
    if c is None:               # both vary: compare their difference with 0
        for x in (a, b):
            if _parts(x) is None:
                return None
            low, high = x.bounds(lo, hi)
            if low < tmin or high > tmax:
                return None
        a, c = _linear(-1)(ty, a, b), 0
        p = _parts(a)
        if p is None:
            return None
        low, high = a.bounds(lo, hi)    # unwrapped ints: no range of their own
    else:
        p = _parts(a)
        if p is None or not tmin <= c <= tmax:
            return None
        low, high = a.bounds(lo, hi)
        if low < tmin or high > tmax:
            return None
    cond = _BASE.get(cond, cond)
    decided = _decided(cond, low, high, c)
    if decided is not None:
        return _TRUE if decided else _FALSE
    key = _one_digit(p, hi)
    if key is None:
        return None
    base, stride, scale, radix = key
    return _cut(cond, c, base, stride, scale, None if radix is None else scale * radix)


def _cut(cond: Condition, c: int, base: int, stride: int, scale: int,
         period: int | None) -> Cut:
    """The lanes where ``base + stride d cond c`` (``cond`` without its unsigned
    spelling), ``d = (lane // scale) % (period // scale)`` (``lane // scale`` when
    ``period`` is None, ``stride`` nonzero): a half-line or, for ``==`` and ``!=``, a
    window of one digit value, as a :class:`Cut`."""
    if cond is _EQ or cond is _NE:
        k, exact = divmod(c - base, stride)
        lo, hi = (k * scale, (k + 1) * scale) if exact == 0 else (0, 0)   # (0, 0): never
        return Cut(lo, hi, cond is _NE, period)
    if cond is _GE or cond is _LT:
        k, above = _at_least(base, stride, c)
    else:
        k, above = _at_least(base, stride, c + 1)
    if cond is _LT or cond is _LE:
        above = not above
    return Cut(k * scale, None, not above, period)


def _against(cond: Condition, a: "Affine | Tiled", c: int, lo: int, hi: int, tmin: int,
             tmax: int) -> Cut | Const | None:
    """:func:`compare`'s answer for an affine or tiled ``a`` against the unwrapped uniform
    ``c`` over the lanes' hull ``[lo, hi)`` (``hi > lo``; ``cond`` without its unsigned
    spelling, as :func:`comparer` passes it), written out: the same steps
    (range checks, a decided comparison, the one digit ``a`` varies with) for the forms
    whose digits are known without trimming."""
    if not tmin <= c <= tmax:
        return None
    if type(a) is Affine:
        stride = a.stride
        if stride == 0:
            return None             # both uniform: the scalar path's case
        base = a.base
        low, high = base + stride * lo, base + stride * (hi - 1)
        if low > high:
            low, high = high, low
        scale, period = 1, None
    else:
        base, inner, outer, p = a.base, a.inner, a.outer, a.period
        if inner == 0 and outer == 0:
            return None             # both uniform: the scalar path's case
        low, high = a.bounds(lo, hi)
        if p >= hi:                 # the first digit is the lane itself
            if inner == 0:
                stride = 0
            else:
                stride, scale, period = inner, 1, None
        elif outer == 0 and inner != 0:
            stride, scale, period = inner, 1, p
        elif inner == 0 and outer != 0:
            stride, scale, period = outer, p, None
        else:
            stride = 0              # several digits vary (or none): decided, or arrays
    if low < tmin or high > tmax:
        return None
    decided = _decided(cond, low, high, c)
    if decided is not None:
        return _TRUE if decided else _FALSE
    if stride == 0:
        return None
    return _cut(cond, c, base, stride, scale, period)


def _binary_rule(fn: Callable) -> Callable:
    def make(ins) -> Rule | None:
        ty = ins.ty
        if not ty.is_int:
            return None

        def rule(values, lanes: LaneSet, n: int):
            return None if n < COMPRESS_MIN_LANES else fn(ty, *values)
        return rule
    return make


def _split_rule(ins) -> Rule | None:
    name, ty = ins.spec.name, ins.ty
    if not ty.is_int:
        return None

    def rule(values, lanes: LaneSet, n: int):
        if n < COMPRESS_MIN_LANES:
            return None
        a, b = values
        got = split(name, ty, a, b, n)
        if got is None and name == "AND":       # and is commutative
            got = split(name, ty, b, a, n)
            if got is None:
                got = _either_bit(name, ty, a, b, n)
        return got
    return rule


def _either_bit(name: str, ty: DType, a, b, n: int) -> "Affine | Tiled | Digits | None":
    """:func:`bit` with the uniform power of two on either side (AND and XOR commute)."""
    return bit(name, ty, a, b, n) or bit(name, ty, b, a, n)


def _bit_rule(ins) -> Rule | None:
    name, ty = ins.spec.name, ins.ty
    if not ty.is_int:
        return None

    def rule(values, lanes: LaneSet, n: int):
        return None if n < COMPRESS_MIN_LANES else _either_bit(name, ty, *values, n)
    return rule


def _convert_rule(ins) -> Rule | None:
    src, dst = ins.src_ty, ins.dst_ty
    if not (src.is_int and dst.is_int):
        return None

    def rule(values, lanes: LaneSet, n: int):
        return None if n < COMPRESS_MIN_LANES else convert(src, dst, values[0], n)
    return rule


def _compare_rule(ins) -> Rule | None:
    ty, cond = ins.ty, ins.cond
    if not ty.is_int:
        return None

    run = comparer(ty, cond)

    def rule(values, lanes: LaneSet, n: int):
        return run(values[0], values[1], lanes)
    return rule


#: The instructions whose results may stay compressed, by name: each entry makes, from
#: one decoded instruction, the :data:`Rule` its kernel calls (None: never compressed,
#: e.g. float types).  Kernels look their rule up once, when decoding (:func:`bind`).
RULES: dict[str, Callable[[Any], "Rule | None"]] = {
    "ADD": _binary_rule(_ARITH["ADD"]), "SUB": _binary_rule(_ARITH["SUB"]),
    "MUL": _binary_rule(_mul), "SHL": _binary_rule(_shl),
    "SHR": _split_rule, "DIV": _split_rule, "AND": _split_rule, "XOR": _bit_rule,
    "CVT": _convert_rule, "SETcc": _compare_rule,
}


def bind(ins) -> Rule | None:
    """The rule keeping ``ins``'s result compressed, or None (called once, at decode)."""
    make = RULES.get(ins.spec.name)
    return None if make is None else make(ins)
