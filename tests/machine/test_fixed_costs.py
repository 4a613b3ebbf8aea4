"""The short cuts that keep a launch's fixed costs low give what the long way gives."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.demo import IF_ELSE, TREE_REDUCTION
from simt.machine.events import Observer
from simt.machine.lanes import LaneSet, Masked, warp_ids
from simt.machine.state import Row
from simt.machine.values import Affine, tiled
from simt.observe.stats import StatsObserver, WARP


class _Unfused(Observer):
    """Asks for one event per instruction (no fused runs)."""

    per_instruction = True


def _run(text: str, n: int, block: int, observers=()) -> simt.LaunchResult:
    dev = simt.Device(piece_lanes=1 << 16)
    rng = np.random.default_rng(n)
    a = dev.upload(rng.standard_normal(n).astype(np.float32))
    out = dev.alloc(4 * n)
    grid = -(-n // block)
    return dev.launch(simt.assemble(text), grid=grid, block=block,
                      args=(a, out, np.uint64(n)), shared_bytes=4 * block,
                      observers=observers)


@pytest.mark.parametrize("text", [IF_ELSE, TREE_REDUCTION])
@pytest.mark.parametrize("n,block", [(1000, 64), (70_000, 256), (200_000, 128)])
def test_statistics_of_fused_runs_equal_those_of_single_issues(text, n, block) -> None:
    fused = _run(text, n, block)
    single = _run(text, n, block, observers=[_Unfused()])
    assert fused == single
    assert fused.stats.steps == sum(fused.stats.opcode_counts.values()) > 0


def test_per_pc_adds_single_issues_and_runs() -> None:
    program = simt.assemble("    exit\n" * 6)
    from simt.machine.events import Event, LaunchInfo
    from simt.machine.launch import Dim3, Geometry
    stats = StatsObserver()
    stats.on_launch(LaunchInfo(program, Geometry(Dim3(1), Dim3(64)), 0, 1 << 16, None))
    lanes = LaneSet.range(0, 64)
    ev = Event(0, program[0], lanes, None, None, 0, 0, 0)
    for pc, count in [(0, 1), (1, 4), (2, 1), (0, 6), (5, 1)]:
        ev.pc, ev.count = pc, count
        stats.after(ev)
    assert stats.per_pc == [2, 2, 3, 2, 2, 2]
    assert stats.result().steps == 13
    other = StatsObserver()
    other.on_launch(LaunchInfo(program, Geometry(Dim3(1), Dim3(64)), 0, 1 << 16, None))
    other.add(stats.counters())
    assert other.per_pc == stats.per_pc and other.result() == stats.result()


@pytest.mark.parametrize("seed", range(6))
def test_masked_warp_counts_from_packed_words(seed) -> None:
    rng = np.random.default_rng(seed)
    span = 32 * int(rng.integers(1, 200))
    lo = 32 * int(rng.integers(0, 50))
    density = [0.02, 0.5, 0.98][seed % 3]
    cond = rng.random(span) < density
    cond[int(rng.integers(0, span))] = True
    cond[int(rng.integers(0, span))] = False
    whole = LaneSet.range(lo, lo + span)
    yes, no = whole.split(cond)
    warps_yes = np.unique(warp_ids(yes.indices(), 256, WARP))
    warps_no = np.unique(warp_ids(no.indices(), 256, WARP))
    mixed = np.intersect1d(warps_yes, warps_no).size
    assert yes.mixed_warps(no, 256, WARP) == mixed
    assert yes.warp_count(256, WARP) == warps_yes.size
    assert no.warp_count(256, WARP) == warps_no.size
    if type(yes) is Masked:     # counted afresh, not from the split's cache
        fresh = LaneSet.where(lo, cond.copy())
        assert fresh.warp_count(256, WARP) == warps_yes.size


@pytest.mark.parametrize("value", [Affine(5, 3, np.dtype(np.uint32)),
                                   tiled(0, 1, 0, 8, np.dtype(np.uint32))])
def test_write_all_of_a_compressed_value_is_what_write_keeps(value) -> None:
    n = 64
    fast, slow = Row(n, 7), Row(n, 7)
    assert fast.write_all(simt.DType.U32.code, np.dtype(np.uint32), value)
    slow.write(LaneSet.range(0, n), simt.DType.U32.code, np.dtype(np.uint32), value, n, n)
    for a, b in zip(fast.readout(), slow.readout()):
        assert np.array_equal(a, b)
    assert fast.whole is value and slow.whole is value


def test_int_geometries_are_reused_and_still_checked() -> None:
    dev = simt.Device()
    program = simt.assemble("    exit\n")
    first = dev.launch(program, grid=3, block=32)
    assert dev.launch(program, grid=3, block=32) == first
    assert first.stats.warp_instructions == 3
    with pytest.raises(ValueError):
        dev.launch(program, grid=0, block=32)
    with pytest.raises(TypeError):
        dev.launch(program, grid=True, block=32)
