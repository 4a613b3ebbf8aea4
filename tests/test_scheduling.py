"""The scheduling rule with calls, on both engines (docs/semantics.md, "Scheduling").

At each step the PC is the minimum PC among the runnable lanes of the deepest
call depth; the instruction there runs for every runnable lane at that PC,
whatever its depth.  The step order is read through the public API: a launch
with ``max_steps=k`` stops before step ``k`` with a ``StepLimitError`` naming
that step's pc, its lowest lane and how many lanes it would have run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import simt
from benchmarks.branch_tree import (branch_tree_expected, branch_tree_kernel,
                                    run_branch_tree)
from simt.isa import DType
from simt.machine.scheduler import DeepestMinPC, MinPC, scheduler_for
from simt.machine.state import RegisterFile
from simt.testing.engines import assert_agree
from simt.testing.programs import ArgSpec, Case, Outcome, run_reference
from test_differential import run_device, text_case

Trace = list[tuple[int, int, int]]


def agree(case: Case) -> Outcome:
    """Run both engines, assert they agree on everything, return the reference's outcome."""
    return assert_agree(case)


def trace(case: Case, run) -> Trace:
    """``(pc, lowest lane, lanes)`` of every step of ``case`` on one engine."""
    steps = run(case).stats["steps"]
    out = []
    for k in range(steps):
        error = run(replace(case, max_steps=k)).exception
        assert isinstance(error, simt.StepLimitError), error
        out.append((error.pc, error.lane, error.lanes_faulting))
    return out


def both_traces(case: Case) -> Trace:
    """The step order, the same on both engines."""
    got = trace(case, run_reference)
    assert trace(case, run_device) == got
    return got


def out_u32(outcome: Outcome, count: int) -> list[int]:
    return np.frombuffer(outcome.buffers[1], np.uint32)[:count].tolist()


# --------------------------------------------------------------------------- hand-computed orders

DIVERGENT_CALL = """
    cvt.u32.u64 r3, r255          ; 0
    mov_imm.u32 r4, 2             ; 1
    setlt.u32 p0, r3, r4          ; 2   lanes 0 and 1
    bra.p0 @join                  ; 3
    call @f                       ; 4   lanes 2 and 3 call
join:
    add.u32 r3, r3, r4            ; 5
    exit                          ; 6
f:
    mov_imm.u32 r5, 3             ; 7
    seteq.u32 p1, r3, r5          ; 8   lane 3
    bra.p1 @early                 ; 9
    add.u32 r3, r3, r4            ; 10  lane 2
    ret                           ; 11
early:
    ret                           ; 12
"""


def test_a_call_runs_to_its_return_before_the_callers_code_after_it() -> None:
    case = text_case(DIVERGENT_CALL, block=4)
    agree(case)
    # lanes 0 and 1 wait at pc 5 (depth 0) while lanes 2 and 3 run f (depth 1) to its RETs;
    # inside f the minimum PC goes first (lane 2's ret at 11, then lane 3's at 12)
    assert both_traces(case) == [
        (0, 0, 4), (1, 0, 4), (2, 0, 4), (3, 0, 4), (4, 2, 2),
        (7, 2, 2), (8, 2, 2), (9, 2, 2), (10, 2, 1), (11, 2, 1), (12, 3, 1),
        (5, 0, 4), (6, 0, 4)]


RECURSION = """
    mov_imm.u32 r5, 3             ; 0
    cvt.u32.u64 r3, r255          ; 1
    and.u32 r3, r3, r5            ; 2   lane i recurses i levels below the first call
    mov_imm.u32 r6, 0             ; 3   acc
    mov_imm.u32 r7, 1             ; 4
    mov_imm.u32 r11, 10           ; 5
    call @rec                     ; 6
    mov_imm.u32 r8, 2             ; 7
    shl.u64 r9, r255, r8          ; 8
    stg.u32 [r1 + r9], r6         ; 9
    exit                          ; 10
rec:
    mov_imm.u32 r10, 0            ; 11
    seteq.u32 p0, r3, r10         ; 12
    bra.p0 @bottom                ; 13
    sub.u32 r3, r3, r7            ; 14
    call @rec                     ; 15
    add.u32 r3, r3, r7            ; 16
bottom:
    mul.u32 r6, r6, r11           ; 17  acc = 10 acc + r3 on the way back up
    add.u32 r6, r6, r3            ; 18
    ret                           ; 19
"""


def test_recursion_and_ret_reconverging_lanes_of_different_depths() -> None:
    case = text_case(RECURSION, block=4)
    assert out_u32(agree(case), 4) == [0, 1, 12, 123]
    descend = [[(11, k, 4 - k), (12, k, 4 - k), (13, k, 4 - k)]
               + ([(14, k + 1, 3 - k), (15, k + 1, 3 - k)] if k < 3 else []) for k in range(4)]
    # lane k reaches `bottom` at depth k + 1; the deepest lane's arrival there lets all four
    # run it together, whatever their depths; each RET then sends the shallowest lane home
    climb = [(17, 0, 4), (18, 0, 4), (19, 0, 4)]
    for k in (1, 2, 3):
        climb += [(pc, k, 4 - k) for pc in (16, 17, 18, 19)]
    assert both_traces(case) == (
        [(pc, 0, 4) for pc in range(7)] + sum(descend, []) + climb
        + [(pc, 0, 4) for pc in range(7, 11)])


CALLS_IN_BRANCHES = """
    cvt.u32.u64 r3, r255
    mov_imm.u32 r4, 1
    and.u32 r5, r3, r4
    mov_imm.u32 r6, 0
    setne.u32 p0, r5, r6          ; odd lanes
    mov_imm.u32 r10, 100
    bra.p0 @odd
    call @f                       ; even lanes: r10 = f(100)
    bra @join
odd:
    mov_imm.u32 r10, 200
    call @f                       ; odd lanes: r10 = f(200)
join:
    mov_imm.u32 r8, 2
    shl.u64 r9, r255, r8
    stg.u32 [r1 + r9], r10
    exit
f:
    mov_imm.u32 r7, 4
    setlt.u32 p1, r3, r7          ; lanes 0..3 call g from inside f
    bra.p1 @deeper
    add.u32 r10, r10, r3
    ret
deeper:
    call @g
    add.u32 r10, r10, r4
    ret
g:
    mul.u32 r10, r10, r7
    ret
"""


def callee_first(text: str, entry: str) -> str:
    """``text`` with its functions (from label ``entry`` on) moved before the main code."""
    lines = text.strip("\n").split("\n")
    cut = lines.index(f"{entry}:")
    return "\n".join(["    bra @main"] + lines[cut:] + ["main:"] + lines[:cut]) + "\n"


def test_calls_inside_divergent_code_and_nested_calls() -> None:
    lanes = 8
    natural = agree(text_case(CALLS_IN_BRANCHES, block=lanes))
    first = agree(text_case(callee_first(CALLS_IN_BRANCHES, "f"), block=lanes))
    i = np.arange(lanes)
    base = np.where(i % 2 == 1, 200, 100)
    expected = np.where(i < 4, base * 4 + 1, base + i)
    assert out_u32(natural, lanes) == expected.tolist()
    assert out_u32(first, lanes) == expected.tolist()
    # where the functions sit does not matter: the same steps, plus the jump over them
    assert first.stats["steps"] == natural.stats["steps"] + 1
    assert first.stats["lane_instructions"] == natural.stats["lane_instructions"] + lanes


def test_layouts_run_in_the_same_order() -> None:
    natural = text_case(RECURSION, block=4)
    first = text_case(callee_first(RECURSION, "rec"), block=4)
    shift = 1 + 9       # the jump, then rec's 9 instructions come first
    moved = [(pc + shift if pc < 11 else pc - 11 + 1, lane, n)
             for pc, lane, n in both_traces(natural)]
    assert both_traces(first) == [(0, 0, 4)] + moved


# --------------------------------------------------------------------------- barriers

BARRIER_IN_CALL = """
    cvt.u32.u64 r3, r255          ; 0
    mov_imm.u32 r1, 1             ; 1
    setlt.u32 p0, r3, r1          ; 2   lane 0 calls f
    bra.p0 @call_f                ; 3
    bar.sync {main_id}            ; 4   lane 1 waits here, at depth 0
    mov_imm.u32 r5, 222           ; 5
    stg.u32 [r0 + 0], r5          ; 6
    exit                          ; 7
call_f:
    call @f                       ; 8
    exit                          ; 9
f:
    bar.sync 0                    ; 10  lane 0 waits here, at depth 1
    mov_imm.u32 r5, 111           ; 11
    stg.u32 [r0 + 0], r5          ; 12
    ret                           ; 13
"""


def test_a_barrier_inside_a_call_releases_the_deeper_lane_first() -> None:
    case = text_case(BARRIER_IN_CALL.format(main_id=0), block=2)
    out = agree(case)
    assert out.stats["barriers"] == 1
    # after the release, lane 0 (depth 1, pc 11) runs before lane 1 (depth 0, pc 5): f's
    # store comes first and lane 1's store wins
    assert np.frombuffer(out.buffers[0], np.uint32)[0] == 222
    assert both_traces(case) == [(0, 0, 2), (1, 0, 2), (2, 0, 2), (3, 0, 2), (4, 1, 1),
                                 (8, 0, 1), (10, 0, 1), (11, 0, 1), (12, 0, 1), (13, 0, 1),
                                 (5, 1, 1), (6, 1, 1), (7, 1, 1), (9, 0, 1)]


def test_a_deadlock_with_lanes_inside_a_call_names_the_lowest_parked_lane() -> None:
    out = agree(text_case(BARRIER_IN_CALL.format(main_id=1), block=2))
    assert out.error == ("BarrierDeadlockError", 10, 0)
    assert out.exception.lanes_faulting == 2


# --------------------------------------------------------------------------- the branch tree

@pytest.mark.parametrize("layout", ["natural", "callee_first"])
def test_branch_tree_agrees_with_the_reference(layout: str) -> None:
    lanes = 40
    text = branch_tree_kernel(layout, levels=3, iterations=3)
    x = np.random.default_rng(7).integers(0, 1 << 32, lanes, dtype=np.uint32)
    data = x.tobytes() + bytes(8 * lanes + 8 - 4 * lanes)
    case = text_case(text, block=lanes)
    case = replace(case, args=(ArgSpec(buffer=0), ArgSpec(buffer=1),
                               ArgSpec(ty=DType.U32, bits=lanes)),
                   buffers=(data,) + case.buffers[1:])
    out = agree(case)
    assert out_u32(out, lanes) == branch_tree_expected(x, levels=3, iterations=3).tolist()


@pytest.mark.parametrize("lanes", [1_000, 10_000])
def test_branch_tree_natural_layout_takes_at_most_twice_the_steps(lanes: int) -> None:
    dev = simt.Device()
    natural, _, ok_natural = run_branch_tree(dev, "natural", lanes)
    first, _, ok_first = run_branch_tree(dev, "callee_first", lanes)
    assert ok_natural and ok_first
    assert natural.stats.steps <= 2 * first.stats.steps
    assert natural.stats.simd_efficiency >= first.stats.simd_efficiency / 2


# --------------------------------------------------------------------------- choosing the policy

def test_the_depth_aware_policy_is_chosen_only_for_programs_with_call() -> None:
    regs = RegisterFile(4)
    plain = scheduler_for(simt.assemble("mov_imm.u32 r1, 0\nexit"), 4, 4, regs)
    assert type(plain) is MinPC
    assert type(scheduler_for(simt.assemble(DIVERGENT_CALL), 4, 4, regs)) is DeepestMinPC


# --------------------------------------------------------------------------- barrier releases

EXIT_THEN_BARRIERS = """
    cvt.u32.u64 r3, r255          ; 0
    mov_imm.u32 r4, 6             ; 1
    setlt.u32 p0, r3, r4          ; 2
    bra.p0 @go                    ; 3
    exit                          ; 4   lanes 6..: half of block 1, all of block 2
go:
    bar.sync 0                    ; 5   lanes 0..5 fill blocks 0 and 1 with the exited ones
    mov_imm.u32 r5, 1             ; 6
    and.u32 r6, r3, r5            ; 7
    setne.u32 p1, r6, r5          ; 8   even lanes skip the add
    bra.p1 @wait                  ; 9
    add.u32 r3, r3, r4            ; 10
    bar.sync 0                    ; 11  the odd lanes park
    bra @after                    ; 12
wait:
    bar.sync 0                    ; 13  the even lanes complete the blocks
after:
    mov_imm.u32 r8, 2             ; 14
    shl.u64 r9, r255, r8          ; 15
    stg.u32 [r1 + r9], r3         ; 16
    exit                          ; 17
"""


def test_barriers_released_at_once_and_after_parking_agree_with_the_reference() -> None:
    # the first barrier is reached in one step by every lane that has not exited (a
    # release without parking); the second in two steps at two pcs (the odd lanes park)
    case = text_case(EXIT_THEN_BARRIERS, grid=3, block=4)
    out = agree(case)
    assert out.stats["barriers"] == 4
    assert out_u32(out, 6) == [0, 7, 2, 9, 4, 11]
    steps = both_traces(case)
    assert steps[5:8] == [(5, 0, 6), (6, 0, 6), (7, 0, 6)]
    assert steps[10:] == [(10, 1, 3), (11, 1, 3), (13, 0, 3), (12, 1, 3), (14, 0, 6),
                          (15, 0, 6), (16, 0, 6), (17, 0, 6)]
