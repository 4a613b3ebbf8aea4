"""Kernels with divergence, loops, calls, exits and barriers, checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.demo import GALLERY, run_gallery
from simt.machine.events import Observer

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


def test_runaway_loop_stops_with_default_budget():
    with pytest.raises(simt.StepLimitError) as info:
        launch("top:\n mov_imm.u32 r0, 1\n bra @top\n", block=32)
    assert info.value.pc in (0, 1)


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


def test_gallery_passes_at_small_size():
    results = run_gallery(3000)
    assert [r.name for r in results] == [d.name for d in GALLERY]
    assert all(r.ok for r in results)




def test_launch_result_resonance_and_stats_objects():
    """What simt.Device adds to the statistics and resonance tests/test_engines.py checks on
    both engines: a float64 array of 96, and counts under every spelling of an opcode."""
    src = """
    mov_imm.u32 r1, 36
    setlt.u32 p0, r252, r1
    bra.p0 @skip
    mov_imm.u32 r2, 7
skip:
    bar.sync 0
    mov_imm.u8 r3, 5
    mov_imm.f64 r4, 0.5
    res.accum r3, r4
"""
    _, res = launch(src, grid=2, block=40)
    assert res.resonance.dtype == np.float64 and res.resonance.shape == (96,)
    assert res.resonance[5] == 40.0 and res.resonance.sum() == 40.0
    s = res.stats
    assert s.opcode_counts["MOV_IMM"] == 4
    assert s.opcode_counts["mov_imm"] == 4 and s.opcode_counts["setlt"] == 1
    assert s.opcode_counts.get("div", 0) == 0 and "bar.sync" in s.opcode_counts
    assert s.as_dict()["opcode_counts"] == dict(s.opcode_counts)


class _Runs(Observer):
    """Counts the events of a launch (one per fused run)."""

    def __init__(self) -> None:
        self.events = 0

    def after(self, ev) -> None:
        self.events += 1


class _Single(_Runs):
    """Wants one event per instruction, so no straight-line run is fused."""

    per_instruction = True


def test_divergent_straight_line_runs_fused_equal_single_steps():
    """Scattered lanes that run straight-line code while the others wait further on (the
    runs the executor fuses) give the same memory, statistics and faults as one step per
    instruction."""
    body = "\n".join(["add.u32 r5, r5, r3", "mul.u32 r6, r5, r4", "xor.u32 r5, r6, r3"] * 20)
    src = f"""
        cvt.u32.u64 r3, r255
        mov_imm.u32 r4, 0x9e3779b9
        mul.u32 r5, r3, r4
        mov_imm.u32 r7, 26
        shr.u32 r5, r5, r7
        mov_imm.u32 r7, 0
        setne.u32 p0, r5, r7
        bra.p0 @rest
    {body}
    rest:
        mov_imm.u32 r7, 4
        mul.u32 r8, r3, r7
        cvt.u64.u32 r8, r8
        stg.u32 [r0 + r8], r5
        exit
    """
    results = []
    runs, single = _Runs(), _Single()
    for observers in ([runs], [single]):
        dev = simt.Device()
        out = dev.alloc(4 * 512)
        prog = simt.assemble(src)
        res = dev.launch(prog, grid=2, block=256, args=(out,), observers=observers)
        results.append((dev.download(out, np.uint32), res.stats))
    assert runs.events < single.events - 50     # the 60-instruction body ran as runs
    (fused, stats_fused), (alone, stats_single) = results
    assert np.array_equal(fused, alone)
    assert stats_fused.steps == stats_single.steps
    assert stats_fused.lane_instructions == stats_single.lane_instructions
    assert stats_fused.simd_efficiency == stats_single.simd_efficiency
    ran = np.flatnonzero(((np.arange(512, dtype=np.uint64) * 0x9e3779b9) % 2**32) >> 26 == 0)
    assert 1 < ran.size < 32 and not np.array_equal(fused[ran], ran.astype(np.uint32))
