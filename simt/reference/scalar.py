"""Scalar number semantics of the reference interpreter, one value at a time.

Everything here works on plain Python ints and floats.  A register holds the
raw bits of its value (an unsigned int of the type's width) plus its type
tag; these helpers convert between raw bits and the *value* an instruction
computes with:

* integer types: a Python ``int`` (signed types as signed values), results
  wrapped modulo ``2**bits`` by :func:`encode`;
* ``f64``: a Python ``float`` (an IEEE binary64, exactly the type's value);
* ``f32``: a Python ``float`` holding the binary32 value exactly; a result is
  rounded once to binary32 by :func:`encode` (``struct`` format ``'f'``, round
  to nearest even, overflow to infinity).  ``f32`` add, sub, mul and div are
  computed in binary64 and then rounded: binary64 has more than ``2*24 + 2``
  bits of precision, so that double rounding is innocuous (Figueroa, 1995)
  and the result equals the correctly rounded binary32 operation;
* ``f16`` and ``bf16`` are storage-only: only conversions touch their values,
  implemented by hand on the bits with :func:`round_rational`.

Where IEEE 754 leaves a choice open the reference fixes one, documented at
the function that makes it: which NaN an operation with NaN operands returns
(:func:`first_nan`: the first NaN operand, quieted, as x86 and the REF do),
the NaN of an invalid operation (the host's default NaN), MIN/MAX of ``+0``
and ``-0`` and of two NaNs, NaN payloads in conversions.  NaN results are
never left to the order in which CPython happens to pass operands to the FPU.

Slow is fine, obvious is required: nothing here is vectorized.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

from ..isa.types import DType

__all__ = ["to_signed", "decode", "encode", "f32_bits", "f32_value", "f64_bits", "f64_value",
           "round_rational", "binary", "float_div", "fma", "first_nan", "fmin_bits", "fmax_bits",
           "convert", "sign_bit", "DEFAULT_NAN"]

DEFAULT_NAN: float = float("inf") - float("inf")
"""The NaN the host FPU produces for an invalid operation (x86: negative quiet NaN)."""

# (exponent bits, stored mantissa bits) of the IEEE-like formats.
_FORMAT = {DType.F16: (5, 10), DType.BF16: (8, 7), DType.F32: (8, 23), DType.F64: (11, 52)}


# --------------------------------------------------------------------------- bits <-> values

def to_signed(bits: int, width: int) -> int:
    """Two's complement value of ``width``-bit ``bits``."""
    return bits - (1 << width) if bits >> (width - 1) else bits


def f32_value(bits: int) -> float:
    """The binary32 value of ``bits`` as a Python float (exact)."""
    return struct.unpack("<f", bits.to_bytes(4, "little"))[0]


def f32_bits(x: float) -> int:
    """Round the Python float ``x`` once to binary32 (nearest even) and return its bits."""
    try:
        return int.from_bytes(struct.pack("<f", x), "little")
    except OverflowError:  # finite, but rounds past the largest binary32: infinity
        return 0xFF800000 if x < 0 else 0x7F800000


def f64_value(bits: int) -> float:
    """The binary64 value of ``bits``."""
    return struct.unpack("<d", bits.to_bytes(8, "little"))[0]


def f64_bits(x: float) -> int:
    """The bits of the Python float ``x``."""
    return int.from_bytes(struct.pack("<d", x), "little")


def sign_bit(bits: int, ty: DType) -> int:
    """The sign bit (0 or 1) of raw ``bits`` of type ``ty``."""
    return bits >> (ty.bits - 1)


def decode(bits: int, ty: DType) -> int | float:
    """The value that raw ``bits`` of type ``ty`` stand for (f16/bf16 excluded)."""
    if ty.is_int:
        return to_signed(bits, ty.bits) if ty.is_signed_int else bits
    if ty is DType.F32:
        return f32_value(bits)
    if ty is DType.F64:
        return f64_value(bits)
    raise ValueError(f"{ty.text} is storage-only; it has no arithmetic value")


def encode(value: int | float, ty: DType) -> int:
    """Raw bits of ``value`` in type ``ty``: integers wrap, floats round once."""
    if ty.is_int:
        return value & ((1 << ty.bits) - 1)
    if ty is DType.F32:
        return f32_bits(value)
    if ty is DType.F64:
        return f64_bits(value)
    raise ValueError(f"{ty.text} is storage-only; it has no arithmetic value")


def _is_nan(bits: int, ty: DType) -> bool:
    ebits, mbits = _FORMAT[ty]
    exponent = (bits >> mbits) & ((1 << ebits) - 1)
    return exponent == (1 << ebits) - 1 and bits & ((1 << mbits) - 1) != 0


def first_nan(ty: DType, *operands: int) -> int | None:
    """The bits of the first NaN among raw float ``operands``, quieted; None if none is NaN.

    IEEE 754 says an operation with NaN operands returns one of them (payload
    preserved, quiet) without saying which; x86 SSE, and so the REF and
    NumPy, return the first operand's.  The reference makes that explicit.
    """
    for bits in operands:
        if _is_nan(bits, ty):
            return bits | (1 << (_FORMAT[ty][1] - 1))
    return None


# --------------------------------------------------------------------------- exact rounding

def round_rational(negative: bool, magnitude: Fraction, ty: DType) -> int:
    """Round the exact value ``(-1)**negative * magnitude`` to type ``ty``; return its bits.

    Round to nearest, ties to even, with gradual underflow (subnormals) and
    overflow to infinity.  ``magnitude`` is a non-negative rational.
    """
    ebits, mbits = _FORMAT[ty]
    sign = int(negative) << (ebits + mbits)
    if magnitude == 0:
        return sign
    bias = (1 << (ebits - 1)) - 1
    emin = 1 - bias
    # Exponent e with 2**e <= magnitude < 2**(e + 1).
    e = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** e > magnitude:
        e -= 1
    e = max(e, emin)
    # Significand in units of the last place of exponent e, rounded half to even.
    mantissa = round(magnitude / Fraction(2) ** (e - mbits))
    if mantissa == 1 << (mbits + 1):  # rounding carried into the next binade
        mantissa >>= 1
        e += 1
    if e > bias:
        return sign | (((1 << ebits) - 1) << mbits)  # infinity
    if mantissa < 1 << mbits:  # subnormal (only possible at e == emin)
        return sign | mantissa
    return sign | ((e + bias) << mbits) | (mantissa - (1 << mbits))


# --------------------------------------------------------------------------- arithmetic

def binary(ty: DType, op, a_bits: int, b_bits: int) -> int:
    """``op(a, b)`` on raw bits of type ``ty``; returns raw bits.

    Integers: ``op`` on Python ints, wrapped.  Floats: a NaN operand gives
    :func:`first_nan`; otherwise ``op`` on the values (exact for f64; for f32
    the binary64 result is rounded once, see the module docstring), where an
    invalid operation (``inf - inf``, ``0 * inf``) yields the host's default NaN.
    """
    if ty.is_float:
        nan = first_nan(ty, a_bits, b_bits)
        if nan is not None:
            return nan
    return encode(op(decode(a_bits, ty), decode(b_bits, ty)), ty)


def float_div(a: float, b: float) -> float:
    """IEEE ``a / b`` (Python raises for a zero divisor; IEEE gives inf or NaN)."""
    if b != 0:
        return a / b
    if math.isnan(a):
        return a
    if a == 0:
        return DEFAULT_NAN
    negative = (math.copysign(1.0, a) < 0) != (math.copysign(1.0, b) < 0)
    return -math.inf if negative else math.inf


def fma(a_bits: int, b_bits: int, c_bits: int, ty: DType) -> int:
    """Fused ``a*b + c`` rounded once to ``ty`` (f32 or f64), on raw bits.

    Finite operands are combined exactly with :class:`fractions.Fraction` and
    rounded by :func:`round_rational`.  Special operands are treated as the
    product first, then the sum, each with IEEE/x86 rules (what the REF's
    ``mul_add`` does): a NaN ``a`` or ``b`` gives :func:`first_nan`;
    ``0 * inf`` gives the default NaN whatever ``c`` is; then a NaN ``c``
    gives ``c`` quieted; an infinite product plus ``c`` is formed in
    binary64; a finite product plus an infinite ``c`` is ``c``.
    """
    nan = first_nan(ty, a_bits, b_bits)
    if nan is not None:
        return nan
    a, b, c = decode(a_bits, ty), decode(b_bits, ty), decode(c_bits, ty)
    if (math.isinf(a) and b == 0) or (math.isinf(b) and a == 0):
        return encode(DEFAULT_NAN, ty)
    nan = first_nan(ty, c_bits)
    if nan is not None:
        return nan
    if math.isinf(a) or math.isinf(b):
        return encode(a * b + c, ty)
    if math.isinf(c):
        return c_bits
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        # An exact zero: -0 only when the product and c are both -0 (or the product is
        # a negative zero and c is -0); cancellation of non-zero terms gives +0.
        product_negative = (math.copysign(1.0, a) < 0) != (math.copysign(1.0, b) < 0)
        product_zero = a == 0 or b == 0
        negative = product_zero and product_negative and math.copysign(1.0, c) < 0
        return round_rational(negative, Fraction(0), ty)
    return round_rational(exact < 0, abs(exact), ty)


def _pick(a_bits: int, b_bits: int, ty: DType, want_min: bool) -> int:
    a, b = decode(a_bits, ty), decode(b_bits, ty)
    a_nan, b_nan = math.isnan(a), math.isnan(b)
    if a_nan and b_nan:
        return a_bits
    if a_nan:
        return b_bits
    if b_nan:
        return a_bits
    if a == b == 0:  # +0 and -0: the IEEE 754-2019 order -0 < +0 decides
        a_negative = sign_bit(a_bits, ty) == 1
        return a_bits if a_negative == want_min else b_bits
    if a == b:
        return a_bits
    return a_bits if (a < b) == want_min else b_bits


def fmin_bits(a_bits: int, b_bits: int, ty: DType) -> int:
    """Float MIN on raw bits: IEEE minNum, one NaN is ignored.

    Choices where IEEE 754-2008 leaves one open (documented extension of the
    REF, whose ``f32::min`` leaves them unspecified): ``min(+0, -0)`` is
    ``-0`` (the 754-2019 order), two NaNs give the first operand unchanged.
    The chosen operand's bits are returned as they are.
    """
    return _pick(a_bits, b_bits, ty, True)


def fmax_bits(a_bits: int, b_bits: int, ty: DType) -> int:
    """Float MAX on raw bits; mirror of :func:`fmin_bits` (``max(+0, -0)`` is ``+0``)."""
    return _pick(a_bits, b_bits, ty, False)


# --------------------------------------------------------------------------- conversions

def _float_to_int(x: float, dst: DType) -> int:
    """Rust ``as``: truncate toward zero, saturate to the range, NaN -> 0; returns bits."""
    lo, hi = ((-(1 << (dst.bits - 1)), (1 << (dst.bits - 1)) - 1) if dst.is_signed_int
              else (0, (1 << dst.bits) - 1))
    if math.isnan(x):
        value = 0
    elif math.isinf(x):
        value = hi if x > 0 else lo
    else:
        value = min(max(math.trunc(x), lo), hi)
    return encode(value, dst)


def _f32_to_f64(bits: int) -> int:
    """Exact widening; a NaN is quieted and keeps its payload (as x86, NumPy and Rust do)."""
    if _is_nan(bits, DType.F32):
        sign = bits >> 31
        return (sign << 63) | 0x7FF8000000000000 | ((bits & 0x7FFFFF) << 29)
    return f64_bits(f32_value(bits))


def _f64_to_f32(bits: int) -> int:
    """Round to nearest even; a NaN is quieted and keeps the top of its payload."""
    if _is_nan(bits, DType.F64):
        sign = bits >> 63
        return (sign << 31) | 0x7FC00000 | ((bits & 0xFFFFFFFFFFFFF) >> 29)
    return f32_bits(f64_value(bits))


def _f16_to_f32(bits: int) -> int:
    """Exact widening of binary16 bits; a NaN keeps sign and payload (shifted, not quieted)."""
    sign = bits >> 15
    exponent = (bits >> 10) & 0x1F
    mantissa = bits & 0x3FF
    if exponent == 0x1F:
        return (sign << 31) | 0x7F800000 | (mantissa << 13)
    if exponent == 0:
        magnitude = Fraction(mantissa, 1 << 24)  # subnormal or zero
    else:
        magnitude = Fraction((1 << 10) + mantissa, 1 << 10) * Fraction(2) ** (exponent - 15)
    return round_rational(sign == 1, magnitude, DType.F32)  # exact: no rounding happens


def _f32_to_f16(bits: int) -> int:
    """Round binary32 bits to binary16, nearest even.

    NaN: sign kept, payload truncated to its top 10 bits, not quieted; a
    payload that would become zero becomes 1 (so the result stays a NaN).
    This is the bit rule NumPy's ``astype(float16)`` applies.
    """
    sign = bits >> 31
    if _is_nan(bits, DType.F32):
        payload = (bits & 0x7FFFFF) >> 13
        return (sign << 15) | 0x7C00 | (payload or 1)
    value = f32_value(bits)
    if math.isinf(value):
        return (sign << 15) | 0x7C00
    return round_rational(sign == 1, abs(Fraction(value)), DType.F16)


def _bf16_to_f32(bits: int) -> int:
    """bfloat16 is the top half of a binary32: exact, NaN payload kept."""
    return bits << 16


def _f32_to_bf16(bits: int) -> int:
    """Round binary32 bits to bfloat16, nearest even; a NaN becomes the quiet NaN 0x7FC0
    with its sign (the rule of ``ml_dtypes``)."""
    sign = bits >> 31
    if _is_nan(bits, DType.F32):
        return (sign << 15) | 0x7FC0
    value = f32_value(bits)
    if math.isinf(value):
        return (sign << 15) | 0x7F80
    return round_rational(sign == 1, abs(Fraction(value)), DType.BF16)


_FLOAT_PAIRS = {
    (DType.F32, DType.F64): _f32_to_f64,
    (DType.F64, DType.F32): _f64_to_f32,
    (DType.F16, DType.F32): _f16_to_f32,
    (DType.F32, DType.F16): _f32_to_f16,
    (DType.BF16, DType.F32): _bf16_to_f32,
    (DType.F32, DType.BF16): _f32_to_bf16,
}


def convert(bits: int, src: DType, dst: DType) -> int:
    """CVT of raw ``bits`` from ``src`` to ``dst`` (the pair must be supported).

    Rules of Rust ``as``: identity copies the bits;
    integer to integer keeps the low bits of the (sign- or zero-extended)
    value; integer to float rounds to nearest even; float to integer truncates
    toward zero and saturates, NaN -> 0; f32 <-> f64 and the f16/bf16 <-> f32
    extension pairs as in their helpers above.
    """
    if src is dst:
        return bits
    if (src, dst) in _FLOAT_PAIRS:
        return _FLOAT_PAIRS[(src, dst)](bits)
    if src.is_int and dst.is_int:
        return encode(decode(bits, src), dst)
    if src.is_int:  # to f32 / f64; Python's int -> float conversion is correctly rounded
        return encode(float(decode(bits, src)), dst)
    return _float_to_int(decode(bits, src), dst)


#: the NaN ``inf + -inf`` gives on this machine (what the executor uses too)
INVALID_SUM_BITS = f64_bits(math.inf + -math.inf)


def resonance_sum(running: float, value: float) -> float:
    """``running + value`` for the resonance accumulator.

    A sum that is a NaN is defined explicitly (C leaves the operand order of an
    addition to the compiler): the running value if it is a NaN, else the added
    value if it is one, else the invalid-sum NaN; NaNs are made quiet.
    """
    total = running + value
    if total == total:
        return total
    if running != running:
        bits = f64_bits(running)
    elif value != value:
        bits = f64_bits(value)
    else:
        bits = INVALID_SUM_BITS
    return f64_value(bits | 1 << 51)
