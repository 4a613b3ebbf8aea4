"""The kernels behind simt.ops: printable, cached, data-independent, SIMT-shaped."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import simt
from simt import ops
from simt.isa.table import CVT_PAIRS
from simt.isa.types import DType
from simt.ops import _kernels

ALL_KERNELS = [(name, t) for name, spec in _kernels.KERNELS.items()
               for t in sorted(spec.accepts, key=lambda t: t.value)]


def types_ok(program: simt.Program) -> bool:
    """Does every instruction of ``program`` accept the types it names?"""
    for ins in program.instructions:
        if ins.name == "CVT":
            if (ins.src_ty, ins.dst_ty) not in CVT_PAIRS:
                return False
        elif "ty" in ins.spec.field_names and ins.ty not in ins.spec.types:
            return False
    return True


@pytest.mark.parametrize("name, t", ALL_KERNELS, ids=[f"{n}-{t.text}" for n, t in ALL_KERNELS])
def test_kernel_builds_prints_and_round_trips(name, t):
    program = ops.kernel(name, t.numpy)
    assert isinstance(program, simt.Program)
    assert ops.kernel(name, t.numpy) is program                    # cached
    assert ops.kernel(name, t.text) is program                     # ISA names work too
    assert simt.assemble(program.to_text()) == program
    src = ops.source(name, t.numpy)
    assert src.lstrip().startswith(";") and simt.assemble(src) == program
    assert types_ok(program)


@pytest.mark.parametrize("name", list(_kernels.KERNELS))
def test_accepted_types_are_what_the_instructions_accept(name):
    spec = _kernels.KERNELS[name]
    valid = set()
    for t in DType:
        try:
            program = simt.assemble(_kernels._render(name, t))
        except (KeyError, simt.AssemblyError):   # a literal the type has no form for
            continue
        if types_ok(program):
            valid.add(t)
    assert spec.accepts <= valid
    if name in ("mse", "mean"):    # means of integers would be integer divisions: floats only
        assert valid - spec.accepts <= {DType.I64, DType.U64, *(t for t in DType if t.is_int)}
    else:
        assert spec.accepts == valid


def test_unknown_kernel_and_unsupported_dtype():
    with pytest.raises(ValueError, match="unknown"):
        ops.kernel("fft", np.float32)
    with pytest.raises(simt.UnsupportedOperationError, match=r"abs.*uint8.*accepts"):
        ops.kernel("abs", np.uint8)
    with pytest.raises(simt.UnsupportedOperationError, match="complex"):
        ops.kernel("add", np.complex64)
    assert ops.kernel("copy", ml_dtypes.bfloat16) is ops.kernel("copy", "bf16")


@pytest.mark.parametrize("name", ["add", "relu", "clip", "scalar_mul", "gelu", "copy", "fill",
                                  "mse", "cross_entropy", "binary_cross_entropy", "matvec"])
def test_one_lane_per_element_with_a_bounds_guard(name):
    lines = ops.kernel(name, np.float64).to_text().splitlines()
    assert "setge.u64 p0, r255, r0" in lines[0] and "bra.p0 @done" in lines[1]


@pytest.mark.parametrize("name", ["sum", "min", "max", "softmax", "gemm"])
def test_tree_and_tile_kernels_use_shared_memory_and_barriers(name):
    text = ops.kernel(name, np.float32).to_text()
    assert "bar.sync 0" in text and "[shared + r" in text


def test_data_never_reaches_program_text(dev):
    a = np.linspace(-3, 3, 50).astype(np.float32)
    ops.clip(a, -1, 1, device=dev)
    ops.scalar_add(a, 0.5, device=dev)
    ops.fill(a, 9, device=dev)
    ops.softmax(a, device=dev)
    ops.sum(a, device=dev)
    before = _kernels._build.cache_info().currsize
    ops.clip(a, -2.5, 0.25, device=dev)
    ops.scalar_add(a, 123.0, device=dev)
    ops.fill(a, -4, device=dev)
    ops.softmax(a * 7, device=dev)
    ops.sum(a[:7], device=dev)
    ops.sum(a, device=dev)
    assert _kernels._build.cache_info().currsize == before          # nothing new was built


def test_elementwise_kernel_is_simt(dev):
    """A converged element-wise kernel issues a handful of steps whatever n is."""
    n = 100_000
    a = dev.upload(np.ones(n, np.float32))
    y = dev.alloc(4 * n)
    res = dev.launch(ops.kernel("add", np.float32), grid=-(-n // ops.BLOCK), block=ops.BLOCK,
                     args=(np.uint64(n), y, a, a))
    assert res.stats.steps < 20
    assert res.stats.lane_instructions >= 7 * n
    assert (dev.download(y, np.float32) == 2).all()
    dev.free(a)
    dev.free(y)


def test_default_device_is_created_lazily():
    a = np.arange(5, dtype=np.int32)
    np.testing.assert_array_equal(ops.add(a, a), a + a)
    assert isinstance(simt.ops._launch.get_device(), simt.Device)
    assert simt.ops._launch.get_device() is simt.ops._launch.get_device()


def test_chunk_constants():
    assert ops.CHUNK % (ops.BLOCK * _kernels.REDUCE_ITEMS) == 0


def test_programs_lists_every_kernel_an_op_runs():
    assert list(ops.programs("sum", np.int8)) == ["sum.i8", "sum.i64"]
    assert list(ops.programs("max", np.float64)) == ["max.f64"]     # both passes: one kernel
    assert list(ops.programs("binary_cross_entropy", np.float32)) == [
        "binary_cross_entropy.f32", "sum.f32", "mean.f32"]
    assert ops.programs("gemm", np.int16) == {"gemm.i16": ops.kernel("gemm", np.int16)}
    with pytest.raises(simt.UnsupportedOperationError):
        ops.programs("softmax", np.int32)
