"""Every runtime error class, its attributes, precision, and a usable device afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.isa import BufferOffset, Program, make
from simt.isa.types import DType


def run(src, dev=None, **kw):
    dev = dev or simt.Device()
    return dev.launch(simt.assemble(src), **kw)


def raises(cls, src, **kw):
    with pytest.raises(cls) as info:
        run(src, **kw)
    err = info.value
    assert isinstance(err, simt.SimtError)
    return err


def test_type_mismatch_reports_lowest_lane_of_a_divergent_tag():
    src = """
    mov_imm.u32 r1, 3
    setlt.u32 p0, r252, r1
    bra.p0 @low
    mov_imm.f32 r5, 1.0      ; lanes 3.. write f32
    bra @use
low:
    mov_imm.u32 r5, 1        ; lanes 0..2 write u32
use:
    add.f32 r6, r5, r5
"""
    err = raises(simt.TypeMismatchError, src, grid=2, block=8)
    assert err.pc == 6 and err.lane == 0 and err.lanes_faulting == 6   # 3 per block
    assert "expected f32" in str(err) and "u32" in str(err)


@pytest.mark.parametrize("src", [
    "ldg.u8 r1, [Φ(0, 48, 0)]",                              # page >= 48
    "ldg.u32 r1, [Φ(0, 47, 254)]",                          # crosses the class end
    "ldg.u32 r1, [Φ(96, 0, 0)]",                            # class 96: past the pool
    "mov_imm.u64 r0, 0\nldg.u32 r1, [r0 - 4]",              # negative RegisterIndirect
    "mov_imm.u64 r0, 18446744073709551615\nldg.u32 r1, [r0 + 12286]",   # class handle 95
    "lds.u32 r1, [shared + 8]",                             # past shared_bytes
    "mov_imm.u32 r1, 10\nmov_imm.u32 r2, 48\nmov_imm.u32 r3, 0\ncvt.u8.u32 r1, r1\n"
    "cvt.u8.u32 r2, r2\ncvt.u8.u32 r3, r3\nbound.map r4, r1, r2, r3",
    "mov_imm.u64 r0, 0\nmov_imm.u64 r1, 1179646\npool.load.u32 r2, r0, r1",
    "pool.alloc r0, 8\nmov_imm.u64 r1, 6\npool.load.u32 r2, r0, r1",
])
def test_out_of_bounds_forms(src):
    err = raises(simt.OutOfBoundsError, src, shared_bytes=8, block=2)
    assert err.lane == 0 and err.pc == len(simt.assemble(src)) - 1


def test_huge_offset_does_not_wrap():
    dev = simt.Device()
    buf = dev.alloc(16)
    src = "mov_imm.u64 r1, 18446744073709551615\nldg.u32 r2, [r0 + r1]"
    err = raises(simt.OutOfBoundsError, src, dev=dev, args=(buf,))
    assert err.pc == 1


def test_invalid_handles():
    err = raises(simt.InvalidHandleError, "ldg.u32 r1, [buf77 + 0]")
    assert err.pc == 0 and "77" in str(err)
    err = raises(simt.InvalidHandleError, "mov_imm.u64 r0, 0\npool.free r0")
    assert err.pc == 1
    err = raises(simt.InvalidHandleError, "pool.alloc r0, 8\npool.free r0\npool.free r0")
    assert err.pc == 2
    dev = simt.Device()
    buf = dev.alloc(8)
    dev.free(buf)
    with pytest.raises(simt.InvalidHandleError):
        dev.free(buf)
    with pytest.raises(simt.InvalidHandleError):
        dev.launch(simt.assemble("exit"), args=(buf,))
    with pytest.raises(simt.InvalidHandleError):
        dev.download(buf, np.uint8)
    with pytest.raises(simt.InvalidHandleError):
        dev.free(dev.boundary)


def test_res_accum_reports_the_lane_with_a_bad_class():
    src = """
    cvt.u8.u64 r1, r255
    mov_imm.u8 r2, 90
    add.u8 r1, r1, r2          ; lanes 0..5 -> 90..95, lane 6 -> 96
    mov_imm.f64 r3, 1.0
    res.accum r1, r3
"""
    err = raises(simt.InvalidClassError, src, block=7)
    assert err.lane == 6 and err.lanes_faulting == 1 and err.pc == 4


@pytest.mark.parametrize("src", [
    "mov_imm.f16 r1, 1.0\nadd.f16 r2, r1, r1",
    "mov_imm.i32 r1, 1\ncvt.f64.i32 r2, r1",
    "mov_imm.i32 r1, 1\nsetltu.i32 p0, r1, r1",
    "mov_imm.u32 r1, 1\nabs.u32 r2, r1",
    "mov_imm.u64 r0, 0\nmov_imm.u64 r1, 0\npool.load.f16 r2, r0, r1",
    "cvt.f16.f16 r1, r1",
])
def test_unsupported_operations(src):
    err = raises(simt.UnsupportedOperationError, src, block=2)
    assert isinstance(err, TypeError) and err.lane == 0


def test_device_memory_limit():
    dev = simt.Device(memory_limit=2_000_000)
    with pytest.raises(simt.DeviceMemoryError) as info:
        dev.alloc(1_000_000)
    assert isinstance(info.value, MemoryError)
    used = dev.memory_used
    with pytest.raises(simt.DeviceMemoryError):
        dev.launch(simt.assemble("pool.alloc r0, 100000"), block=64)
    assert dev.memory_used == used
    with pytest.raises(simt.DeviceMemoryError):
        dev.launch(simt.assemble("exit"), grid=64, block=1, shared_bytes=1 << 20)
    dev.alloc(100)         # still usable


def test_program_errors_before_any_lane_runs():
    dev = simt.Device()
    buf = dev.alloc(4)
    bad = Program([make("STG", DType.U32, 1, BufferOffset(buf.handle, 0)),
                   make("BRA", "nowhere", None)])
    with pytest.raises(simt.ProgramError) as info:
        dev.launch(bad)
    assert info.value.pc == 1
    bad = Program([make("MOV_IMM", DType.U32, 256, 1)])
    with pytest.raises(simt.ProgramError):
        dev.launch(bad)
    bad = Program([make("BRA", "x", 16)], {"x": 0})
    with pytest.raises(simt.ProgramError):
        dev.launch(bad)


def test_api_argument_errors():
    dev = simt.Device()
    prog = simt.assemble("exit")
    for kw in ({"grid": 0}, {"grid": (1, 1, 1, 1)}, {"block": -2}, {"shared_bytes": -1},
               {"max_steps": -1}, {"args": [1] * 253}, {"args": (1 << 64,)}):
        with pytest.raises(ValueError):
            dev.launch(prog, **kw)
    for kw in ({"grid": 1.5}, {"block": "4"}, {"args": (True,)}, {"args": ("x",)},
               {"args": (None,)}, {"args": 5}):
        with pytest.raises(TypeError):
            dev.launch(prog, **kw)
    with pytest.raises(TypeError):
        dev.launch("exit")
    with pytest.raises(TypeError):
        dev.alloc(2.0)
    with pytest.raises(ValueError):
        dev.alloc(-1)
    with pytest.raises(TypeError):
        dev.download(dev.alloc(8), "not-a-type")
    with pytest.raises(TypeError):
        simt.Device(piece_lanes="x")
    with pytest.raises(ValueError):
        simt.Device(piece_lanes=1000)
