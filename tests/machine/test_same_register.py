"""add, sub and mul of one float register with itself skip the NaN check: the operands
hold the same bits, so a lane's two NaNs have one payload (simt/machine/alu/arrays.py,
same_kernel).  Checked bit for bit against the general functions and, through whole
launches of loaded NaN payloads, against the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.isa import DType
from simt.machine import alu, debug
from simt.testing.engines import assert_agree
from simt.testing.programs import UNIFORM_BYTES, ArgSpec, Case

# f32 bit patterns: quiet and signalling NaNs with payloads (either sign), infinities,
# signed zeros, a subnormal and ordinary numbers
F32_BITS = [0x7FC00000, 0xFFC00001, 0x7FC12345, 0x7F800001, 0xFF812345, 0x7FBFFFFF,
            0x7F800000, 0xFF800000, 0x00000000, 0x80000000, 0x00000001, 0x3F800000,
            0xC0490FDB, 0x7F7FFFFF]
F64_BITS = [0x7FF8000000000000, 0xFFF8000000000001, 0x7FF8123456789ABC, 0x7FF0000000000001,
            0xFFF0123456789ABC, 0x7FF7FFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
            0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x3FF0000000000000,
            0xC00921FB54442D18, 0x7FEFFFFFFFFFFFFF]


def _values(ty: DType, size: int) -> np.ndarray:
    bits = F32_BITS if ty is DType.F32 else F64_BITS
    raw = np.array([bits[k % len(bits)] for k in range(size)],
                   np.uint32 if ty is DType.F32 else np.uint64)
    return raw.view(ty.storage)


@pytest.mark.parametrize("fn", [alu.add, alu.sub, alu.mul])
@pytest.mark.parametrize("ty", [DType.F32, DType.F64])
@pytest.mark.parametrize("size", [1, 14, 3000])
def test_same_register_kernel_matches_the_general_function_bit_for_bit(fn, ty, size) -> None:
    a = _values(ty, size)
    kernel = alu.same_kernel(fn, ty)
    with alu.silenced():
        got = kernel(a, a)
    want = fn(ty, a, a)
    raw = np.uint32 if ty is DType.F32 else np.uint64
    np.testing.assert_array_equal(got.view(raw), np.asarray(want).view(raw))


def test_same_register_kernel_exists_only_for_float_add_sub_mul() -> None:
    assert alu.same_kernel(alu.add, DType.F32) is not None
    assert alu.same_kernel(alu.mul, DType.F64) is not None
    assert alu.same_kernel(alu.add, DType.I32) is None
    assert alu.same_kernel(alu.div, DType.F32) is None
    assert alu.same_kernel(alu.minimum, DType.F32) is None
    assert alu.same_kernel(alu.add, DType.F16) is None


SAME = """
    mov_imm.u32 r20, {shift}
    shl.u64 r21, r255, r20
    ldg.{ty} r5, [r0 + r21]             ; a loaded value: no interval known
    add.{ty} r6, r5, r5
    sub.{ty} r7, r5, r5
    mul.{ty} r8, r5, r5
    mov_imm.u64 r23, 64
    mul.u64 r24, r255, r23
    stg.{ty} [r1 + r24], r6
    mov_imm.u64 r25, 16
    add.u64 r24, r24, r25
    stg.{ty} [r1 + r24], r7
    add.u64 r24, r24, r25
    stg.{ty} [r1 + r24], r8
    exit
"""


@pytest.mark.parametrize("ty", [DType.F32, DType.F64])
@pytest.mark.parametrize("block", [1, 14, 64])
def test_same_register_arithmetic_on_nan_payloads_agrees_with_the_reference(ty, block) -> None:
    text = SAME.format(shift=2 if ty is DType.F32 else 3, ty=ty.text)
    data = _values(ty, block).tobytes()
    case = Case(simt.assemble(text), (1, 1, 1), (block, 1, 1), 0,
                (ArgSpec(buffer=0), ArgSpec(buffer=1), ArgSpec(ty=DType.U64, bits=0)),
                (data, bytes(64 * block), bytes(UNIFORM_BYTES)))
    outcome = assert_agree(case)
    assert outcome.error is None
    out = np.frombuffer(outcome.buffers[1], ty.storage).reshape(block, -1)
    assert np.isnan(out[:, 0]).sum() == np.isnan(_values(ty, block)).sum() > 0
    with debug.enabled_mode():
        assert_agree(case)
