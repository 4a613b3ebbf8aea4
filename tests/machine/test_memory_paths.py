"""The short routes of memory accesses give what the general routes give.

Converged accesses of consecutive elements resolve to one run without the per-lane
checks (exactly at a buffer's end too, and faulting one byte past it with the usual
message); one-axis lattices (one element per block) gather and scatter through 1-D
views; settling lent views returns at once when no view overlaps the bytes written,
and a shared store never settles (no view of shared memory is lent).
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simt
from simt.isa import DType
from simt.machine.kernels import memory as memory_kernels
from simt.machine.memory import DeviceMemory, Lattice, gather, scatter
from simt.testing.engines import assert_agree
from simt.testing.programs import ArgSpec, Case


def _model_gather(mem: np.ndarray, pos: np.ndarray, dtype: np.dtype) -> np.ndarray:
    size = dtype.itemsize
    return np.array([mem[p: p + size].view(dtype)[0] for p in pos.tolist()], dtype)


def _model_scatter(mem: np.ndarray, pos: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = mem.copy()
    raw = values.view(np.uint8).reshape(len(pos), -1)
    for lane, p in enumerate(pos.tolist()):
        out[p: p + raw.shape[1]] = raw[lane]
    return out


@st.composite
def lines(draw):
    """A one-axis lattice inside a memory array, and the element type."""
    dtype = np.dtype(draw(st.sampled_from([np.uint8, np.uint16, np.float32, np.int64])))
    n = draw(st.integers(1, 40))
    step = draw(st.sampled_from([0, 1, 2, 3, dtype.itemsize, 2 * dtype.itemsize, 1024,
                                 -dtype.itemsize, -1024]))
    if step == 0:
        n = 1 if draw(st.booleans()) else n
    reach = abs(step) * (n - 1)
    start = (reach if step < 0 else 0) + draw(st.integers(0, 9))
    rows = draw(st.booleans())
    lattice = Lattice(start, n, 1, step, 0) if rows else Lattice(start, 1, n, 0, step)
    return lattice, dtype, start + reach + dtype.itemsize + draw(st.integers(0, 9))


@given(lines(), st.integers(0, 2**32 - 1))
def test_one_axis_lattices_gather_and_scatter_as_positions_do(line, seed):
    lattice, dtype, span = line
    rng = np.random.default_rng(seed)
    mem = rng.integers(0, 256, span, dtype=np.uint8)
    pos = lattice.indices()
    got = gather(mem, lattice, dtype)
    assert got.shape == (pos.size,)
    if pos.size == 1 or pos[1] != pos[0]:      # a 1-D view's copy (not a broadcast read)
        assert got.flags.owndata
    np.testing.assert_array_equal(got.view(np.uint8), _model_gather(mem, pos, dtype).view(np.uint8))
    values = rng.integers(0, 256, pos.size * dtype.itemsize, dtype=np.uint8).view(dtype)
    expected = _model_scatter(mem, pos, values)
    scatter(mem, lattice, values)
    np.testing.assert_array_equal(mem, expected)


LOAD_ALL = """
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    ldg.u32 r6, [r0 + r5]
    add.u32 r6, r6, r6
    stg.u32 [r0 + r5], r6
    exit
"""


def test_a_converged_access_may_end_exactly_at_the_buffer_end():
    dev = simt.Device()
    a = np.arange(256, dtype=np.uint32)
    buf = dev.upload(a)
    dev.launch(simt.assemble(LOAD_ALL), grid=2, block=128, args=(buf,))
    np.testing.assert_array_equal(dev.download(buf, np.uint32), 2 * a)


def test_a_converged_access_one_element_past_the_end_faults_without_effect():
    dev = simt.Device()
    a = np.arange(255, dtype=np.uint32)
    buf = dev.upload(a)
    with pytest.raises(simt.OutOfBoundsError,
                       match=r"^out of bounds: 4-byte access at offset 1020 of buffer 1 "
                             r"\(1020 bytes\)"):
        dev.launch(simt.assemble(LOAD_ALL), grid=2, block=128, args=(buf,))
    np.testing.assert_array_equal(dev.download(buf, np.uint32), a)


def test_a_converged_access_through_an_unknown_handle_faults():
    dev = simt.Device()
    dev.upload(np.arange(256, dtype=np.uint32))
    with pytest.raises(simt.InvalidHandleError, match="^invalid buffer handle: 99"):
        dev.launch(simt.assemble(LOAD_ALL), grid=2, block=128, args=(np.uint64(99),))


class _Row:
    def __init__(self, data):
        self.data = data
        self.owned = 0

    def own_lent(self):
        self.data = self.data.copy()
        self.owned += 1


class _Regs:
    def __init__(self, rows):
        self.regs = rows


def test_settling_other_bytes_keeps_a_lent_view_and_overlapping_bytes_copy_it():
    memory = DeviceMemory(1 << 24)
    mem = memory.buffers[memory.alloc(4096)]
    other = memory.buffers[memory.alloc(4096)]
    view = mem[1024:2048].view(np.uint32)
    row = _Row(view)
    regs = _Regs([row])
    memory.lend(regs, 0, view, mem, 1024, 2048)
    memory.settle(other)
    memory.settle(mem, 0, 1024)
    memory.settle(mem, 2048)
    assert row.owned == 0 and row.data is view and len(memory.lent) == 1
    memory.settle(mem, 2047, 2048)
    assert row.owned == 1 and row.data is not view and memory.lent == []
    assert weakref.ref(view)() is view


def test_debug_settling_checks_views_of_other_bytes_too():
    memory = DeviceMemory(1 << 24)
    mem = memory.buffers[memory.alloc(4096)]
    other = memory.buffers[memory.alloc(4096)]
    view = mem[0:1024].view(np.uint32)
    regs = _Regs([_Row(view)])
    memory.lend(regs, 0, view, mem, 0, 1024, check=True)
    mem[0] = 1                   # a write that skipped settling
    with pytest.raises(AssertionError, match="changed under a register"):
        memory.settle(other)


# a lent row stored to shared memory, read back by a neighbour, stored to global memory
LENT_THROUGH_SHARED = """
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    cvt.u64.u32 r7, r252
    shl.u64 r7, r7, r4
    sts.f32 [shared + r7], r6
    bar.sync 0
    mov_imm.u64 r8, 4
    xor.u64 r9, r7, r8
    lds.f32 r10, [shared + r9]
    stg.f32 [r0 + r5], r10
    stg.f32 [r1 + r5], r6
    exit
"""


def test_a_lent_row_through_shared_memory_agrees_with_the_reference(monkeypatch):
    monkeypatch.setattr(memory_kernels, "LEND_MIN_BYTES", 0)
    for grid, block in ((1, 2), (3, 32), (2, 64)):
        lanes = grid * block
        case = Case(simt.assemble(LENT_THROUGH_SHARED), (grid, 1, 1), (block, 1, 1), 4 * block,
                    (ArgSpec(buffer=0), ArgSpec(buffer=1)),
                    (bytes(range(256)) * (lanes // 64 + 1), bytes(4 * lanes)))
        assert_agree(case)
