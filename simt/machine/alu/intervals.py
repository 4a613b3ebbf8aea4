"""Intervals: what a float register row is known to hold, so that NaN checks can be skipped.

A float row (f32 or f64) may carry an *interval* ``(lo, hi)`` of Python floats
(:attr:`simt.machine.state.Row.interval`): every lane of the row's region holds a
number -- never a NaN -- ``x`` with ``lo <= x <= hi`` (``lo`` may be ``-inf``, ``hi``
``+inf``; ``-0.0`` and ``+0.0`` both count as 0).  None means nothing is known.  A
uniform operand's interval is its value's (:func:`of_scalar`).

Who may set one: only a write that restarts the row on the lanes it writes (the row's
region is then exactly those lanes) keeps the interval its writer gives; every other
write -- partial writes, memory loads, SEL, any kernel that gives none -- leaves None
(:mod:`simt.machine.state`).  Debug mode (:mod:`simt.machine.debug`) asserts on every
write that a row's interval holds for every lane of its region.

What an interval buys (:mod:`simt.machine.alu.arrays`): NumPy's float ``add``,
``subtract`` and ``multiply`` loops give the exact result except which NaN a lane with
*two* NaN operands keeps, so when one operand has an interval no lane has two NaNs and
the ufunc's result stands with no NaN check; ``minimum`` and ``maximum`` need their NaN
fix only where an operand is NaN (none when both have intervals) and their signed-zero
fix only where both operands are zero (none when one interval excludes 0).

The rules below give the result's interval from the operands' (None: unknown).  Each is
exact for IEEE arithmetic rounded to nearest in the result's type:

* ``a + b`` is NaN only for ``inf + -inf``, ``a * b`` only for ``0 * inf`` (with no NaN
  operand); the rules return None whenever the operands' intervals allow that.
* Otherwise the exact result lies in the interval computed from the operands' bounds
  (sums of bounds; for products the extremes of the four corner products, since a
  product is bilinear).  Rounding to nearest is monotonic, so the rounded result lies
  between the rounded bounds; :func:`widen` moves each finite bound outward by
  ``|x| * 2**-20 + 2**-140``, more than the float64 error of computing the bound
  (``2**-53`` relative) plus the result's own rounding (at most ``2**-24`` relative and
  ``2**-150`` absolute for f32, less for f64).  A bound beyond the type's largest finite
  value becomes infinite (the result may overflow to ``inf``), which keeps it exact.
* ``min`` and ``max`` return one operand exactly (a NaN operand is ignored): the
  interval of the result is that of the chosen values, no widening; with only one
  operand known, the result is at least (``max``) / at most (``min``) that operand.
* Conversions from an integer type lie between the type's limits; float to float
  conversion keeps the interval, widened and clamped like any rounding.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NUMBERS", "Interval", "LARGEST", "widen", "of_scalar", "add", "sub", "mul",
           "minimum", "maximum", "neg", "abs_", "of_int_type", "converted"]

Interval = tuple[float, float]

INF = math.inf
#: Every number, but never NaN (the interval a NaN check that found none gives).
NUMBERS: Interval = (-INF, INF)
#: The largest finite value of each float storage dtype an interval is kept for.
LARGEST = {np.dtype(np.float32): float(np.finfo(np.float32).max),
           np.dtype(np.float64): float(np.finfo(np.float64).max)}
_EPS = 2.0 ** -20
_TINY = 2.0 ** -140


def widen(lo: float, hi: float, largest: float) -> Interval:
    """``[lo, hi]`` (bounds of an exact result) as bounds of that result rounded to nearest
    in a type whose largest finite value is ``largest`` (see the module docstring)."""
    if lo < -largest:
        lo = -INF
    elif lo <= largest:
        lo = lo - abs(lo) * _EPS - _TINY
    else:
        lo = largest                    # every value overflows to +inf
    if hi > largest:
        hi = INF
    elif hi >= -largest:
        hi = hi + abs(hi) * _EPS + _TINY
    else:
        hi = -largest                   # every value overflows to -inf
    if lo == -INF and hi == INF:
        return NUMBERS
    return lo, hi


def of_scalar(x) -> Interval | None:
    """The interval of one float value: itself, or None for a NaN."""
    v = float(x)
    return (v, v) if v == v else None


def add(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a + b`` (rounded), or None if a lane may be ``inf + -inf``."""
    alo, ahi = a
    blo, bhi = b
    if (ahi == INF and blo == -INF) or (alo == -INF and bhi == INF):
        return None
    lo, hi = alo + blo, ahi + bhi
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return lo - abs(lo) * _EPS - _TINY, hi + abs(hi) * _EPS + _TINY
    return widen(lo, hi, largest)


def sub(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a - b`` (rounded): ``a + (-b)``."""
    alo, ahi = a
    blo, bhi = b
    if (ahi == INF and bhi == INF) or (alo == -INF and blo == -INF):
        return None
    lo, hi = alo - bhi, ahi - blo
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return lo - abs(lo) * _EPS - _TINY, hi + abs(hi) * _EPS + _TINY
    return widen(lo, hi, largest)


def mul(a: Interval, b: Interval, largest: float) -> Interval | None:
    """The interval of ``a * b`` (rounded), or None if a lane may be ``0 * inf``."""
    alo, ahi = a
    blo, bhi = b
    if (alo <= 0.0 <= ahi and (blo == -INF or bhi == INF)) or \
            (blo <= 0.0 <= bhi and (alo == -INF or ahi == INF)):
        return None
    if alo >= 0.0 and blo >= 0.0:
        lo, hi = alo * blo, ahi * bhi
    else:
        c = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
        lo, hi = min(c), max(c)
    if -largest <= lo <= largest and -largest <= hi <= largest:    # widen, written out
        return lo - abs(lo) * _EPS - _TINY, hi + abs(hi) * _EPS + _TINY
    return widen(lo, hi, largest)


def maximum(a: Interval | None, b: Interval | None) -> Interval | None:
    """The interval of the NaN-ignoring maximum (exact: the result is an operand)."""
    if a is None:
        return None if b is None else (b[0], INF)
    if b is None:
        return (a[0], INF)
    if a[0] >= b[0] and a[1] >= b[1]:
        return a                        # the same object again: cheap to recognize
    if b[0] >= a[0] and b[1] >= a[1]:
        return b
    return max(a[0], b[0]), max(a[1], b[1])


def minimum(a: Interval | None, b: Interval | None) -> Interval | None:
    """The interval of the NaN-ignoring minimum (exact: the result is an operand)."""
    if a is None:
        return None if b is None else (-INF, b[1])
    if b is None:
        return (-INF, a[1])
    if a[0] <= b[0] and a[1] <= b[1]:
        return a
    if b[0] <= a[0] and b[1] <= a[1]:
        return b
    return min(a[0], b[0]), min(a[1], b[1])


def neg(a: Interval | None) -> Interval | None:
    """The interval of ``-a`` (exact: a sign flip)."""
    return None if a is None else (-a[1], -a[0])


def abs_(a: Interval | None) -> Interval | None:
    """The interval of ``|a|`` (exact: a sign clear)."""
    if a is None:
        return None
    lo, hi = a
    if lo >= 0.0:
        return a
    if hi <= 0.0:
        return -hi, -lo
    return 0.0, max(-lo, hi)


def of_int_type(lo: int, hi: int, largest: float) -> Interval:
    """The interval of an integer of limits ``[lo, hi]`` converted (rounded) to a float type."""
    return widen(float(lo), float(hi), largest)


def converted(a: Interval | None, largest: float) -> Interval | None:
    """The interval of a float value converted (rounded) to another float type."""
    return None if a is None else widen(a[0], a[1], largest)
