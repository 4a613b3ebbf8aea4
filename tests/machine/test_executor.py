"""Kernels with divergence, loops, calls, exits and barriers, checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.demo import GALLERY, run_gallery

GUARD = """
    setge.u64 p0, r255, r{n}
    bra.p0 @done
    mov_imm.u32 r200, 2
    shl.u64 r201, r255, r200
"""


def launch(src, *, grid=1, block=1, args=(), shared_bytes=0, dev=None, **kw):
    dev = dev or simt.Device()
    prog = simt.assemble(src)
    return dev, dev.launch(prog, grid=grid, block=block, args=args, shared_bytes=shared_bytes,
                           **kw)


@pytest.mark.parametrize("n,block", [(1, 1), (31, 32), (33, 32), (1000, 256), (70_000, 64)])
def test_guarded_vector_add(n, block):
    src = GUARD.format(n=3) + """
    ldg.f32 r6, [r0 + r201]
    ldg.f32 r7, [r1 + r201]
    add.f32 r8, r6, r7
    stg.f32 [r2 + r201], r8
done:
    exit
"""
    dev = simt.Device(piece_lanes=65536)
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    A, B, C = dev.upload(a), dev.upload(b), dev.alloc(4 * n)
    grid = -(-n // block)
    _, res = launch(src, grid=grid, block=block, args=(A, B, C, np.uint64(n)), dev=dev)
    np.testing.assert_array_equal(dev.download(C, np.float32), a + b)
    assert res.stats.bytes_loaded == 8 * n and res.stats.bytes_stored == 4 * n


def test_nested_divergence_matches_numpy():
    src = GUARD.format(n=2) + """
    ldg.i32 r5, [r0 + r201]
    mov_imm.i32 r6, 0
    mov_imm.i32 r7, 100
    setlt.i32 p1, r5, r6
    bra.p1 @negative
    setgt.i32 p2, r5, r7
    bra.p2 @big
    mov_imm.i32 r8, 1              ; 0 <= x <= 100
    bra @store
big:
    mov_imm.i32 r8, 2
    bra @store
negative:
    neg.i32 r8, r5
store:
    stg.i32 [r1 + r201], r8
done:
    exit
"""
    n = 5000
    x = np.random.default_rng(1).integers(-300, 300, n).astype(np.int32)
    dev = simt.Device()
    X, Y = dev.upload(x), dev.alloc(4 * n)
    _, res = launch(src, grid=-(-n // 128), block=128, args=(X, Y, np.uint64(n)), dev=dev)
    expected = np.where(x < 0, -x, np.where(x > 100, 2, 1))
    np.testing.assert_array_equal(dev.download(Y, np.int32), expected)
    assert res.stats.divergent_branches > 0
    assert 0 < res.stats.simd_efficiency < 1


def test_loop_with_per_lane_trip_counts():
    # out[i] = sum_{k=0}^{i mod 5} k, LOOP runs count + 1 times (test, then decrement)
    src = """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 5
    div.u32 r3, r1, r2
    mul.u32 r3, r3, r2
    sub.u32 r3, r1, r3          ; i mod 5 = iterations - 1
    mov_imm.u32 r4, 0            ; acc
    mov_imm.u32 r5, 0            ; k
    mov_imm.u32 r6, 1
body:
    add.u32 r4, r4, r5
    add.u32 r5, r5, r6
    loop r3, @body
    mov_imm.u32 r7, 2
    shl.u64 r8, r255, r7
    stg.u32 [r0 + r8], r4
"""
    n = 64
    dev = simt.Device()
    out = dev.alloc(4 * n)
    _, res = launch(src, block=n, args=(out,), dev=dev)
    m = np.arange(n) % 5
    np.testing.assert_array_equal(dev.download(out, np.uint32), m * (m + 1) // 2)
    assert res.stats.divergent_branches > 0


def test_call_ret_nested_and_early_exit():
    src = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    cvt.u32.u64 r3, r255
    mov_imm.u32 r4, 3
    setlt.u32 p0, r3, r4
    bra.p0 @early            ; lanes 0..2 exit early
    mov_imm.u32 r10, 0
    call @outer
    stg.u32 [r0 + r2], r10
    exit
early:
    mov_imm.u32 r10, 99
    stg.u32 [r0 + r2], r10
    exit
outer:
    call @inner
    call @inner
    ret
inner:
    add.u32 r10, r10, r3
    ret
"""
    n = 10
    dev = simt.Device()
    out = dev.alloc(4 * n)
    launch(src, block=n, args=(out,), dev=dev)
    i = np.arange(n, dtype=np.uint32)
    np.testing.assert_array_equal(dev.download(out, np.uint32), np.where(i < 3, 99, 2 * i))


def test_shared_memory_reverse_within_blocks_needs_barrier():
    # each block reverses its slice through shared memory; only correct with a real barrier
    src = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    ldg.i32 r3, [r0 + r2]
    cvt.u64.u32 r4, r252
    shl.u64 r5, r4, r1
    sts.i32 [shared + r5], r3
    bar.sync 0
    mov_imm.u32 r9, 1
    sub.u32 r6, r254, r9
    sub.u32 r6, r6, r252          ; block - 1 - tid
    cvt.u64.u32 r7, r6
    shl.u64 r7, r7, r1
    lds.i32 r8, [shared + r7]
    stg.i32 [r0 + r2], r8
"""
    blocks, block = 6, 64
    x = np.arange(blocks * block, dtype=np.int32)
    dev = simt.Device()
    X = dev.upload(x)
    _, res = launch(src, grid=blocks, block=block, args=(X,), shared_bytes=4 * block, dev=dev)
    np.testing.assert_array_equal(dev.download(X, np.int32),
                                  x.reshape(blocks, block)[:, ::-1].ravel())
    assert res.stats.barriers == blocks


def test_barrier_counts_exited_lanes_as_arrived():
    src = """
    mov_imm.u32 r1, 4
    setge.u32 p0, r252, r1
    bra.p0 @out            ; lanes >= 4 exit before the barrier
    bar.sync 1
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    stg.u32 [r0 + r3], r252
out:
    exit
"""
    dev = simt.Device()
    out = dev.alloc(4 * 16)
    _, res = launch(src, grid=2, block=8, args=(out,), dev=dev)
    got = dev.download(out, np.uint32)
    np.testing.assert_array_equal(got.reshape(2, 8)[:, :4], [[0, 1, 2, 3]] * 2)
    assert res.stats.barriers == 2


def test_barriers_at_different_pcs_with_same_id_release_together():
    src = """
    mov_imm.u32 r1, 2
    setlt.u32 p0, r252, r1
    bra.p0 @a
    bar.sync 3
    bra @end
a:
    bar.sync 3
end:
    exit
"""
    _, res = launch(src, block=4)
    assert res.stats.barriers == 1


def test_divergent_barrier_is_a_deadlock():
    src = """
    mov_imm.u32 r1, 2
    setlt.u32 p0, r252, r1
    bra.p0 @a
    bar.sync 1
    exit
a:
    bar.sync 2
    exit
"""
    with pytest.raises(simt.BarrierDeadlockError) as info:
        launch(src, grid=3, block=4)
    err = info.value
    # the block's lowest parked lane is lane 0, waiting at `bar.sync 2` (pc 5, line 8)
    assert err.pc == 5 and err.lane == 0 and err.block == (0, 0, 0) and err.thread == (0, 0, 0)
    assert err.instruction == "bar.sync 2" and err.source_line == 8
    assert err.lanes_faulting == 4          # every lane of the block waits


def test_step_limit_names_next_instruction_and_allows_exact_budget():
    src = """
    mov_imm.u32 r1, 1
    mov_imm.u32 r2, 2
"""
    _, res = launch(src, block=4, max_steps=2)
    assert res.stats.steps == 2
    with pytest.raises(simt.StepLimitError) as info:
        launch(src, block=4, max_steps=1)
    assert info.value.pc == 1 and info.value.lane == 0 and info.value.lanes_faulting == 4
    assert info.value.instruction == "mov_imm.u32 r2, 2"
    with pytest.raises(simt.StepLimitError):
        launch("top:\n mov_imm.u32 r0, 1\n bra @top\n", max_steps=1000)


def test_runaway_loop_stops_with_default_budget():
    with pytest.raises(simt.StepLimitError) as info:
        launch("top:\n mov_imm.u32 r0, 1\n bra @top\n", block=32)
    assert info.value.pc in (0, 1)


def test_branch_to_itself_falls_through():
    src = """
here:
    bra @here
    mov_imm.u32 r1, 7
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    stg.u32 [r0 + r3], r1
"""
    dev = simt.Device()
    out = dev.alloc(8)
    launch(src, block=2, args=(out,), dev=dev)
    np.testing.assert_array_equal(dev.download(out, np.uint32), [7, 7])


def test_special_registers_3d():
    src = """
    mov_imm.u32 r1, 4
    mov_imm.u64 r2, 16
    mul.u64 r3, r255, r2
    stg.u32 [r0 + r3], r252
    add.u64 r3, r3, r1             ; r1 is u32: a type mismatch
"""
    dev = simt.Device()
    with pytest.raises(simt.TypeMismatchError) as info:
        launch(src, grid=(2, 2, 1), block=(2, 3, 1), args=(dev.alloc(1 << 12),), dev=dev)
    assert info.value.pc == 4 and info.value.lane == 0
    src = """
    mov_imm.u64 r2, 16
    mul.u64 r3, r255, r2
    stg.u32 [r0 + r3], r252
    mov_imm.u64 r4, 4
    add.u64 r3, r3, r4
    stg.u32 [r0 + r3], r253
    add.u64 r3, r3, r4
    stg.u32 [r0 + r3], r254
    add.u64 r3, r3, r4
    cvt.u32.u64 r5, r255
    stg.u32 [r0 + r3], r5
"""
    dev = simt.Device()
    grid, block = (3, 2, 2), (2, 3, 2)
    lanes = 12 * 12
    out = dev.alloc(16 * lanes)
    launch(src, grid=grid, block=block, args=(out,), dev=dev)
    got = dev.download(out, np.uint32).reshape(lanes, 4)
    gid = np.arange(lanes)
    blk, lane = gid // 12, gid % 12
    np.testing.assert_array_equal(got[:, 0], lane % 2)
    np.testing.assert_array_equal(got[:, 1], blk % 3)
    np.testing.assert_array_equal(got[:, 2], 2)
    np.testing.assert_array_equal(got[:, 3], gid)


def test_pieces_give_the_same_memory_and_summed_steps():
    src = GUARD.format(n=1) + """
    ldg.f32 r6, [r0 + r201]
    mul.f32 r6, r6, r6
    stg.f32 [r0 + r201], r6
done:
    exit
"""
    n = 200_000
    x = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    results = []
    for piece in (65_536, 1 << 20):
        dev = simt.Device(piece_lanes=piece)
        X = dev.upload(x)
        _, res = launch(src, grid=-(-n // 256), block=256, args=(X, np.uint64(n)), dev=dev)
        results.append((dev.download(X, np.float32), res.stats))
    np.testing.assert_array_equal(results[0][0], x * x)
    np.testing.assert_array_equal(results[1][0], x * x)
    assert results[0][1].steps > results[1][1].steps          # several pieces issue more
    assert results[0][1].lane_instructions == results[1][1].lane_instructions


def test_conflicting_stores_highest_lane_wins():
    src = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, 0
    stg.u32 [r0 + r2], r1          ; every lane stores to the same word
    mov_imm.u64 r3, 5
    stg.u32 [r0 + r3], r1          ; overlapping unaligned stores
"""
    dev = simt.Device()
    out = dev.alloc(16)
    launch(src, block=(7, 3), args=(out,), dev=dev)
    got = dev.download(out, np.uint8)
    assert got[:4].view(np.uint32)[0] == 20
    assert got[5:9].view(np.uint32)[0] == 20


def test_resonance_histogram_ascending_lane_order():
    src = """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 96
    div.u32 r3, r1, r2
    mul.u32 r3, r3, r2
    sub.u32 r3, r1, r3
    cvt.u8.u32 r4, r3
    cvt.u64.u32 r5, r1
    mov_imm.u32 r6, 3
    shl.u64 r5, r5, r6
    ldg.f64 r7, [r0 + r5]
    res.accum r4, r7
"""
    n = 1000
    w = np.random.default_rng(5).standard_normal(n)
    dev = simt.Device()
    W = dev.upload(w)
    _, res = launch(src, grid=4, block=250, args=(W,), dev=dev)
    expected = np.zeros(96)
    for i in range(n):                 # the order the contract fixes
        expected[i % 96] += w[i]
    np.testing.assert_array_equal(res.resonance, expected)
    assert res.resonance.dtype == np.float64 and res.resonance.shape == (96,)


def test_gallery_passes_at_small_size():
    results = run_gallery(3000)
    assert [r.name for r in results] == [d.name for d in GALLERY]
    assert all(r.ok for r in results)


def test_statistics_of_a_small_divergent_launch():
    # 2 blocks of 40 lanes (warps of 32 + 8); lanes with x < 36 take the branch
    src = """
    mov_imm.u32 r1, 36
    setlt.u32 p0, r252, r1
    bra.p0 @skip
    mov_imm.u32 r2, 7
skip:
    bar.sync 0
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    stg.u32 [r0 + r4], r252
"""
    dev = simt.Device()
    out = dev.alloc(4 * 80)
    _, res = launch(src, grid=2, block=40, args=(out,), dev=dev)
    s = res.stats
    # pcs 0-2 for 80 lanes, pc 3 for the 8 lanes x >= 36, then 4-7 for 80 lanes
    assert s.steps == 8
    assert s.lane_instructions == 7 * 80 + 8
    # 4 warps per step (2 per block), the lone mov_imm runs in the two tail warps
    assert s.warp_instructions == 7 * 4 + 2
    assert s.simd_efficiency == pytest.approx((7 * 80 + 8) / (32 * 30))
    assert s.divergent_branches == 2          # one tail warp per block splits at x = 36
    assert s.barriers == 2 and s.bytes_stored == 4 * 80 and s.bytes_loaded == 0
    assert s.opcode_counts == {"MOV_IMM": 3, "SETcc": 1, "BRA": 1, "BarSync": 1, "SHL": 1,
                               "STG": 1}
    assert s.opcode_counts["mov_imm"] == 3 and s.opcode_counts["setlt"] == 1
    assert s.opcode_counts.get("div", 0) == 0 and "bar.sync" in s.opcode_counts
    assert s.as_dict()["opcode_counts"] == dict(s.opcode_counts)
