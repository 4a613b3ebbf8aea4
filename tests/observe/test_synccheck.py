"""The sync check (check="sync"): barrier releases a GPU would not make."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import simt
from simt.demo import TREE_REDUCTION

EARLY_EXIT = """
    mov_imm.u32 r1, 16
    setge.u32 p0, r252, r1
    bra.p0 @out
    bar.sync 0                      ; only tid < 16 get here
out:
    exit
"""

IF_ELSE = """
    mov_imm.u32 r1, 16
    setge.u32 p0, r252, r1
    bra.p0 @other
    bar.sync 0                      ; tid < 16
    bra @out
other:
    bar.sync 0                      ; tid >= 16: another barrier instruction
out:
    exit
"""


@pytest.fixture
def dev():
    return simt.Device()


def _raises(dev, text, **kw):
    prog = simt.assemble(text)
    dev.launch(prog, **kw)      # accepted without the check
    with pytest.raises(simt.BarrierDivergenceError) as info:
        dev.launch(prog, check="sync", **kw)
    return info.value


def test_barrier_reached_only_by_some_lanes_while_the_rest_exited(dev):
    e = _raises(dev, EARLY_EXIT, grid=2, block=32)
    # min-PC order: tid < 16 park first; the exit of tid >= 16 completes the release
    assert (e.pc, e.instruction, e.lane, e.thread) == (4, "exit", 16, (16, 0, 0))
    assert (e.other_pc, e.other_lane, e.other_block) == (3, 0, (0, 0, 0))
    assert e.other_instruction == "bar.sync 0"
    assert (e.space, e.buffer, e.address, e.kind) == (None, None, None, None)
    assert "block 0" in str(e)


def test_barrier_after_lanes_exited_earlier(dev):
    text = """
    mov_imm.u32 r1, 16
    setge.u32 p0, r252, r1
    bra.p0 @stay
    exit                            ; tid < 16 leave first
stay:
    bar.sync 0
    exit
"""
    e = _raises(dev, text, grid=1, block=32)
    assert (e.pc, e.instruction, e.lane) == (4, "bar.sync 0", 16)
    assert (e.other_pc, e.other_lane, e.other_instruction) == (None, 0, None)
    assert "has exited" in str(e)


def test_barriers_at_two_pcs(dev):
    e = _raises(dev, IF_ELSE, grid=2, block=32)
    assert (e.pc, e.lane, e.other_pc, e.other_lane) == (5, 16, 3, 0)
    assert e.instruction == e.other_instruction == "bar.sync 0"


def test_loop_whose_trip_count_differs_by_lane(dev):
    text = """
    mov_imm.u32 r1, 3
    and.u32 r2, r252, r1            ; tid & 3 more trips
top:
    bar.sync 0
    loop r2, @top
    exit
"""
    e = _raises(dev, text, grid=1, block=8)
    # lanes 0 and 4 leave the loop first; their exit releases the others' barrier
    assert (e.pc, e.instruction, e.lane, e.lanes_faulting) == (4, "exit", 0, 2)
    assert (e.other_pc, e.other_lane) == (2, 1)


def test_the_second_block_at_fault_is_found(dev):
    # block 0 is uniform, block 1 splits between two barriers
    text = """
    mov_imm.u32 r1, 40
    cvt.u32.u64 r2, r255
    setge.u32 p0, r2, r1
    bra.p0 @other
    bar.sync 0
    bra @out
other:
    bar.sync 0
out:
    exit
"""
    e = _raises(dev, text, grid=2, block=32)
    assert e.lane == 40 and e.block == (1, 0, 0) and e.other_lane == 32


def test_clean_barriers(dev):
    n = 1024
    a = dev.upload(np.ones(n, np.float32))
    out = dev.alloc(4 * (n // 256))
    res = dev.launch(simt.assemble(TREE_REDUCTION), grid=n // 256, block=256,
                     args=(a, out, np.uint64(n)), shared_bytes=1024, check="sync")
    assert res.stats.barriers > 0 and (dev.download(out, np.float32) == 256).all()
    # lanes exiting where no lane waits at a barrier are fine
    dev.launch(simt.assemble("""
    mov_imm.u32 r1, 16
    setge.u32 p0, r252, r1
    bra.p0 @out
    mov_imm.u32 r3, 1
out:
    exit
"""), grid=2, block=32, check="sync")


def test_divergence_error_pickles(dev):
    e = _raises(dev, IF_ELSE, grid=1, block=32)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is simt.BarrierDivergenceError and str(back) == str(e)
    for name in ("pc", "lane", "other_pc", "other_lane", "other_block", "other_instruction"):
        assert getattr(back, name) == getattr(e, name)
