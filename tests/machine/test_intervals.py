"""Intervals of float rows (simt/machine/alu/intervals.py): exact rules, exact kernels,
kept only by writes that restart a row, asserted in debug mode, and NaN-producing
operations still bit-exact against the reference interpreter."""

from __future__ import annotations

import math

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
from simt.testing.engines import assert_agree
from simt.testing.programs import OUT_STRIDE, UNIFORM_BYTES, ArgSpec, Case

INF = math.inf
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 3e38, -3e38, 1e-45, -1e-45, 1e308, INF, -INF]


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.uint32 if x.dtype == F32 else np.uint64)


@st.composite
def _values(draw, dtype: np.dtype):
    """An interval and values of ``dtype`` inside it (bounds from specials or the values)."""
    finite = st.floats(allow_nan=False, width=32 if dtype == F32 else 64)
    xs = draw(st.lists(st.one_of(finite, st.sampled_from(SPECIAL)), min_size=1, max_size=8))
    with np.errstate(over="ignore"):        # 1e308 is inf in f32
        x = np.array(xs, dtype)
    lo, hi = float(x.min()), float(x.max())
    if draw(st.booleans()):     # sometimes looser bounds (an infinite one stays: inf - inf is NaN)
        lo -= draw(st.sampled_from([0.0, 1.0, INF])) if lo != INF else 0.0
        hi += draw(st.sampled_from([0.0, 1.0, INF])) if hi != -INF else 0.0
    return x, (lo, hi)


def _within(out: np.ndarray, interval) -> bool:
    x = out.astype(np.float64)
    return not np.isnan(x).any() and bool(((x >= interval[0]) & (x <= interval[1])).all())


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", ["add", "sub", "mul"])
@given(data=st.data())
def test_arithmetic_rules_bound_every_rounded_result_or_give_up(dtype, name, data) -> None:
    (a, ia), (b, ib) = data.draw(_values(dtype)), data.draw(_values(dtype))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    got = getattr(intervals, name)(ia, ib, intervals.LARGEST[dtype])
    with np.errstate(all="ignore"):
        out = {"add": np.add, "sub": np.subtract, "mul": np.multiply}[name](a, b)
    if got is None:
        return
    assert _within(out, got), (a, b, ia, ib, got, out)


@pytest.mark.parametrize("name", ["minimum", "maximum"])
@given(data=st.data())
def test_min_max_rules_hold_with_unknown_operands(name, data) -> None:
    (a, ia), (b, ib) = data.draw(_values(F32)), data.draw(_values(F32))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    known_a, known_b = data.draw(st.booleans()), data.draw(st.booleans())
    if not known_a:
        a[0], ia = np.nan, None
    if not known_b:
        b[-1], ib = np.nan, None
    got = getattr(intervals, name)(ia, ib)
    out = getattr(alu, name)(DType.F32, a, b)
    if got is None:
        assert ia is None and ib is None
        return
    assert _within(out, got)


def test_rules_give_up_exactly_where_nan_can_appear() -> None:
    big = intervals.LARGEST[F32]
    assert intervals.add((INF, INF), (-INF, 0.0), big) is None          # inf + -inf
    assert intervals.sub((0.0, INF), (1.0, INF), big) is None           # inf - inf
    assert intervals.mul((-1.0, 1.0), (1.0, INF), big) is None          # 0 * inf
    assert intervals.mul((0.0, 0.0), (2.0, 3.0), big) == intervals.widen(0.0, 0.0, big)
    assert intervals.mul((1.0, 2.0), (-INF, INF), big) == intervals.NUMBERS  # nonzero * any
    assert intervals.add((1.0, 1e38), (3e38, 3e38), big)[1] == INF      # may overflow
    assert intervals.of_scalar(np.float32("nan")) is None
    assert intervals.of_int_type(0, 2**32 - 1, big)[0] < 0.0 < 2.0**32 < \
        intervals.of_int_type(0, 2**32 - 1, big)[1]
    assert intervals.of_int_type(0, 2**64 - 1, 65504.0)[1] == INF       # beyond the type


@pytest.mark.parametrize("fn", [arith.add, arith.sub, arith.mul, arith.minimum, arith.maximum])
@pytest.mark.parametrize("ty", [DType.F32, DType.F64])
def test_interval_kernels_match_the_general_functions_bit_for_bit(fn, ty) -> None:
    rng = np.random.default_rng(7)
    dtype = ty.storage
    for trial in range(40):
        pool = np.array([0.0, -0.0, 1.5, -2.0, INF, -INF, 7.0, 1e-30], dtype)
        a, b = rng.choice(pool, 33), rng.choice(pool, 33)
        ia = intervals.widen(float(a.min()), float(a.max()), intervals.LARGEST[dtype])
        ib = intervals.widen(float(b.min()), float(b.max()), intervals.LARGEST[dtype])
        if trial % 3 == 0:      # unknown operands, with NaNs of distinct payloads
            a[::5] = np.array(np.nan, dtype)
            b[::7] = -np.array(np.nan, dtype)
            ia = ib = None
        elif trial % 3 == 1:
            b[::4] = np.array(np.nan, dtype)
            ib = None
        kernel = alu.interval_kernel(fn, ty)
        with alu.silenced():                    # the in-launch form assumes it
            got, interval = kernel(a, b, ia, ib)
        want = getattr(alu, fn.__name__)(ty, a, b)
        np.testing.assert_array_equal(_bits(got), _bits(want))
        if interval is not None:
            assert _within(got, interval)


def test_interval_kernels_exist_only_for_f32_and_f64_arithmetic() -> None:
    assert alu.interval_kernel(alu.add, DType.F32) is not None
    assert alu.interval_kernel(alu.add, DType.I32) is None
    assert alu.interval_kernel(alu.div, DType.F32) is None
    assert alu.interval_kernel(alu.add, DType.F16) is None


def test_only_a_write_that_restarts_the_row_keeps_an_interval() -> None:
    row = Row(8, 1)
    values = np.arange(8, dtype=np.float32)
    assert row.write_all(DType.F32.code, F32, values, (0.0, 7.0))
    assert row.interval == (0.0, 7.0)
    # a partial write while other lanes still hold readable values (waiting bit set)
    row.write(LaneSet.range(0, 4), DType.F32.code, F32, np.zeros(4, np.float32), 8, 8,
              waiting=1 << row.bit, interval=(0.0, 0.0))
    assert row.interval is None
    row.write(LaneSet.range(0, 4), DType.F32.code, F32, np.zeros(4, np.float32), 8, 8,
              waiting=0, interval=(0.0, 0.0))
    assert row.interval == (0.0, 0.0)           # restarted on lanes 0..3
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
    monkeypatch.setitem(arrays._INTERVAL_RULES, arith.add, lambda a, b, largest: (0.0, 0.0))
    text = """
    cvt.u32.u64 r3, r255
    cvt.f32.u32 r4, r3
    add.f32 r5, r4, r4
    exit
"""
    with debug.enabled_mode(), pytest.raises(AssertionError, match="outside its interval"):
        simt.Device().launch(simt.assemble(text), grid=1, block=8)
