"""Intervals of float rows (simt/machine/alu/intervals.py): exact rules (bounds and the
signed zeros a row may hold, against the scalar reference), exact kernels, kept only by
writes that restart a row, asserted in debug mode, and NaN- and signed-zero-producing
operations still bit-exact against the reference interpreter."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simt
from simt.isa import DType
from simt.machine import alu, debug
from simt.machine.alu import arith, arrays, intervals
from simt.machine.lanes import LaneSet
from simt.machine.state import Row
from simt.reference import scalar
from simt.testing.engines import assert_agree
from simt.testing.programs import OUT_STRIDE, UNIFORM_BYTES, ArgSpec, Case

INF = math.inf
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
TYPES = {F32: DType.F32, F64: DType.F64}
PLUS, MINUS, ZEROS = intervals.PLUS, intervals.MINUS, intervals.ZEROS
# zeros, tiny values whose products underflow (2**-75 squared is the f32 tie 2**-150,
# 2**-538 squared underflows in f64), subnormals, huge values and infinities
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 3e38, -3e38, 1e-45, -1e-45, 2.0 ** -75,
           -(2.0 ** -75), 2.0 ** -74, 1e-30, -1e-30, 1e-200, -1e-200, 2.0 ** -538, 5e-324,
           -5e-324, 1e308, INF, -INF]


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.uint32 if x.dtype == F32 else np.uint64)


def _zeros_of(x: np.ndarray) -> int:
    """The zeros ``x`` holds, as an interval's ``zeros`` bits."""
    minus = np.signbit(x[x == 0])
    return (PLUS if (~minus).any() else 0) | (MINUS if minus.any() else 0)


def _interval_of(x: np.ndarray) -> tuple:
    """The tightest interval of the numbers ``x`` (bounds widened as a rounded result's)."""
    return (*intervals.widen(float(x.min()), float(x.max()), intervals.LARGEST[x.dtype]),
            _zeros_of(x))


@st.composite
def _values(draw, dtype: np.dtype):
    """An interval and values of ``dtype`` inside it (bounds from specials or the values;
    ``zeros`` the zeros the values hold, sometimes more)."""
    finite = st.floats(allow_nan=False, width=32 if dtype == F32 else 64)
    xs = draw(st.lists(st.one_of(finite, st.sampled_from(SPECIAL)), min_size=1, max_size=8))
    with np.errstate(over="ignore", under="ignore"):        # 1e308 is inf in f32
        x = np.array(xs, dtype)
    lo, hi = float(x.min()), float(x.max())
    if draw(st.booleans()):     # sometimes looser bounds (an infinite one stays: inf - inf is NaN)
        lo -= draw(st.sampled_from([0.0, 1.0, INF])) if lo != INF else 0.0
        hi += draw(st.sampled_from([0.0, 1.0, INF])) if hi != -INF else 0.0
    zeros = _zeros_of(x) | (draw(st.sampled_from([0, PLUS, MINUS, ZEROS]))
                            if lo <= 0.0 <= hi else 0)
    return x, (lo, hi, zeros)


def _within(out: np.ndarray, interval) -> bool:
    """Every value of ``out`` lies in ``interval``, zeros of a sign it allows included."""
    x = out.astype(np.float64)
    return not np.isnan(x).any() and bool(((x >= interval[0]) & (x <= interval[1])).all()) \
        and _zeros_of(x) & ~interval[2] == 0


def _reference(name: str, ty: DType, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``name`` (add, sub, mul, minimum, maximum) lane by lane by the scalar reference."""
    op = {"add": lambda x, y: scalar.binary(ty, operator.add, x, y),
          "sub": lambda x, y: scalar.binary(ty, operator.sub, x, y),
          "mul": lambda x, y: scalar.binary(ty, operator.mul, x, y),
          "minimum": lambda x, y: scalar.fmin_bits(x, y, ty),
          "maximum": lambda x, y: scalar.fmax_bits(x, y, ty)}[name]
    out = [op(int(x), int(y)) for x, y in zip(_bits(a), _bits(b))]
    return np.array(out, _bits(a).dtype).view(a.dtype)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", ["add", "sub", "mul"])
@given(data=st.data())
def test_arithmetic_rules_bound_every_rounded_result_or_give_up(dtype, name, data) -> None:
    (a, ia), (b, ib) = data.draw(_values(dtype)), data.draw(_values(dtype))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    got = getattr(intervals, name)(ia, ib, intervals.LARGEST[dtype])
    out = _reference(name, TYPES[dtype], a, b)
    if got is None:
        return
    assert _within(out, got), (a, b, ia, ib, got, out)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", ["minimum", "maximum"])
@given(data=st.data())
def test_min_max_rules_hold_with_unknown_operands(dtype, name, data) -> None:
    (a, ia), (b, ib) = data.draw(_values(dtype)), data.draw(_values(dtype))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    known_a, known_b = data.draw(st.booleans()), data.draw(st.booleans())
    if not known_a:
        a[0], ia = np.nan, None
    if not known_b:
        b[-1], ib = np.nan, None
    got = getattr(intervals, name)(ia, ib)
    out = _reference(name, TYPES[dtype], a, b)
    if got is None:
        assert ia is None and ib is None
        return
    assert _within(out, got)


@pytest.mark.parametrize("dtype", [F32, F64])
@given(data=st.data())
def test_sign_rules_hold(dtype, data) -> None:
    x, ix = data.draw(_values(dtype))
    ty = TYPES[dtype]
    sign = 1 << (ty.bits - 1)
    assert _within((_bits(x) ^ sign).view(dtype), intervals.neg(ix))           # NEG
    assert _within((_bits(x) & (sign - 1)).view(dtype), intervals.abs_(ix))    # ABS


@pytest.mark.parametrize("src, dst", [(DType.F64, DType.F32), (DType.F32, DType.F64)])
@given(data=st.data())
def test_float_conversion_rule_keeps_underflowed_zeros(src, dst, data) -> None:
    x, ix = data.draw(_values(src.storage))
    got = intervals.converted(ix, intervals.LARGEST[dst.storage])
    out = np.array([scalar.convert(int(v), src, dst) for v in _bits(x)],
                   _bits(np.zeros(1, dst.storage)).dtype).view(dst.storage)
    assert _within(out, got), (x, ix, got, out)


@pytest.mark.parametrize("src", [DType.I32, DType.U32, DType.I64, DType.U64])
@pytest.mark.parametrize("dst", [DType.F32, DType.F64])
def test_integer_conversion_rule_gives_plus_zero_only(src, dst) -> None:
    lo, hi = alu.INT_MIN[src], alu.INT_MAX[src]
    got = intervals.of_int_type(lo, hi, intervals.LARGEST[dst.storage])
    values = [lo, -1, 0, 1, hi] if lo else [0, 1, hi]
    out = np.array([scalar.convert(v & ((1 << src.bits) - 1), src, dst) for v in values],
                   _bits(np.zeros(1, dst.storage)).dtype).view(dst.storage)
    assert _within(out, got) and got[2] == PLUS
    assert intervals.of_int_type(1, 9, intervals.LARGEST[dst.storage])[2] == 0


def test_rules_give_up_exactly_where_nan_can_appear() -> None:
    big = intervals.LARGEST[F32]
    assert intervals.add((INF, INF, 0), (-INF, 0.0, ZEROS), big) is None        # inf + -inf
    assert intervals.sub((0.0, INF, PLUS), (1.0, INF, 0), big) is None         # inf - inf
    assert intervals.mul((-1.0, 1.0, ZEROS), (1.0, INF, 0), big) is None       # 0 * inf
    assert intervals.mul((0.0, 0.0, PLUS), (2.0, 3.0, 0), big) == \
        (*intervals.widen(0.0, 0.0, big), PLUS)
    assert intervals.mul((1.0, 2.0, 0), (-INF, INF, ZEROS), big) == intervals.NUMBERS
    assert intervals.add((1.0, 1e38, 0), (3e38, 3e38, 0), big)[1] == INF      # may overflow
    assert intervals.of_scalar(np.float32("nan")) is None
    assert intervals.of_int_type(0, 2**32 - 1, big)[0] == 0.0 < 2.0**32 < \
        intervals.of_int_type(0, 2**32 - 1, big)[1]         # a zero bound stays exact
    assert intervals.of_int_type(0, 2**64 - 1, 65504.0)[1] == INF       # beyond the type


def test_zero_rules_follow_ieee_signs() -> None:
    big, big64 = intervals.LARGEST[F32], intervals.LARGEST[F64]
    plus, minus = intervals.of_scalar(np.float32(0.0)), intervals.of_scalar(np.float32(-0.0))
    assert (plus[2], minus[2], intervals.of_scalar(np.float32(2.0))[2]) == (PLUS, MINUS, 0)
    positive = (1.0, 2.0, 0)
    assert intervals.add(minus, minus, big)[2] == MINUS                 # -0 + -0 = -0
    assert intervals.add(plus, minus, big)[2] == PLUS                   # +0 + -0 = +0
    assert intervals.sub(minus, plus, big)[2] == MINUS                  # -0 - +0 = -0
    assert intervals.sub(positive, positive, big)[2] == PLUS            # x - x = +0
    assert intervals.add((-2.0, 5.0, PLUS), positive, big)[2] == PLUS   # no -0 from a sum
    assert intervals.mul(plus, (-2.0, -1.0, 0), big)[2] == MINUS        # +0 * negative
    assert intervals.mul(minus, minus, big)[2] == PLUS
    # tiny values of opposite signs: the product underflows to -0 (2**-75 squared is the
    # f32 tie 2**-150, which goes to the even 0), not once the product is 2**-149
    tiny = (2.0 ** -75, 2.0 ** -75, 0)
    assert intervals.mul(tiny, intervals.neg(tiny), big)[2] == MINUS
    assert intervals.mul(intervals.neg(tiny), tiny, big)[2] == MINUS
    assert intervals.mul(intervals.neg(tiny), intervals.neg(tiny), big)[2] == PLUS
    assert intervals.mul(tiny, tiny, big)[2] == PLUS
    assert intervals.mul(tiny, (-1.0, -2.0 ** -74, 0), big)[2] == 0
    assert intervals.mul((2.0 ** -538, 1.0, 0), (-1.0, -2.0 ** -538, 0), big64)[2] == MINUS
    assert intervals.mul((2.0 ** -537, 1.0, 0), (-1.0, -2.0 ** -537, 0), big64)[2] == 0
    # a product with a magnitude of at least 1 never underflows, even near 0
    assert intervals.mul((-5.0, 5.0, PLUS), (1.0, 2.0, 0), big)[2] == PLUS
    assert intervals.converted((-1e-50, -1e-60, 0), big)[2] == MINUS    # f64 -> f32
    assert intervals.converted((-1e-50, -1e-60, 0), big64)[2] == 0      # f32 -> f64: exact
    assert intervals.neg((-1.0, 0.0, PLUS)) == (-0.0, 1.0, MINUS)
    assert intervals.abs_((-1.0, 0.0, MINUS))[2] == PLUS
    assert intervals.maximum((-1.0, 0.0, MINUS), (1.0, 2.0, 0)) == (1.0, 2.0, 0)
    assert intervals.maximum((-1.0, 0.0, MINUS), (-1.0, 0.0, PLUS))[2] == ZEROS
    assert intervals.minimum(None, (0.0, 1.0, PLUS))[2] == ZEROS


@pytest.mark.parametrize("fn", [arith.add, arith.sub, arith.mul, arith.minimum, arith.maximum])
@pytest.mark.parametrize("ty", [DType.F32, DType.F64])
def test_interval_kernels_match_the_general_functions_bit_for_bit(fn, ty) -> None:
    rng = np.random.default_rng(7)
    dtype = ty.storage
    for trial in range(60):
        pool = np.array([0.0, -0.0, 1.5, -2.0, INF, -INF, 7.0, 1e-30], dtype)
        if trial % 4 == 3:      # zeros of one sign only (the min/max zero fix is skipped)
            pool = pool[pool != 0] if trial % 8 == 3 else np.where(pool == 0, pool[1], pool)
        a, b = rng.choice(pool, 33), rng.choice(pool, 33)
        ia, ib = _interval_of(a), _interval_of(b)
        if trial % 4 == 0:      # unknown operands, with NaNs of distinct payloads
            a[::5] = np.array(np.nan, dtype)
            b[::7] = -np.array(np.nan, dtype)
            ia = ib = None
        elif trial % 4 == 1:
            b[::4] = np.array(np.nan, dtype)
            ib = None
        kernel = alu.interval_kernel(fn, ty)
        with alu.silenced():                    # the in-launch form assumes it
            got, interval = kernel(a, b, ia, ib)
        want = getattr(alu, fn.__name__)(ty, a, b)
        np.testing.assert_array_equal(_bits(got), _bits(want))
        if interval is not None:
            assert _within(got, interval)


@pytest.mark.parametrize("ufunc, name", [(np.maximum, "maximum"), (np.minimum, "minimum")])
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [33, 4096])
def test_min_max_skip_the_zero_fix_only_when_no_plus_zero_meets_a_minus_zero(ufunc, name,
                                                                            dtype, n) -> None:
    rng = np.random.default_rng(n)
    kernel = alu.interval_kernel(getattr(alu, name), TYPES[dtype])
    for zero_a, zero_b in [(0.0, 0.0), (-0.0, -0.0), (0.0, -0.0), (-0.0, 0.0)]:
        a = rng.choice(np.array([zero_a, 1.0, -1.0], dtype), n)
        b = rng.choice(np.array([zero_b, 2.0, -3.0], dtype), n)
        a[:3], b[:3] = zero_a, zero_b           # equal zeros meet in some lanes
        with alu.silenced():
            got, interval = kernel(a, b, _interval_of(a), _interval_of(b))
        np.testing.assert_array_equal(_bits(got), _bits(_reference(name, TYPES[dtype], a, b)))
        assert _within(got, interval)


def test_interval_kernels_exist_only_for_f32_and_f64_arithmetic() -> None:
    assert alu.interval_kernel(alu.add, DType.F32) is not None
    assert alu.interval_kernel(alu.add, DType.I32) is None
    assert alu.interval_kernel(alu.div, DType.F32) is None
    assert alu.interval_kernel(alu.add, DType.F16) is None


def test_only_a_write_that_restarts_the_row_keeps_an_interval() -> None:
    row = Row(8, 1)
    values = np.arange(8, dtype=np.float32)
    assert row.write_all(DType.F32.code, F32, values, (0.0, 7.0, PLUS))
    assert row.interval == (0.0, 7.0, PLUS)
    # a partial write while other lanes still hold readable values (waiting bit set)
    row.write(LaneSet.range(0, 4), DType.F32.code, F32, np.zeros(4, np.float32), 8, 8,
              waiting=1 << row.bit, interval=(0.0, 0.0, PLUS))
    assert row.interval is None
    row.write(LaneSet.range(0, 4), DType.F32.code, F32, np.zeros(4, np.float32), 8, 8,
              waiting=0, interval=(0.0, 0.0, PLUS))
    assert row.interval == (0.0, 0.0, PLUS)           # restarted on lanes 0..3
    row.write(LaneSet.range(0, 8), DType.F32.code, F32, np.ones(8, np.float32), 8, 8)
    assert row.interval is None                 # a writer that gives none


# ------------------------------------------------------------------ whole launches

def _case(text: str, block: int) -> Case:
    data = bytes(range(256)) * (8 * block // 256 + 1)
    return Case(simt.assemble(text), (1, 1, 1), (block, 1, 1), 0,
                (ArgSpec(buffer=0), ArgSpec(buffer=1), ArgSpec(ty=DType.U64, bits=0)),
                (data[: 8 * block + 8], bytes(OUT_STRIDE * block), bytes(UNIFORM_BYTES)))


# Per-lane f32 values with intervals (from the lane id), then operations that make NaNs
# (0 * inf, inf - inf, sqrt of a negative, two NaN operands), each stored per lane.
NAN_MAKERS = """
    cvt.u32.u64 r3, r255
    cvt.f32.u32 r4, r3                  ; 0, 1, 2, ...: an interval from the type
    mov_imm.f32 r5, 2139095040          ; +inf
    mul.f32 r6, r4, r5                  ; lane 0: 0 * inf = NaN
    sub.f32 r7, r6, r5                  ; inf - inf = NaN
    mov_imm.f32 r8, 3212836864          ; -1.0
    add.f32 r9, r4, r8                  ; lane 0: -1
    sqrt.f32 r10, r9                    ; lane 0: NaN
    mov_imm.f32 r11, 2143289345         ; a quiet NaN with a payload
    sub.f32 r12, r11, r4
    add.f32 r13, r10, r12               ; two NaN operands in lane 0
    max.f32 r14, r10, r4
    min.f32 r15, r9, r4
    mul.f32 r16, r9, r4                 ; -0.0 * ... signed zeros
    max.f32 r17, r16, r4
    mov_imm.u64 r22, 64
    mul.u64 r23, r255, r22
    mov_imm.u64 r24, 4
    stg.f32 [r1 + r23], r6
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r7
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r10
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r13
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r14
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r15
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r16
    add.u64 r23, r23, r24
    stg.f32 [r1 + r23], r17
    exit
"""


@pytest.mark.parametrize("block", [1, 5, 64])
def test_nan_making_operations_agree_with_the_reference(block: int) -> None:
    assert OUT_STRIDE >= 32
    outcome = assert_agree(_case(NAN_MAKERS, block))
    assert outcome.error is None            # every value was stored and compared
    stored = np.frombuffer(outcome.buffers[1][:64 * block], np.float32).reshape(block, 16)[:, :8]
    assert np.isnan(stored).any()
    with debug.enabled_mode():
        assert_agree(_case(NAN_MAKERS, block))


def test_debug_mode_catches_a_wrong_interval(monkeypatch) -> None:
    monkeypatch.setitem(arrays._INTERVAL_RULES, arith.add, lambda a, b, largest: (0.0, 0.0, PLUS))
    text = """
    cvt.u32.u64 r3, r255
    cvt.f32.u32 r4, r3
    add.f32 r5, r4, r4
    exit
"""
    with debug.enabled_mode(), pytest.raises(AssertionError, match="outside its interval"):
        simt.Device().launch(simt.assemble(text), grid=1, block=8)


# Per-lane f32 zeros of both signs from values with intervals: a converted integer (+0),
# products with -2**-149 and underflowing products (-0, also from values that hold no
# zero), -0 - +0 and -0 + -0, an f64 value converted to f32 (underflow to -0); then
# MIN/MAX where they meet +0 (the fix needed) and where only -0 meets -0 (no fix
# needed), each stored per lane.
ZERO_MAKERS = """
    cvt.u32.u64 r3, r255
    mov_imm.u32 r13, 3
    and.u32 r15, r3, r13
    cvt.f32.u32 r4, r15                 ; 0, 1, 2, 3: +0 in lane 0 of every 4
    mov_imm.f32 r5, 2147483649          ; -2**-149
    mul.f32 r6, r4, r5                  ; -0, -s, -2s, -3s
    mov_imm.f32 r7, 1056964608          ; 0.5
    mul.f32 r8, r6, r7                  ; -0, -0 (underflow), -s, -2s
    mov_imm.f32 r9, 0
    mul.f32 r10, r4, r9                 ; +0 in every lane
    max.f32 r11, r8, r10
    min.f32 r12, r10, r8
    mov_imm.f32 r14, 2147483648         ; -0
    sub.f32 r16, r14, r10               ; -0 - +0 = -0
    add.f32 r17, r16, r8                ; -0 + -0 = -0
    max.f32 r18, r17, r10
    min.f32 r19, r10, r17
    max.f32 r20, r16, r8                ; only -0 meets -0
    cvt.f64.f32 r21, r4
    mov_imm.f64 r22, 9341994084744098649    ; -1e-300
    mul.f64 r23, r21, r22
    cvt.f32.f64 r24, r23                ; -0 in every lane (underflow)
    max.f32 r25, r10, r24
    mov_imm.f32 r29, 1065353216         ; 1.0
    add.f32 r30, r4, r29                ; 1, 2, 3, 4: no zero
    mul.f32 r31, r30, r5                ; -s .. -4s: no zero
    mul.f32 r32, r31, r7                ; -0 (underflow), -s, -2s, -2s
    max.f32 r33, r32, r10
    min.f32 r34, r10, r32
    mov_imm.u64 r26, 64
    mul.u64 r27, r255, r26
    mov_imm.u64 r28, 4
    stg.f32 [r1 + r27], r11
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r12
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r18
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r19
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r20
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r24
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r25
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r8
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r33
    add.u64 r27, r27, r28
    stg.f32 [r1 + r27], r34
    exit
"""


@pytest.mark.parametrize("block", [1, 5, 64])
def test_signed_zeros_agree_with_the_reference(block: int) -> None:
    outcome = assert_agree(_case(ZERO_MAKERS, block))
    assert outcome.error is None
    stored = np.frombuffer(outcome.buffers[1][:64 * block], np.float32).reshape(block, 16)[:, :10]
    zeros = stored[stored == 0]
    assert np.signbit(zeros).any() and not np.signbit(zeros).all()     # both signs met
    with debug.enabled_mode():
        assert_agree(_case(ZERO_MAKERS, block))


def test_debug_mode_catches_a_wrong_zero_sign(monkeypatch) -> None:
    rule = intervals.mul
    monkeypatch.setitem(arrays._INTERVAL_RULES, arith.mul,
                        lambda a, b, largest: (*rule(a, b, largest)[:2], PLUS))
    text = """
    cvt.u32.u64 r3, r255
    cvt.f32.u32 r4, r3
    mov_imm.f32 r5, 3212836864          ; -1.0
    mul.f32 r6, r4, r5                  ; -0 in lane 0
    exit
"""
    with debug.enabled_mode(), pytest.raises(AssertionError, match="zero of a sign"):
        simt.Device().launch(simt.assemble(text), grid=1, block=8)
