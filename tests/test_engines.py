"""Behaviours both engines must show, written once and run on each.

Every test here takes an ``engine`` (:data:`simt.testing.engines.ENGINES`: the
vectorized executor behind ``simt.Device`` and the scalar reference interpreter)
and checks literal expectations through the one API both provide
(:mod:`simt.testing.engines`).  Differences between the engines on random
programs are the business of tests/test_differential.py; this file also pins
that those random programs exercise every instruction of the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

import simt
from simt.isa.table import SPECS
from simt.testing.engines import ENGINES, Engine, Launched
from simt.testing.programs import Case, cases

# Instructions the random programs may leave out, each with the reason it cannot be emitted.
NOT_GENERATED: dict[str, str] = {}


# --------------------------------------------------------------------------- coverage pin

def _emitted(runs: int = 4, examples: int = 40) -> set[str]:
    """Names of the instructions in programs drawn by ``runs`` independent, seeded runs of
    :func:`~simt.testing.programs.cases` (independent runs spread the draws: one run tends
    to vary its own earlier examples)."""
    seen: set[str] = set()

    def collect(case: Case) -> None:
        seen.update(ins.spec.name for ins in case.program)

    for run in range(runs):
        draw = settings(max_examples=examples, database=None, deadline=None,
                        phases=[Phase.generate], suppress_health_check=list(HealthCheck))(
            seed(run)(given(cases(max_lanes=4, max_statements=20))(collect)))
        draw()
    return seen


def test_random_programs_emit_every_instruction_of_the_table():
    emitted = _emitted()
    missing = sorted({s.name for s in SPECS} - emitted - set(NOT_GENERATED))
    assert not missing, f"simt.testing.programs never emits {missing}"
    assert not set(NOT_GENERATED) & emitted, "an instruction in NOT_GENERATED is emitted"


# --------------------------------------------------------------------------- helpers

def launch(engine, text: str, *, buffers=(), grid=1, block=1, args=None, dev=None, **kw
           ) -> tuple[Engine, list, Launched]:
    """Assemble ``text``; upload ``buffers`` (arrays) to a fresh ``engine()`` (or ``dev``) and
    pass them as r0, r1, ... unless ``args`` is given; launch."""
    dev = dev or engine()
    bufs = [dev.upload(np.asarray(b)) for b in buffers]
    res = dev.launch(simt.assemble(text), grid=grid, block=block,
                     args=bufs if args is None else args, **kw)
    return dev, bufs, res


def fault(exc_type, engine, text: str, **kw) -> simt.SimtError:
    with pytest.raises(exc_type) as info:
        launch(engine, text, **kw)
    return info.value


def words(dev: Engine, buf, dtype=np.uint32) -> list:
    return dev.download(buf, dtype).tolist()


def zeros(nbytes: int) -> np.ndarray:
    return np.zeros(nbytes, np.uint8)


def resonance(res: Launched) -> np.ndarray:
    return np.array(res.resonance, np.uint64).view(np.float64)


engines = pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)

# Byte offsets from the lane ids: r5 = global lane id * 4 (u64), r6 = lane.x * 4 (u64).
PROLOGUE = """
    mov_imm.u32 r9, 2
    shl.u64 r5, r255, r9
    cvt.u64.u32 r6, r252
    shl.u64 r6, r6, r9
"""


# --------------------------------------------------------------------------- registers

SPECIAL_REGISTERS = """
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


@engines
@pytest.mark.parametrize("grid,block", [((3, 2, 2), (2, 3, 2)), ((2, 3, 2), (3, 2, 2))])
def test_special_registers_in_three_dimensions(engine, grid, block):
    lanes = 12 * 12
    dev, (out,), _ = launch(engine, SPECIAL_REGISTERS, buffers=[zeros(16 * lanes)], grid=grid,
                            block=block)
    got = dev.download(out, np.uint32).reshape(lanes, 4)
    gid = np.arange(lanes)
    blk, lane = gid // 12, gid % 12
    np.testing.assert_array_equal(got[:, 0], lane % block[0])
    np.testing.assert_array_equal(got[:, 1], blk % grid[0])
    np.testing.assert_array_equal(got[:, 2], block[0])
    np.testing.assert_array_equal(got[:, 3], gid)


@engines
def test_type_tags_are_strict_and_registers_change_type_on_write(engine):
    err = fault(simt.TypeMismatchError, engine, "mov_imm.u32 r1, 5\nadd.i32 r2, r1, r1")
    assert (err.pc, err.lane, err.source_line, err.instruction) == (1, 0, 2, "add.i32 r2, r1, r1")
    launch(engine, "mov_imm.u32 r1, 5\nmov_imm.i32 r1, 5\nadd.i32 r2, r1, r1")  # retagged
    src = SPECIAL_REGISTERS.replace("mov_imm.u64 r4, 4", "mov_imm.u32 r4, 4")   # u32 offset
    err = fault(simt.TypeMismatchError, engine, src, buffers=[zeros(1 << 12)], grid=(2, 2, 1),
                block=(2, 3, 1))
    assert err.pc == 4 and err.lane == 0


@engines
def test_uninitialized_register_and_predicate(engine):
    err = fault(simt.UninitializedRegisterError, engine,
                "mov_imm.u32 r1, 1\nadd.u32 r2, r1, r7\n", block=4)
    assert (err.pc, err.lane, err.lanes_faulting, err.source_line) == (1, 0, 4, 2)
    assert err.instruction == "add.u32 r2, r1, r7"
    assert err.block == (0, 0, 0) and err.thread == (0, 0, 0)
    err = fault(simt.UninitializedRegisterError, engine, "bra.p3 @x\nx:\nexit\n")
    assert err.pc == 0 and "p3" in str(err)


# --------------------------------------------------------------------------- control flow

@engines
def test_branch_to_itself_falls_through_and_loop_runs_count_plus_one_times(engine):
    text = PROLOGUE + """
    here: bra @here
    mov.u32 r1, r252             ; per-lane trip count: lane x
    mov_imm.u32 r2, 0
    mov_imm.u32 r3, 1
    body:
    add.u32 r2, r2, r3
    loop r1, @body
    stg.u32 [r0 + r6], r2
    """
    dev, (out,), res = launch(engine, text, buffers=[zeros(16)], block=4)
    assert words(dev, out) == [1, 2, 3, 4]
    s = res.stats
    # 4 prologue + bra + 3 movs, then body/loop: 4 rounds (lane 3 runs 4 bodies), + stg
    assert s["opcode_counts"]["LOOP"] == 4
    assert s["steps"] == 4 + 1 + 3 + 8 + 1
    # LOOP steps: round k sends lanes with count > k back and the others on: divergent
    # in rounds 0, 1, 2 (lanes 0..2 leave one by one), not in round 3 (only lane 3).
    assert s["divergent_branches"] == 3


@engines
def test_loop_with_per_lane_trip_counts(engine):
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
    dev, (out,), res = launch(engine, src, buffers=[zeros(4 * n)], block=n)
    m = np.arange(n) % 5
    np.testing.assert_array_equal(dev.download(out, np.uint32), m * (m + 1) // 2)
    assert res.stats["divergent_branches"] > 0


@engines
def test_exit_inside_a_branch_and_running_off_the_end(engine):
    text = PROLOGUE + """
    mov_imm.u32 r1, 1
    stg.u32 [r0 + r6], r1
    setlt.u32 p0, r252, r1
    bra.p0 @out
    mov_imm.u32 r1, 9
    stg.u32 [r0 + r6], r1
    exit
    out:
    exit
    mov_imm.u32 r1, 5
    stg.u32 [r0 + r6], r1
    """
    dev, (out,), _ = launch(engine, text, buffers=[zeros(8)], block=2)
    assert words(dev, out) == [1, 9]
    # a label at the end: jumping there ends the lane
    _, _, res = launch(engine, "bra @end\nmov_imm.u32 r1, 1\nend:")
    assert res.stats["steps"] == 1


@engines
def test_call_and_ret(engine):
    text = PROLOGUE + """
    mov_imm.u32 r1, 1
    call @f
    call @f
    stg.u32 [r0 + r6], r1
    exit
    f:
    add.u32 r1, r1, r1
    ret
    """
    dev, (out,), res = launch(engine, text, buffers=[zeros(4)])
    assert words(dev, out) == [4]
    assert res.stats["opcode_counts"]["RET"] == 2


@engines
def test_call_ret_nested_and_early_exit(engine):
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
    dev, (out,), _ = launch(engine, src, buffers=[zeros(4 * n)], block=n)
    i = np.arange(n, dtype=np.uint32)
    np.testing.assert_array_equal(dev.download(out, np.uint32), np.where(i < 3, 99, 2 * i))


@engines
def test_call_stack_limits(engine):
    _, _, res = launch(engine, "f:\ncall @f\n")
    assert res.stats["steps"] == 1     # a call to itself falls through
    err = fault(simt.CallStackError, engine, "f:\nmov_imm.u32 r1, 0\ncall @f\n")
    assert err.pc == 1 and "256" in str(err)
    err = fault(simt.CallStackError, engine, "ret\n", block=3)
    assert err.pc == 0 and err.lanes_faulting == 3
    err = fault(simt.CallStackError, engine, "mov_imm.u32 r1, 0\nret")
    assert err.pc == 1

    def nest(depth):
        return f"""
        mov_imm.u32 r1, {depth - 1}
        top:
        call @down
        exit
        down:
        loop r1, @top
        """
    launch(engine, nest(256))                        # exactly 256 nested calls are fine
    err = fault(simt.CallStackError, engine, nest(257))
    assert err.pc == 1 and err.instruction == "call @down" and err.lane == 0


@engines
def test_step_budget_allows_exactly_max_steps(engine):
    _, _, res = launch(engine, "mov_imm.u32 r1, 1\nmov_imm.u32 r2, 2", block=4, max_steps=2)
    assert res.stats["steps"] == 2
    err = fault(simt.StepLimitError, engine, "\n    mov_imm.u32 r1, 1\n    mov_imm.u32 r2, 2",
                block=4, max_steps=1)
    assert (err.pc, err.lane, err.lanes_faulting) == (1, 0, 4)
    assert err.instruction == "mov_imm.u32 r2, 2"
    fault(simt.StepLimitError, engine, "top:\n mov_imm.u32 r0, 1\n bra @top\n", max_steps=1000)
    # a LOOP whose body label is the LOOP itself just falls through (PC rule)
    _, _, res = launch(engine, "mov_imm.u32 r1, 3\nbody: loop r1, @body")
    assert res.stats["steps"] == 2
    text = "mov_imm.u32 r1, 3\nbody: mov_imm.u32 r2, 0\nloop r1, @body\nexit"  # 1 + 8 + 1
    _, _, res = launch(engine, text, max_steps=10)
    assert res.stats["steps"] == 10
    err = fault(simt.StepLimitError, engine, text, max_steps=9, block=3)
    assert (err.pc, err.lane, err.instruction, err.lanes_faulting) == (3, 0, "exit", 3)


# --------------------------------------------------------------------------- barriers

@engines
def test_barrier_lets_lanes_exchange_through_shared_memory(engine):
    text = PROLOGUE + """
    sts.u32 [shared + r6], r252
    bar.sync 0
    mov_imm.u64 r3, 4
    add.u64 r4, r6, r3
    mov_imm.u64 r3, 15
    and.u64 r4, r4, r3
    lds.u32 r7, [shared + r4]
    stg.u32 [r0 + r5], r7
    """
    dev, (out,), res = launch(engine, text, buffers=[zeros(32)], grid=2, block=4,
                              shared_bytes=16)
    assert words(dev, out) == [1, 2, 3, 0, 1, 2, 3, 0]
    assert res.stats["barriers"] == 2
    assert res.stats["bytes_loaded"] == 8 * 4 and res.stats["bytes_stored"] == 16 * 4


@engines
def test_shared_memory_reverse_within_blocks_needs_barrier(engine):
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
    dev, (buf,), res = launch(engine, src, buffers=[x], grid=blocks, block=block,
                              shared_bytes=4 * block)
    np.testing.assert_array_equal(dev.download(buf, np.int32),
                                  x.reshape(blocks, block)[:, ::-1].ravel())
    assert res.stats["barriers"] == blocks


@engines
def test_barrier_counts_exited_lanes_as_arrived(engine):
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
    dev, (out,), res = launch(engine, src, buffers=[zeros(4 * 16)], grid=2, block=8)
    got = dev.download(out, np.uint32)
    np.testing.assert_array_equal(got.reshape(2, 8), [[0, 1, 2, 3, 0, 0, 0, 0]] * 2)
    assert res.stats["barriers"] == 2
    text = PROLOGUE + """
    mov_imm.u32 r1, 2
    setlt.u32 p0, r252, r1
    bra.p0 @wait
    exit
    wait:
    bar.sync 1
    stg.u32 [r0 + r6], r1
    """
    dev, (out,), res = launch(engine, text, buffers=[zeros(16)], block=4)
    assert words(dev, out) == [2, 2, 0, 0]
    assert res.stats["barriers"] == 1


@engines
def test_barriers_at_different_pcs_with_same_id_release_together(engine):
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
    _, _, res = launch(engine, src, block=4)
    assert res.stats["barriers"] == 1


@engines
def test_divergent_barrier_is_a_deadlock_at_the_lowest_parked_lane(engine):
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
    err = fault(simt.BarrierDeadlockError, engine, src, grid=3, block=4)
    # the block's lowest parked lane is lane 0, waiting at `bar.sync 2` (pc 5, line 8)
    assert (err.pc, err.lane, err.block, err.thread) == (5, 0, (0, 0, 0), (0, 0, 0))
    assert err.instruction == "bar.sync 2" and err.source_line == 8
    assert err.lanes_faulting == 4          # every lane of the block waits


@engines
def test_waiting_lanes_are_left_out_of_scheduling(engine):
    # Lane 0 parks at pc 3 while lane 1 still has to get there through pc 6..8;
    # a scheduler that kept lane 0 in the min-PC choice would spin forever.
    text = """
    mov_imm.u32 r1, 1
    setlt.u32 p0, r252, r1
    bra.p0 @sync
    bra @slow
    sync:
    bar.sync 0
    exit
    slow:
    mov_imm.u32 r2, 0
    bra @sync
    """
    _, _, res = launch(engine, text, block=2, max_steps=50)
    assert res.stats["barriers"] == 1


# --------------------------------------------------------------------------- memory and faults

@engines
def test_conflicting_stores_highest_lane_wins(engine):
    src = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, 0
    stg.u32 [r0 + r2], r1          ; every lane stores to the same word
    mov_imm.u64 r3, 5
    stg.u32 [r0 + r3], r1          ; overlapping unaligned stores
"""
    dev, (out,), _ = launch(engine, src, buffers=[zeros(16)], block=(7, 3))
    got = dev.download(out, np.uint8)
    assert got[:4].view(np.uint32)[0] == 20
    assert got[5:9].view(np.uint32)[0] == 20
    dev, (out,), _ = launch(engine, "cvt.u32.u64 r1, r255\nstg.u32 [r0 + 0], r1",
                            buffers=[zeros(4)], block=37)
    assert words(dev, out) == [36]


@engines
def test_out_of_bounds_store_is_precise(engine):
    dev = engine()
    buf = dev.upload(np.arange(4, dtype=np.uint32))
    src = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    cvt.u32.u64 r3, r255
    stg.u32 [r0 + r2], r3
"""
    err = fault(simt.OutOfBoundsError, engine, src, dev=dev, block=6, args=(buf,))
    assert isinstance(err, IndexError)
    assert (err.pc, err.lane, err.lanes_faulting) == (3, 4, 2)
    assert words(dev, buf) == [0, 1, 2, 3]                      # no effect
    launch(engine, src, dev=dev, block=4, args=(buf,))          # still usable
    assert words(dev, buf) == [0, 1, 2, 3]
    text = PROLOGUE + """
    mov_imm.u32 r1, 11
    stg.u32 [r0 + r5], r1          ; all lanes, fine
    mov_imm.u64 r2, 1
    add.u64 r5, r5, r2
    mov_imm.u32 r1, 22
    stg.u32 [r0 + r5], r1          ; lane 3 writes past the end: nobody writes
    """
    dev = engine()
    out = dev.alloc(16)
    err = fault(simt.OutOfBoundsError, engine, text, dev=dev, args=(out,), block=4)
    assert err.lane == 3 and err.lanes_faulting == 1 and err.pc == 9
    assert words(dev, out) == [11, 11, 11, 11]


@engines
def test_lowest_lane_and_first_check_win(engine):
    # lanes 0 and 1: r2 = 0 -> DivisionByZero; lanes 2, 3: r2 uninitialized
    text = """
    mov_imm.i32 r1, 10
    mov_imm.u32 r9, 1
    setgt.u32 p0, r252, r9
    bra.p0 @skip
    cvt.i32.u32 r2, r252
    mov_imm.i32 r2, 0
    skip:
    div.i32 r3, r1, r2
    """
    err = fault(simt.DivisionByZeroError, engine, text, block=4)
    assert (err.lane, err.lanes_faulting, err.pc) == (0, 4, 6)
    err = fault(simt.UninitializedRegisterError, engine,
                text.replace("mov_imm.i32 r2, 0", "mov_imm.i32 r2, 5"), block=4)
    assert (err.lane, err.lanes_faulting) == (2, 2)


@engines
def test_division_by_zero(engine):
    src = """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 7
    div.u32 r3, r2, r1
"""
    err = fault(simt.DivisionByZeroError, engine, src, block=4)
    assert isinstance(err, ZeroDivisionError) and err.lane == 0 and err.pc == 2
    launch(engine, "mov_imm.f32 r1, 0.0\nmov_imm.f32 r2, 1.0\ndiv.f32 r3, r2, r1")  # inf


@engines
@pytest.mark.parametrize("src", [
    "mov_imm.u8 r1, 96\nmirror r2, r1",
    "mov_imm.u8 r1, 200\nnbr.count r2, r1",
    "mov_imm.u8 r1, 96\nnbr.get r2, r1, 0",
    "mov_imm.u8 r1, 96\nmov_imm.f64 r2, 1.0\nres.accum r1, r2",
    "mov_imm.u8 r1, 96\nmov_imm.u8 r2, 0\nbound.map r3, r1, r2, r2",
])
def test_invalid_class(engine, src):
    err = fault(simt.InvalidClassError, engine, src, block=3)
    assert err.lanes_faulting == 3 and err.lane == 0 and err.pc == src.count("\n")


# --------------------------------------------------------------------------- resonance

def _nan(payload: int, sign: int = 0, quiet: bool = True) -> float:
    bits = sign << 63 | 0x7FF << 52 | (1 << 51 if quiet else 0) | payload
    return np.array([bits], np.uint64).view(np.float64)[0]


@engines
@pytest.mark.parametrize("values, want", [
    # the running value is NaN: it stays, whatever NaN is added
    ([_nan(5), _nan(7)], _nan(5)),
    ([_nan(7), 1.0, _nan(5, sign=1)], _nan(7)),
    # a signalling NaN added first is kept, made quiet
    ([2.0, _nan(9, quiet=False), _nan(3)], _nan(9)),
    # inf + -inf: the machine's invalid-sum NaN, then later NaNs change nothing
    ([np.inf, -np.inf, _nan(4)], np.inf + -np.inf),
    # overflow to inf, then -inf
    ([1.7e308, 1.7e308, -np.inf, _nan(6)], np.inf + -np.inf),
])
def test_resonance_nan_sums_keep_the_first_nan(engine, values, want):
    """Which NaN a NaN sum keeps is defined (docs/semantics.md, "Resonance"), not left to
    the hardware or to the loop NumPy picks: found when the executor and the parallel
    replay kept different payloads."""
    src = """
    mov_imm.u8 r1, 7
    mov_imm.u32 r2, 3
    cvt.u64.u32 r3, r252
    shl.u64 r3, r3, r2
    ldg.f64 r4, [r0 + r3]
    res.accum r1, r4
"""
    _, _, res = launch(engine, src, buffers=[np.array(values, np.float64)], block=len(values))
    got = resonance(res)
    assert got.view(np.uint64)[7] == np.array([want]).view(np.uint64)[0]
    assert not got[np.arange(96) != 7].any()


@engines
def test_resonance_accumulates_in_ascending_lane_order(engine):
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
    _, _, res = launch(engine, src, buffers=[w], grid=4, block=250)
    expected = np.zeros(96)
    for i in range(n):                 # the order the contract fixes
        expected[i % 96] += w[i]
    np.testing.assert_array_equal(resonance(res), expected)
    text = """
    cvt.u32.u64 r1, r255
    mov_imm.u32 r2, 1
    and.u32 r1, r1, r2
    cvt.u8.u32 r3, r1
    mov_imm.f64 r4, 1e16
    mov_imm.f64 r5, 1.0
    mov_imm.u32 r6, 2
    setlt.u32 p0, r1, r2
    sel.f64 r7, p0, r4, r5       ; even lanes add 1e16, odd lanes add 1.0
    res.accum r3, r7
    """
    _, _, res = launch(engine, text, block=4)
    # class 0 gets 1e16 + 1e16; class 1 gets 1 + 1
    assert resonance(res)[0] == 2e16 and resonance(res)[1] == 2.0
    assert sum(resonance(res)[2:]) == 0
    text = """
    mov_imm.u8 r1, 3
    mov_imm.f64 r2, 1.0
    mov_imm.f64 r3, 1e16
    mov_imm.u64 r4, 0
    setgt.u64 p0, r255, r4
    sel.f64 r5, p0, r2, r3       ; lane 0 adds 1e16 first, then lanes 1..4 add 1.0 each
    res.accum r1, r5
    """
    _, _, res = launch(engine, text, block=5)
    assert resonance(res)[3] == 1e16   # ascending order: each 1.0 is lost


# --------------------------------------------------------------------------- statistics

@engines
def test_statistics_of_a_small_divergent_launch(engine):
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
    _, _, res = launch(engine, src, buffers=[zeros(4 * 80)], grid=2, block=40)
    s = res.stats
    # pcs 0-2 for 80 lanes, pc 3 for the 8 lanes x >= 36, then 4-7 for 80 lanes
    assert s["steps"] == 8
    assert s["lane_instructions"] == 7 * 80 + 8
    # 4 warps per step (2 per block), the lone mov_imm runs in the two tail warps
    assert s["warp_instructions"] == 7 * 4 + 2
    assert s["simd_efficiency"] == pytest.approx((7 * 80 + 8) / (32 * 30))
    assert s["divergent_branches"] == 2      # one tail warp per block splits at x = 36
    assert s["barriers"] == 2 and s["bytes_stored"] == 4 * 80 and s["bytes_loaded"] == 0
    assert s["opcode_counts"] == {"MOV_IMM": 3, "SETcc": 1, "BRA": 1, "BarSync": 1, "SHL": 1,
                                  "STG": 1}


@engines
def test_divergent_if_else_stats_hand_computed(engine):
    text = """
    mov_imm.u64 r1, 2
    setlt.u64 p0, r255, r1
    bra.p0 @then
    mov_imm.u32 r2, 1
    bra @end
    then:
    mov_imm.u32 r2, 2
    end:
    exit
    """
    _, _, res = launch(engine, text, block=4)
    assert res.stats == {
        "steps": 7, "lane_instructions": 22, "warp_instructions": 7,
        "simd_efficiency": 22 / (32 * 7), "divergent_branches": 1, "barriers": 0,
        "bytes_loaded": 0, "bytes_stored": 0,
        "opcode_counts": {"MOV_IMM": 3, "SETcc": 1, "BRA": 2, "EXIT": 1}}
    # 40 lanes = a full warp and a partial one; only warp 0 diverges
    _, _, res = launch(engine, text, block=40)
    s = res.stats
    assert (s["steps"], s["warp_instructions"], s["divergent_branches"]) == (
        7, 3 * 2 + 2 + 2 + 1 + 2, 1)
    assert s["lane_instructions"] == 40 * 3 + 38 * 2 + 2 + 40
    # two blocks of 4: warps never span blocks
    _, _, res = launch(engine, text, grid=2, block=4)
    assert res.stats["warp_instructions"] == 3 * 2 + 2 + 2 + 1 + 2
    assert res.stats["divergent_branches"] == 1   # only block 0 has lanes 0 and 1
