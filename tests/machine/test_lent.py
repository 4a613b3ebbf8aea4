"""Loads that leave a register viewing device memory (a lent row) stay exact.

A load of consecutive elements by a range of lanes may give the destination row a
read-only view of the buffer instead of a copy (simt/machine/kernels/memory.py); the
device memory copies the view into the row's own storage before anything writes
those bytes.  Each test writes the viewed bytes some way and checks that the register
still holds the values loaded, against NumPy and the scalar reference.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import simt
from simt.machine import debug, memory as device_memory
from simt.machine.kernels import memory as memory_kernels
from simt.machine.memory import BUFFER_SLACK
from simt.testing.engines import assert_agree
from simt.testing.programs import ArgSpec, Case, cases
from simt.isa import DType

@pytest.fixture(autouse=True)
def lend_small_rows(monkeypatch):
    """Lend views at any size (by default only rows of 64 KiB and more are lent)."""
    monkeypatch.setattr(memory_kernels, "LEND_MIN_BYTES", 0)


# a[i] is loaded, then overwritten (by the same lanes, then by a neighbour), then the
# loaded register is stored to c: c must hold the old a
LOAD_STORE_USE = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    add.f32 r7, r6, r6
    stg.f32 [r0 + r5], r7
    add.u64 r8, r5, r4
    stg.f32 [r0 + r8], r7
    stg.f32 [r1 + r5], r6
    exit
"""


def _buffers(dev, n):
    a = (np.arange(n + 1, dtype=np.float32) + 1.5)
    return a, dev.upload(a), dev.alloc(4 * n)


def test_a_store_over_loaded_bytes_leaves_the_register_its_old_values():
    n = 256
    dev = simt.Device()
    a, buf_a, buf_c = _buffers(dev, n)
    dev.launch(simt.assemble(LOAD_STORE_USE), grid=2, block=128, args=(buf_a, buf_c))
    np.testing.assert_array_equal(dev.download(buf_c, np.float32), a[:n])
    expected = a.copy()
    expected[:n] = 2 * a[:n]
    expected[1:n + 1] = 2 * a[:n]
    np.testing.assert_array_equal(dev.download(buf_a, np.float32), expected)


def test_lent_programs_agree_with_the_reference():
    for text in (LOAD_STORE_USE, GUARDED_TAIL, DIVERGENT_LOAD):
        for grid, block in ((1, 1), (3, 32), (5, 64)):
            lanes = grid * block
            case = Case(simt.assemble(text), (grid, 1, 1), (block, 1, 1), 0,
                        (ArgSpec(buffer=0), ArgSpec(buffer=1), ArgSpec(ty=DType.U64, bits=max(lanes - 3, 0))),
                        (bytes(range(256)) * (lanes // 64 + 1), bytes(4 * lanes + 8)))
            assert_agree(case)


# a guarded load past the buffer's end: the last piece's row reaches into the slack
GUARDED_TAIL = """
    setge.u64 p0, r255, r2
    bra.p0 @done
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    ldg.u32 r6, [r0 + r5]
    cvt.u32.u64 r7, r255
    stg.u32 [r0 + r5], r7
    stg.u32 [r1 + r5], r6
done:
    exit
"""

# lanes load in two groups at different pcs: the second load must keep the first
# group's values (they wait at the join and read r6 after it)
DIVERGENT_LOAD = """
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    mov_imm.u64 r9, 8
    setlt.u64 p0, r255, r9
    bra.p0 @low
    ldg.u32 r6, [r0 + r5]
    bra @join
low:
    ldg.u32 r6, [r1 + r5]
join:
    cvt.u32.u64 r7, r255
    stg.u32 [r0 + r5], r7
    stg.u32 [r1 + r5], r6
    exit
"""


# every lane loads its element of r0 (lent) and stores it to r1 a step later
LOAD_THEN_STORE = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    stg.f32 [r1 + r5], r6
    exit
"""


def test_a_guarded_tail_is_lent_and_exact(monkeypatch):
    lent = []
    original = device_memory.DeviceMemory.lend

    def spy(self, regs, reg, view, mem, lo, hi, check=False):
        lent.append((view.size, lo, hi))
        return original(self, regs, reg, view, mem, lo, hi, check)

    monkeypatch.setattr(device_memory.DeviceMemory, "lend", spy)
    n = 1000                                # 4 blocks of 256: the last 24 lanes skip
    dev = simt.Device()
    data = np.arange(n, dtype=np.uint32) * 7
    buf_a, buf_c = dev.upload(data), dev.alloc(4 * n)
    dev.launch(simt.assemble(GUARDED_TAIL), grid=4, block=256,
               args=(buf_a, buf_c, np.uint64(n)))
    assert lent == [(1024, 0, 4 * n)]       # a row of 1,024 lanes, 24 of them in the slack
    assert 24 * 4 <= BUFFER_SLACK
    np.testing.assert_array_equal(dev.download(buf_c, np.uint32), data)
    np.testing.assert_array_equal(dev.download(buf_a, np.uint32), np.arange(n, dtype=np.uint32))


def test_host_writes_during_a_paused_session_do_not_reach_a_loaded_register():
    n = 64
    dev = simt.Device()
    a, buf_a, buf_c = _buffers(dev, n)
    program = simt.assemble(LOAD_THEN_STORE)
    session = dev.session(program, grid=1, block=n, args=(buf_a, buf_c))
    session.step(3)                         # r6 loaded, not yet stored
    assert dev._memory.lent
    dev.write(buf_a, np.zeros(n, np.float32))
    np.testing.assert_array_equal(session.register(6, np.float32), a[:n])
    session.run()
    np.testing.assert_array_equal(dev.download(buf_c, np.float32), a[:n])


def test_a_launch_while_a_session_holds_a_view_settles_it():
    n = 64
    dev = simt.Device()
    a, buf_a, buf_c = _buffers(dev, n)
    load = simt.assemble(LOAD_THEN_STORE)
    overwrite = simt.assemble("""
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    mov_imm.f32 r6, -1.0
    stg.f32 [r0 + r5], r6
    exit
""")
    session = dev.session(load, grid=1, block=n, args=(buf_a, buf_c))
    session.step(3)
    dev.launch(overwrite, grid=1, block=n, args=(buf_a,))
    session.run()
    np.testing.assert_array_equal(dev.download(buf_c, np.float32), a[:n])
    np.testing.assert_array_equal(dev.download(buf_a, np.float32)[:n], -1)


def test_debug_mode_catches_a_write_that_skips_settling(monkeypatch):
    settle = device_memory.DeviceMemory.settle
    nothing = np.zeros(0, np.uint8)
    monkeypatch.setattr(device_memory.DeviceMemory, "settle",     # checks, but copies no view
                        lambda self, mem=None, lo=0, hi=None: settle(self, nothing))
    dev = simt.Device()
    n = 128
    a, buf_a, buf_c = _buffers(dev, n)
    program = simt.assemble(LOAD_STORE_USE)
    with debug.enabled_mode(False):         # unnoticed without debug mode
        dev.launch(program, grid=1, block=n, args=(buf_a, buf_c))
    a, buf_a, buf_c = _buffers(dev, n)
    with debug.enabled_mode(), pytest.raises(AssertionError, match="changed under a register"):
        dev.launch(program, grid=1, block=n, args=(buf_a, buf_c))


THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "thorough"


@settings(max_examples=600 if THOROUGH else 60,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases(max_lanes=256, max_statements=20))
def test_random_programs_with_lent_rows_agree_with_the_reference(case):
    assert_agree(case)
