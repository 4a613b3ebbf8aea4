"""Instruction semantics on compressed values, where the result stays compressed.

Each function returns a compressed result or ``None`` when it cannot (the
kernel then computes on arrays as usual).  Nothing here recognizes programs:
these are properties of values (uniform, affine in the lane index) that any
kernel with such values enjoys (docs/performance.md).

Why the results are exact:

* ``add``/``sub``/``mul``/``shl`` on integers: wrapping to the type is a ring
  homomorphism, so ``wrap(b1 + s1 l) + wrap(b2 + s2 l) = wrap((b1 + b2) + (s1 + s2) l)``
  (and ``*`` by a uniform, ``<<`` by a uniform amount, likewise).  The same holds
  component-wise for tiled values ``base + inner (l mod P) + outer (l div P)`` with
  one period ``P``; an affine value is the tiled value with ``outer = stride P``.
* CVT between integer types: narrowing and same-width reinterpretation wrap
  again (``wrap_n(wrap_m(x)) = wrap_n(x)`` for n <= m); widening keeps the value
  only if no lane of the piece wrapped, which :meth:`Affine.exact_on` checks.
* comparisons of an exact affine value with a uniform one are monotone in the
  lane index, so the predicate is a :class:`Cut`: a half-line (``<``, ``>=`` ...)
  or a window of one key (``==``, ``!=``).  Likewise for tiled values that vary
  only with the lane's index in its tile, or only with the tile.
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

from ..isa.table import Condition
from ..isa.types import DType
from .lanes import LaneSet
from .values import Affine, Cut, Digits, Tiled, digits, int_range, tiled

__all__ = ["arith", "split", "convert", "compare", "COMPRESS_MIN_LANES"]

#: Pieces with fewer lanes compute affine values as arrays instead: on a few dozen
#: lanes one NumPy call costs less than the Python arithmetic on a compressed value and
#: its later materialization (measured on 32 lanes: about 1.5 us per instruction saved).
from .thresholds import COMPRESS_MIN_LANES  # noqa: E402


def _parts(x, ty: DType, period: int | None) -> tuple[int, int, int] | None:
    """(base, inner, outer) of an affine or tiled integer value over ``period``-lane tiles."""
    if not (ty.is_int and isinstance(x, (Affine, Tiled))):
        return None
    if isinstance(x, Tiled):
        return (x.base, x.inner, x.outer) if x.period == period else None
    return x.base, x.stride, x.stride * (period or 1)


def _period(a, b) -> int | None:
    periods = {x.period for x in (a, b) if isinstance(x, Tiled)}
    return periods.pop() if len(periods) == 1 else (None if periods else 1)


def arith(name: str, ty: DType, a, b) -> Affine | Tiled | None:
    """ADD, SUB, MUL, SHL of affine or tiled integer values (MUL, SHL: one side uniform)."""
    ka, kb = type(a), type(b)
    if ka is Affine and kb is Affine and ty.is_int:     # the usual case, spelled out
        if name == "ADD":
            return Affine(a.base + b.base, a.stride + b.stride, a.dtype)
        if name == "SUB":
            return Affine(a.base - b.base, a.stride - b.stride, a.dtype)
        if name == "MUL" and (a.stride == 0 or b.stride == 0):
            return Affine(a.base * b.base, a.stride * b.base + b.stride * a.base, a.dtype)
        if name == "SHL" and b.stride == 0:
            count = (b.base % (1 << 32)) % ty.bits
            return Affine(a.base << count, a.stride << count, a.dtype)
        return None
    if ka is Digits or kb is Digits:
        return _digits_arith(name, ty, a, b)
    if (ka is not Affine and ka is not Tiled) or (kb is not Affine and kb is not Tiled):
        return None
    period = _period(a, b)
    if period is None:          # two periods: their digits may still nest
        return _digits_arith(name, ty, a, b)
    pa = _parts(a, ty, period)
    pb = _parts(b, ty if name != "SHL" else DType.U32, period)
    if pa is None or pb is None:
        return None
    dtype = a.dtype
    if name == "ADD":
        return tiled(*(x + y for x, y in zip(pa, pb)), period, dtype)
    if name == "SUB":
        return tiled(*(x - y for x, y in zip(pa, pb)), period, dtype)
    uniform_b = pb[1] == 0 and pb[2] == 0
    if name == "MUL":
        if uniform_b:
            return tiled(*(x * pb[0] for x in pa), period, dtype)
        if pa[1] == 0 and pa[2] == 0:
            return tiled(*(x * pa[0] for x in pb), period, dtype)
        return None
    if name == "SHL" and uniform_b:
        count = (pb[0] % (1 << 32)) % ty.bits
        return tiled(*(x << count for x in pa), period, dtype)
    return None


def split(name: str, ty: DType, a, b, n: int) -> Affine | Tiled | Digits | None:
    """DIV, SHR and AND of an affine, tiled or digits value by a uniform power of two
    (any divisor for DIV): its quotient or remainder, as digits of the lane.

    For ``a = base + lane`` with ``base`` a multiple of ``d`` and no lane of the piece
    (``n`` lanes) negative or wrapping, ``a // d = base/d + lane // d`` and
    ``a mod d = lane mod d``, which are :class:`Tiled` with period ``d``: how a
    global lane id becomes a block index and a lane index in its block.  Other
    values go through the digit rule of this module's docstring.
    """
    if not (ty.is_int and type(b) is Affine and b.stride == 0
            and type(a) in (Affine, Tiled, Digits)):
        return None
    c = b.base % (1 << (32 if name == "SHR" else ty.bits))
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
    if not (type(a) is Affine and a.stride == 1 and a.base >= 0 and a.exact_on(0, n)
            and a.base % d == 0):
        return _split_digits(name, a, d, n)
    if d >= n:      # one tile holds every lane: the lane itself, or one value
        return Affine(0, 1, a.dtype) if name == "AND" else Affine(a.base // d, 0, a.dtype)
    if name == "AND":
        return tiled(0, 1, 0, d, a.dtype)
    return tiled(a.base // d, 0, 1, d, a.dtype)


Parts = tuple[int, tuple[int, ...], tuple[int | None, ...]]


def _digit_parts(x) -> Parts | None:
    """(base, coefs, radices) of an affine, tiled or digits integer value."""
    kind = type(x)
    if kind is Affine:
        return x.base, (x.stride,), (None,)
    if kind is Tiled:
        return x.base, (x.inner, x.outer), (x.period, None)
    if kind is Digits:
        return x.base, x.coefs, x.radices
    return None


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


def _uniform_value(x) -> int | None:
    return x.base if type(x) is Affine and x.stride == 0 else None


def _digits_arith(name: str, ty: DType, a, b) -> Affine | Tiled | Digits | None:
    """ADD, SUB of two values over common digits; MUL, SHL by a uniform."""
    if not ty.is_int:
        return None
    pa, pb = _digit_parts(a), _digit_parts(b)
    if pa is None or pb is None:
        return None
    dtype = a.dtype
    if name == "ADD" or name == "SUB":
        cuts = _cuts(pa) | _cuts(pb)
        ra, rb = _refine(pa, cuts), _refine(pb, cuts)
        if ra is None or rb is None:
            return None
        sign = 1 if name == "ADD" else -1
        return digits(ra[0] + sign * rb[0], tuple(x + sign * y for x, y in zip(ra[1], rb[1])),
                      ra[2], dtype)
    if name == "MUL":
        k, parts = _uniform_value(b), pa
        if k is None:
            k, parts = _uniform_value(a), pb
        if k is None:
            return None
        return digits(parts[0] * k, tuple(c * k for c in parts[1]), parts[2], dtype)
    if name == "SHL":
        k = _uniform_value(b)
        if k is None:
            return None
        count = (k % (1 << 32)) % ty.bits
        return digits(pa[0] << count, tuple(c << count for c in pa[1]), pa[2], dtype)
    return None


def _split_digits(name: str, a, d: int, n: int) -> Affine | Tiled | Digits | None:
    """``a // d`` (SHR, DIV) or ``a mod d`` (AND) by the digit rule, else None."""
    parts = _digit_parts(a)
    if parts is None or n < 1:
        return None
    parts = _trim(parts, n)
    if name != "AND":
        low, high = Digits(*parts, a.dtype).bounds(n)
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


def convert(src: DType, dst: DType, a, n: int) -> Affine | Tiled | Digits | None:
    """CVT of an affine, tiled or digits integer value between integer types."""
    if not (isinstance(a, (Affine, Tiled, Digits)) and src.is_int and dst.is_int):
        return None
    if not (dst.size <= src.size or a.exact_on(0, n)):
        return None
    if isinstance(a, Digits):
        return Digits(a.base, a.coefs, a.radices, dst.storage)
    if isinstance(a, Tiled):
        return Tiled(a.base, a.inner, a.outer, a.period, dst.storage)
    return Affine(a.base, a.stride, dst.storage)


_SWAP = {Condition.LT: Condition.GT, Condition.LE: Condition.GE, Condition.GT: Condition.LT,
         Condition.GE: Condition.LE, Condition.LTU: Condition.GTU, Condition.LEU: Condition.GEU,
         Condition.GTU: Condition.LTU, Condition.GEU: Condition.LEU}
_BASE = {Condition.LTU: Condition.LT, Condition.LEU: Condition.LE, Condition.GTU: Condition.GT,
         Condition.GEU: Condition.GE}


def _at_least(base: int, stride: int, c: int) -> tuple[int, bool]:
    """``(k, above)``: ``base + stride * key >= c`` exactly when ``key >= k`` (above) or
    ``key < k`` (``stride != 0``)."""
    if stride > 0:
        return -((base - c) // stride), True        # ceil((c - base) / stride)
    return (base - c) // -stride + 1, False


def _key(a, lanes: LaneSet) -> tuple[int, int, int | None, int] | None:
    """``(base, stride, period, scale)``: ``a(lane) = base + stride * key`` exactly over the
    lanes, where ``key`` is ``lane`` (period None, scale 1), ``lane % period`` (scale 1) or
    ``lane // period`` (period None, scale ``period``: a cut at a block boundary)."""
    if isinstance(a, Affine):
        if a.stride != 0 and a.exact_on(lanes.lo, lanes.hi):
            return a.base, a.stride, None, 1
    elif isinstance(a, Tiled):
        p = a.period
        if a.outer == 0 and a.inner != 0 and Affine(a.base, a.inner, a.dtype).exact_on(0, p):
            return a.base, a.inner, p, 1
        if a.inner == 0 and a.outer != 0 and a.exact_on(lanes.lo, lanes.hi):
            return a.base, a.outer, None, p
    return None


def compare(ty: DType, cond: Condition, a, b, lanes: LaneSet) -> Cut | None:
    """SETcc of a value monotone in the lane against a uniform one, as a :class:`Cut`.

    Monotone values: exact affine ones, and tiled ones that vary only with the
    lane's index in its tile (a periodic cut) or only with the tile (a cut at a
    tile boundary).
    """
    if not ty.is_int or len(lanes) == 0:
        return None
    if isinstance(b, (Affine, Tiled)) and not (isinstance(b, Affine) and b.stride == 0):
        a, b, cond = b, a, _SWAP.get(cond, cond)
    if not (isinstance(b, Affine) and b.stride == 0 and b.exact_on(0, 1)):
        return None
    key = _key(a, lanes)
    if key is None:
        return None
    base, stride, period, scale = key
    cond = _BASE.get(cond, cond)
    c = b.raw(0)
    if cond is Condition.EQ or cond is Condition.NE:
        k, exact = divmod(c - base, stride)
        lo, hi = (k * scale, (k + 1) * scale) if exact == 0 else (0, 0)   # (0, 0): never
        return Cut(lo, hi, cond is Condition.NE, period)
    if cond is Condition.GE or cond is Condition.LT:
        k, above = _at_least(base, stride, c)
    else:
        k, above = _at_least(base, stride, c + 1)
    if cond is Condition.LT or cond is Condition.LE:
        above = not above
    return Cut(k * scale, None, not above, period)
