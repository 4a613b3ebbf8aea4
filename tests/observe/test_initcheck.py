"""The init check (check="init"): loads of memory bytes never written."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest

import simt

COPY = """
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    ldg.u32 r4, [r0 + r3]
    stg.u32 [r1 + r3], r4
    exit
"""


@pytest.fixture
def dev():
    return simt.Device()


def _copy(dev, src, dst, lanes=16, check="init"):
    dev.launch(simt.assemble(COPY), grid=1, block=lanes, args=(src, dst), check=check)


def test_alloc_zero_fill_does_not_count(dev):
    src, dst = dev.alloc(64), dev.alloc(64)
    with pytest.raises(simt.UninitializedMemoryError) as info:
        _copy(dev, src, dst)
    e = info.value
    assert (e.space, e.buffer, e.address, e.lane, e.lanes_faulting) == (
        "global", src.handle, 0, 0, 16)
    assert (e.kind, e.other_pc, e.other_lane) == (None, None, None)
    assert e.instruction == "ldg.u32 r4, [r0 + r3]"
    assert "since alloc" in str(e)


def test_upload_and_write_count_as_written(dev):
    src, dst = dev.upload(np.arange(16, dtype=np.uint32)), dev.alloc(64)
    _copy(dev, src, dst)
    part = dev.alloc(64)
    dev.write(part, np.ones(3, np.uint32), offset=0)
    dev.write(part, np.ones(1, np.uint8), offset=12)
    with pytest.raises(simt.UninitializedMemoryError) as info:
        _copy(dev, part, dst)
    assert (info.value.lane, info.value.address, info.value.lanes_faulting) == (3, 13, 13)
    dev.write(part, np.ones(13, np.uint32), offset=12)
    _copy(dev, part, dst)


def test_device_stores_count_and_persist_across_checked_launches(dev):
    src, dst, third = dev.upload(np.arange(16, dtype=np.uint32)), dev.alloc(64), dev.alloc(64)
    _copy(dev, src, dst)        # dst written by the device
    _copy(dev, dst, third)      # a later checked launch reads it


def test_an_unchecked_launch_makes_everything_written(dev):
    src, dst = dev.alloc(64), dev.alloc(64)
    dev.launch(simt.assemble("exit"))
    _copy(dev, src, dst)
    fresh = dev.alloc(64)       # allocated after it: unwritten again
    with pytest.raises(simt.UninitializedMemoryError):
        _copy(dev, fresh, dst)


def test_failed_load_has_no_effect_and_device_is_usable(dev):
    src = dev.upload(np.arange(16, dtype=np.uint32))
    dst = dev.upload(np.full(16, 7, np.uint32))
    hole = dev.alloc(64)
    prog = simt.assemble("""
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    ldg.u32 r4, [r0 + r3]
    stg.u32 [r1 + r3], r4
    ldg.u32 r5, [r6 + r3]
    stg.u32 [r1 + r3], r5
    exit
""")
    args = (src, dst) + tuple(np.uint64(0) for _ in range(4)) + (hole,)
    with pytest.raises(simt.UninitializedMemoryError) as info:
        dev.launch(prog, grid=1, block=16, args=args, check="init")
    assert info.value.pc == 4 and info.value.buffer == hole.handle
    # the first store happened, the second did not
    assert np.array_equal(dev.download(dst, np.uint32), np.arange(16, dtype=np.uint32))
    dev.write(hole, np.full(16, 9, np.uint32))
    dev.launch(prog, grid=1, block=16, args=args, check="all")
    assert (dev.download(dst, np.uint32) == 9).all()


def test_shared_memory_is_unwritten_when_its_block_begins(dev):
    text = """
    cvt.u64.u32 r1, r252
    mov_imm.u32 r2, 2
    shl.u64 r1, r1, r2
    mov_imm.u64 r3, 0
    setne.u64 p0, r1, r3
    bra.p0 @read
    cvt.u32.u64 r4, r255
    sts.u32 [shared + r1], r4       ; only tid 0 writes
read:
    bar.sync 0
    mov_imm.u64 r5, 0
    lds.u32 r6, [shared + r5]       ; everyone reads slot 0: written
    lds.u32 r7, [shared + r1]       ; own slot: written by tid 0 only
    exit
"""
    with pytest.raises(simt.UninitializedMemoryError) as info:
        dev.launch(simt.assemble(text), grid=2, block=8, shared_bytes=32, check="init")
    e = info.value
    assert (e.space, e.buffer, e.address, e.lane, e.lanes_faulting) == ("shared", None, 4, 1, 14)
    assert "since its block began" in str(e)


def test_pools_are_unwritten_after_poolalloc_and_the_boundary_is_written(dev):
    store_then_load = """
    pool.alloc r1, 16
    mov_imm.u64 r2, 4
    mov_imm.u32 r3, 5
    pool.store.u32 r1, r2, r3
    pool.load.u32 r4, r1, r2
    mov_imm.u64 r5, 8
    pool.load.u32 r6, r1, r5
    exit
"""
    with pytest.raises(simt.UninitializedMemoryError) as info:
        dev.launch(simt.assemble(store_then_load), grid=1, block=4, check="init")
    e = info.value
    assert (e.space, e.address, e.lane, e.pc) == ("pool", 8, 0, 6)
    assert "since PoolAlloc" in str(e)
    dev.launch(simt.assemble("""
    mov_imm.u64 r0, 0
    mov_imm.u64 r1, 100
    pool.load.u32 r2, r0, r1
    ldg.u32 r3, [Φ(3, 2, 1)]
    exit
"""), grid=1, block=4, check="init")


def test_race_ranks_before_init_on_the_same_lane(dev):
    text = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, 0
    mov_imm.u64 r3, 0
    setne.u64 p0, r255, r3
    bra.p0 @read
    sts.u32 [shared + r2], r1       ; lane 0 writes bytes 0-3 only
    exit
read:
    lds.u64 r4, [shared + r2]       ; lane 1: bytes 0-3 race, bytes 4-7 never written
    exit
"""
    with pytest.raises(simt.DataRaceError) as info:
        dev.launch(simt.assemble(text), grid=1, block=2, shared_bytes=8, check="all")
    assert (info.value.lane, info.value.kind) == (1, "RAW")
    with pytest.raises(simt.UninitializedMemoryError) as info:
        dev.launch(simt.assemble(text), grid=1, block=2, shared_bytes=8, check="init")
    assert (info.value.lane, info.value.address) == (1, 4)


def test_init_flags_are_given_back(dev):
    buf = dev.alloc(1 << 16)
    used = dev.memory_used
    dev.write(buf, np.zeros(1 << 14, np.uint32))
    _copy(dev, buf, buf, lanes=64)
    assert dev.memory_used == used + (1 << 16)      # the flags of the buffer
    dev.launch(simt.assemble("exit"))                # forgets them
    assert dev.memory_used == used
    dev.free(buf)
    gc.collect()


def test_uninitialized_error_pickles(dev):
    src, dst = dev.alloc(64), dev.alloc(64)
    with pytest.raises(simt.UninitializedMemoryError) as info:
        _copy(dev, src, dst)
    e = info.value
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e) and str(back) == str(e)
    assert (back.space, back.buffer, back.address) == (e.space, e.buffer, e.address)
