"""Exact, hand-computed tests of the scalar reference interpreter (simt.reference).

Programs are written in assembly text (``simt.assemble``) or built with
``simt.isa.make``; every expectation below was worked out by hand from the
contract (decisions.md) and atlas-isa.md.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simt import assemble
from simt.errors import (DivisionByZeroError, InvalidClassError, InvalidHandleError,
                         OutOfBoundsError, ProgramError, StepLimitError, TypeMismatchError,
                         UninitializedRegisterError, UnsupportedOperationError)
from simt.isa import SPECS, DType, Program, make
from simt.isa.transcendental import transcendental
from simt.reference import REFERENCE, ReferenceDevice
from simt.reference import atlas, scalar

U64 = DType.U64
CLASS0 = (1 << 64) - 96


def u64(handle: int) -> tuple[DType, int]:
    return (U64, handle)


def launch(text: str, *, buffers=(), grid=1, block=1, args=None, dev=None, **kw):
    """Assemble ``text``; allocate ``buffers`` (bytes); pass their handles as r0, r1, ..."""
    dev = dev or ReferenceDevice()
    handles = []
    for data in buffers:
        h = dev.alloc(len(data))
        dev.write(h, data)
        handles.append(h)
    if args is None:
        args = [u64(h) for h in handles]
    res = dev.launch(assemble(text), grid=grid, block=block, args=args, **kw)
    return dev, handles, res


def words(data: bytes, dtype=np.uint32) -> list:
    return np.frombuffer(data, dtype=dtype).tolist()


def fault(exc_type, text: str, **kw):
    with pytest.raises(exc_type) as info:
        launch(text, **kw)
    return info.value


# Lane-id byte offsets: r5 = global lane id * 4 (u64), r6 = lane.x * 4 (u64).
PROLOGUE = """
    mov_imm.u32 r9, 2
    shl.u64 r5, r255, r9
    cvt.u64.u32 r6, r252
    shl.u64 r6, r6, r9
"""


# --------------------------------------------------------------------------- table coverage

def test_reference_covers_every_instruction():
    assert set(REFERENCE) == {s.name for s in SPECS}
    assert len(REFERENCE) == 60


# --------------------------------------------------------------------------- Atlas graph

def test_atlas_graph_matches_the_printed_tables():
    printed_mirror = ("3 4 5 0 1 2 9 10 11 6 7 8 15 16 17 12 13 14 21 22 23 18 19 20 27 28 29 "
                      "24 25 26 33 34 35 30 31 32 39 40 41 36 37 38 45 46 47 42 43 44 51 52 53 "
                      "48 49 50 57 58 59 54 55 56 63 64 65 60 61 62 69 70 71 66 67 68 75 76 77 "
                      "72 73 74 81 82 83 78 79 80 87 88 89 84 85 86 93 94 95 90 91 92")
    assert [atlas.mirror(c) for c in range(96)] == [int(v) for v in printed_mirror.split()]
    assert atlas.neighbours(0) == [1, 6, 12, 24, 48]
    assert atlas.neighbours(1) == [0, 2, 7, 13, 25, 49]
    assert atlas.neighbours(47) == [23, 35, 41, 46, 95]
    assert atlas.neighbours(85) == [37, 61, 73, 84, 86, 91]
    assert atlas.neighbours(95) == [47, 71, 83, 89, 94]
    degrees = [atlas.degree(c) for c in range(96)]
    assert degrees.count(5) == 64 and degrees.count(6) == 32
    assert sum(degrees) == 2 * 256
    for c in range(96):  # symmetric
        assert all(c in atlas.neighbours(n) for n in atlas.neighbours(c))


# --------------------------------------------------------------------------- scalar numbers

def test_f16_and_bf16_widening_agree_with_numpy_and_ml_dtypes_exhaustively():
    h = np.arange(1 << 16, dtype=np.uint16)
    want16 = h.view(np.float16).astype(np.float32).view(np.uint32).tolist()
    wantbf = h.view(ml_dtypes.bfloat16).astype(np.float32).view(np.uint32).tolist()
    for bits in range(0, 1 << 16, 7):
        assert scalar.convert(bits, DType.F16, DType.F32) == want16[bits]
        assert scalar.convert(bits, DType.BF16, DType.F32) == wantbf[bits]


def test_f32_narrowing_to_f16_and_bf16_rounds_to_nearest_even():
    rng = np.random.default_rng(7)
    # random patterns plus exact halfway cases of both formats
    xs = np.concatenate([
        rng.integers(0, 1 << 32, 3000, dtype=np.uint64).astype(np.uint32),
        (rng.integers(0, 1 << 16, 1000).astype(np.uint32) << 16) | np.uint32(0x8000),
        (rng.integers(0, 1 << 19, 1000).astype(np.uint32) << 13) | np.uint32(0x1000),
        np.array([0x477FF000, 0x477FE000, 0x477FEFFF, 0x7F7FFFFF, 0x33000000, 0x33000001],
                 np.uint32)])
    with np.errstate(all="ignore"):
        want16 = xs.view(np.float32).astype(np.float16).view(np.uint16).tolist()
        wantbf = xs.view(np.float32).astype(ml_dtypes.bfloat16).view(np.uint16).tolist()
    for x, w16, wbf in zip(xs.tolist(), want16, wantbf):
        assert scalar.convert(x, DType.F32, DType.F16) == w16, hex(x)
        assert scalar.convert(x, DType.F32, DType.BF16) == wbf, hex(x)
    # and against Python's own binary16 packing for finite values
    for x in xs.tolist()[:500]:
        value = scalar.f32_value(x)
        if math.isfinite(value) and abs(value) < 65504:
            assert scalar.convert(x, DType.F32, DType.F16) == struct.unpack(
                "<H", struct.pack("<e", value))[0]


def test_fma_rounds_once_and_mad_twice():
    f = scalar.f64_bits
    # a*b = 1 + 2**-23 + 2**-48 exactly; c = -1
    a = 1 + 2.0 ** -24
    b = 1 + 2.0 ** -24 + 2.0 ** -47
    exact = Fraction(a) * Fraction(b) - 1
    got = scalar.f64_value(scalar.fma(f(a), f(b), f(-1.0), DType.F64))
    assert Fraction(got) == exact  # representable, so exact
    assert a * b - 1 != got        # the unfused form loses the 2**-48 term
    # f32: the product of two f32s is exact in f64, but the sum then rounds twice
    x = scalar.f32_value(scalar.f32_bits(1 + 2.0 ** -12))
    r = scalar.fma(scalar.f32_bits(x), scalar.f32_bits(x), 0xB3800000, DType.F32)  # c = -2**-24
    assert r == scalar.round_rational(False, Fraction(x) * Fraction(x) - Fraction(2) ** -24,
                                      DType.F32)
    assert scalar.fma(f(0.0), f(-1.0), f(-0.0), DType.F64) == f(-0.0)
    assert scalar.fma(f(1.0), f(1.0), f(-1.0), DType.F64) == 0
    assert math.isnan(scalar.f64_value(scalar.fma(f(math.inf), f(0.0), f(1.0), DType.F64)))
    assert scalar.fma(f(1e300), f(1e300), f(-math.inf), DType.F64) == f(-math.inf)


def test_nan_operands_propagate_the_first_one_quieted():
    snan, qnan = 0x7F800001, 0x7FC00000
    one = scalar.f32_bits(1.0)
    for op in (lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, scalar.float_div):
        assert scalar.binary(DType.F32, op, snan, qnan) == 0x7FC00001
        assert scalar.binary(DType.F32, op, qnan, snan) == 0x7FC00000
        assert scalar.binary(DType.F32, op, one, snan) == 0x7FC00001
    assert scalar.fma(one, 0xFFC00005, snan, DType.F32) == 0xFFC00005
    assert scalar.fma(one, one, snan, DType.F32) == 0x7FC00001
    # 0 * inf is invalid before c is looked at: the default NaN, even if c is a NaN
    zero, inf = scalar.f32_bits(0.0), scalar.f32_bits(math.inf)
    assert scalar.fma(zero, inf, snan, DType.F32) == scalar.f32_bits(scalar.DEFAULT_NAN)
    # invalid operations give the host's default NaN (x86: negative quiet NaN)
    inf = scalar.f32_bits(math.inf)
    assert scalar.binary(DType.F32, lambda a, b: a - b, inf, inf) == scalar.f32_bits(
        scalar.DEFAULT_NAN)


def test_min_max_nan_and_signed_zero_rules():
    f = scalar.f64_bits
    nan = f(math.nan)
    assert scalar.fmin_bits(nan, f(2.0), DType.F64) == f(2.0)
    assert scalar.fmax_bits(f(2.0), nan, DType.F64) == f(2.0)
    other_nan = 0xFFF8000000000001
    assert scalar.fmin_bits(other_nan, nan, DType.F64) == other_nan
    assert scalar.fmin_bits(f(0.0), f(-0.0), DType.F64) == f(-0.0)
    assert scalar.fmin_bits(f(-0.0), f(0.0), DType.F64) == f(-0.0)
    assert scalar.fmax_bits(f(-0.0), f(0.0), DType.F64) == f(0.0)


def test_conversion_rules():
    c = scalar.convert
    nan32 = 0x7FC00000
    assert c(nan32, DType.F32, DType.I32) == 0
    assert c(scalar.f32_bits(3e9), DType.F32, DType.I32) == 0x7FFFFFFF
    assert c(scalar.f32_bits(-3e9), DType.F32, DType.I32) == 0x80000000
    assert c(scalar.f32_bits(-1.9), DType.F32, DType.I32) == 0xFFFFFFFF
    assert c(scalar.f32_bits(-1.9), DType.F32, DType.U32) == 0
    assert c(scalar.f64_bits(math.inf), DType.F64, DType.U64) == (1 << 64) - 1
    assert c(0x80, DType.I8, DType.I64) == (1 << 64) - 128    # sign-extend
    assert c(0x1FF, DType.U16, DType.U8) == 0xFF              # keep low bits
    assert c(0xFF, DType.U8, DType.I8) == 0xFF                # reinterpret
    assert c((1 << 24) + 1, DType.U32, DType.F32) == scalar.f32_bits(float(1 << 24))
    assert c((1 << 53) + 1, DType.U64, DType.F64) == scalar.f64_bits(float(1 << 53))
    assert c(scalar.f64_bits(1e300), DType.F64, DType.F32) == 0x7F800000
    assert c(0x7FF0000000000001, DType.F64, DType.F32) == 0x7FC00000   # quieted
    assert c(0x7F800001, DType.F32, DType.F64) == 0x7FF8000020000000


# --------------------------------------------------------------------------- registers

def test_arguments_fill_the_first_registers_and_the_rest_stay_uninitialized():
    text = """
    add.i32 r2, r0, r1
    stg.i32 [buf1 + 0], r2
    stg.i32 [buf1 + 4], r3
    """
    dev = ReferenceDevice()
    h = dev.alloc(8)
    args = [(DType.I32, 40), (DType.I32, (1 << 32) - 2)]
    err = fault(UninitializedRegisterError, text, dev=dev, args=args)
    assert err.pc == 2 and err.lane == 0
    assert words(dev.read(h), np.int32) == [38, 0]


def test_sel_reads_only_the_selected_source():
    text = """
    mov_imm.u32 r1, 7
    setlt.u32 p0, r252, r1
    sel.u32 r2, p0, r1, r99      ; r99 is never written: only read when p0 is false
    stg.u32 [r0 + r6], r2
    """
    dev, (h,), _ = launch(PROLOGUE + text, buffers=[bytes(16)], block=4)
    assert words(dev.read(h)) == [7, 7, 7, 7]
    err = fault(UninitializedRegisterError, PROLOGUE + text.replace("r1, 7", "r1, 2"),
                buffers=[bytes(16)], block=4)
    assert err.lane == 2 and err.lanes_faulting == 2


# --------------------------------------------------------------------------- control flow

# --------------------------------------------------------------------------- barriers

# --------------------------------------------------------------------------- memory

def test_buffer_bounds_and_handles():
    err = fault(OutOfBoundsError, PROLOGUE + "stg.u32 [r0 + r5], r9", buffers=[bytes(8)], block=4)
    assert (err.lane, err.lanes_faulting, err.pc) == (2, 2, 4)
    err = fault(InvalidHandleError, "mov_imm.u32 r1, 1\nstg.u32 [buf7 + 0], r1")
    assert err.pc == 1
    dev = ReferenceDevice()
    h = dev.alloc(4)
    dev.free(h)
    with pytest.raises(InvalidHandleError):
        dev.launch(assemble("mov_imm.u32 r1, 1\nstg.u32 [r0 + 0], r1"), args=[u64(h)])
    with pytest.raises(InvalidHandleError):
        dev.free(h)
    with pytest.raises(InvalidHandleError):
        dev.free(0)
    assert dev.alloc(4) == h + 1   # never reused
    err = fault(OutOfBoundsError, "mov_imm.u64 r1, 1\nldg.u32 r2, [r1 - 4]", args=[])
    assert err.pc == 1


def test_phi_addresses_and_the_boundary_pool():
    dev = ReferenceDevice()
    dev.write(CLASS0 + 5, (0x01020304).to_bytes(4, "little"), offset=12 * 256 + 200)
    text = """
    ldg.u32 r1, [Φ(5, 12, 200)]
    stg.u32 [phi(95, 47, 252)], r1
    """
    launch(text, dev=dev, args=[])
    assert dev.read(0, 95 * 12288 + 47 * 256 + 252, 4) == (0x01020304).to_bytes(4, "little")
    assert dev.read(CLASS0 + 95, 12284, 4) == (0x01020304).to_bytes(4, "little")
    err = fault(OutOfBoundsError, "ldg.u32 r1, [Φ(0, 48, 0)]", dev=dev, args=[])
    assert err.pc == 0
    # class check: 4 bytes at 12286 of class 0 cross into class 1
    err = fault(OutOfBoundsError, "ldg.u32 r1, [Φ(0, 47, 254)]", dev=dev, args=[])
    launch("ldg.u16 r1, [Φ(0, 47, 254)]", dev=dev, args=[])
    # class >= 96 is past the pool
    fault(OutOfBoundsError, "ldg.u8 r1, [Φ(96, 0, 0)]", dev=dev, args=[])
    # class handles: 12,288 bytes each
    fault(OutOfBoundsError, f"ldg.u32 r1, [buf{CLASS0 + 3} + 12285]", dev=dev, args=[])
    launch(f"ldg.u32 r1, [buf{CLASS0 + 3} + 12284]", dev=dev, args=[])
    assert len(dev.read(0)) == 96 * 12288
    with pytest.raises(OutOfBoundsError):
        dev.read(CLASS0 + 1, 12288, 1)


def test_register_indirect_offsets_and_tags():
    dev, (h,), _ = launch("mov_imm.u32 r1, 7\nstg.u32 [r0 + 4], r1", buffers=[bytes(8)])
    assert words(dev.read(h)) == [0, 7]
    err = fault(OutOfBoundsError, "mov_imm.u32 r1, 7\nstg.u32 [r0 - 4], r1", buffers=[bytes(8)])
    assert err.pc == 1
    err = fault(TypeMismatchError, "mov_imm.u32 r1, 7\nstg.u32 [r1 + 0], r1")
    assert err.pc == 1


def test_store_order_address_then_value_then_bounds():
    # address register uninitialized beats the value register being uninitialized
    err = fault(UninitializedRegisterError, "stg.u32 [r3 + r4], r5")
    assert "r3" in str(err)
    # value uninitialized beats the out-of-bounds access
    err = fault(UninitializedRegisterError, "stg.u32 [buf1 + 100], r5", buffers=[bytes(4)])
    assert "r5" in str(err)
    # Φ page check comes first of all
    fault(OutOfBoundsError, "stg.u32 [Φ(0, 60, 0)], r5")


def test_shared_memory_is_per_block_zero_filled_and_bounds_checked():
    text = PROLOGUE + """
    lds.u32 r1, [shared + r6]
    cvt.u32.u64 r2, r255
    add.u32 r1, r1, r2
    sts.u32 [shared + r6], r1
    lds.u32 r3, [shared + r6]
    stg.u32 [r0 + r5], r3
    """
    dev, (h,), _ = launch(text, buffers=[bytes(16)], grid=2, block=2, shared_bytes=8)
    assert words(dev.read(h)) == [0, 1, 2, 3]
    err = fault(OutOfBoundsError, text, buffers=[bytes(16)], grid=2, block=2, shared_bytes=6)
    assert (err.lane, err.lanes_faulting, err.pc) == (1, 2, 4)
    # [shared + rO]: u32 is fine, other tags are a mismatch
    launch("mov_imm.u32 r1, 4\nlds.u32 r2, [shared + r1]", shared_bytes=8)
    err = fault(TypeMismatchError, "mov_imm.i32 r1, 4\nlds.u32 r2, [shared + r1]",
                shared_bytes=8)
    assert err.pc == 1
    fault(OutOfBoundsError, "lds.u8 r2, [shared]")
    launch("mov_imm.u8 r1, 3\nsts.u8 [shared], r1", shared_bytes=1)


def test_lds_sts_with_buffer_addresses_alias_ldg_stg():
    text = "mov_imm.u32 r1, 9\nsts.u32 [r0 + 4], r1\nlds.u32 r2, [r0 + 4]\nstg.u32 [r0 + 0], r2"
    dev, (h,), res = launch(text, buffers=[bytes(8)])
    assert words(dev.read(h)) == [9, 9]
    assert (res.stats["bytes_loaded"], res.stats["bytes_stored"]) == (4, 8)


# --------------------------------------------------------------------------- pools

def test_pools_allocate_in_lane_order_and_persist():
    text = PROLOGUE + """
    pool.alloc r1, 16
    mov_imm.u64 r2, 8
    cvt.u32.u64 r3, r255
    pool.store.u32 r1, r2, r3
    pool.load.u32 r4, r1, r2
    stg.u64 [r0 + r5], r1
    """
    text = text.replace("stg.u64 [r0 + r5], r1", "mov_imm.u32 r9, 3\nshl.u64 r7, r255, r9\n"
                        "stg.u64 [r0 + r7], r1")
    dev, (h,), res = launch(text, buffers=[bytes(32)], block=4)
    assert words(dev.read(h), np.uint64) == [1, 2, 3, 4]
    for lane in range(4):
        assert dev.read_pool(lane + 1)[8:12] == lane.to_bytes(4, "little")
    assert res.stats["bytes_loaded"] == 16 and res.stats["bytes_stored"] == 16 + 32
    _, _, _ = launch("pool.alloc r1, 1", dev=dev, args=[])
    assert dev.read_pool(5) == b"\0"
    # freeing one, then using it again
    fault(InvalidHandleError, "mov_imm.u64 r1, 2\npool.free r1\nmov_imm.u64 r2, 0\n"
          "pool.load.u8 r3, r1, r2", dev=dev, args=[])
    with pytest.raises(InvalidHandleError):
        dev.read_pool(2)


def test_pool_errors_in_ref_order():
    dev = ReferenceDevice()
    launch("pool.alloc r1, 4", dev=dev, args=[])
    # handle 0 is not a pool to free
    err = fault(InvalidHandleError, "mov_imm.u64 r1, 0\npool.free r1", dev=dev, args=[])
    assert err.pc == 1
    # two lanes freeing the same pool in one step: the higher lane faults, nothing is freed
    err = fault(InvalidHandleError, "mov_imm.u64 r1, 1\npool.free r1", dev=dev, args=[],
                block=2)
    assert (err.lane, err.lanes_faulting) == (1, 1)
    assert dev.read_pool(1) == bytes(4)
    # PoolLoad: bounds before the f16 type check; PoolStore: type before the value
    err = fault(OutOfBoundsError, "mov_imm.u64 r1, 1\nmov_imm.u64 r2, 3\n"
                "pool.load.f16 r3, r1, r2", dev=dev, args=[])
    err = fault(UnsupportedOperationError, "mov_imm.u64 r1, 1\nmov_imm.u64 r2, 2\n"
                "pool.load.f16 r3, r1, r2", dev=dev, args=[])
    assert err.pc == 2
    err = fault(UnsupportedOperationError, "mov_imm.u64 r1, 1\nmov_imm.u64 r2, 2\n"
                "pool.store.bf16 r1, r2, r9", dev=dev, args=[])
    # pool handle 0: the boundary pool, bounds against 1,179,648 and the class check
    launch("mov_imm.u64 r1, 0\nmov_imm.u64 r2, 1179644\nmov_imm.u32 r3, 5\n"
           "pool.store.u32 r1, r2, r3", dev=dev, args=[])
    assert dev.read(0, 1179644, 4) == (5).to_bytes(4, "little")
    fault(OutOfBoundsError, "mov_imm.u64 r1, 0\nmov_imm.u64 r2, 1179646\n"
          "pool.load.u32 r3, r1, r2", dev=dev, args=[])
    fault(OutOfBoundsError, "mov_imm.u64 r1, 0\nmov_imm.u64 r2, 12286\n"
          "pool.load.u32 r3, r1, r2", dev=dev, args=[])
    fault(InvalidHandleError, "mov_imm.u64 r1, 99\nmov_imm.u64 r2, 0\n"
          "pool.load.u32 r3, r1, r2", dev=dev, args=[])


# --------------------------------------------------------------------------- Atlas instructions

def test_atlas_instructions():
    text = """
    cls.get r1
    mirror r2, r1
    nbr.count r3, r1
    nbr.get r4, r1, 5
    unity.test p0, 0.0000000001
    mov_imm.u8 r5, 7
    mov_imm.u8 r6, 9
    bound.map r7, r1, r5, r6
    phase.adv 700
    phase.adv 100
    phase.get r8
    mov_imm.u64 r10, 0
    mov_imm.u32 r11, 1
    mov_imm.u32 r12, 0
    sel.u32 r13, p0, r11, r12
    cvt.u32.u8 r14, r2
    cvt.u32.u8 r15, r4
    cvt.u64.u32 r16, r253
    mov_imm.u32 r17, 6
    shl.u64 r16, r16, r17          ; 64 bytes per block
    stg.u32 [r0 + r16], r14
    mov_imm.u64 r18, 4
    add.u64 r16, r16, r18
    stg.u32 [r0 + r16], r3
    add.u64 r16, r16, r18
    stg.u32 [r0 + r16], r15
    add.u64 r16, r16, r18
    stg.u32 [r0 + r16], r13
    add.u64 r16, r16, r18
    stg.u64 [r0 + r16], r7
    add.u64 r16, r16, r18
    add.u64 r16, r16, r18
    stg.u32 [r0 + r16], r8
    """
    grid = 100
    dev, (h,), _ = launch(text, buffers=[bytes(64 * grid)], grid=grid)
    data = dev.read(h)
    for b in range(grid):
        c = b % 96
        rec = words(data[64 * b: 64 * b + 16])
        nbrs = atlas.neighbours(c)
        assert rec == [atlas.mirror(c), len(nbrs), nbrs[5] if len(nbrs) > 5 else 0,
                       int(c in (1, 4))]
        assert int.from_bytes(data[64 * b + 16: 64 * b + 24], "little") == c * 12288 + 7 * 256 + 9
        assert words(data[64 * b + 24: 64 * b + 28]) == [32]


def test_atlas_class_and_page_checks():
    err = fault(InvalidClassError, "mov_imm.u8 r1, 96\nmirror r2, r1")
    assert err.pc == 1
    fault(InvalidClassError, "mov_imm.u8 r1, 200\nnbr.count r2, r1")
    fault(InvalidClassError, "mov_imm.u8 r1, 96\nnbr.get r2, r1, 0")
    fault(InvalidClassError, "mov_imm.u8 r1, 96\nmov_imm.u8 r2, 60\nbound.map r3, r1, r2, r2")
    fault(OutOfBoundsError, "mov_imm.u8 r1, 95\nmov_imm.u8 r2, 48\nbound.map r3, r1, r2, r2")
    # ResAccum: both reads before the class check
    err = fault(UninitializedRegisterError, "mov_imm.u8 r1, 96\nres.accum r1, r2")
    err = fault(InvalidClassError, "mov_imm.u8 r1, 96\nmov_imm.f64 r2, 1.0\nres.accum r1, r2")
    assert err.pc == 2


# --------------------------------------------------------------------------- arithmetic

def _one_value(text: str, ty: str, **kw):
    dev, (h,), _ = launch(text + f"\nstg.{ty} [r0 + 0], r9", buffers=[bytes(8)], **kw)
    return dev.read(h)[: DType[ty.upper()].size]


def test_integer_semantics():
    def val(text, ty):
        return int.from_bytes(_one_value(text, ty), "little", signed=ty.startswith("i"))
    assert val(f"mov_imm.i8 r1, {(1 << 64) - 128}\nmov_imm.i8 r2, {(1 << 64) - 1}\n"
               "div.i8 r9, r1, r2", "i8") == -128
    assert val(f"mov_imm.i32 r1, {(1 << 64) - 7}\nmov_imm.i32 r2, 2\ndiv.i32 r9, r1, r2",
               "i32") == -3
    assert val("mov_imm.u8 r1, 3\nmov_imm.u32 r2, 9\nshl.u8 r9, r1, r2", "u8") == 6
    assert val(f"mov_imm.i16 r1, {(1 << 64) - 256}\nmov_imm.u32 r2, 20\nshr.i16 r9, r1, r2",
               "i16") == -16
    assert val("mov_imm.u16 r1, 65535\nmov_imm.u32 r2, 4\nshr.u16 r9, r1, r2", "u16") == 4095
    assert val(f"mov_imm.i32 r1, {1 << 31}\nabs.i32 r9, r1", "i32") == -(1 << 31)
    assert val(f"mov_imm.i64 r1, {1 << 63}\nneg.i64 r9, r1", "i64") == -(1 << 63)
    assert val("mov_imm.u8 r1, 200\nmov_imm.u8 r2, 100\nadd.u8 r9, r1, r2", "u8") == 44
    assert val("mov_imm.i32 r1, 100000\nmov_imm.i32 r2, 100000\nmov_imm.i32 r3, 5\n"
               "mad.i32 r9, r1, r2, r3", "i32") == (10 ** 10 + 5 + (1 << 31)) % (1 << 32) - (1 << 31)
    assert val("mov_imm.u64 r1, 5\nnot.u64 r9, r1", "u64") == (1 << 64) - 6
    fault(DivisionByZeroError, "mov_imm.u8 r1, 1\nmov_imm.u8 r2, 0\ndiv.u8 r3, r1, r2")


def test_float_semantics():
    def f32(text):
        return struct.unpack("<f", _one_value(text, "f32"))[0]
    assert f32("mov_imm.f32 r1, 1.0\nmov_imm.f32 r2, 0.0\ndiv.f32 r9, r1, r2") == math.inf
    assert math.isnan(f32("mov_imm.f32 r1, 0.0\ndiv.f32 r9, r1, r1"))
    assert f32("mov_imm.f32 r1, nan\nmov_imm.f32 r2, 2.5\nmin.f32 r9, r1, r2") == 2.5
    assert f32("mov_imm.f32 r1, 16777216.0\nmov_imm.f32 r2, 1.0\nadd.f32 r9, r1, r2") == 16777216
    assert f32("mov_imm.f32 r1, -2.0\nabs.f32 r9, r1") == 2.0
    # SETcc: NaN compares false except ne
    text = """
    mov_imm.f64 r1, nan
    setne.f64 p0, r1, r1
    seteq.f64 p1, r1, r1
    mov_imm.u32 r2, 1
    mov_imm.u32 r3, 0
    sel.u32 r9, p0, r2, r3
    sel.u32 r8, p1, r2, r3
    add.u32 r9, r9, r9
    add.u32 r9, r9, r8
    """
    assert int.from_bytes(_one_value(text, "u32"), "little") == 2


def test_transcendentals_use_the_shared_routine():
    for name in ("exp", "log", "sqrt", "rsqrt", "sin", "tanh", "sigmoid", "log10"):
        bits = _one_value(f"mov_imm.f32 r1, 0.7\n{name}.f32 r9, r1", "f32")
        want = transcendental(name.upper(), DType.F32, np.array([0.7], np.float32))
        assert bits == want.tobytes()
        bits = _one_value(f"mov_imm.f64 r1, 0.7\n{name}.f64 r9, r1", "f64")
        want = transcendental(name.upper(), DType.F64, np.array([0.7]))
        assert bits == want.tobytes()


def test_reductions_fold_sequentially():
    text = """
    mov_imm.f32 r10, 1e8
    mov_imm.f32 r11, 1.0
    mov_imm.f32 r12, -1e8
    mov_imm.f32 r13, nan
    reduce.add.f32 r9, r10, 3
    """
    assert struct.unpack("<f", _one_value(text, "f32"))[0] == 0.0   # (1e8 + 1) - 1e8 in f32
    assert struct.unpack("<f", _one_value(text.replace("reduce.add.f32 r9, r10, 3",
                                                       "reduce.min.f32 r9, r10, 4"), "f32"))[0] == -1e8
    assert struct.unpack("<f", _one_value(text.replace("reduce.add.f32 r9, r10, 3",
                                                       "reduce.max.f32 r9, r13, 1"), "f32"))[0] == -math.inf
    assert int.from_bytes(_one_value("reduce.mul.i64 r9, r10, 0", "i64"), "little") == 1
    assert int.from_bytes(_one_value("reduce.min.i32 r9, r10, 0", "i32"), "little") == (1 << 31) - 1
    err = fault(TypeMismatchError, "mov_imm.i32 r10, 1\nmov_imm.u32 r11, 1\n"
                "reduce.add.i32 r9, r10, 2")
    assert "r11" in str(err)


def test_unsupported_types_pairs_and_conditions():
    fault(UnsupportedOperationError, "add.f16 r1, r2, r3")        # before any read
    fault(UnsupportedOperationError, "abs.u32 r1, r2")
    fault(UnsupportedOperationError, "cvt.u16.i8 r1, r2")
    fault(UnsupportedOperationError, "cvt.f16.f16 r1, r2")
    # unsigned-only condition on a signed type: after both reads
    fault(UninitializedRegisterError, "setltu.i32 p0, r1, r2")
    err = fault(UnsupportedOperationError, "mov_imm.i32 r1, 1\nsetltu.i32 p0, r1, r1")
    assert err.pc == 1
    launch("mov_imm.u32 r1, 1\nsetltu.u32 p0, r1, r1")
    err = fault(UninitializedRegisterError, "bra.p3 @x\nx:")
    assert "p3" in str(err)


def test_f16_bf16_are_storage_only_but_convert_to_f32():
    text = """
    ldg.f16 r1, [r0 + 0]
    cvt.f32.f16 r2, r1
    cvt.bf16.f32 r3, r2
    stg.bf16 [r0 + 2], r3
    mov.f16 r4, r1
    stg.f16 [r0 + 4], r4
    """
    data = np.array([1.0009765625], np.float16).tobytes() + bytes(4)
    dev, (h,), _ = launch(text, buffers=[data])
    out = dev.read(h)
    assert out[2:4] == np.array([1.0], ml_dtypes.bfloat16).tobytes()
    assert out[4:6] == data[:2]


# --------------------------------------------------------------------------- pieces and launches

def test_pieces_give_race_free_results_and_sum_steps():
    text = PROLOGUE + """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 3
    and.u32 r3, r1, r2
    body:
    add.u32 r1, r1, r1
    loop r3, @body
    stg.u32 [r0 + r5], r1
    """
    results = {}
    for piece_lanes in (65536, 8, 5, 1):
        dev = ReferenceDevice(piece_lanes=piece_lanes)
        h = dev.alloc(4 * 24)
        res = dev.launch(assemble(text), grid=6, block=4, args=[u64(h)])
        results[piece_lanes] = (dev.read(h), res.stats)
    memories = {m for m, _ in results.values()}
    assert len(memories) == 1
    # one piece runs lanes together; pieces of one block (4 lanes) run 6 schedules
    assert results[65536][1]["steps"] < results[5][1]["steps"] == results[1][1]["steps"]
    assert results[8][1]["steps"] == 3 * (results[8][1]["steps"] // 3)


_ACCUMULATE = """
    mov_imm.u32 r1, 3
    shl.u64 r2, r255, r1
    ldg.f64 r3, [r0 + r2]
    mov_imm.u8 r4, 0
    res.accum r4, r3
"""


def test_resonance_is_one_running_sum_across_pieces():
    # 1e16 + 1 rounds back to 1e16 (ties to even): a running sum ends at 1e16, a sum
    # of per-piece partial sums (1e16 and 2.0) would end at 1e16 + 2
    values = struct.pack("<4d", 1e16, 0.0, 1.0, 1.0)
    for piece_lanes in (65536, 2):
        dev = ReferenceDevice(piece_lanes=piece_lanes)
        h = dev.alloc(len(values))
        dev.write(h, values)
        res = dev.launch(assemble(_ACCUMULATE), grid=2, block=2, args=[u64(h)])
        assert res.resonance[0] == 1e16 and res.resonance[1:] == [0.0] * 95


def test_fault_in_a_later_piece_keeps_earlier_pieces():
    text = PROLOGUE + """
    stg.u32 [r0 + r5], r9
    mov_imm.u64 r1, 12
    setge.u64 p0, r5, r1
    bra.p0 @bad
    exit
    bad:
    div.u32 r2, r9, r99
    """
    dev = ReferenceDevice(piece_lanes=2)
    h = dev.alloc(16)
    with pytest.raises(UninitializedRegisterError) as info:
        dev.launch(assemble(text), grid=4, block=1, args=[u64(h)])
    assert info.value.lane == 3
    assert words(dev.read(h)) == [2, 2, 2, 2]   # the faulting lane's piece had stored too
    dev = ReferenceDevice(piece_lanes=2)
    h = dev.alloc(16)
    looping = assemble("mov_imm.u32 r1, 3\nb: mov_imm.u32 r2, 0\nloop r1, @b")  # 9 steps
    with pytest.raises(StepLimitError):
        dev.launch(looping, grid=4, args=[], max_steps=8)
    # max_steps is per piece; stats.steps is the sum
    assert dev.launch(looping, grid=4, args=[], max_steps=9).stats["steps"] == 18


def test_resonance_sums_piece_by_piece():
    text = "mov_imm.u8 r1, 0\ncvt.u32.u64 r3, r255\ncvt.f32.u32 r4, r3\ncvt.f64.f32 r2, r4\n" \
           "res.accum r1, r2"
    for piece_lanes in (100, 1):
        _, _, res = launch(text, grid=5, dev=ReferenceDevice(piece_lanes=piece_lanes))
        assert res.resonance[0] == 10.0


def test_launch_argument_validation():
    dev = ReferenceDevice()
    prog = Program([make("EXIT")])
    for bad in ((0,), (1, 2, 3, 4), "x", (1.5,), True):
        with pytest.raises((TypeError, ValueError)):
            dev.launch(prog, grid=bad)
    with pytest.raises(ValueError):
        dev.launch(prog, args=[(DType.U8, 256)])
    with pytest.raises(ProgramError):
        dev.launch(Program([make("BRA", "nowhere")]))
    with pytest.raises(ValueError):
        ReferenceDevice(piece_lanes=0)
    res = dev.launch(Program([]), grid=(2, 2), block=(3,))
    assert res.stats["steps"] == 0 and res.stats["simd_efficiency"] == 0.0


# --------------------------------------------------------------------------- NumPy as an oracle

_INT_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply}
_PY_OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": scalar.float_div}


@settings(max_examples=300)
@given(st.sampled_from([t for t in DType if t.is_int]), st.sampled_from(sorted(_INT_OPS)),
       st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 64) - 1))
def test_integer_arithmetic_agrees_with_numpy(ty, op, a, b):
    a &= (1 << ty.bits) - 1
    b &= (1 << ty.bits) - 1
    x = np.array([a], f"<u{ty.size}").view(ty.numpy)
    y = np.array([b], f"<u{ty.size}").view(ty.numpy)
    with np.errstate(all="ignore"):
        want = int(_INT_OPS[op](x, y).view(f"<u{ty.size}")[0])
    assert scalar.binary(ty, _PY_OPS[op], a, b) == want


@settings(max_examples=400)
@given(st.sampled_from([DType.F32, DType.F64]), st.sampled_from(sorted(_PY_OPS)),
       st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 64) - 1))
def test_float_arithmetic_agrees_with_numpy_bit_for_bit(ty, op, a, b):
    """Including NaN payloads: NumPy on x86 returns the first NaN operand, quieted."""
    a &= (1 << ty.bits) - 1
    b &= (1 << ty.bits) - 1
    x = np.array([a], f"<u{ty.size}").view(ty.numpy)
    y = np.array([b], f"<u{ty.size}").view(ty.numpy)
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    with np.errstate(all="ignore"):
        want = int(fn(x, y).view(f"<u{ty.size}")[0])
    assert scalar.binary(ty, _PY_OPS[op], a, b) == want, (hex(a), hex(b))
