"""Tests of simt.machine.alu against independent oracles.

Oracles are Python ints (wrapping done by hand), Python floats (IEEE f64),
``fractions.Fraction`` with a hand-written round-to-nearest-even, ``struct``
and bit manipulation -- never the function under test.
"""

from __future__ import annotations

import math
import struct
import warnings
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simt.isa.table import CVT_PAIRS, Condition
from simt.isa.types import FL, INT, SINT, DType
from simt.machine import alu

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

T = DType
INTS = sorted(INT, key=lambda t: t.value)
SINTS = sorted(SINT, key=lambda t: t.value)
FLS = [T.F32, T.F64]
NUMERIC = INTS + FLS
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# oracles


def lo_hi(ty: DType) -> tuple[int, int]:
    if ty.is_signed_int:
        return -(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1
    return 0, (1 << ty.bits) - 1


def wrap(x: int, ty: DType) -> int:
    m = 1 << ty.bits
    x %= m
    return x - m if ty.is_signed_int and x >= m // 2 else x


def py_ints(a) -> list[int]:
    return [int(v) for v in np.atleast_1d(a)]


def tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


INT_ORACLE = {
    "add": lambda a, b, n: a + b,
    "sub": lambda a, b, n: a - b,
    "mul": lambda a, b, n: a * b,
    "div": lambda a, b, n: tdiv(a, b),
    "minimum": lambda a, b, n: min(a, b),
    "maximum": lambda a, b, n: max(a, b),
    "and_": lambda a, b, n: a & b,
    "or_": lambda a, b, n: a | b,
    "xor": lambda a, b, n: a ^ b,
    "shl": lambda a, b, n: a << (b % n),
    "shr": lambda a, b, n: a >> (b % n),
}

F64_FMT = (53, -1022, 1023)
F32_FMT = (24, -126, 127)


def round_fraction(x: Fraction, prec: int, emin: int, emax: int) -> float:
    """``x`` rounded to nearest even in a binary format (exact as a Python float)."""
    if x == 0:
        return 0.0
    neg, x = x < 0, abs(x)
    e = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** e > x:
        e -= 1                                            # 2**e <= x < 2**(e+1)
    q = max(e, emin) - prec + 1
    scaled = x / Fraction(2) ** q
    m = scaled.numerator // scaled.denominator
    rem = scaled - m
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and m % 2):
        m += 1
    v = math.inf if m * Fraction(2) ** q >= Fraction(2) ** (emax + 1) else math.ldexp(m, q)
    return -v if neg else v


def f32_of(x: float) -> float:
    """Round a Python float to binary32 (C cast through struct), overflow -> inf."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def fma_oracle(a: float, b: float, c: float, fmt) -> float:
    if not (math.isfinite(a) and math.isfinite(b)):
        return a * b + c
    if not math.isfinite(c):
        return c
    if a == 0 or b == 0:
        return a * b + c                                  # exact signed zero + c
    x = Fraction(a) * Fraction(b) + Fraction(c)
    if x == 0:
        return 0.0
    r = round_fraction(x, *fmt)
    return math.copysign(0.0, x) if r == 0 else r


def same_float(got, want) -> bool:
    got, want = float(got), float(want)
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1, got) == math.copysign(1, want)


def bits_of(x, ty: DType) -> int:
    return int(np.asarray(x, ty.storage).view(f"u{ty.size}"))


def ulp_distance32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def ordered(x):
        i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(1 << 31) - i, i)
    return np.abs(ordered(a) - ordered(b))


def ulp_distance64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def ordered(x):
        i = np.asarray(x, np.float64).view(np.int64)
        return [int(v) if v >= 0 else -(1 << 63) - int(v) for v in i]
    return np.array([abs(p - q) for p, q in zip(ordered(a), ordered(b))])


# ---------------------------------------------------------------------------------------------
# strategies


def random_ints(ty: DType, size: int, seed: int) -> np.ndarray:
    """Uniform values mixed with the type's edges and small numbers."""
    rng = np.random.default_rng(seed)
    lo, hi = lo_hi(ty)
    edge = np.array(sorted({lo, lo + 1, -1 if lo else 0, 0, 1, 2, hi - 1, hi}), dtype=ty.storage)
    small = rng.integers(max(lo, -4), 5, size).astype(ty.storage)
    uniform = rng.integers(lo, hi, size, dtype=ty.storage, endpoint=True)
    kind = rng.integers(0, 3, size)
    return np.choose(kind, [uniform, rng.choice(edge, size), small]).astype(ty.storage)


def random_floats(ty: DType, size: int, seed: int) -> np.ndarray:
    """Random bit patterns, special values and ordinary numbers."""
    rng = np.random.default_rng(seed)
    f, u = ty.storage, np.dtype(f"u{ty.size}")
    info = np.finfo(f)
    edge = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, info.max, -info.max,
                     info.smallest_subnormal, -info.smallest_subnormal, info.tiny, 0.5], f)
    raw = rng.integers(0, np.iinfo(u).max, size, dtype=u, endpoint=True).view(f)
    scale = 10.0 ** rng.integers(0, 6, size)
    plain = (np.round(rng.uniform(-100, 100, size) * scale) / scale).astype(f)
    kind = rng.integers(0, 3, size)
    return np.choose(kind, [raw, rng.choice(edge, size), plain]).astype(f)


def int_arrays(ty: DType, size: int = 64):
    return st.integers(0, 2**63).map(lambda seed: random_ints(ty, size, seed))


def float_arrays(ty: DType, size: int = 64):
    return st.integers(0, 2**63).map(lambda seed: random_floats(ty, size, seed))


# ---------------------------------------------------------------------------------------------
# integers: exhaustive for 8 bits, hypothesis for all widths


def check_int_binary(name: str, ty: DType, a: np.ndarray, b: np.ndarray) -> None:
    if name == "div":
        keep = b != 0
        a, b = a[keep], b[keep]
    if name in ("shl", "shr"):
        got = getattr(alu, name)(ty, a, b.astype(np.uint32))
    else:
        got = getattr(alu, name)(ty, a, b)
    assert got.dtype == ty.storage
    want = [wrap(INT_ORACLE[name](x, y, ty.bits), ty) for x, y in zip(py_ints(a), py_ints(b))]
    assert py_ints(got) == want


@pytest.mark.parametrize("ty", [T.I8, T.U8])
@pytest.mark.parametrize("name", [n for n in INT_ORACLE if n not in ("shl", "shr")])
def test_int_binary_exhaustive_8bit(name, ty):
    values = np.arange(lo_hi(ty)[0], lo_hi(ty)[1] + 1)
    a = np.repeat(values, values.size).astype(ty.storage)
    b = np.tile(values, values.size).astype(ty.storage)
    check_int_binary(name, ty, a, b)


@pytest.mark.parametrize("ty", INTS)
@pytest.mark.parametrize("name", ["shl", "shr"])
def test_shifts_every_amount(name, ty):
    lo, hi = lo_hi(ty)
    values = np.array(sorted({lo, lo + 1, -1 if lo else 0, 0, 1, 5, 0x5A, hi - 1, hi}),
                      dtype=ty.storage)
    amounts = np.array(list(range(0, 2 * ty.bits + 2)) + [2**31, 2**32 - 1, 255, 256, 257],
                       dtype=np.uint32)
    a = np.repeat(values, amounts.size)
    b = np.tile(amounts, values.size)
    got = getattr(alu, name)(ty, a, b)
    assert got.dtype == ty.storage
    want = [wrap(INT_ORACLE[name](x, y, ty.bits), ty) for x, y in zip(py_ints(a), py_ints(b))]
    assert py_ints(got) == want


def test_shift_examples():
    assert alu.shl(T.U8, np.uint8(3), np.uint32(9)) == 6            # by 9 = by 1
    assert alu.shl(T.U8, np.uint8(0x81), np.uint32(1)) == 2         # bit shifted out is lost
    assert alu.shr(T.I8, np.int8(-128), np.uint32(7)) == -1         # arithmetic
    assert alu.shr(T.U8, np.uint8(0x80), np.uint32(7)) == 1         # logical
    assert alu.shr(T.I32, np.int32(-8), np.uint32(33)) == -4        # 33 mod 32 = 1
    assert alu.shl(T.I64, np.int64(1), np.uint32(63)) == -(1 << 63)


@pytest.mark.parametrize("ty", INTS)
@pytest.mark.parametrize("name", list(INT_ORACLE))
def test_int_binary_random(name, ty):
    @FAST
    @given(int_arrays(ty), int_arrays(ty))
    def run(a, b):
        check_int_binary(name, ty, a, b)
    run()


@pytest.mark.parametrize("ty", INTS)
def test_int_mad_and_not(ty):
    @FAST
    @given(int_arrays(ty), int_arrays(ty), int_arrays(ty))
    def run(a, b, c):
        got = alu.mad(ty, a, b, c)
        assert got.dtype == ty.storage
        assert py_ints(got) == [wrap(x * y + z, ty) for x, y, z in
                                zip(py_ints(a), py_ints(b), py_ints(c))]
        assert py_ints(alu.not_(ty, a)) == [wrap(~x, ty) for x in py_ints(a)]
    run()


@pytest.mark.parametrize("ty", SINTS)
def test_signed_abs_neg_wrap(ty):
    lo, hi = lo_hi(ty)
    a = np.array([lo, lo + 1, -1, 0, 1, hi], dtype=ty.storage)
    assert py_ints(alu.neg(ty, a)) == [wrap(-x, ty) for x in py_ints(a)]
    assert py_ints(alu.abs_(ty, a)) == [wrap(abs(x), ty) for x in py_ints(a)]
    assert alu.abs_(ty, ty.storage.type(lo)) == lo
    assert alu.neg(ty, ty.storage.type(lo)) == lo


@pytest.mark.parametrize("ty", SINTS)
def test_signed_division_edges(ty):
    lo, hi = lo_hi(ty)
    a = np.array([lo, lo, lo, 7, -7, 7, -7, hi, -1, lo], dtype=ty.storage)
    b = np.array([-1, 1, 2, 2, 2, -2, -2, -1, 2, lo], dtype=ty.storage)
    assert py_ints(alu.div(ty, a, b)) == [lo, lo, lo // 2, 3, -3, -3, 3, -hi, 0, 1]
    assert alu.div(ty, ty.storage.type(lo), ty.storage.type(-1)) == lo


@pytest.mark.parametrize("ty", INTS)
def test_zero_divisor_gives_a_value(ty):
    lo, hi = lo_hi(ty)
    a = np.array([lo, 0, hi, 1], dtype=ty.storage)
    out = alu.div(ty, a, np.zeros(4, ty.storage))
    assert out.dtype == ty.storage and out.shape == (4,)
    assert isinstance(alu.div(ty, a[0], ty.storage.type(0)), np.generic)


def test_int_wraparound_examples():
    assert alu.add(T.I8, np.int8(127), np.int8(1)) == -128
    assert alu.add(T.U8, np.uint8(255), np.uint8(1)) == 0
    assert alu.sub(T.U32, np.uint32(0), np.uint32(1)) == 2**32 - 1
    assert alu.mul(T.I64, np.int64(2**62), np.int64(4)) == 0
    assert alu.mul(T.I32, np.int32(65537), np.int32(65537)) == wrap(65537**2, T.I32)
    assert alu.div(T.U64, np.uint64(2**64 - 1), np.uint64(2)) == 2**63 - 1


# ---------------------------------------------------------------------------------------------
# floats: basic arithmetic, min/max, abs/neg


def py_float_binary(name: str, a: float, b: float) -> float:
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    if b == 0:
        if math.isnan(a) or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


@pytest.mark.parametrize("ty", FLS)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_float_binary(name, ty):
    to_ty = f32_of if ty is T.F32 else float

    @FAST
    @given(float_arrays(ty), float_arrays(ty))
    def run(a, b):
        got = getattr(alu, name)(ty, a, b)
        assert got.dtype == ty.storage
        for g, x, y in zip(got, a.tolist(), b.tolist()):
            want = to_ty(py_float_binary(name, x, y))
            assert same_float(g, want), (x, y, g, want)
    run()


def test_float_division_specials():
    a = np.array([1.0, -1.0, 0.0, -0.0, np.inf, np.nan])
    b = np.array([0.0, 0.0, 0.0, -0.0, np.inf, 1.0])
    got = alu.div(T.F64, a, b)
    want = [math.inf, -math.inf, math.nan, math.nan, math.nan, math.nan]
    assert all(same_float(g, w) for g, w in zip(got, want))


def py_minmax(a: float, b: float, smaller: bool) -> float:
    """IEEE 754-2019 minimumNumber / maximumNumber: NaN ignored, -0 < +0."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    if a == b == 0:
        negative = math.copysign(1, a) < 0, math.copysign(1, b) < 0
        return -0.0 if (any(negative) if smaller else all(negative)) else 0.0
    return min(a, b) if smaller else max(a, b)


@pytest.mark.parametrize("ty", FLS)
@pytest.mark.parametrize("name", ["minimum", "maximum"])
def test_float_min_max_nan_ignoring(name, ty):
    smaller = name == "minimum"

    @FAST
    @given(float_arrays(ty), float_arrays(ty))
    def run(a, b):
        b[::4] = -a[::4]
        got = getattr(alu, name)(ty, a, b)
        assert got.dtype == ty.storage
        for g, x, y in zip(got.tolist(), a.tolist(), b.tolist()):
            assert same_float(g, py_minmax(x, y, smaller))
    run()
    f = ty.storage.type
    nan, one = f(np.nan), f(1)
    assert getattr(alu, name)(ty, nan, one) == 1
    assert getattr(alu, name)(ty, one, nan) == 1
    assert np.isnan(getattr(alu, name)(ty, nan, nan))
    a = np.array([0.0, 0.0, -0.0, -0.0], ty.storage)
    b = np.array([0.0, -0.0, 0.0, -0.0], ty.storage)
    want = [0.0, -0.0, -0.0, -0.0] if smaller else [0.0, 0.0, 0.0, -0.0]
    for got in (getattr(alu, name)(ty, a, b), [getattr(alu, name)(ty, x, y) for x, y in zip(a, b)]):
        assert all(same_float(g, w) for g, w in zip(got, want))


NAN_PATTERNS = {
    T.F32: [0x7FC00001, 0xFFC00123, 0x7F800001, 0xFF812345, 0x7F800000, 0x80000000, 0x3F800000],
    T.F64: [0x7FF8000000000001, 0xFFF8000000ABCDEF, 0x7FF0000000000001, 0xFFF4000000000000,
            0xFFF0000000000000, 0x0000000000000000, 0xBFF0000000000000],
}


@pytest.mark.parametrize("ty", FLS)
def test_float_abs_neg_on_bits(ty):
    raw = np.array(NAN_PATTERNS[ty], dtype=f"u{ty.size}")
    x = raw.view(ty.storage)
    sign = 1 << (ty.bits - 1)
    neg, ab = alu.neg(ty, x), alu.abs_(ty, x)
    assert neg.dtype == ty.storage and ab.dtype == ty.storage
    assert [bits_of(v, ty) for v in neg] == [int(r) ^ sign for r in raw]
    assert [bits_of(v, ty) for v in ab] == [int(r) & ~sign for r in raw]
    assert bits_of(alu.neg(ty, x[0]), ty) == int(raw[0]) ^ sign


# ---------------------------------------------------------------------------------------------
# MAD and FMA


def adversarial_fma64() -> list[tuple[float, float, float]]:
    two = lambda e: math.ldexp(1.0, e)                       # noqa: E731
    big, tiny = 1.7976931348623157e308, 5e-324
    mid_a, mid_b = 1 + two(-26), 1 + two(-27)                # product is a 54-bit midpoint
    sub_hi = math.ldexp(2**52 + 1, -589)                     # (1 + 2**-52) * 2**-537
    sub_lo = math.ldexp(2**52 - 1, -590)
    cases = [
        (1 + two(-27), 1 + two(-27), -(1 + two(-26))),       # = 2**-54, MAD gives 0
        (0.1, 10.0, -1.0), (1 / 3, 3.0, -1.0),
        (mid_a, mid_b, 0.0), (mid_a, mid_b, -0.0),
        (mid_a, mid_b, tiny), (mid_a, mid_b, -tiny), (mid_a, mid_b, two(-200)),
        (-mid_a, mid_b, tiny), (mid_a * two(1000), mid_b * two(22), tiny),
        (mid_a * two(511), mid_b * two(511), tiny), (mid_a * two(511), mid_b * two(511), -tiny),
        (mid_a * two(511), mid_b * two(511), two(-1000)), (mid_a * two(-600), mid_b * two(-470),
                                                          -tiny),
        (two(512), two(512), -big), (two(512), two(512), -two(1023)),
        (big, 1.0, two(970)), (big, 1.0, math.nextafter(two(970), 0)), (big, 1.0, -two(970)),
        (big, 1 + two(-52), -big), (big, -1.0, -two(970)), (two(600), two(500), -big),
        (1e200, 1e200, -1e308), (1e300, 1e300, -math.inf), (1e300, 1e300, math.nan),
        (math.inf, 0.0, 1.0), (math.inf, 1.0, -math.inf), (math.inf, 2.0, 1.0),
        (math.nan, 0.0, 1.0), (0.0, math.inf, math.nan),
        (-1e-200, 1e-200, 0.0), (1e-200, 1e-200, -0.0), (1.0, -0.0, 0.0), (-0.0, 1.0, -0.0),
        (1.0, 1.0, -1.0), (-1.0, 1.0, 1.0), (0.0, 0.0, -0.0), (-0.0, 0.0, -0.0),
        (two(-600), two(-600), -0.0), (two(-600), -two(-600), 0.0),
        (tiny, tiny, 0.0), (tiny, 0.5, 0.0), (tiny, 0.5, tiny), (tiny, 1.5, 0.0),
        (tiny, -0.5, 0.0), (3 * tiny, 0.5, 0.0), (two(-1022), 0.5, -tiny),
        (two(-1022), 1 - two(-53), 0.0),
    ]
    for k in (0, 1, 2, 3):                                   # subnormal midpoints + sticky
        c = k * tiny
        for a in (sub_hi, sub_lo):
            cases += [(a, two(-538), c), (a, two(-538), -c), (-a, two(-538), c)]
    top = math.ldexp(2**51 + 1, -1074)                       # top subnormal binade
    cases += [(sub_hi, two(-538), top), (sub_lo, two(-538), top), (sub_hi, -two(-538), top),
              (sub_hi, two(-538), math.ldexp(2**52 - 1, -1074)),
              (sub_lo, two(-538), math.ldexp(2**52 - 1, -1074)),
              (sub_hi, two(-537), math.ldexp(2**52 - 1, -1074)),
              (math.ldexp(2**53 - 1, -540), math.ldexp(2**53 - 1, -540), -two(-1000)),
              (math.ldexp(2**53 - 1, -540), math.ldexp(2**53 - 1, -540), -two(-1081) * 2**53)]
    return cases


@pytest.mark.parametrize("case", adversarial_fma64())
def test_fma64_adversarial(case):
    a, b, c = case
    got = alu.fma(T.F64, np.float64(a), np.float64(b), np.float64(c))
    assert isinstance(got, np.float64)
    assert same_float(got, fma_oracle(a, b, c, F64_FMT)), case


def test_round_fraction_oracle_matches_python_float():
    rng = np.random.default_rng(1)
    for n, d in zip(rng.integers(1, 2**62, 300, dtype=np.int64), rng.integers(1, 2**62, 300)):
        for scale in (1, Fraction(1, 2**1070), Fraction(2**1000)):
            x = Fraction(int(n), int(d)) * scale
            assert round_fraction(x, *F64_FMT) == float(x)


def fma_batch_check(ty: DType, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    fmt = F32_FMT if ty is T.F32 else F64_FMT
    got = alu.fma(ty, a, b, c)
    assert got.dtype == ty.storage and got.shape == a.shape
    bad = [(x, y, z, g) for x, y, z, g in zip(a.tolist(), b.tolist(), c.tolist(), got.tolist())
           if not same_float(g, fma_oracle(x, y, z, fmt))]
    assert not bad, bad[:5]


def random_fma_operands(ty: DType, rng, n: int) -> list[tuple[np.ndarray, ...]]:
    """Random bit patterns, near-cancelling addends and exponent-controlled triples."""
    u, f = (np.uint32, np.float32) if ty is T.F32 else (np.uint64, np.float64)
    m_bits, e_max = (24, 127) if ty is T.F32 else (53, 1023)
    info = np.iinfo(u)
    raw = lambda: rng.integers(0, info.max, n, dtype=u, endpoint=True).view(f)  # noqa: E731
    a, b = raw(), raw()
    out = [(a, b, raw())]
    with np.errstate(all="ignore"):
        prod = (a * b).astype(f)
        nudge = rng.integers(-3, 4, n)
        c = np.where(nudge == 0, -prod, np.nextafter(-prod, np.copysign(np.inf, nudge)))
        out.append((a, b, c.astype(f)))

    def mant(size):
        return np.ldexp(rng.integers(1 << (m_bits - 1), 1 << m_bits, size).astype(np.float64)
                        * rng.choice([-1.0, 1.0], size), -m_bits)
    ea = rng.integers(-e_max - m_bits, e_max + 2, n)
    eb = rng.integers(-e_max - m_bits, e_max + 2, n)
    ec = ea + eb + rng.integers(-m_bits - 60, m_bits + 60, n)
    with np.errstate(all="ignore"):
        ta = np.ldexp(mant(n), ea).astype(f)
        tb = np.ldexp(mant(n), eb).astype(f)
        tc = np.ldexp(mant(n), ec).astype(f)
    out.append((ta, tb, tc))
    out.append((ta, tb, (-(ta.astype(np.float64) * tb)).astype(f) if ty is T.F32 else
                np.nextafter(-(ta * tb), rng.choice([-np.inf, np.inf], n))))
    return out


@pytest.mark.parametrize("ty", FLS)
def test_fma_random_batches(ty):
    rng = np.random.default_rng(20240611 + ty.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batches = random_fma_operands(ty, rng, 6000)
    for a, b, c in batches:
        fma_batch_check(ty, a, b, c)


@MANY
@given(st.floats(), st.floats(), st.floats())
def test_fma64_hypothesis(a, b, c):
    got = alu.fma(T.F64, np.float64(a), np.float64(b), np.float64(c))
    assert same_float(got, fma_oracle(a, b, c, F64_FMT))


@MANY
@given(st.floats(allow_nan=False, allow_infinity=False),
       st.floats(allow_nan=False, allow_infinity=False), st.integers(-4, 4), st.integers(-80, 80))
def test_fma64_hypothesis_cancellation(a, b, ulps, shift):
    with np.errstate(all="ignore"):
        c = -np.float64(a) * np.float64(b)
        if shift:
            c = np.ldexp(c, shift) if abs(shift) > 60 else c
        for _ in range(abs(ulps)):
            c = np.nextafter(c, math.copysign(math.inf, ulps))
    if not np.isfinite(c):
        return
    got = alu.fma(T.F64, np.float64(a), np.float64(b), c)
    assert same_float(got, fma_oracle(a, b, float(c), F64_FMT))


@MANY
@given(st.integers(2**52, 2**53 - 1), st.integers(2**52, 2**53 - 1), st.integers(0, 2**53 - 1),
       st.integers(-1130, 1030), st.integers(-1130, 1030), st.integers(-120, 60),
       st.sampled_from([1.0, -1.0]), st.sampled_from([1.0, -1.0]))
def test_fma64_hypothesis_exponents(ma, mb, mc, ea, eb, dc, sb, sc):
    if max(ea, eb, ea + eb + dc) > 1023:
        return
    a, b = math.ldexp(ma, ea - 52), sb * math.ldexp(mb, eb - 52)
    c = sc * math.ldexp(mc, ea + eb + dc - 52)
    got = alu.fma(T.F64, np.float64(a), np.float64(b), np.float64(c))
    assert same_float(got, fma_oracle(a, b, c, F64_FMT)), (a, b, c)


@MANY
@given(st.floats(width=32), st.floats(width=32), st.floats(width=32))
def test_fma32_hypothesis(a, b, c):
    got = alu.fma(T.F32, np.float32(a), np.float32(b), np.float32(c))
    assert isinstance(got, np.float32)
    assert same_float(got, fma_oracle(a, b, c, F32_FMT))


def test_fma32_adversarial():
    two = lambda e: math.ldexp(1.0, e)                        # noqa: E731
    a, b = 1 + two(-11), 1 + two(-13)                         # product: a 25-bit midpoint
    cases = [(a, b, two(-80)), (a, b, -two(-80)), (a, b, 0.0), (a, b, two(-149)),
             (1 + two(-12), 1 + two(-12), -(1 + two(-11))), (0.1, 10.0, -1.0),
             (a * two(-75), b * two(-75), 0.0), (two(-75), two(-75), two(-149)),
             (two(-75), -two(-75), two(-149)), (3.4028234663852886e38, 2.0, -3.4028234663852886e38),
             (3.4028234663852886e38, 1.0, two(103)), (3.4028234663852886e38, 1.0, two(102)),
             (-1e-30, 1e-30, 0.0), (math.inf, 0.0, 1.0), (1e30, 1e30, -math.inf)]
    for x, y, z in cases:
        x, y, z = (f32_of(v) for v in (x, y, z))
        got = alu.fma(T.F32, np.float32(x), np.float32(y), np.float32(z))
        assert same_float(got, fma_oracle(x, y, z, F32_FMT)), (x, y, z)
    # f64 sum then f32 rounding double-rounds here; FMA must not
    x, y, z = np.float32(a), np.float32(b), np.float32(two(-80))
    assert alu.fma(T.F32, x, y, z) == np.float32(a * b + two(-23) - two(-24))
    assert np.float32(float(x) * float(y) + float(z)) != alu.fma(T.F32, x, y, z)


def test_fma32_many_chunks():
    """Flagged lanes (midpoints, tiny results, NaN) scattered over several chunks of a long
    array, and one stretch where most lanes are on a midpoint, are each rounded once."""
    two = lambda e: math.ldexp(1.0, e)                        # noqa: E731
    rng = np.random.default_rng(7)
    n = 3 * 65536 + 123
    a, b, c = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    special = [(1 + two(-11), 1 + two(-13), two(-80)), (1 + two(-11), 1 + two(-13), -two(-80)),
               (two(-75), two(-75), two(-149)), (math.nan, 1.0, 2.0), (math.inf, 0.0, 1.0)]
    where = rng.choice(n, 40, replace=False)
    for k, lane in enumerate(where):
        a[lane], b[lane], c[lane] = special[k % len(special)]
    dense = slice(70_000, 72_000)                             # odd integer sums of 25 bits
    a[dense] = rng.integers(1 << 12, 1 << 13, 2000)
    b[dense] = rng.integers(1 << 12, 1 << 13, 2000)
    c[dense] = rng.integers(1 << 22, 1 << 23, 2000) * 2 + 1
    got = alu.fma(T.F32, a, b, c)
    lanes = np.union1d(np.union1d(where, rng.choice(n, 300, replace=False)),
                       np.arange(70_000, 72_000, 7))
    for i in lanes.tolist():
        x, y, z = float(a[i]), float(b[i]), float(c[i])
        assert same_float(float(got[i]), fma_oracle(x, y, z, F32_FMT)), (i, x, y, z)


def test_fma32_midpoint_only_chunks():
    """Chunks whose only flagged lanes are float64 sums on a float32 midpoint (a few, or
    most lanes of a chunk) are patched alone; both signs, many binades, the binade where
    float32 overflows, ties to even, and chunks of zeros of both signs beside them."""
    from simt.machine.thresholds import FMA_CHUNK
    two = lambda e: math.ldexp(1.0, e)                        # noqa: E731
    rng = np.random.default_rng(11)
    n = 3 * FMA_CHUNK + 77
    a, b, c = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    lanes = rng.choice(FMA_CHUNK, 60, replace=False)          # the first chunk: a few
    for k, lane in enumerate(lanes.tolist()):
        e, sign = int(rng.integers(-90, 100)), (-1.0) ** k
        a[lane], b[lane] = sign * (1 + two(-11)) * two(e), 1 + two(-13)
        c[lane] = (-1.0) ** (k // 2) * two(e - 80)            # s on a midpoint, exact off it
    a[lanes[0]], b[lanes[0]], c[lanes[0]] = 3.4028234663852886e38, 1.0, two(103)
    a[lanes[1]], b[lanes[1]], c[lanes[1]] = -3.4028234663852886e38, 1.0, -two(102)
    dense = slice(FMA_CHUNK, 2 * FMA_CHUNK)                   # the second: mostly ties
    m = FMA_CHUNK
    a[dense] = rng.integers(1 << 12, 1 << 13, m) * rng.choice([-1, 1], m)
    b[dense] = rng.integers(1 << 12, 1 << 13, m)
    c[dense] = (rng.integers(1 << 22, 1 << 23, m) * 2 + 1) * rng.choice([-1, 1], m)
    zeros = slice(2 * FMA_CHUNK, 2 * FMA_CHUNK + 4)           # the third: signed zeros
    a[zeros], b[zeros], c[zeros] = [-0.0, 0.0, -0.0, 2.0], [1.0, -1.0, 1.0, -0.5], \
        [0.0, -0.0, -0.0, 1.0]
    got = alu.fma(T.F32, a, b, c)
    check = np.union1d(np.union1d(lanes, rng.choice(n, 200, replace=False)),
                       np.r_[np.arange(FMA_CHUNK, 2 * FMA_CHUNK, 97), 2 * FMA_CHUNK + np.arange(4)])
    for i in check.tolist():
        x, y, z = float(a[i]), float(b[i]), float(c[i])
        assert same_float(float(got[i]), fma_oracle(x, y, z, F32_FMT)), (i, x, y, z)
    assert np.isposinf(got[lanes[0]]) and got[lanes[1]] == np.float32(-3.4028234663852886e38)
    assert np.signbit(got[2 * FMA_CHUNK + 2]) and not np.signbit(got[2 * FMA_CHUNK])


@pytest.mark.parametrize("ty,e", [(T.F32, 12), (T.F64, 27)])
def test_mad_rounds_twice_fma_once(ty, e):
    f = ty.storage.type
    a, c = f(1 + 2.0**-e), f(-(1 + 2.0**(1 - e)))
    assert alu.fma(ty, a, a, c) == 2.0 ** (-2 * e)
    assert alu.mad(ty, a, a, c) == 0.0


@pytest.mark.parametrize("ty", FLS)
def test_mad_float_oracle(ty):
    rnd = f32_of if ty is T.F32 else float

    @FAST
    @given(float_arrays(ty), float_arrays(ty), float_arrays(ty))
    def run(a, b, c):
        got = alu.mad(ty, a, b, c)
        assert got.dtype == ty.storage
        for g, x, y, z in zip(got.tolist(), a.tolist(), b.tolist(), c.tolist()):
            try:
                p = rnd(x * y)
            except OverflowError:
                p = math.copysign(math.inf, x) * math.copysign(1, y)
            s = p + z if not (math.isinf(p) and math.isinf(z) and p != z) else math.nan
            assert same_float(g, rnd(s) if math.isfinite(s) else s)
    run()


# ---------------------------------------------------------------------------------------------
# SETcc


PY_COND = {Condition.EQ: lambda a, b: a == b, Condition.NE: lambda a, b: a != b,
           Condition.LT: lambda a, b: a < b, Condition.LE: lambda a, b: a <= b,
           Condition.GT: lambda a, b: a > b, Condition.GE: lambda a, b: a >= b}
PY_COND |= {Condition.LTU: PY_COND[Condition.LT], Condition.LEU: PY_COND[Condition.LE],
            Condition.GTU: PY_COND[Condition.GT], Condition.GEU: PY_COND[Condition.GE]}


@pytest.mark.parametrize("ty", NUMERIC)
def test_setcc(ty):
    conds = [c for c in Condition if alu.cond_supported(ty, c)]
    strategy = int_arrays(ty) if ty.is_int else float_arrays(ty)

    @FAST
    @given(strategy, strategy)
    def run(a, b):
        b[::3] = a[::3]
        for cond in conds:
            got = alu.setcc(ty, cond, a, b)
            assert got.dtype == np.bool_
            assert got.tolist() == [PY_COND[cond](x, y) for x, y in zip(a.tolist(), b.tolist())]
    run()


def test_setcc_nan_and_support():
    nan, one = np.float32(np.nan), np.float32(1)
    for cond in list(Condition)[:6]:
        assert bool(alu.setcc(T.F32, cond, nan, one)) is (cond is Condition.NE)
        assert bool(alu.setcc(T.F64, cond, np.float64(np.nan), np.float64(np.nan))) is \
            (cond is Condition.NE)
    for ty in DType:
        for cond in Condition:
            want = ty in INT | FL and (ty.is_unsigned or not cond.unsigned_only)
            assert alu.cond_supported(ty, cond) is want


# ---------------------------------------------------------------------------------------------
# CVT


def cvt_oracle(src: DType, dst: DType, x):
    if src.is_int and dst.is_int:
        return wrap(int(x), dst)
    if src.is_int:
        return round_fraction(Fraction(int(x)), *(F32_FMT if dst is T.F32 else F64_FMT))
    if dst.is_int:
        x = float(x)
        lo, hi = lo_hi(dst)
        if math.isnan(x):
            return 0
        if math.isinf(x):
            return hi if x > 0 else lo
        return min(max(math.trunc(x), lo), hi)
    return f32_of(float(x)) if dst is T.F32 else float(x)


REF_CVT_PAIRS = sorted((p for p in CVT_PAIRS if T.F16 not in p and T.BF16 not in p),
                       key=lambda p: (p[0].value, p[1].value))


@pytest.mark.parametrize("pair", REF_CVT_PAIRS, ids=lambda p: f"{p[0].text}->{p[1].text}")
def test_cvt_pairs(pair):
    src, dst = pair
    strategy = int_arrays(src) if src.is_int else float_arrays(src)

    @settings(max_examples=25, deadline=None)
    @given(strategy)
    def run(x):
        got = alu.cvt(src, dst, x)
        assert got.dtype == dst.storage
        for g, v in zip(got.tolist(), x.tolist()):
            want = cvt_oracle(src, dst, v)
            assert same_float(g, want) if dst.is_float else g == want, (v, g, want)
    run()


def test_cvt_saturation_and_nan():
    f32 = np.array([np.inf, -np.inf, 1e30, -1e30, -1.5, -0.5, -0.0, 4294967295.7, np.nan,
                    2147483520.0, 2147483648.0, -2147483648.0, -2147483904.0, 3.99], np.float32)
    assert alu.cvt(T.F32, T.U32, f32).tolist() == [
        2**32 - 1, 0, 2**32 - 1, 0, 0, 0, 0, 2**32 - 1, 0, 2147483520, 2147483648, 0, 0, 3]
    assert alu.cvt(T.F32, T.I32, f32).tolist() == [
        2**31 - 1, -2**31, 2**31 - 1, -2**31, -1, 0, 0, 2**31 - 1, 0, 2147483520, 2**31 - 1,
        -2**31, -2**31, 3]
    f64 = np.array([np.inf, -np.inf, 1e300, -1.5, 2.0**64, 2.0**64 - 2048, 2.0**63,
                    -2.0**63, np.nan, 4294967295.7], np.float64)
    assert alu.cvt(T.F64, T.U64, f64).tolist() == [
        2**64 - 1, 0, 2**64 - 1, 0, 2**64 - 1, 2**64 - 2048, 2**63, 0, 0, 4294967295]
    assert alu.cvt(T.F64, T.I64, f64).tolist() == [
        2**63 - 1, -2**63, 2**63 - 1, -1, 2**63 - 1, 2**63 - 1, 2**63 - 1, -2**63, 0,
        4294967295]


def test_cvt_int_to_float_round_nearest_even():
    i32 = np.array([16777217, 16777219, -16777217, 2**31 - 1, -2**31, 33554435, 2**24 + 3],
                   np.int32)
    assert alu.cvt(T.I32, T.F32, i32).tolist() == [
        16777216.0, 16777220.0, -16777216.0, 2.0**31, -2.0**31, 33554436.0, 2.0**24 + 4]
    u32 = np.array([2**32 - 1, 16777217, 2**31 + 128, 2**31 + 129, 2**31 + 384], np.uint32)
    assert alu.cvt(T.U32, T.F32, u32).tolist() == [
        2.0**32, 16777216.0, 2.0**31, 2.0**31 + 256, 2.0**31 + 512]
    u64 = np.array([2**53 + 1, 2**53 + 3, 2**64 - 1, 2**63 + 1024, 2**63 + 1025, 2**63 + 3072],
                   np.uint64)
    assert alu.cvt(T.U64, T.F64, u64).tolist() == [
        2.0**53, 2.0**53 + 4, 2.0**64, 2.0**63, 2.0**63 + 2048, 2.0**63 + 4096]
    i64 = np.array([2**53 + 1, -(2**53 + 1), 2**63 - 1, -2**63, 2**62 + 513], np.int64)
    assert alu.cvt(T.I64, T.F64, i64).tolist() == [
        2.0**53, -2.0**53, 2.0**63, -2.0**63, 2.0**62 + 1024]


def test_cvt_random_wide_ints_to_float():
    rng = np.random.default_rng(7)
    for src, dst in [(T.U32, T.F32), (T.I32, T.F32), (T.U64, T.F64), (T.I64, T.F64)]:
        info = np.iinfo(src.storage)
        x = rng.integers(info.min, info.max, 4000, dtype=src.storage, endpoint=True)
        x >>= rng.integers(0, src.bits - 1, x.size).astype(src.storage)   # all magnitudes
        got = alu.cvt(src, dst, x).tolist()
        assert got == [cvt_oracle(src, dst, v) for v in x.tolist()]


def test_cvt_f64_to_f32_rounding():
    x = np.array([1 + 2.0**-24, 1 + 2.0**-24 + 2.0**-52, 1 + 3 * 2.0**-24, 3.5e38, -3.5e38,
                  2.0**-150, 2.0**-150 * (1 + 2.0**-52), 1e-50, np.nan, -0.0], np.float64)
    got = alu.cvt(T.F64, T.F32, x)
    assert got.dtype == np.float32
    for g, v in zip(got.tolist(), x.tolist()):
        assert same_float(g, f32_of(v))


ALL_16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
F16_NAN = ((ALL_16 & 0x7C00) == 0x7C00) & ((ALL_16 & 0x03FF) != 0)
BF16_NAN = ((ALL_16 & 0x7F80) == 0x7F80) & ((ALL_16 & 0x007F) != 0)


def test_cvt_f16_to_f32_all_patterns():
    got = alu.cvt(T.F16, T.F32, ALL_16)
    assert got.dtype == np.float32
    want = [struct.unpack("<e", int(b).to_bytes(2, "little"))[0] for b in ALL_16]
    for g, w, b in zip(got.tolist(), want, ALL_16.tolist()):
        assert same_float(g, w), hex(b)
        if math.isnan(w):
            assert (bits_of(np.float32(g), T.F32) >> 31) == b >> 15
    np.testing.assert_array_equal(got.view(np.uint32),
                                  ALL_16.view(np.float16).astype(np.float32).view(np.uint32))


def test_cvt_bf16_to_f32_all_patterns():
    got = alu.cvt(T.BF16, T.F32, ALL_16)
    want = (ALL_16.astype(np.uint32) << 16).view(np.float32)
    finite = ~np.isnan(want)
    np.testing.assert_array_equal(got.view(np.uint32)[finite], want.view(np.uint32)[finite])
    assert np.isnan(got[~finite]).all()
    np.testing.assert_array_equal(
        got.view(np.uint32), ALL_16.view(ml_dtypes.bfloat16).astype(np.float32).view(np.uint32))


def f32_to_f16_bits(x: float) -> int:
    try:
        return int.from_bytes(struct.pack("<e", x), "little")
    except OverflowError:
        return 0xFC00 if x < 0 else 0x7C00


def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    u = x.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)   # RNE (finite inputs)


def f32_samples() -> np.ndarray:
    """Every f16 / bf16 value, the midpoints between neighbours and points near them."""
    h = ALL_16[~F16_NAN].view(np.float16).astype(np.float64)
    b = ALL_16[~BF16_NAN].view(ml_dtypes.bfloat16).astype(np.float64)
    pts = []
    for v in (h, b):
        v = np.sort(v[np.isfinite(v)])
        mid = (v[:-1] + v[1:]) / 2
        pts += [v, mid, np.nextafter(mid.astype(np.float32), np.float32(np.inf)),
                np.nextafter(mid.astype(np.float32), np.float32(-np.inf))]
    rng = np.random.default_rng(3)
    pts.append(rng.integers(0, 2**32, 20000, dtype=np.uint32).view(np.float32))
    out = np.concatenate([p.astype(np.float32) for p in pts])
    return out[np.isfinite(out)]


def test_cvt_f32_to_f16_round_nearest_even():
    x = f32_samples()
    got = alu.cvt(T.F32, T.F16, x)
    assert got.dtype == np.uint16
    assert got.tolist() == [f32_to_f16_bits(v) for v in x.tolist()]
    back = alu.cvt(T.F32, T.F16, alu.cvt(T.F16, T.F32, ALL_16))
    np.testing.assert_array_equal(back[~F16_NAN], ALL_16[~F16_NAN])
    assert F16_NAN[back[F16_NAN]].all()
    assert F16_NAN[alu.cvt(T.F32, T.F16, np.float32(np.nan))]


def test_cvt_f32_to_bf16_round_nearest_even():
    x = f32_samples()
    got = alu.cvt(T.F32, T.BF16, x)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, f32_to_bf16_bits(x))
    back = alu.cvt(T.F32, T.BF16, alu.cvt(T.BF16, T.F32, ALL_16))
    np.testing.assert_array_equal(back[~BF16_NAN], ALL_16[~BF16_NAN])
    assert BF16_NAN[back[BF16_NAN]].all()
    assert BF16_NAN[alu.cvt(T.F32, T.BF16, np.float32(np.nan))]


def test_cvt_supported_is_exactly_the_table():
    for src in DType:
        for dst in DType:
            assert alu.cvt_supported(src, dst) is ((src, dst) in CVT_PAIRS)
    assert len(CVT_PAIRS) == 56
    with pytest.raises(ValueError):
        alu.cvt(T.I8, T.U16, np.int8(1))


def test_cvt_identity_is_a_copy():
    x = np.array([1.5, np.nan], np.float32)
    y = alu.cvt(T.F32, T.F32, x)
    assert y is not x and bits_of(y[1], T.F32) == bits_of(x[1], T.F32)


# ---------------------------------------------------------------------------------------------
# MOV_IMM


@pytest.mark.parametrize("ty", list(DType))
@pytest.mark.parametrize("value", [0, 1, 0x80, 0xFF, 0x7FFF, 0x8000, 0x3C00, 0x3F800000,
                                   0x7FC00001, 0xFFFFFFFF, 0x3FF0000000000000,
                                   0x7FF8000000000123, 2**63, 2**64 - 1, 0x0123456789ABCDEF])
def test_mov_imm(ty, value):
    got = alu.mov_imm(ty, value)
    assert isinstance(got, np.generic) and got.dtype == ty.storage
    low = value & ((1 << ty.bits) - 1)
    raw = low.to_bytes(8, "little")[:ty.size]
    if ty.is_int:
        assert int(got) == int.from_bytes(raw, "little", signed=ty.is_signed_int)
    elif ty in (T.F16, T.BF16):
        assert int(got) == low
    else:
        want = struct.unpack("<f" if ty is T.F32 else "<d", raw)[0]
        assert same_float(got, want) and bits_of(got, ty) == low


def test_mov_imm_negative_python_int_is_twos_complement():
    assert alu.mov_imm(T.I32, -1) == -1
    assert alu.mov_imm(T.U16, -2) == 0xFFFE


# ---------------------------------------------------------------------------------------------
# transcendentals


MATH = {"exp": math.exp, "log": math.log, "log2": math.log2, "log10": math.log10,
        "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "tanh": math.tanh,
        "rsqrt": None, "sigmoid": None}


def libm(name: str, x: float, rnd) -> float:
    """The REF steps with the ``math`` module, each rounded by ``rnd``."""
    if name == "rsqrt":
        return rnd(1 / rnd(math.sqrt(x)))
    if name == "sigmoid":
        e = rnd(math.exp(-x)) if x > -700 else math.inf
        return rnd(1 / rnd(1 + e))
    return rnd(MATH[name](x))
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt"}


def transcendental_inputs(ty: DType, name: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-20, 20, 3000), rng.uniform(-1, 1, 1000),
                        np.exp(rng.uniform(-80, 80, 1000)) * rng.choice([-1, 1], 1000)])
    if name in POSITIVE:
        x = np.abs(x)
    if name == "exp":
        x = x[np.abs(x) < 80]
    return x.astype(ty.storage)


def recipe(name: str, ty: DType, v):
    """The documented recipe, evaluated on one NumPy scalar."""
    f64, rnd = np.float64, ty.storage.type
    if name == "rsqrt":
        return rnd(f64(1.0) / f64(rnd(np.sqrt(f64(v)))))
    if name == "sigmoid":
        e = rnd(np.exp(-f64(v)))
        return rnd(f64(1.0) / f64(rnd(f64(1.0) + f64(e))))
    return rnd(getattr(np, name)(f64(v)))


@pytest.mark.parametrize("ty", FLS)
@pytest.mark.parametrize("name", sorted(MATH))
def test_transcendental(name, ty):
    x = transcendental_inputs(ty, name)
    got = alu.transcendental(name, ty, x)
    assert got.dtype == ty.storage
    with np.errstate(all="ignore"):
        exact = [recipe(name, ty, v) for v in x]
    np.testing.assert_array_equal(got.view(f"u{ty.size}"),
                                  np.array(exact, ty.storage).view(f"u{ty.size}"))
    if ty is T.F32:
        want = np.array([libm(name, float(v), f32_of) for v in x], np.float32)
        assert ulp_distance32(got, want).max() <= 1
    else:
        want = np.array([libm(name, float(v), float) for v in x])
        assert ulp_distance64(got, want).max() <= 2
    assert alu.transcendental(name.upper(), ty, x[:3]).tobytes() == got[:3].tobytes()


@pytest.mark.parametrize("ty", FLS)
def test_transcendental_specials(ty):
    f = ty.storage.type
    inf, nan = math.inf, math.nan
    cases = {"log": [(0.0, -inf), (-1.0, nan), (inf, inf)], "sqrt": [(-1.0, nan), (-0.0, -0.0)],
             "exp": [(-inf, 0.0), (inf, inf), (1000.0, inf), (nan, nan)],
             "rsqrt": [(0.0, inf), (-0.0, -inf), (inf, 0.0), (-1.0, nan)],
             "sigmoid": [(-inf, 0.0), (inf, 1.0), (nan, nan), (-1000.0, 0.0), (0.0, 0.5)],
             "tanh": [(inf, 1.0), (-inf, -1.0)], "sin": [(inf, nan)], "log2": [(0.0, -inf)]}
    for name, pairs in cases.items():
        for x, want in pairs:
            got = alu.transcendental(name, ty, f(x))
            assert isinstance(got, ty.storage.type) or np.asarray(got).dtype == ty.storage
            assert same_float(got, want), (name, x, got)
    with pytest.raises(ValueError):
        alu.transcendental("exp", T.F16, np.uint16(0))


# ---------------------------------------------------------------------------------------------
# reductions


@pytest.mark.parametrize("ty", [T.I32, T.I64])
@pytest.mark.parametrize("op", ["add", "mul", "min", "max"])
def test_reduce_int(op, ty):
    @FAST
    @given(st.lists(int_arrays(ty, 8), min_size=0, max_size=6))
    def run(rows):
        got = alu.reduce(op, ty, rows, 8)
        assert got.dtype == ty.storage and got.shape == (8,)
        lo, hi = lo_hi(ty)
        acc = [{"add": 0, "mul": 1, "min": hi, "max": lo}[op]] * 8
        for row in rows:
            fn = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "min": min,
                  "max": max}[op]
            acc = [wrap(fn(a, b), ty) for a, b in zip(acc, py_ints(row))]
        assert py_ints(got) == acc
    run()


@pytest.mark.parametrize("ty", FLS)
@pytest.mark.parametrize("op", ["add", "mul", "min", "max"])
def test_reduce_float_sequential(op, ty):
    rnd = f32_of if ty is T.F32 else float

    @FAST
    @given(st.lists(float_arrays(ty, 6), min_size=0, max_size=6))
    def run(rows):
        got = alu.reduce(op, ty, rows, 6)
        assert got.dtype == ty.storage and got.shape == (6,)
        acc = [{"add": 0.0, "mul": 1.0, "min": math.inf, "max": -math.inf}[op]] * 6
        for row in rows:
            nxt = []
            for a, b in zip(acc, row.tolist()):
                if op in ("min", "max"):
                    nxt.append(py_minmax(a, b, op == "min"))
                    continue
                with np.errstate(all="ignore"):   # NaN / inf arithmetic in the oracle
                    v = np.float64(a) + b if op == "add" else np.float64(a) * b
                nxt.append(rnd(float(v)) if math.isfinite(v) else float(v))
            acc = nxt
        for g, w in zip(got.tolist(), acc):
            assert same_float(g, w)
    run()


def test_reduce_sequential_differs_from_pairwise():
    rows = [np.array([v], np.float32) for v in (1e8, 1.0, -1e8, 1.0)]
    got = alu.reduce("add", T.F32, rows, 1)
    assert got.tolist() == [1.0]
    stacked = np.stack([r[0] for r in rows])
    assert np.float32((stacked[0] + stacked[1]) + (stacked[2] + stacked[3])) == 0.0
    rows = [np.array([v], np.float32) for v in (1.0, 1e8, -1e8)]
    assert alu.reduce("add", T.F32, rows, 1).tolist() == [0.0]


def test_reduce_identities_and_nan():
    for ty, lo, hi in [(T.I32, -2**31, 2**31 - 1), (T.I64, -2**63, 2**63 - 1)]:
        assert alu.reduce("min", ty, [], 3).tolist() == [hi] * 3
        assert alu.reduce("max", ty, [], 3).tolist() == [lo] * 3
        assert alu.reduce("add", ty, [], 2).tolist() == [0, 0]
        assert alu.reduce("mul", ty, [], 2).tolist() == [1, 1]
        assert alu.reduce("add", ty, [], 2).dtype == ty.storage
    nan = np.array([np.nan, np.nan], np.float32)
    assert alu.reduce("min", T.F32, [nan, nan], 2).tolist() == [math.inf] * 2
    assert alu.reduce("max", T.F64, [nan.astype(np.float64)], 2).tolist() == [-math.inf] * 2
    assert alu.reduce("min", T.F32, [nan, np.array([3, np.nan], np.float32)], 2).tolist() == \
        [3.0, math.inf]
    assert alu.reduce("add", T.I32, [np.int32(2**31 - 1), np.array([1, 2], np.int32)],
                      2).tolist() == [-2**31, -2**31 + 1]
    assert np.isnan(alu.reduce("add", T.F64, [np.array([np.inf]), np.array([-np.inf])], 1)[0])


# ---------------------------------------------------------------------------------------------
# shapes, scalars and warnings


def sample(ty: DType) -> np.ndarray:
    if ty.is_int:
        lo, hi = lo_hi(ty)
        return np.array([lo, -1 if lo else 0, 0, 1, 3, 7, hi], dtype=ty.storage)
    snan = np.array([0x7FA00001 if ty is T.F32 else 0x7FF4000000000001], f"u{ty.size}")
    x = np.array([-np.inf, -1.5, -0.0, 0.0, 2.5, np.nan, 0], dtype=ty.storage)
    x[-1:] = snan.view(ty.storage)
    return x


BINARY = ["add", "sub", "mul", "div", "minimum", "maximum"]
BITS = ["and_", "or_", "xor"]


def functions_for(ty: DType):
    """(name, callable(ty, *operands), arity) for every function accepting ty."""
    out = [(n, getattr(alu, n), 2) for n in BINARY]
    if ty.is_int:
        out += [(n, getattr(alu, n), 2) for n in BITS] + [("not_", alu.not_, 1)]
        out += [(n, lambda t, a, b, f=getattr(alu, n): f(t, a, b.astype(np.uint32)), 2)
                for n in ("shl", "shr")]
    if ty.is_signed_int or ty.is_float:
        out += [("abs_", alu.abs_, 1), ("neg", alu.neg, 1)]
    if ty in (T.I32, T.I64, T.F32, T.F64):
        out += [("mad", alu.mad, 3)]
    if ty.is_float:
        out += [("fma", alu.fma, 3)]
        out += [(n, lambda t, a, n=n: alu.transcendental(n, t, a), 1) for n in sorted(MATH)]
    out += [(f"set{c.text}", lambda t, a, b, c=c: alu.setcc(t, c, a, b), 2)
            for c in Condition if alu.cond_supported(ty, c)]
    out += [(f"cvt.{d.text}", lambda t, a, d=d: alu.cvt(t, d, a), 1)
            for s, d in CVT_PAIRS if s is ty]
    return out


def check_scalars_agree(ty: DType, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
    """Every function on scalars, 0-d arrays and mixed operands gives the array path's bits."""
    for name, fn, arity in functions_for(ty):
        args = (x, y, z)[:arity]
        full = np.asarray(fn(ty, *args))
        assert full.shape == x.shape, name
        for i in range(x.size):
            scalars = [a[i] for a in args]
            one = fn(ty, *scalars)
            assert isinstance(one, np.generic), name
            assert one.dtype == full.dtype, name
            assert one.tobytes() == full[i].tobytes(), (name, i)
            zero_d = fn(ty, *[np.asarray(s) for s in scalars])
            assert np.asarray(zero_d).tobytes() == full[i].tobytes(), (name, i)
            mixed = fn(ty, scalars[0], *[np.full(3, s) for s in scalars[1:]])
            if arity > 1:
                assert np.asarray(mixed).shape == (3,), name
                assert np.asarray(mixed)[0].tobytes() == full[i].tobytes(), (name, i)
                rest = fn(ty, np.full(3, scalars[0]), *scalars[1:])   # an array beside scalars
                assert np.asarray(rest)[0].tobytes() == full[i].tobytes(), (name, i)


@pytest.mark.parametrize("ty", NUMERIC)
def test_scalars_broadcast_and_no_warnings(ty):
    x = sample(ty)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_scalars_agree(ty, x, np.roll(x, 1), np.roll(x, 2))


@pytest.mark.parametrize("ty", NUMERIC)
@FAST
@given(seed=st.integers(0, 2**32))
def test_scalar_fast_paths_inside_launches_agree_with_arrays(ty, seed):
    """Inside a launch (``silenced``) uniform operands take NumPy's scalar arithmetic;
    it must give the array loops' bits, edge values and NaN payloads included."""
    make = random_ints if ty.is_int else random_floats
    x = np.concatenate([sample(ty), make(ty, 9, seed)])
    with alu.silenced():
        check_scalars_agree(ty, x, np.roll(x, 1), make(ty, x.size, seed + 1))


def test_int_limit_tables():
    for ty in INTS:
        assert (alu.INT_MIN[ty], alu.INT_MAX[ty]) == lo_hi(ty)


@pytest.mark.parametrize("ty", FLS)
def test_min_max_signalling_nan_ignored_on_every_path(ty):
    snan = np.array([0x7FA00001 if ty is T.F32 else 0x7FF4000000000001],
                    dtype=f"u{ty.size}").view(ty.storage)
    for n in (1, 3, 40):
        s = np.repeat(snan, n)
        for fn in (alu.minimum, alu.maximum):
            assert fn(ty, s, np.full(n, 2, ty.storage)).tolist() == [2.0] * n
            assert fn(ty, np.float32(np.inf).astype(ty.storage), s).tolist() == [np.inf] * n
            both = fn(ty, s, s)
            assert both.view(f"u{ty.size}").tolist() == s.view(f"u{ty.size}").tolist()
    assert alu.reduce("min", ty, [np.repeat(snan, 5)], 5).tolist() == [np.inf] * 5


def test_fma_rejects_other_types():
    with pytest.raises(ValueError):
        alu.fma(T.I32, np.int32(1), np.int32(2), np.int32(3))


@pytest.mark.parametrize("ty", [DType.F32, DType.F64], ids=lambda t: t.text)
def test_fma_nan_operands_follow_the_ref(ty):
    """First NaN factor (quieted), else 0*inf's default NaN, else the NaN addend (quieted)."""
    bits = np.dtype(f"u{ty.size}")
    quiet = 1 << (22 if ty is DType.F32 else 51)
    exp = (0xFF << 23) if ty is DType.F32 else (0x7FF << 52)
    snan_a, snan_c = exp | 1, exp | 2
    default = 0xFFC00000 if ty is DType.F32 else 0xFFF8000000000000

    def f(*xs):
        return np.array(xs, bits).view(ty.storage)
    one, zero, inf = (np.array([v], ty.storage).view(bits)[0] for v in (1.0, 0.0, np.inf))
    a = f(snan_a, one, inf, one, snan_a)
    b = f(one, snan_a, zero, one, exp | 3)
    c = f(snan_c, snan_c, snan_c, snan_c, one)
    got = alu.fma(ty, a, b, c).view(bits)
    assert [int(x) for x in got] == [snan_a | quiet, snan_a | quiet, default, snan_c | quiet,
                                     snan_a | quiet]


@pytest.mark.parametrize("ty", [DType.F32, DType.F64], ids=lambda t: t.text)
def test_min_max_scalars_take_the_same_decisions_as_arrays(ty):
    """The one-value path (uniform operands) must pick the same bits as the array path."""
    bits = np.dtype(f"u{ty.size}")
    snan = np.array([(0xFF << 23 | 1) if ty is DType.F32 else (0x7FF << 52 | 1)], bits)
    vals = np.concatenate([np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.5],
                                    ty.storage), snan.view(ty.storage)])
    for fn in (alu.minimum, alu.maximum):
        for a in vals:
            for b in vals:
                one = np.asarray(fn(ty, a, b)).view(bits)
                many = fn(ty, np.array([a]), np.array([b])).view(bits)[0]
                assert one == many, (fn.__name__, a, b)


@pytest.mark.parametrize("ty", NUMERIC)
@FAST
@given(seed=st.integers(0, 2**32))
def test_array_kernels_give_the_general_functions_bits(ty, seed):
    """alu.array_kernel (the executor's two-array path) matches the general function."""
    make = random_ints if ty.is_int else random_floats
    a = np.concatenate([sample(ty), make(ty, 57, seed)])
    b = np.concatenate([np.roll(sample(ty), 3), make(ty, 57, seed + 1)])
    found = 0
    for fn in (alu.add, alu.sub, alu.mul, alu.and_, alu.or_, alu.xor, alu.div, alu.minimum,
               alu.maximum):
        kernel = alu.array_kernel(fn, ty)
        if kernel is None:
            continue
        found += 1
        with alu.silenced():
            got = kernel(a, b)
        want = fn(ty, a, b)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), fn.__name__
    assert found == (8 if ty.is_int else 5)


@pytest.mark.parametrize("ty", INTS)
@FAST
@given(seed=st.integers(0, 2**32))
def test_shift_kernels_give_the_general_functions_bits(ty, seed):
    """The shift array kernels match shl/shr for array or scalar values and amounts."""
    a = np.concatenate([sample(ty), random_ints(ty, 57, seed)])
    amounts = random_ints(DType.U32, a.size, seed + 1)
    amounts[:8] = [0, 1, ty.bits - 1, ty.bits, ty.bits + 1, 2 * ty.bits - 1, 63, 2**32 - 1]
    found = 0
    for fn in (alu.shl, alu.shr):
        kernel = alu.array_kernel(fn, ty)
        if kernel is None:
            assert fn is alu.shl and ty.is_signed_int
            continue
        found += 1
        for x, n in ((a, amounts), (a, amounts[2]), (a, amounts[5]), (a[3], amounts)):
            with alu.silenced():
                got = kernel(x, n)
            want = fn(ty, x, n)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), fn.__name__
    assert found == (1 if ty.is_signed_int else 2)


@pytest.mark.parametrize("ty", FLS)
def test_long_array_kernels_give_the_general_functions_bits(ty):
    """Past the short-array threshold (other NaN and zero tests) the kernels still match."""
    base = sample(ty)
    a = np.resize(base, 5000)
    b = np.resize(np.roll(base, 3), 5000)
    clean_a = np.resize(np.array([1.5, -2.0, 3.0], ty.storage), 5000)
    clean_b = np.resize(np.array([0.5, 4.0, -1.0], ty.storage), 5000)
    for x, y in ((a, b), (clean_a, clean_b), (clean_a, np.zeros(5000, ty.storage))):
        for fn in (alu.add, alu.sub, alu.mul, alu.minimum, alu.maximum):
            kernel = alu.array_kernel(fn, ty)
            with alu.silenced():
                got = kernel(x, y)
            want = fn(ty, x, y)
            assert got.tobytes() == want.tobytes(), fn.__name__


# ---------------------------------------------------------------------------------------------
# The NaN test without BLAS, and FMA's fast paths with their flagged lanes mixed in


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 2047, 2048, 2049, 5000])
def test_has_nan_finds_any_nan_anywhere(dtype, n):
    from simt.machine.alu._common import has_nan
    width = np.dtype(dtype).itemsize
    nans = [np.nan, -np.nan, np.array([0x7FA00001 if width == 4 else 0x7FF4000000000001],
                                      f"u{width}").view(dtype)[0]]
    clean = np.resize(np.array([0.0, -0.0, np.inf, -np.inf, 1.5, -3.0], dtype), n)
    assert not has_nan(clean)
    for nan in nans:
        for pos in {0, n // 2, n - 1}:
            x = clean.copy()
            x[pos] = nan
            assert has_nan(x), (n, pos)
    assert not has_nan(np.zeros(0, dtype))


def fma_bits(ty: DType, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[int]:
    """Every lane by the reference interpreter's exact FMA (NaN payloads included)."""
    from simt.reference.scalar import fma as exact
    u = f"u{ty.size}"
    return [exact(int(x), int(y), int(z), ty)
            for x, y, z in zip(a.view(u).tolist(), b.view(u).tolist(), c.view(u).tolist())]


def fma32_special_lanes(rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lanes the f32 fast path must flag: inexact float32 midpoints at any scale and sign,
    subnormal and smallest-normal results, NaN results, exact zeros."""
    f = np.float32
    k = rng.integers(-60, 61, n)
    sa, sb = rng.choice([-1.0, 1.0], n), rng.choice([-1.0, 1.0], n)
    a = (sa * np.ldexp(1 + 2.0**-11, k)).astype(f)          # a*b: a 25-bit midpoint
    b = (sb * (1 + 2.0**-13)).astype(f) * np.ones(n, f)
    tiny = np.ldexp(rng.choice([-1.0, 1.0], n), k - 80 + rng.integers(-5, 5, n)).astype(f)
    kind = rng.integers(0, 7, n)
    a = np.where(kind == 1, f(2.0**-75), a)                  # subnormal region
    b = np.where(kind == 1, (rng.integers(1, 8, n) * 2.0**-74).astype(f), b)
    tiny = np.where(kind == 1, (rng.integers(-3, 4, n) * 2.0**-149).astype(f), tiny)
    a = np.where(kind == 2, f(2.0**-63), a)                  # results at 2**-126
    b = np.where(kind == 2, f(2.0**-63), b)
    tiny = np.where(kind == 2, f(0.0), tiny)
    a = np.where(kind == 3, f(np.inf), a)                    # NaN results and NaN operands
    b = np.where(kind == 3, rng.choice(np.array([0.0, np.nan], f), n), b)
    a = np.where(kind == 4, f(0.0), a)                       # exact zeros of both signs
    tiny = np.where(kind == 4, rng.choice(np.array([0.0, -0.0], f), n), tiny)
    # just below a midpoint of the subnormal grid: a*b = 2**-150 (1 - 2**-46), c an odd
    # multiple of 2**-149 near 2**-127, so RN64(a*b + c) is the midpoint itself
    sign = rng.choice([-1.0, 1.0], n)
    a = np.where(kind == 5, (sign * 2.0**-75 * (1 + 2.0**-23)).astype(f), a)
    b = np.where(kind == 5, f(2.0**-75 * (1 - 2.0**-23)), b)
    odd = rng.integers(1 << 20, 1 << 22, n) * 2 + 1
    tiny = np.where(kind == 5, (sign * odd * 2.0**-149).astype(f), tiny)
    return a, b, tiny


def fma64_special_lanes(rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lanes the f64 fast path must flag or finish: exact products on a float64 midpoint
    plus a tiny addend (the tie check), zero factors, underflowing products, overflow,
    NaN and infinite operands."""
    k = rng.integers(-400, 400, n)
    a = rng.choice([-1.0, 1.0], n) * np.ldexp(1 + 2.0**-26, k)
    b = rng.choice([-1.0, 1.0], n) * (1 + 2.0**-27)
    c = rng.choice([-1.0, 1.0], n) * np.ldexp(1.0, k - 200 + rng.integers(-20, 20, n))
    kind = rng.integers(0, 7, n)
    a = np.where(kind == 1, 0.0, a)                          # zero factors
    c = np.where(kind == 1, rng.choice([0.0, -0.0, 3.5, np.inf, np.nan], n), c)
    a = np.where(kind == 2, np.ldexp(rng.random(n) + 1, -600), a)   # products below 2**-967
    b = np.where(kind == 2, np.ldexp(rng.random(n) + 1, -470), b)
    c = np.where(kind == 2, rng.choice([0.0, -0.0, 5e-324, -1e-310], n), c)
    a = np.where(kind == 3, np.ldexp(rng.random(n) + 1, 600), a)    # overflowing products
    b = np.where(kind == 3, np.ldexp(rng.random(n) + 1, 424), b)
    c = np.where(kind == 3, -1.7976931348623157e308, c)
    a = np.where(kind == 4, rng.choice([np.nan, np.inf, -np.inf], n), a)
    return a, b, c


def mixed(special, ordinary, rng, flagged: int, n: int):
    """``n`` lanes of ``ordinary`` data with ``flagged`` special lanes at random places."""
    lanes = [o.copy() for o in ordinary]
    where = rng.choice(n, flagged, replace=False)
    for lane, extra in zip(lanes, special):
        lane[where] = extra
    return lanes


@pytest.mark.parametrize("ty", [T.F32, T.F64], ids=lambda t: t.text)
@pytest.mark.parametrize("flagged", [0, 30, 700, 3000], ids=lambda k: f"{k}-flagged")
@pytest.mark.parametrize("inside", [False, True], ids=["host", "launch"])
def test_fma_fast_path_with_flagged_lanes_mixed_in(ty, flagged, inside):
    """A few flagged lanes are recomputed alone, many with all lanes then selected; either
    way every lane, NaN payloads included, is the exact single rounding."""
    rng = np.random.default_rng(1000 + flagged + ty.value)
    n = 3000
    with np.errstate(all="ignore"):
        ordinary = [rng.standard_normal(n).astype(ty.storage) for _ in range(3)]
        special = (fma32_special_lanes if ty is T.F32 else fma64_special_lanes)(rng, flagged)
        a, b, c = mixed(special, ordinary, rng, flagged, n)
    if inside:
        with alu.silenced():
            got = alu.fma(ty, a, b, c)
    else:
        got = alu.fma(ty, a, b, c)
    assert got.view(f"u{ty.size}").tolist() == fma_bits(ty, a, b, c)


@pytest.mark.parametrize("ty", [T.F32, T.F64], ids=lambda t: t.text)
def test_fma_on_small_integers_hits_ties_everywhere(ty):
    """Integer data whose fused result is half-way between two floats in most lanes: the
    flagged lanes are nearly all, most of them exact (ties to even stand)."""
    rng = np.random.default_rng(7)
    digits = 24 if ty is T.F32 else 53
    half = (digits + 1) // 2
    a = rng.integers(1 << (half - 1), 1 << half, 4000).astype(ty.storage)
    b = rng.integers(1 << (half - 1), 1 << half, 4000).astype(ty.storage)
    c = (rng.integers(1 << (digits - 2), 1 << (digits - 1), 4000) * 2 + 1).astype(ty.storage)
    c[::7] *= ty.storage.type(2.0**-40)          # some lanes with an inexact sum
    got = alu.fma(ty, a, b, c)
    assert got.view(f"u{ty.size}").tolist() == fma_bits(ty, a, b, c)


def test_fma32_one_lane_flagged_values_inside_a_launch():
    """Uniform operands (NumPy scalars inside a launch) take a one-lane fast path; its
    flagged values go the long way and stay exact."""
    two = lambda e: math.ldexp(1.0, e)                        # noqa: E731
    cases = [(1 + two(-11), 1 + two(-13), two(-80)), (1 + two(-11), 1 + two(-13), -two(-80)),
             (two(-75), two(-74), two(-149)), (two(-63), two(-63), 0.0),
             (math.inf, 0.0, 1.0), (1.5, 2.0, 0.25)]
    with alu.silenced():
        for x, y, z in cases:
            a, b, c = (np.float32(f32_of(v)) for v in (x, y, z))
            got = alu.fma(T.F32, a, b, c)
            assert isinstance(got, np.float32)
            assert int(got.view(np.uint32)) == fma_bits(T.F32, *(np.array([v]) for v in
                                                                  (a, b, c)))[0], (x, y, z)


def test_round_odd_on_bits_matches_nextafter():
    from simt.machine.alu.fused import _round_odd
    rng = np.random.default_rng(3)
    s = np.concatenate([rng.standard_normal(500), np.ldexp(rng.standard_normal(100), -1060),
                        [1.0, 2.0, 2.0**-1022, -2.0**-1022, 1.7976931348623157e308]])
    e = np.ldexp(rng.choice([-1.0, 1.0], s.size), -60) * np.abs(s)
    e[::5] = 0.0
    e[1::5] = -0.0
    e[-5:] = [-2.0**-60, 2.0**-60, -5e-324, 5e-324, -1e290]
    even = (s.view(np.int64) & 1) == 0
    want = np.where((e != 0) & even, np.nextafter(s, np.copysign(np.inf, e)), s)
    assert _round_odd(s, e).view(np.int64).tolist() == want.view(np.int64).tolist()
    nan = _round_odd(np.array([np.inf, -np.inf]), np.array([np.nan, np.nan]))
    assert nan.tolist() == [np.inf, -np.inf]                  # a NaN error keeps s


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blend_selects_like_where(dtype):
    from simt.machine.alu.fused import _blend
    rng = np.random.default_rng(5)
    out, new = rng.standard_normal((2, 999)).astype(dtype)
    new[::3] = np.nan
    mask = rng.random(999) < 0.4
    want = np.where(mask, new, out)
    _blend(out, new.copy(), mask)
    assert out.tobytes() == want.tobytes()


@pytest.mark.parametrize("ty", [T.F32, T.F64], ids=lambda t: t.text)
def test_fma_broadcasts_scalars_and_keeps_shapes(ty):
    rng = np.random.default_rng(11)
    a = rng.standard_normal((3, 4)).astype(ty.storage)
    c = ty.storage.type(0.5)
    got = alu.fma(ty, a, ty.storage.type(3), c)
    assert got.shape == (3, 4) and got.dtype == ty.storage
    flat = [np.full(12, v, ty.storage) if np.ndim(v) == 0 else v.reshape(-1)
            for v in (a, ty.storage.type(3), c)]
    assert got.reshape(-1).view(f"u{ty.size}").tolist() == fma_bits(ty, *flat)
    assert alu.fma(ty, np.zeros(0, ty.storage), np.zeros(0, ty.storage), c).shape == (0,)


@pytest.mark.parametrize("ty", [T.F32, T.F64], ids=lambda t: t.text)
@pytest.mark.parametrize("spread", ["two segments", "everywhere"])
def test_fma_flagged_lanes_found_in_long_arrays(ty, spread):
    """Long arrays are screened segment by segment: flagged lanes in a few segments are
    looked for there, flagged lanes everywhere through whole-array masks."""
    rng = np.random.default_rng(99)
    n = 70_000
    with np.errstate(all="ignore"):
        a, b, c = (rng.standard_normal(n).astype(ty.storage) for _ in range(3))
        special = (fma32_special_lanes if ty is T.F32 else fma64_special_lanes)(rng, 60)
    where = (np.concatenate([rng.choice(4096, 30, replace=False) + 8192,
                             rng.choice(4096, 30, replace=False) + 61440])
             if spread == "two segments" else rng.choice(n, 60, replace=False))
    for lane, extra in zip((a, b, c), special):
        lane[where] = extra
    got = alu.fma(ty, a, b, c)
    check = np.union1d(where, rng.choice(n, 300, replace=False))
    u = f"u{ty.size}"
    assert got.view(u)[check].tolist() == fma_bits(ty, a[check], b[check], c[check])


@pytest.mark.parametrize("ty", NUMERIC, ids=lambda t: t.text)
def test_scalar_kernels_give_the_general_functions_bits(ty):
    """alu.scalar_kernel (the executor's two-uniform-operand path) picks the general bits,
    for every pair of edge values (wrapping, NaNs quiet and signalling, signed zeros)."""
    vals = sample(ty)
    bits = np.dtype(f"u{ty.size}")
    found = 0
    for fn in (alu.add, alu.sub, alu.mul, alu.and_, alu.or_, alu.xor, alu.minimum,
               alu.maximum, alu.div):
        kernel = alu.scalar_kernel(fn, ty)
        if kernel is None:
            continue
        found += 1
        for a in vals:
            for b in vals:
                with alu.silenced():
                    got = kernel(a, b)
                want = fn(ty, np.array([a]), np.array([b]))[0]
                assert type(got) is ty.scalar, (fn.__name__, a, b)
                assert got.view(bits) == want.view(bits), (fn.__name__, a, b)
    assert found == (8 if ty.is_int else 5)


def test_checked_forms_are_quiet_outside_a_launch_and_match_the_in_launch_forms():
    """alu.add etc. (checked) warn about nothing outside a launch; alu.inside.add is the
    same computation for callers inside silenced()."""
    import warnings
    big = np.int32(2**31 - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert alu.add(DType.I32, big, np.int32(1)) == np.int32(-2**31)
        assert np.isnan(alu.sub(DType.F32, np.float32(np.inf), np.float32(np.inf)))
    with alu.silenced():
        assert alu.inside.add(DType.I32, big, np.int32(1)) == np.int32(-2**31)
    assert alu.add.__wrapped__ is alu.inside.add
