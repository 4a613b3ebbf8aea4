"""FMA: ``a * b + c`` with a single rounding, for f32 and f64, without ``math.fma``.

Every lane first takes a fast path of plain NumPy passes over the whole array (f32: chunk
by chunk, so that its float64 temporaries stay in the cache).  The lanes where the fast
path's argument does not hold are flagged by a cheap test (f32: a shift and a minimum per
chunk of 131,072 lanes; a mask is built only inside the chunks that hold a flagged lane,
and a chunk with no tiny or NaN result flags its midpoints by one comparison)
and recomputed with the general algorithms below: gathered when they are few, else
computed with every lane and selected by bit operations (:func:`_patch`).  An odd lane
costs its own work and never sends the whole array down a slower path.

f32, fast path
    ``p = a * b`` is exact in float64 (48-bit significand, exponent far from the float64
    limits) and ``s = RN64(p + c)``.  ``RN32(s) = RN32(p + c)`` unless ``s`` lies exactly
    on a float32 midpoint: every midpoint is a float64 number, so none lies strictly
    between the exact value and its nearest float64 ``s``.  Flagged lanes: ``s`` on a
    midpoint of the normal grid (its 29 fraction bits below float32's read
    ``1000...0``, which covers the binade where float32 overflows too); results
    ``0 < |RN32(s)| <= 2**-126``, whose subnormal grid has its midpoints elsewhere (a zero
    ``RN32(s)`` needs no care: ``|s| <= 2**-150`` means ``c == 0`` or ``p`` and ``-c``
    within a factor of two, and ``p + c`` is then exact); NaN results, whose payload the
    REF's rules choose.  When many lanes are flagged (data of few significant bits puts
    many sums on midpoints), those whose TwoSum error is zero are dropped first: an
    exact ``s`` rounds once.

f32, general path
    The exact sum ``p + c`` is formed as ``s + e`` with TwoSum, rounded to odd at 53
    bits, then rounded to nearest even at 24 bits.  Rounding to odd with at least two
    extra bits followed by round-to-nearest equals one round-to-nearest of the exact
    value (Boldo & Melquiond), so the result is correctly rounded, subnormal and
    overflowing results included.

f64, fast path
    Boldo & Melquiond's algorithm without rescaling, its last rounding to odd replaced
    by a check::

        p + pl = a * b           (Dekker's product, exact; see below)
        th + tl = c + p          (TwoSum, exact)
        v = RN(tl + pl)
        r = RN(th + v)

    If ``tl == 0``, ``tl + pl = pl`` is a float and ``r`` is one rounding of the exact
    value.  Otherwise ``c + p`` was inexact, so ``|th| >= |p| / 2``, ``|tl| <= ulp(th)/2``
    and ``|pl| <= ulp(p)/2 <= ulp(th)``: ``v`` is tiny beside ``th``.  A rounding
    boundary ``m`` of the float grid near ``th`` has ``m - th`` a float, and ``RN`` is
    monotonic, so ``v`` and ``tl + pl`` are never strictly on two sides of ``m - th``:
    ``r`` can only be wrong when ``th + v`` is exactly a boundary, and then
    ``err = v - (r - th)`` (exact by Fast2Sum) is a power of two.  Lanes whose ``err``
    has a zero fraction (powers of two, zeros, infinities) are recomputed with ``v``
    rounded to odd, which is the algorithm as published, hence exact.

    Dekker's product splits ``a`` by clearing its 27 low fraction bits (``ah``: 26
    significant bits, ``0 <= al/a < 2**-25``: 27 bits) and ``b`` by rounding it to 26
    significant bits on its bits (add half of the cleared part, then clear it; a carry
    into the exponent gives the next power of two): ``|bl| <= 2**(eb-26)``, 26 bits
    with its sign, as Veltkamp's split gives.  The four partial products are exact
    (at most 27 + 26 bits); ``pl = (((ah*bh - p) + al*bh) + ah*bl) + al*bl`` in that order.
    With ``2**ea <= |a| < 2**(ea+1)`` (likewise ``eb``) each partial sum is exact: the
    first is a multiple of ``2**(ea+eb-52)`` below ``2**(ea+eb-23)``; the second a
    multiple of ``2**(ea+eb-77)`` below ``2**(ea+eb-25) * (1 + 2**-23)``; the third a
    multiple of ``2**(ea+eb-77)`` below ``2**(ea+eb-50)``; the last is ``a*b - p``, a float.
    This needs no underflow (``ea + eb >= -970``, guaranteed by ``|p| >= 2**-967``) and no
    overflow (an infinity anywhere makes ``r`` infinite or NaN).  Under those conditions
    TwoSum and Fast2Sum are exact, and a subnormal result comes from ``c`` and ``p``
    within a factor of two, so ``tl == 0`` and ``r`` is one rounding.
    Exceptional lanes: ``|p| < 2**-967`` (a zero factor gives ``p + c``, one IEEE
    rounding of an exact ``±0 + c``; anything else takes the general path) and
    non-finite ``r`` (NaN operands, infinities, overflow), which take the general path.

f64, general path
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

NaN results follow the REF's ``mul_add`` (:func:`_nan_operands`).  Both fast and
general paths are tested against exact ``fractions.Fraction`` results.
"""

from __future__ import annotations

import struct

import numpy as np

from ...isa.types import DType
from ._common import has_nan, quiet, result, storage, unsigned_of

__all__ = ["fma"]

_SPLITTER = 134217729.0          # 2**27 + 1, Veltkamp's constant for 53-bit floats
_NO_EXPONENT = -(1 << 20)        # frexp exponent standing in for c == 0
_BIG, _TINY = 1020, -968         # product/addend exponents outside which we rescale
_DOWN, _UP = -8, 300             # the scale exponents k used there
_SUBNORMAL_ULP_EXP = -1074

_min, _max = np.minimum.reduce, np.maximum.reduce
_U1, _U12, _I35 = np.uint32(1), np.uint64(12), np.int64(35)
_INT64_MIN = np.int64(-(1 << 63))            # (s << 35) of a float32 midpoint: low bits 1000...0
_F32_TINY = np.float32(2.0 ** -126)             # the smallest normal float32
_F32_NORMAL_BITS = np.uint32(0x00800000)     # the bits of 2**-126
_HIGH26 = np.uint64(~((1 << 27) - 1) & ((1 << 64) - 1))   # clears 27 fraction bits
_HALF27 = np.uint64(1 << 26)                 # half of the 27 cleared fraction bits
_TINY_PRODUCT = 2.0 ** -967


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
    if ty is DType.F32 and type(a) is np.float32 and type(b) is np.float32 \
            and type(c) is np.float32:
        with quiet():
            one = _fma32_one(a, b, c)
        if one is not None:
            return one
    lanes = _fma32_lanes if ty is DType.F32 else _fma64_lanes
    dtype = ty.storage
    if type(a) is np.ndarray and type(b) is np.ndarray and type(c) is np.ndarray \
            and a.dtype is dtype and b.dtype is dtype and c.dtype is dtype \
            and a.ndim == 1 and a.shape == b.shape == c.shape and a.size:
        with quiet():                                  # the executor's case: lanes as they are
            return lanes(a, b, c)
    a, b, c = storage(ty, a), storage(ty, b), storage(ty, c)
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    flat = [np.broadcast_to(x, shape).reshape(-1) for x in (a, b, c)]
    if not flat[0].size:
        return np.empty(shape, dtype)
    with quiet():
        out = lanes(*flat)
    return result(out.reshape(shape))


_F32_MIDPOINT = 1 << 28                     # the low 29 fraction bits of a midpoint
_F32_LOW_BITS = (1 << 29) - 1


def _fma32_one(a: np.float32, b: np.float32, c: np.float32) -> np.float32 | None:
    """One lane of the f32 fast path in Python floats, or None for a flagged lane."""
    s = float(a) * float(b) + float(c)
    if s != s or struct.unpack("<Q", struct.pack("<d", s))[0] & _F32_LOW_BITS == _F32_MIDPOINT:
        return None
    y = np.float32(s)
    if 0.0 < abs(float(y)) <= 2.0 ** -126:
        return None
    return y


def _fma32_lanes(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The f32 fast path over 1-D lanes; flagged lanes are rounded again from the exact sum.

    The lanes go through in chunks of ``_CHUNK``, so that the float64 temporaries stay
    in the cache and are allocated once.
    """
    n = a.shape[0]
    y = np.empty(n, np.float32)
    width = min(n, _CHUNK)
    s, w = np.empty((2, width))
    magnitude = np.empty(width, np.float32)
    for lo in range(0, n, _CHUNK):
        hi = lo + _CHUNK
        _fma32_chunk(a[lo:hi], b[lo:hi], c[lo:hi], y[lo:hi], s, w, magnitude)
    return y


from ..thresholds import FMA_CHUNK as _CHUNK  # noqa: E402  (two float64 temporaries of 1 MiB)


def _fma32_chunk(a, b, c, y, s, w, magnitude) -> None:
    """``y = RN32(a*b + c)`` for one chunk, using the scratch ``s``, ``w`` (float64) and
    ``magnitude`` (float32) of at least ``a``'s length."""
    k = a.shape[0]
    s, w, magnitude = s[:k], w[:k], magnitude[:k]
    np.copyto(s, a)                  # (ufuncs on mixed float32/float64 cost more than a copy)
    np.copyto(w, b)
    s *= w                                             # a * b, exact
    np.copyto(w, c)
    s += w                                             # RN64(a*b + c)
    np.copyto(y, s, casting="same_kind")
    bits = s.view(np.int64)
    bits <<= _I35                                      # a midpoint's becomes the int64 minimum
    np.abs(y, out=magnitude)
    normal = _min(magnitude) > _F32_TINY               # NaN: not greater
    if normal and _min(bits) != _INT64_MIN:
        return
    flagged = np.equal(bits, _INT64_MIN)               # on a midpoint,
    if not normal:                                     # (else no lane is NaN or tiny)
        flagged |= magnitude != magnitude              # NaN,
        low = magnitude.view(np.uint32) - _U1          # or 0 < |y| <= 2**-126 (0 wraps)
        flagged |= low < _F32_NORMAL_BITS
    count = np.count_nonzero(flagged)
    if count * _DENSE >= k:                            # many: keep those with s inexact
        p = a.astype(np.float64)
        p *= b
        wide_c = c.astype(np.float64)
        flagged &= np.not_equal(_sum_error(p, wide_c, p + wide_c), 0.0)    # NaN: kept
        count = None
    _patch(y, flagged, _fma32_exact, a, b, c, count=count)


def _fma32_exact(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``RN32(a*b + c)`` by TwoSum in float64, rounding to odd at 53 bits, then to 24 bits;
    lanes whose float64 sum is exact keep it (NaN results: the REF's rules)."""
    p = a.astype(np.float64)
    p *= b
    wide_c = c.astype(np.float64)
    s = p + wide_c
    return _nan_operands(DType.F32, a, b, c,
                         _round_odd(s, _sum_error(p, wide_c, s)).astype(np.float32))


def _fma64_lanes(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The f64 fast path over 1-D lanes; flagged lanes are finished or recomputed."""
    n = a.shape[0]
    p, ah, al, bh, bl, pl = np.empty((6, n))
    np.multiply(a, b, out=p)
    np.bitwise_and(a.view(np.uint64), _HIGH26, out=ah.view(np.uint64))
    np.subtract(a, ah, out=al)
    hi = bh.view(np.uint64)
    np.add(b.view(np.uint64), _HALF27, out=hi)
    hi &= _HIGH26                                      # b rounded to 26 bits
    np.subtract(b, bh, out=bl)
    np.multiply(ah, bh, out=pl)
    pl -= p
    np.multiply(al, bh, out=bh)
    pl += bh
    np.multiply(ah, bl, out=ah)
    pl += ah
    np.multiply(al, bl, out=al)
    pl += al                                           # a*b - p, exact
    th, tl, bb, v = ah, al, bh, bl
    np.add(c, p, out=th)                               # TwoSum(c, p)
    np.subtract(th, c, out=bb)
    np.subtract(th, bb, out=tl)
    np.subtract(c, tl, out=tl)
    np.subtract(p, bb, out=bb)
    tl += bb
    np.add(tl, pl, out=v)
    r = th + v
    np.subtract(r, th, out=bb)
    np.subtract(v, bb, out=bb)                         # th + v - r, exact where it matters
    ebits = bb.view(np.uint64)
    ebits <<= _U12
    if _min(ebits) == 0:                               # a power of two, a zero, an infinity
        flagged = ebits == 0
        flagged &= tl != 0                             # otherwise r is one rounding
        flagged &= pl != 0
        flagged &= np.not_equal(r - th, v)             # th + v exact: r is right
        if flagged.any():
            _patch(r, flagged, _round_odd_sum, th, tl, pl)
    magnitude = np.abs(p, out=bb)
    if not _min(magnitude) >= _TINY_PRODUCT:           # a NaN minimum: look lane by lane
        small = magnitude < _TINY_PRODUCT
        zero = (a == 0) | (b == 0)
        zero &= small
        if zero.any():                                 # an exact ±0 product: one IEEE rounding
            _patch(r, zero, np.add, p, c)
        small &= ~zero
    else:
        small = None
    if not (-np.inf < _min(r) and _max(r) < np.inf):   # NaN fails both comparisons
        special = ~np.isfinite(r)
        if small is not None:
            special |= small
    else:
        special = small
    if special is not None and special.any():
        _patch(r, special, _fma64_exact, a, b, c)
    return r


def _round_odd_sum(th, tl, pl) -> np.ndarray:
    """``RN(th + RO(tl + pl))``: the last two steps of Boldo & Melquiond's algorithm."""
    s, e = _two_sum(tl, pl)
    return th + _round_odd(s, e)


def _fma64_exact(a, b, c) -> np.ndarray:
    """The general f64 path with the REF's NaN results."""
    return _nan_operands(DType.F64, a, b, c, _fma64(a, b, c))


from ..thresholds import FMA_DENSE as _DENSE  # noqa: E402  (denser: recompute every lane, select)


def _patch(out: np.ndarray, mask: np.ndarray, compute, *operands: np.ndarray,
           count: int | None = None) -> None:
    """``out[mask] = compute(*operands)[mask]`` (``count``: the mask's true lanes, if known).

    A few lanes are gathered and computed alone (indexing costs a few ns a lane); many
    are computed with every other lane and selected, which costs ``compute`` in full
    but no indexing.  ``compute`` is lane-wise, so both give the same values.
    """
    if count is None:
        count = np.count_nonzero(mask)
    if not count:
        return
    if count * _DENSE < mask.size:
        idx = np.flatnonzero(mask)
        out[idx] = compute(*(x[idx] for x in operands))
    else:
        _blend(out, compute(*operands), mask)


def _blend(out: np.ndarray, new: np.ndarray, mask: np.ndarray) -> None:
    """``out[mask] = new[mask]`` by bit operations (``new`` is a scratch array it may change).

    ``np.copyto(..., where=)`` and ``np.where`` branch per lane and cost several times
    more when the mask changes from lane to lane.
    """
    ints = np.int64 if out.itemsize == 8 else np.int32
    kept, fresh = out.view(ints), new.view(ints)
    fresh ^= kept
    fresh &= np.negative(mask.view(np.int8), dtype=ints)
    kept ^= fresh


def _nan_operands(ty: DType, a, b, c, out):
    """Which NaN a fused multiply-add returns, as the REF's ``mul_add`` (product, then sum).

    A NaN ``a`` or ``b`` gives the first of them, quieted; otherwise ``0 * inf``
    gives the default NaN whatever ``c`` is; otherwise a NaN ``c`` gives ``c``
    quieted.  (Other NaN results, e.g. ``inf - inf``, are the default NaN already.)
    A NaN operand always gives a NaN ``out``, so without one the operands are not read.
    """
    if not has_nan(np.asarray(out)):
        return out
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
    return s, _sum_error(a, b, s)


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
    """Round ``s + e`` to odd, given ``s = RN(s + e)``: an inexact even ``s`` steps toward ``e``.

    On the bits (sign and magnitude, so adding 1 steps away from zero): toward ``e``
    is one step up in magnitude when ``s`` and ``e`` have the same sign (``i | 1`` for an
    even ``i``) and one step down otherwise (``(i - 1) | 1``); an odd ``i`` is kept by
    both.  ``(i ^ ie) >> 63`` is 0 or -1 by that sign comparison.  ``s`` is finite and
    non-zero wherever ``e`` is a non-zero number, so no step leaves the finite numbers;
    a NaN ``e`` (non-finite ``s``) keeps ``s``.  No per-lane branch: a select with a
    mask that changes from lane to lane costs NumPy several times more.
    """
    i = s.view(np.int64)
    inexact = np.greater(np.abs(e), 0.0)
    step = np.bitwise_xor(i, e.view(np.int64))
    step >>= 63
    step &= np.negative(inexact.view(np.int8), dtype=np.int64)
    step += i
    np.bitwise_or(step, inexact.view(np.int8), out=step, casting="unsafe")
    return step.view(np.float64)


def _sum_error(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """TwoSum's exact error ``a + b - s`` of ``s = RN(a + b)`` (NaN where ``s`` is not finite)."""
    bb = s - a
    return (a - (s - bb)) + (b - bb)


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
