"""The race check (check="race"): racy kernels raise DataRaceError exactly, clean ones run."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest

import simt
from simt.demo import TREE_REDUCTION

from checkkernels import SCAN_BLOCK, scan, transpose


@pytest.fixture
def dev():
    return simt.Device()


def _raises(dev, text, **kw):
    with pytest.raises(simt.DataRaceError) as info:
        dev.launch(simt.assemble(text), check="race", **kw)
    return info.value


# ---------------------------------------------------------------------- shared memory

def test_scan_without_any_barrier_is_a_raw_race_silently_correct_unchecked(dev):
    x = np.arange(2 * SCAN_BLOCK, dtype=np.uint32) * 3 + 1
    a, out = dev.upload(x), dev.alloc(x.nbytes)
    expected = np.cumsum(x.reshape(2, -1), axis=1, dtype=np.uint32).ravel()
    prog = simt.assemble(scan("none"))
    dev.launch(prog, grid=2, block=SCAN_BLOCK, args=(a, out), shared_bytes=256)
    assert np.array_equal(dev.download(out, np.uint32), expected)     # lockstep hides it
    with pytest.raises(simt.DataRaceError) as info:
        dev.launch(prog, grid=2, block=SCAN_BLOCK, args=(a, out), shared_bytes=256,
                   check="race")
    e = info.value
    assert (e.kind, e.space, e.buffer, e.address) == ("RAW", "shared", None, 0)
    assert (e.lane, e.other_lane, e.block, e.other_block) == (1, 0, (0, 0, 0), (0, 0, 0))
    assert e.instruction == "lds.u32 r10, [shared + r9]"
    assert e.other_instruction == "sts.u32 [shared + r5], r6"
    assert e.pc == 12 and e.other_pc == 6 and e.source_line == 13
    assert e.lanes_faulting == 2 * (SCAN_BLOCK - 1)
    assert str(e).startswith("RAW race on shared[+0] (4 bytes): lane 1 (block 0) loads at pc 12 "
                             "(line 13) what lane 0 stored at pc 6 (line 7) with no barrier "
                             "between")


def test_in_place_scan_without_barrier_between_read_and_write_is_war(dev):
    x = np.arange(2 * SCAN_BLOCK, dtype=np.uint32)
    a, out = dev.upload(x), dev.alloc(x.nbytes)
    e = _raises(dev, scan("no_read_write"), grid=2, block=SCAN_BLOCK, args=(a, out),
                shared_bytes=256)
    assert (e.kind, e.lane, e.other_lane, e.address) == ("WAR", 0, 1, 0)
    assert e.instruction == "sts.u32 [shared + r5], r11"
    assert e.other_instruction == "lds.u32 r10, [shared + r9]"


def test_scan_with_its_barriers_is_clean(dev):
    x = np.arange(4 * SCAN_BLOCK, dtype=np.uint32) * 7
    a, out = dev.upload(x), dev.alloc(x.nbytes)
    dev.launch(simt.assemble(scan("all")), grid=4, block=SCAN_BLOCK, args=(a, out),
               shared_bytes=256, check="all")
    assert np.array_equal(dev.download(out, np.uint32),
                          np.cumsum(x.reshape(4, -1), axis=1, dtype=np.uint32).ravel())


@pytest.mark.parametrize("barrier", [True, False])
def test_tiled_transpose(dev, barrier):
    m = np.arange(1024, dtype=np.uint32)
    a, out = dev.upload(m), dev.alloc(m.nbytes)
    prog = simt.assemble(transpose(barrier))
    kw = dict(grid=4, block=256, args=(a, out), shared_bytes=1024)
    if barrier:
        dev.launch(prog, check="race", **kw)
        assert np.array_equal(dev.download(out, np.uint32).reshape(32, 32), m.reshape(32, 32).T)
        return
    e = _raises(dev, transpose(False), **kw)
    assert (e.kind, e.lane, e.other_lane, e.address, e.space) == ("RAW", 1, 16, 64, "shared")
    assert e.thread == (1, 0, 0)


def test_shared_memory_is_per_block(dev):
    # every block's lanes write then read the same offsets of their own shared memory
    text = """
    cvt.u64.u32 r1, r252
    mov_imm.u32 r2, 2
    shl.u64 r1, r1, r2
    cvt.u32.u64 r3, r255
    sts.u32 [shared + r1], r3
    lds.u32 r4, [shared + r1]
    exit
"""
    dev.launch(simt.assemble(text), grid=8, block=32, shared_bytes=128, check="race")


def test_blocks_that_took_different_barriers_keep_their_own_epochs(dev):
    # block 0 alone takes a barrier, then every lane reads its neighbour's slot: ordered in
    # block 0, a RAW race in block 1 (whose blocks' epochs now differ: 1 and 0)
    text = """
    cvt.u64.u32 r1, r252
    mov_imm.u32 r2, 2
    shl.u64 r3, r1, r2
    mov_imm.u32 r4, 7
    sts.u32 [shared + r3], r4
    mov_imm.u32 r5, 0
    setne.u32 p0, r253, r5
    bra.p0 @skip
    bar.sync 0
skip:
    mov_imm.u32 r6, 1
    xor.u32 r7, r252, r6
    cvt.u64.u32 r8, r7
    shl.u64 r8, r8, r2
    lds.u32 r9, [shared + r8]
    exit
"""
    e = _raises(dev, text, grid=2, block=32, shared_bytes=128)
    assert (e.kind, e.lane, e.other_lane, e.block, e.address) == ("RAW", 32, 33, (1, 0, 0), 4)
    assert e.lanes_faulting == 32
    reordered = text.replace("    setne.u32 p0, r253, r5", "    seteq.u32 p0, r253, r5")
    e = _raises(dev, reordered, grid=2, block=32, shared_bytes=128)    # block 1's barrier
    assert (e.lane, e.other_lane, e.block) == (0, 1, (0, 0, 0))


# ---------------------------------------------------------------------- one instruction

WAW_ONE = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, 8
    stg.u32 [r0 + r2], r1           ; every lane stores its id to one word
    exit
"""


def test_two_lanes_of_one_store_with_different_values_is_waw_and_has_no_effect(dev):
    buf = dev.upload(np.full(4, 0xABABABAB, np.uint32))
    e = _raises(dev, WAW_ONE, grid=1, block=8, args=(buf,))
    assert (e.kind, e.space, e.buffer, e.address) == ("WAW", "global", buf.handle, 8)
    assert (e.lane, e.other_lane, e.pc, e.other_pc) == (0, 1, 2, 2)
    assert e.lanes_faulting == 8
    assert "store different values in one instruction" in str(e)
    assert (dev.download(buf, np.uint32) == 0xABABABAB).all()       # no effect
    dev.launch(simt.assemble(WAW_ONE), grid=1, block=8, args=(buf,))     # usable after
    assert dev.download(buf, np.uint32)[2] == 7                     # highest lane wins


def test_equal_values_of_one_store_are_benign(dev):
    text = """
    mov_imm.u32 r1, 5
    mov_imm.u64 r2, 0
    stg.u32 [r0 + r2], r1
    mov_imm.u64 r3, 3
    mov_imm.u8 r4, 0
    stg.u8 [r0 + r3], r4            ; a byte the first store also wrote, equal value
    exit
"""
    buf = dev.upload(np.ones(1, np.uint32))
    dev.launch(simt.assemble(text), grid=2, block=16, args=(buf,), check="race")
    assert dev.download(buf, np.uint32)[0] == 5


def test_benign_equal_store_against_an_earlier_writer(dev):
    text = """
    mov_imm.u32 r1, 9
    mov_imm.u32 r5, {late}
    mov_imm.u64 r2, 0
    mov_imm.u64 r3, 0
    setne.u64 p0, r255, r3
    bra.p0 @late
    stg.u32 [r0 + r2], r1           ; lane 0 first
    exit
late:
    stg.u32 [r0 + r2], r5           ; then every other lane
    exit
"""
    buf = dev.alloc(4)
    dev.launch(simt.assemble(text.format(late=9)), grid=2, block=8, args=(buf,), check="race")
    e = _raises(dev, text.format(late=10), grid=1, block=2, args=(buf,))
    assert (e.kind, e.lane, e.other_lane, e.pc, e.other_pc) == ("WAW", 1, 0, 8, 6)


def test_adjacent_bytes_stored_by_two_lanes_are_not_a_race(dev):
    text = """
    cvt.u8.u64 r1, r255
    stg.u8 [r0 + r255], r1          ; lane i stores byte i
    exit
"""
    buf = dev.alloc(64)
    dev.launch(simt.assemble(text), grid=2, block=32, args=(buf,), check="race")
    assert np.array_equal(dev.download(buf, np.uint8), np.arange(64, dtype=np.uint8))


def test_overlapping_wider_stores_race_at_the_shared_byte(dev):
    text = """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 1
    add.u32 r1, r1, r2
    stg.u32 [r0 + r255], r1         ; lane i stores 4 bytes at byte i: lanes overlap
    exit
"""
    buf = dev.alloc(64)
    e = _raises(dev, text, grid=1, block=8, args=(buf,))
    assert (e.kind, e.lane, e.other_lane, e.address) == ("WAW", 0, 1, 1)


def test_loads_never_race(dev):
    text = """
    mov_imm.u64 r1, 0
    ldg.u32 r2, [r0 + r1]
    ldg.u32 r3, [r0 + r1]
    exit
"""
    buf = dev.upload(np.ones(1, np.uint32))
    dev.launch(simt.assemble(text), grid=4, block=64, args=(buf,), check="race")


def test_resaccum_never_races(dev):
    text = """
    mov_imm.u8 r1, 3
    mov_imm.f64 r2, 1.0
    res.accum r1, r2
    exit
"""
    res = dev.launch(simt.assemble(text), grid=4, block=64, check="race")
    assert res.resonance[3] == 256


# ---------------------------------------------------------------------- across blocks and pieces

NEIGHBOUR = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    cvt.u32.u64 r3, r255
    stg.u32 [r0 + r2], r3
    bar.sync 0
    mov_imm.u64 r4, 4
    add.u64 r5, r2, r4
    ldg.u32 r6, [r0 + r5]           ; the next lane's word
    exit
"""


def test_a_barrier_does_not_order_lanes_of_different_blocks(dev):
    buf = dev.alloc(4 * 65)
    e = _raises(dev, NEIGHBOUR, grid=2, block=32, args=(buf,))
    assert (e.kind, e.lane, e.other_lane, e.address) == ("RAW", 31, 32, 128)
    assert (e.block, e.other_block) == ((0, 0, 0), (1, 0, 0))
    assert "in another block" in str(e)
    dev.launch(simt.assemble(NEIGHBOUR), grid=1, block=64, args=(buf,), check="race")


def test_race_across_pieces():
    dev = simt.Device(piece_lanes=65536)
    n = 2 * 65536
    text = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    mov_imm.u64 r3, 65536
    xor.u64 r4, r255, r3            ; the lane in the other piece
    shl.u64 r4, r4, r1
    ldg.u32 r5, [r0 + r4]
    stg.u32 [r0 + r2], r5
    exit
"""
    buf = dev.alloc(4 * n)
    e = _raises(dev, text, grid=n // 256, block=256, args=(buf,))
    # piece 0 ran first: its lane 0 stored word 0, which lane 65536 of piece 1 loads
    assert (e.kind, e.lane, e.other_lane, e.address, e.pc, e.other_pc) == (
        "RAW", 65536, 0, 0, 5, 6)
    assert e.other_block == (0, 0, 0) and e.block == (256, 0, 0)


# ---------------------------------------------------------------------- pools and the boundary

def _pool_handle(dev, size):
    keep = dev.alloc(8)
    dev.launch(simt.assemble(f"""
    pool.alloc r1, {size}
    mov_imm.u64 r2, 0
    stg.u64 [r0 + r2], r1
    exit
"""), args=(keep,))
    return int(dev.download(keep, np.uint64)[0])


def test_pool_race_and_clean_pool(dev):
    handle = _pool_handle(dev, 256)
    text = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, {offset}
    {scale}
    pool.store.u32 r0, r2, r1
    exit
"""
    racy = text.format(offset=12, scale="")
    e = _raises(dev, racy, grid=1, block=4, args=(np.uint64(handle),))
    assert (e.kind, e.space, e.buffer, e.address, e.lane, e.other_lane) == (
        "WAW", "pool", handle, 12, 0, 1)
    clean = text.format(offset=2, scale="mov_imm.u32 r6, 2\n    shl.u64 r2, r255, r6")
    dev.launch(simt.assemble(clean), grid=1, block=64, args=(np.uint64(handle),), check="race")


def test_pool_handle_zero_is_the_boundary_pool(dev):
    text = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r0, 0
    mov_imm.u64 r2, 24580
    pool.store.u32 r0, r2, r1
    exit
"""
    e = _raises(dev, text, grid=1, block=2)
    assert (e.space, e.buffer, e.address) == ("boundary", 0, 24580)


def test_phi_addressing_and_class_handles_are_the_boundary_pool(dev):
    phi = """
    cvt.u32.u64 r1, r255
    stg.u32 [Φ(2, 3, 4)], r1
    exit
"""
    e = _raises(dev, phi, grid=1, block=2)
    assert (e.space, e.buffer, e.address) == ("boundary", 0, 2 * 12288 + 3 * 256 + 4)
    cls = """
    mov_imm.u64 r1, 8
    ldg.u32 r2, [r0 + r1]
    bar.sync 0
    cvt.u32.u64 r3, r255
    mov_imm.u64 r4, 0
    setne.u64 p0, r255, r4
    bra.p0 @done
    stg.u32 [Φ(5, 0, 8)], r3
done:
    exit
"""
    # lane 0 stores over what the lanes of both blocks loaded through the class handle;
    # its own block's loads are ordered by the barrier, block 1's are not
    e = _raises(dev, cls, grid=2, block=4, args=(dev.boundary_class(5),))
    assert (e.kind, e.space, e.buffer, e.address) == ("WAR", "boundary", 0, 5 * 12288 + 8)
    assert (e.lane, e.other_lane, e.other_block) == (0, 7, (1, 0, 0))


# ---------------------------------------------------------------------- models

def _tree(dev, n=1024, model="gpu"):
    a = dev.upload(np.ones(n, np.float32))
    out = dev.alloc(4 * (n // 256))
    return dev.launch(simt.assemble(TREE_REDUCTION), grid=n // 256, block=256,
                      args=(a, out, np.uint64(n)), shared_bytes=1024, check="race",
                      race_model=model), dev.download(out, np.float32)


def test_tree_reduction_is_clean_on_a_gpu_and_racy_for_hologram(dev):
    _, sums = _tree(dev)
    assert (sums == 256).all()
    with pytest.raises(simt.DataRaceError) as info:
        _tree(dev, model="hologram")
    e = info.value
    assert e.space == "shared" and e.kind == "RAW"
    assert "hologram" in str(e)


def test_hologram_orders_a_lanes_own_accesses(dev):
    text = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    cvt.u32.u64 r3, r255
    stg.u32 [r0 + r2], r3
    ldg.u32 r4, [r0 + r2]
    stg.u32 [r0 + r2], r4
    exit
"""
    dev.launch(simt.assemble(text), grid=4, block=64, args=(dev.alloc(1024),), check="race",
               race_model="hologram")


# ---------------------------------------------------------------------- the device after

def test_race_state_starts_empty_and_the_device_stays_usable(dev):
    buf = dev.alloc(4 * 65)
    used = dev.memory_used
    with pytest.raises(simt.DataRaceError):
        dev.launch(simt.assemble(NEIGHBOUR), grid=2, block=32, args=(buf,), check="race")
    gc.collect()
    assert dev.memory_used == used          # shadow memory given back
    prog = simt.assemble(NEIGHBOUR.replace("bar.sync 0\n", ""))
    # the same accesses again, one block: ordered by program order only where lanes match
    with pytest.raises(simt.DataRaceError):
        dev.launch(prog, grid=1, block=64, args=(buf,), check="race")
    dev.launch(simt.assemble(NEIGHBOUR), grid=1, block=64, args=(buf,), check="race")
    gc.collect()
    assert dev.memory_used == used


def test_shadow_memory_counts_against_the_limit():
    # room for the buffer and the launch's registers, not for a shadow of the buffer
    dev = simt.Device(memory_limit=(2 << 20) + 1179648 + 200_000)
    buf = dev.alloc(1 << 20)
    text = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    ldg.u32 r3, [r0 + r2]
    stg.u32 [r0 + r2], r3           ; meets the loads: their records are needed
    exit
"""
    with pytest.raises(simt.DeviceMemoryError) as info:
        dev.launch(simt.assemble(text), grid=4, block=256, args=(buf,), check="race")
    assert (info.value.pc, info.value.lane) == (3, 0)      # the store that needed the shadow
    assert "race check shadow memory" in str(info.value)
    dev.launch(simt.assemble(text), grid=4, block=256, args=(buf,))


def test_race_error_pickles_with_its_attributes(dev):
    buf = dev.alloc(64)
    e = _raises(dev, WAW_ONE, grid=1, block=4, args=(buf,))
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is simt.DataRaceError and str(back) == str(e)
    for name in ("kind", "space", "buffer", "address", "other_pc", "other_lane", "other_block",
                 "other_instruction", "pc", "lane", "instruction", "lanes_faulting"):
        assert getattr(back, name) == getattr(e, name), name


def test_byte_access_inside_a_word_another_lane_stored(dev):
    text = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    cvt.u32.u64 r3, r255
    stg.u32 [r0 + r2], r3           ; lane i stores word i
    {between}
    mov_imm.u64 r4, 6
    cvt.u8.u64 r5, r255
    mov_imm.u64 r6, 3
    setne.u64 p0, r255, r6
    bra.p0 @done
    stg.u8 [r0 + r4], r5            ; lane 3 stores byte 2 of word 1
done:
    exit
"""
    buf = dev.alloc(64)
    e = _raises(dev, text.format(between=""), grid=1, block=8, args=(buf,))
    assert (e.kind, e.lane, e.other_lane, e.address, e.other_pc) == ("WAW", 3, 1, 6, 3)
    assert str(e).startswith(f"WAW race on buffer {buf.handle}[+6] (1 byte): lane 3 (block 0)")
    dev.launch(simt.assemble(text.format(between="bar.sync 0")), grid=1, block=8, args=(buf,),
               check="race")
    # and a word load over bytes stored one by one by other lanes
    loads = """
    cvt.u8.u64 r1, r255
    stg.u8 [r0 + r255], r1          ; lane i stores byte i
    mov_imm.u64 r2, 0
    setne.u64 p0, r255, r2
    bra.p0 @done
    ldg.u32 r3, [r0 + r2]           ; lane 0 loads bytes 0-3
done:
    exit
"""
    e = _raises(dev, loads, grid=1, block=8, args=(buf,))
    assert (e.kind, e.lane, e.other_lane, e.address) == ("RAW", 0, 1, 1)
