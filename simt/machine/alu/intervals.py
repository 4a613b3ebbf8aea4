"""Intervals: what a float register row is known to hold, so that NaN checks can be skipped.

A float row (f32 or f64) may carry an *interval* ``(lo, hi, zeros)``
(:attr:`simt.machine.state.Row.interval`): every lane of the row's region holds a
number -- never a NaN -- ``x`` with ``lo <= x <= hi`` (Python floats; ``lo`` may be
``-inf``, ``hi`` ``+inf``; ``-0.0`` and ``+0.0`` both count as 0 there), and a lane
holding ``+0.0`` is possible only if ``zeros`` has :data:`PLUS`, one holding ``-0.0``
only if it has :data:`MINUS` (``zeros`` is a bit set: 0, PLUS, MINUS or
:data:`ZEROS`, both).  The sign of a zero bound means nothing; ``zeros`` alone says
which zeros may occur.  None means nothing is known.  A uniform operand's interval is
its value's (:func:`of_scalar`).

Who may set one: only a write that restarts the row on the lanes it writes (the row's
region is then exactly those lanes) keeps the interval its writer gives; every other
write -- partial writes, memory loads, SEL, any kernel that gives none -- leaves None
(:mod:`simt.machine.state`).  Debug mode (:mod:`simt.machine.debug`) asserts on every
write that a row's interval holds for every lane of its region, zeros included.

What an interval buys (:mod:`simt.machine.alu.arrays`): NumPy's float ``add``,
``subtract`` and ``multiply`` loops give the exact result except which NaN a lane with
*two* NaN operands keeps, so when one operand has an interval no lane has two NaNs and
the ufunc's result stands with no NaN check; ``minimum`` and ``maximum`` need their NaN
fix only where an operand is NaN (none when both have intervals) and their signed-zero
fix only where a ``+0`` meets a ``-0`` (none unless one operand may hold ``+0`` and the
other ``-0``: else two equal zeros have one sign, and NumPy returns one of them).

The rules below give the result's interval from the operands' (None: unknown).  Each is
exact for IEEE arithmetic rounded to nearest in the result's type, with subnormals
(NumPy does not flush them):

* ``a + b`` is NaN only for ``inf + -inf``, ``a * b`` only for ``0 * inf`` (with no NaN
  operand); the rules return None whenever the operands' intervals allow that.
* Otherwise the exact result lies in the interval computed from the operands' bounds
  (sums of bounds; for products the extremes of the four corner products, since a
  product is bilinear).  Rounding to nearest is monotonic, so the rounded result lies
  between the rounded bounds; :func:`widen` moves each finite bound outward by
  ``|x| * 2**-20 + 2**-140``, more than the float64 error of computing the bound
  (``2**-53`` relative) plus the result's own rounding (at most ``2**-24`` relative and
  ``2**-150`` absolute for f32, less for f64).  A bound computed as 0 stays 0: the exact
  bound then has magnitude at most ``2**-1075`` (float64 rounds nothing larger to 0), and
  every result beyond it rounds to a value on the same side of 0 or to a zero.  A bound
  beyond the type's largest finite value becomes infinite (the result may overflow to
  ``inf``), which keeps it exact.
* ``min`` and ``max`` return one operand exactly (a NaN operand is ignored): the
  interval of the result is that of the chosen values, no widening; with only one
  operand known, the result is at least (``max``) / at most (``min``) that operand.
* Conversions from an integer type lie between the type's limits; float to float
  conversion keeps the interval, widened and clamped like any rounding.

Zeros (which signs ``zeros`` must allow):

* A sum of two numbers of one format is 0 only if it is exactly 0: both are multiples
  of the format's smallest subnormal ``s``, so a nonzero exact sum has magnitude at
  least ``s`` and rounds to a nonzero value.  An exact zero sum is ``+0`` (``x + -x``,
  ``+0 + -0``, ``+0 + +0``) except ``-0 + -0 = -0``; ``x - y`` is ``x + (-y)``, so
  ``-0 - +0 = -0``.  Hence ``a + b`` may be ``-0`` only if both may be ``-0`` (``a -
  b``: ``a`` may be ``-0`` and ``b`` ``+0``), and ``+0`` only if a zero may meet a zero
  in another pair, or a nonzero value may meet its opposite: then 0 lies between the
  sums of the bounds (computed in float64, where rounding is monotonic and 0 is a
  float, so the test never misses).
* A product's sign is the XOR of the operands' signs, zero or not, and a product is 0
  only if an operand is 0 or its exact value underflows: magnitude at most ``2**-150``
  in f32 (``2**-150`` itself is a tie that goes to the even 0), ``2**-1075`` in f64.
  So ``a * b`` may be ``-0`` only if a zero of one sign may meet a zero or a nonzero of
  the other sign, or a nonzero negative may meet a nonzero positive whose smallest
  magnitudes (``s`` when the interval reaches 0, else the nearer bound) multiply to at
  most that limit; likewise ``+0`` with signs alike.  The limit test is made on the
  float64 product of the magnitudes, against ``2**-150`` for f32 (float64 rounding is
  monotonic and ``2**-150`` a float64: a true underflow passes) and against 0 for f64
  (the float64 product of values that underflow in f64 is itself 0).
* Integers convert to ``+0`` (0) or to nonzero values; f64 to f32 conversion turns a
  nonzero value of magnitude at most ``2**-150`` into a zero of its sign (f32 to f64 is
  exact).  ``neg`` swaps the two zeros, ``abs`` makes them ``+0``; ``min`` and ``max``
  return an operand's zero, so the result may hold the zeros either operand may hold
  (none when its bounds exclude 0).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NUMBERS", "Interval", "LARGEST", "PLUS", "MINUS", "ZEROS", "widen", "of_scalar",
           "add", "sub", "mul", "minimum", "maximum", "neg", "abs_", "of_int_type", "converted"]

#: ``(lo, hi, zeros)``: see the module docstring.
Interval = tuple[float, float, int]

#: Bits of an interval's ``zeros``: ``+0.0`` may occur, ``-0.0`` may occur, either.
PLUS, MINUS, ZEROS = 1, 2, 3
#: ``zeros`` with its two bits exchanged (the zeros of ``-x``).
SWAPPED = (0, MINUS, PLUS, ZEROS)

INF = math.inf
#: Every number, but never NaN (the interval a NaN check that found none gives).
NUMBERS: Interval = (-INF, INF, ZEROS)
#: The largest finite value of each float storage dtype an interval is kept for.
LARGEST = {np.dtype(np.float32): float(np.finfo(np.float32).max),
           np.dtype(np.float64): float(np.finfo(np.float64).max)}
# by a type's largest finite value: its smallest positive value, and the limit a float64
# magnitude (a product of magnitudes) must exceed for the type's rounding to keep it
# nonzero (see the module docstring); other types: nothing is known
_TINY_OF = {LARGEST[np.dtype(np.float32)]: (2.0 ** -149, 2.0 ** -150),
            LARGEST[np.dtype(np.float64)]: (2.0 ** -1074, 0.0)}
_UNKNOWN_TINY = (0.0, INF)
# the smallest magnitude of a nonzero f32 or f64 value
_SMALLEST = 2.0 ** -1074
_EPS = 2.0 ** -20
_TINY = 2.0 ** -140


def widen(lo: float, hi: float, largest: float) -> tuple[float, float]:
    """``[lo, hi]`` (bounds of an exact result) as bounds of that result rounded to nearest
    in a type whose largest finite value is ``largest`` (see the module docstring)."""
    if lo < -largest:
        lo = -INF
    elif lo <= largest:
        lo = lo - abs(lo) * _EPS - _TINY if lo else lo
    else:
        lo = largest                    # every value overflows to +inf
    if hi > largest:
        hi = INF
    elif hi >= -largest:
        hi = hi + abs(hi) * _EPS + _TINY if hi else hi
    else:
        hi = -largest                   # every value overflows to -inf
    return lo, hi


def of_scalar(x) -> Interval | None:
    """The interval of one float value: itself (its zero's sign kept), or None for a NaN."""
    v = float(x)
    if v != v:
        return None
    return (v, v, 0) if v else (v, v, MINUS if math.copysign(1.0, v) < 0.0 else PLUS)


def add(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a + b`` (rounded), or None if a lane may be ``inf + -inf``."""
    alo, ahi, za = a
    blo, bhi, zb = b
    if (ahi == INF and blo == -INF) or (alo == -INF and bhi == INF):
        return None
    lo, hi = alo + blo, ahi + bhi
    cancel = lo <= 0.0 <= hi and ((alo < 0.0 and bhi > 0.0) or (ahi > 0.0 and blo < 0.0))
    zeros = (PLUS if cancel or (za & PLUS and zb) or (zb & PLUS and za) else 0) | \
        (za & zb & MINUS)                                   # only -0 + -0 = -0
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return (lo - abs(lo) * _EPS - _TINY if lo else lo,
                hi + abs(hi) * _EPS + _TINY if hi else hi, zeros)
    return (*widen(lo, hi, largest), zeros)


def sub(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a - b`` (rounded): ``a + (-b)``."""
    alo, ahi, za = a
    blo, bhi, zb = b
    if (ahi == INF and bhi == INF) or (alo == -INF and blo == -INF):
        return None
    lo, hi = alo - bhi, ahi - blo
    cancel = lo <= 0.0 <= hi and ((alo < 0.0 and blo < 0.0) or (ahi > 0.0 and bhi > 0.0))
    zeros = (PLUS if cancel or (za & PLUS and zb) or (zb & MINUS and za) else 0) | \
        (za & (zb << 1) & MINUS)                            # only -0 - +0 = -0
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return (lo - abs(lo) * _EPS - _TINY if lo else lo,
                hi + abs(hi) * _EPS + _TINY if hi else hi, zeros)
    return (*widen(lo, hi, largest), zeros)


def mul(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a * b`` (rounded), or None if a lane may be ``0 * inf``."""
    alo, ahi, za = a
    blo, bhi, zb = b
    if (alo <= 0.0 <= ahi and (blo == -INF or bhi == INF)) or \
            (blo <= 0.0 <= bhi and (alo == -INF or ahi == INF)):
        return None
    if alo >= 0.0 and blo >= 0.0:
        lo, hi = alo * blo, ahi * bhi
    else:
        c = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
        lo, hi = min(c), max(c)
    zeros = _product_zeros(alo, ahi, za, blo, bhi, zb, largest)
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return (lo - abs(lo) * _EPS - _TINY if lo else lo,
                hi + abs(hi) * _EPS + _TINY if hi else hi, zeros)
    return (*widen(lo, hi, largest), zeros)


def _product_zeros(alo: float, ahi: float, za: int, blo: float, bhi: float, zb: int,
                   largest: float) -> int:
    """The zeros ``a * b`` may give (see the module docstring)."""
    smallest, limit = _TINY_OF.get(largest, _UNKNOWN_TINY)
    # may hold a nonzero negative / positive value, and its smallest magnitude
    a_neg, a_pos, b_neg, b_pos = alo < 0.0, ahi > 0.0, blo < 0.0, bhi > 0.0
    a_neg_least, a_pos_least = max(-ahi, smallest), max(alo, smallest)
    b_neg_least, b_pos_least = max(-bhi, smallest), max(blo, smallest)
    plus = ((za & PLUS and (zb & PLUS or b_pos)) or (za & MINUS and (zb & MINUS or b_neg))
            or (zb & PLUS and a_pos) or (zb & MINUS and a_neg)
            or (a_pos and b_pos and a_pos_least * b_pos_least <= limit)
            or (a_neg and b_neg and a_neg_least * b_neg_least <= limit))
    minus = ((za & MINUS and (zb & PLUS or b_pos)) or (za & PLUS and (zb & MINUS or b_neg))
             or (zb & MINUS and a_pos) or (zb & PLUS and a_neg)
             or (a_neg and b_pos and a_neg_least * b_pos_least <= limit)
             or (a_pos and b_neg and a_pos_least * b_neg_least <= limit))
    return (PLUS if plus else 0) | (MINUS if minus else 0)


def maximum(a: Interval | None, b: Interval | None) -> Interval | None:
    """The interval of the NaN-ignoring maximum (exact: the result is an operand)."""
    if a is None:
        return None if b is None else (b[0], INF, ZEROS if b[0] <= 0.0 else 0)
    if b is None:
        return (a[0], INF, ZEROS if a[0] <= 0.0 else 0)
    if a[0] >= b[0] and a[1] >= b[1] and not b[2] & ~a[2]:
        return a                        # the same object again: cheap to recognize
    if b[0] >= a[0] and b[1] >= a[1] and not a[2] & ~b[2]:
        return b
    lo, hi = max(a[0], b[0]), max(a[1], b[1])
    return lo, hi, a[2] | b[2] if lo <= 0.0 <= hi else 0


def minimum(a: Interval | None, b: Interval | None) -> Interval | None:
    """The interval of the NaN-ignoring minimum (exact: the result is an operand)."""
    if a is None:
        return None if b is None else (-INF, b[1], ZEROS if b[1] >= 0.0 else 0)
    if b is None:
        return (-INF, a[1], ZEROS if a[1] >= 0.0 else 0)
    if a[0] <= b[0] and a[1] <= b[1] and not b[2] & ~a[2]:
        return a
    if b[0] <= a[0] and b[1] <= a[1] and not a[2] & ~b[2]:
        return b
    lo, hi = min(a[0], b[0]), min(a[1], b[1])
    return lo, hi, a[2] | b[2] if lo <= 0.0 <= hi else 0


def neg(a: Interval | None) -> Interval | None:
    """The interval of ``-a`` (exact: a sign flip, which swaps the zeros)."""
    return None if a is None else (-a[1], -a[0], SWAPPED[a[2]])


def abs_(a: Interval | None) -> Interval | None:
    """The interval of ``|a|`` (exact: a sign clear, which makes every zero ``+0``)."""
    if a is None:
        return None
    lo, hi, zeros = a
    zeros = PLUS if zeros else 0
    if lo >= 0.0:
        return a if zeros == a[2] else (lo, hi, zeros)
    if hi <= 0.0:
        return -hi, -lo, zeros
    return 0.0, max(-lo, hi), zeros


def of_int_type(lo: int, hi: int, largest: float) -> Interval:
    """The interval of an integer of limits ``[lo, hi]`` converted (rounded) to a float type
    (0 converts to ``+0``, every other integer to a nonzero value)."""
    return (*widen(float(lo), float(hi), largest), PLUS if lo <= 0 <= hi else 0)


def converted(a: Interval | None, largest: float) -> Interval | None:
    """The interval of an f32 or f64 value converted (rounded) to another float type (one
    whose largest finite value is ``largest``): a tiny value may become a zero of its sign."""
    if a is None:
        return None
    lo, hi, zeros = a
    limit = _TINY_OF.get(largest, _UNKNOWN_TINY)[1]
    if hi > 0.0 and max(lo, _SMALLEST) <= limit:
        zeros |= PLUS
    if lo < 0.0 and max(-hi, _SMALLEST) <= limit:
        zeros |= MINUS
    return (*widen(lo, hi, largest), zeros)
