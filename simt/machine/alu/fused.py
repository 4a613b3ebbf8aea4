"""FMA: ``a * b + c`` with a single rounding, for f32 and f64, without ``math.fma``.

f32
    ``a * b`` is exact in float64 (48-bit significand, exponent far from the
    float64 limits).  Usually ``RN32(RN64(p + c))`` is already right (see
    ``_fma32_ordinary``); otherwise the exact sum ``p + c`` is formed as ``s + e`` with TwoSum,
    rounded to odd at 53 bits, then rounded to nearest even at 24 bits.  Rounding
    to odd with at least two extra bits followed by round-to-nearest equals one
    round-to-nearest of the exact value (Boldo & Melquiond), so the result is
    correctly rounded, subnormal and overflowing results included.

f64
    Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
    algorithms using rounding to odd" (IEEE TC 57(4), 2008)::

        uh + ul = a * b          (Dekker/Veltkamp TwoProduct, exact)
        th + tl = c + uh         (TwoSum, exact)
        v = RO(tl + ul)          (TwoSum, then round to odd)
        result = RN(th + v)

    The algorithm needs every step to be free of overflow and of inexact
    underflow.  To guarantee it, the product is taken of the frexp significands
    (in [0.5, 1), so the split and the product error never leave the normal
    range) and the exact value is rescaled by ``2**k``:

    * ``k = 0`` in the ordinary range; a subnormal result is then exact (all
      terms are multiples of 2**-1074), so it is found exactly;
    * ``k = -8`` when an operand is near overflow; if ``c`` is then too small to be
      scaled exactly it only acts as a sticky bit and is replaced by a value of
      the same sign below the product's last bit, which rounds the same way;
    * ``k = +300`` when the product error would underflow.  The scaled sum is
      rounded to 53 bits (``W``) and the sign of the exact remainder is kept;
      scaling back rounds ``W`` once more when the result is subnormal, which is
      only wrong when ``W`` lies exactly half-way between two subnormals while
      the remainder is not zero; that case is settled by the remainder's sign.

    Shortcuts: a non-finite operand, a zero factor, a product that certainly
    overflows (``|a*b| >= 2**1025``) use plain IEEE ``a*b + c``; ``c = ±0`` gives the
    correctly rounded product ``a*b``; a product below half an ulp of ``c`` on
    both sides gives ``c``; a non-finite ``c`` with finite factors gives ``c``.

Both paths are tested against exact ``fractions.Fraction`` results.
"""

from __future__ import annotations

import math

import numpy as np

from ...isa.types import DType
from ._common import quiet, result, silenced_now, storage, unsigned_of

__all__ = ["fma"]

_SPLITTER = 134217729.0          # 2**27 + 1, Veltkamp's constant for 53-bit floats
_NO_EXPONENT = -(1 << 20)        # frexp exponent standing in for c == 0
_BIG, _TINY = 1020, -968         # product/addend exponents outside which we rescale
_DOWN, _UP = -8, 300             # the scale exponents k used there
_SUBNORMAL_ULP_EXP = -1074


def fma(ty: DType, a, b, c):
    """Fused multiply-add ``a * b + c``, rounded once to ``ty`` (f32 or f64).

    Parameters
    ----------
    ty
        ``DType.F32`` or ``DType.F64``.
    a, b, c
        Arrays or scalars of ``ty.storage``; they broadcast.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The correctly rounded (to nearest, ties to even) value of ``a*b + c``.

    Raises
    ------
    ValueError
        For any other type (FMA accepts f32 and f64 only; callers check first).
    """
    if ty is not DType.F32 and ty is not DType.F64:
        raise ValueError(f"fma is defined for f32 and f64, not {ty.text}")
    if ty is DType.F32 and silenced_now():     # inside a launch operands are f32 already
        fast = _fma32_ordinary(a, b, c)
        if fast is not None:
            return result(fast)
    a, b, c = storage(ty, a), storage(ty, b), storage(ty, c)
    with quiet():
        if ty is DType.F32:
            fast = _fma32_ordinary(a, b, c)
            if fast is not None:
                return result(fast)
            out = _fma32(a, b, c)
        else:
            out = _fma64(*np.broadcast_arrays(a, b, c))
        return result(_nan_operands(ty, a, b, c, out))


def _nan_operands(ty: DType, a, b, c, out):
    """Which NaN a fused multiply-add returns, as the REF's ``mul_add`` (product, then sum).

    A NaN ``a`` or ``b`` gives the first of them, quieted; otherwise ``0 * inf``
    gives the default NaN whatever ``c`` is; otherwise a NaN ``c`` gives ``c``
    quieted.  (Other NaN results, e.g. ``inf - inf``, are the default NaN already.)
    """
    nan_a, nan_b, nan_c = np.isnan(a), np.isnan(b), np.isnan(c)
    if not (nan_a.any() or nan_b.any() or nan_c.any()):
        return out
    bits = unsigned_of(ty)
    quiet_bit = bits.type(1 << (22 if ty is DType.F32 else 51))   # top mantissa bit
    q = [np.asarray(x).view(bits) | quiet_bit for x in (a, b, c)]
    invalid = (np.isinf(a) & (b == 0)) | (np.isinf(b) & (a == 0))
    default = bits.type(_DEFAULT_NAN[ty])
    picked = np.where(nan_a, q[0], np.where(nan_b, q[1], np.where(
        invalid, default, np.where(nan_c, q[2], np.asarray(out).view(bits)))))
    return picked.view(ty.storage)


# the NaN an x86 FPU produces for an invalid operation: negative, quiet, no payload
_DEFAULT_NAN = {DType.F32: 0xFFC0_0000, DType.F64: 0xFFF8_0000_0000_0000}


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = RN(a + b)`` and the exact error ``a + b - s``."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split into two 26-bit halves, ``hi + lo = a``."""
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's TwoProduct: ``p = RN(a * b)`` and the exact error ``a * b - p``."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _round_odd(s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Round ``s + e`` to odd, given ``s = RN(s + e)``: an inexact even ``s`` steps toward ``e``."""
    even = (np.asarray(s).view(np.int64) & 1) == 0
    step = np.nextafter(s, np.copysign(np.inf, e))
    return np.where((e != 0) & even, step, s)


_F64_FRACTION_BELOW_F32 = (1 << 29) - 1    # the float64 fraction bits a float32 lacks
_F32_MIDPOINT = 1 << 28                     # ... and their pattern half-way between floats
_F32_NORMAL_IN_F64 = (1023 - 126) << 52     # |x| bits of 2**-126, the smallest f32 normal
_MAGNITUDE = (1 << 63) - 1


def _fma32_ordinary(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray | None:
    """``RN32(a * b + c)`` by two float64 operations, when that is exact; else None.

    ``a * b`` is exact in float64 and ``s = RN64(a*b + c)``.  Rounding ``s`` to
    float32 gives ``RN32(a*b + c)`` unless ``s`` lies exactly half-way between two
    float32 values: every such midpoint is a float64 number, so no midpoint lies
    strictly between the exact value and ``s`` (``s`` is the nearest float64).
    Infinite results round as they should; midpoints, float32-subnormal results
    (whose midpoints sit elsewhere) and NaNs (whose payload the REF's rules
    choose) return None.
    """
    wide = np.float64
    s = np.add(np.multiply(a, b, dtype=wide), c, dtype=wide)
    if math.isnan(s.dot(s) if s.ndim else s * s):   # which NaN: the REF's rules, below
        return None
    bits = s.view(np.uint64)
    magnitude = bits & _MAGNITUDE
    tricky = ((bits & _F64_FRACTION_BELOW_F32) == _F32_MIDPOINT) | (
        (magnitude < _F32_NORMAL_IN_F64) & (magnitude != 0))
    if tricky.any():
        return None
    return s.astype(np.float32)


def _fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = a.astype(np.float64) * b.astype(np.float64)       # exact
    s, e = _two_sum(p, c.astype(np.float64))
    finite = np.isfinite(s)
    v = np.where(finite, _round_odd(s, np.where(finite, e, 0.0)), s)
    return v.astype(np.float32)


def _fma64(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    ma, ea = np.frexp(a)
    mb, eb = np.frexp(b)
    ec = np.where(c == 0, _NO_EXPONENT, np.frexp(c)[1]).astype(np.int64)
    p_exp = ea.astype(np.int64) + eb                     # 2**(p_exp-2) <= |a*b| < 2**p_exp
    product = a * b
    plain = product + c
    cases = [
        ~(np.isfinite(a) & np.isfinite(b)), ~np.isfinite(c),
        (a == 0) | (b == 0), c == 0,
        p_exp > 1026,                                    # |a*b| >= 2**1025 > |c|: overflows
        p_exp <= ec - 55,                                # |a*b| < half an ulp of c
    ]
    choices = [plain, c, plain, product, plain, c]
    return np.select(cases, choices, _fma64_scaled(ma, mb, p_exp, c, ec))


def _fma64_scaled(ma, mb, p_exp, c, ec) -> np.ndarray:
    """RN(ma * mb * 2**p_exp + c) for finite nonzero factors, via scaling by 2**k."""
    top = np.maximum(p_exp, ec)
    k = np.where(top > _BIG, _DOWN, np.where(p_exp < _TINY, _UP, 0))
    ph, pl = _two_product(ma, mb)
    uh, ul = np.ldexp(ph, p_exp + k), np.ldexp(pl, p_exp + k)
    sticky = (k < 0) & (ec <= p_exp - 108)
    cs = np.where(sticky, np.copysign(np.ldexp(1.0, p_exp - 107 + k), c), np.ldexp(c, k))

    th, tl = _two_sum(cs, uh)
    s, e = _two_sum(tl, ul)
    v = _round_odd(s, e)
    w, w2 = _two_sum(th, v)                              # w = RN(exact), w2 + (tl+ul-v) = rest
    out = np.ldexp(w, -k)
    return _settle_subnormal_ties(out, w, k, _remainder_sign(w2, s, e, v))


def _remainder_sign(w2, s, e, v) -> np.ndarray:
    """Sign of ``exact - w`` = ``w2 + (s + e - v)``; ``|s + e - v| < |w2|`` whenever ``w2 != 0``."""
    odd_rest = np.where(e == 0, 0.0, np.where(v == s, np.sign(e), -np.sign(e)))
    return np.where(w2 != 0, np.sign(w2), odd_rest)


def _settle_subnormal_ties(out, w, k, rest_sign) -> np.ndarray:
    """Fix scaled-up lanes whose ``w`` is half-way between subnormals but the exact value is not."""
    units = np.ldexp(w, -_SUBNORMAL_ULP_EXP - _UP)       # w in units of the smallest subnormal
    floor = np.floor(units)
    tie = (k == _UP) & (np.abs(units) < 2.0**52) & (units - floor == 0.5) & (rest_sign != 0)
    nearest = np.where(rest_sign > 0, np.ceil(units), floor)
    return np.where(tie, np.ldexp(nearest, _SUBNORMAL_ULP_EXP), out)
