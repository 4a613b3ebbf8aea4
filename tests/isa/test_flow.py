"""Control and data flow facts (simt.isa.flow) on small programs, computed by hand.

Bit sets: register ``r`` is bit ``r``, predicate ``p`` is bit ``256 + p``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import simt
from simt.isa.flow import PRED_BIT, live_in, reads, successors, writes
from simt.testing.programs import cases


def R(*regs: int) -> int:
    bits = 0
    for r in regs:
        bits |= 1 << r
    return bits


def P(*preds: int) -> int:
    bits = 0
    for p in preds:
        bits |= 1 << (PRED_BIT + p)
    return bits


def test_pred_bit_is_256() -> None:
    assert PRED_BIT == 256


# --------------------------------------------------------------------------- straight line

STRAIGHT = """
    mov_imm.u32 r1, 5
    add.u32 r2, r1, r1
    stg.u32 [r0 + 8], r2
    exit
"""


def test_straight_line() -> None:
    p = simt.assemble(STRAIGHT)
    assert successors(p) == [(1,), (2,), (3,), ()]
    assert [reads(i) for i in p] == [0, R(1), R(0, 2), 0]
    assert [writes(i) for i in p] == [R(1), R(2), 0, 0]
    # r1 dies after its last use (pc 1), r2 after the store; r0 lives until the store
    assert live_in(p) == [R(0), R(0, 1), R(0, 2), 0]


def test_falling_off_the_end_has_no_successor() -> None:
    p = simt.assemble("mov_imm.u32 r1, 5\nstg.u32 [r0 + 0], r1\n")
    assert successors(p) == [(1,), ()]
    assert live_in(p) == [R(0), R(0, 1)]


def test_rewritten_register_is_dead_between_last_read_and_write() -> None:
    p = simt.assemble("""
        mov_imm.u32 r1, 1
        stg.u32 [r0 + 0], r1
        mov_imm.u32 r1, 2
        stg.u32 [r0 + 4], r1
    """)
    live = live_in(p)
    assert live == [R(0), R(0, 1), R(0), R(0, 1)]
    assert not live[2] >> 1 & 1          # dead where it is about to be rewritten


def test_live_in_is_cached_on_the_program() -> None:
    p = simt.assemble(STRAIGHT)
    assert live_in(p) is live_in(p)


# --------------------------------------------------------------------------- if / else

IF_ELSE = """
    setlt.u32 p1, r3, r4
    bra.p1 @then
    mov_imm.u32 r5, 1
    bra @join
then:
    mov_imm.u32 r5, 2
join:
    stg.u32 [r0 + r6], r5
    exit
"""


def test_if_else() -> None:
    p = simt.assemble(IF_ELSE)
    assert successors(p) == [(1,), (2, 4), (3,), (5,), (5,), (6,), ()]
    assert reads(p[0]) == R(3, 4) and writes(p[0]) == P(1)
    assert reads(p[1]) == P(1) and writes(p[1]) == 0
    assert reads(p[3]) == 0                                  # an unconditional branch
    assert reads(p[5]) == R(0, 5, 6) and writes(p[5]) == 0   # both address registers
    live = live_in(p)
    assert live == [R(0, 3, 4, 6), R(0, 6) | P(1), R(0, 6), R(0, 5, 6), R(0, 6),
                    R(0, 5, 6), 0]
    # r5 is written on both paths before the join reads it: dead before the branch
    assert all(not live[pc] >> 5 & 1 for pc in (0, 1, 2, 4))


def test_exit_inside_a_branch_ends_the_path() -> None:
    p = simt.assemble("""
        setlt.u32 p0, r1, r2
        bra.p0 @out
        mov_imm.u32 r3, 7
        stg.u32 [r0 + 0], r3
    out:
        exit
        mov_imm.u32 r9, 1
        stg.u32 [r0 + 0], r9
    """)
    assert successors(p) == [(1,), (2, 4), (3,), (4,), (), (6,), ()]
    live = live_in(p)
    assert live[4] == 0
    assert live[1] == R(0) | P(0)
    assert live[0] == R(0, 1, 2)
    assert live[5] == R(0) and live[6] == R(0, 9)            # unreachable code: still analysed


# --------------------------------------------------------------------------- loops

LOOP = """
    mov_imm.u32 r1, 3
    mov_imm.u32 r2, 0
body:
    add.u32 r2, r2, r7
    loop r1, @body
    stg.u32 [r0 + 0], r2
    exit
"""


def test_loop() -> None:
    p = simt.assemble(LOOP)
    assert successors(p) == [(1,), (2,), (3,), (2, 4), (5,), ()]
    assert reads(p[3]) == R(1)
    assert writes(p[3]) == 0                 # LOOP decrements its count only where taken
    live = live_in(p)
    assert live == [R(0, 7), R(0, 1, 7), R(0, 1, 2, 7), R(0, 1, 2, 7), R(0, 2), 0]
    # the count is read but not killed by LOOP: live around the whole body
    assert live[2] >> 1 & 1 and live[3] >> 1 & 1


def test_loop_count_is_live_before_the_loop_even_if_written_in_the_body() -> None:
    # the body rewrites the count register; LOOP still reads it afterwards
    p = simt.assemble("""
        mov_imm.u32 r1, 3
    body:
        mov_imm.u32 r1, 0
        loop r1, @body
        exit
    """)
    live = live_in(p)
    assert live[2] == R(1)            # LOOP reads r1
    assert live[1] == 0               # written before LOOP reads it on every path
    assert live[0] == 0


def test_backward_branch_loop() -> None:
    p = simt.assemble("""
        mov_imm.u32 r1, 0
    top:
        add.u32 r1, r1, r2
        setlt.u32 p0, r1, r3
        bra.p0 @top
        stg.u32 [r0 + 0], r1
    """)
    assert successors(p) == [(1,), (2,), (3,), (1, 4), ()]
    live = live_in(p)
    assert live[3] == R(0, 1, 2, 3) | P(0)
    assert live[1] == R(0, 1, 2, 3)
    assert live[0] == R(0, 2, 3)


# --------------------------------------------------------------------------- calls

CALLS = """
    mov_imm.u32 r1, 1
    call @f
    stg.u32 [r0 + 0], r2
    call @f
    exit
f:
    add.u32 r2, r1, r1
    ret
"""


def test_call_and_ret() -> None:
    p = simt.assemble(CALLS)
    # RET may return after either CALL
    assert successors(p) == [(1,), (5,), (3,), (5,), (), (6,), (2, 4)]
    live = live_in(p)
    assert live == [R(0), R(0, 1), R(0, 1, 2), R(0, 1), 0, R(0, 1), R(0, 1, 2)]


def test_ret_without_any_call_has_no_successor() -> None:
    p = simt.assemble("mov_imm.u32 r1, 1\nret\n")
    assert successors(p) == [(1,), ()]


# --------------------------------------------------------------------------- the PC rule

def test_branch_to_itself_falls_through() -> None:
    p = simt.assemble("""
        setlt.u32 p0, r1, r2
    here:
        bra.p0 @here
    spin:
        bra @spin
    again:
        loop r1, @again
    next:
        bra.p0 @next2
    next2:
        call @next3
    next3:
        exit
    """)
    succ = successors(p)
    assert succ[1] == (2,)           # conditional branch to itself
    assert succ[2] == (3,)           # unconditional branch to itself
    assert succ[3] == (4,)           # LOOP to itself
    assert succ[4] == (5,)           # both ways lead to the next instruction
    assert succ[5] == (6,)           # CALL to the next instruction
    assert succ[6] == ()


def test_branch_to_itself_at_the_end_has_no_successor() -> None:
    p = simt.assemble("mov_imm.u32 r1, 1\nlast:\nbra @last\n")
    assert successors(p) == [(1,), ()]


# --------------------------------------------------------------------------- operand kinds

@pytest.mark.parametrize("text,read,written", [
    ("ldg.u32 r1, [r4 + r5]", R(4, 5), R(1)),
    ("ldg.u32 r1, [r2 + 16]", R(2), R(1)),
    ("ldg.u32 r1, [buf3 + 16]", 0, R(1)),
    ("stg.f32 [Φ(1, 2, 3)], r4", R(4), 0),
    ("stg.u64 [r9 + r10], r11", R(9, 10, 11), 0),
    ("sts.f32 [shared + r7], r8", R(7, 8), 0),
    ("lds.f32 r9, [shared + r10]", R(10), R(9)),
    ("lds.f32 r9, [shared + 4]", 0, R(9)),
    ("reduce.add.f32 r0, r10, 4", R(10, 11, 12, 13), R(0)),
    ("reduce.max.i64 r20, r20, 2", R(20, 21), R(20)),
    ("reduce.mul.f64 r3, r7, 1", R(7), R(3)),
    ("sel.f32 r1, p2, r3, r4", R(3, 4) | P(2), R(1)),
    ("setge.u64 p15, r255, r3", R(3, 255), P(15)),
    ("unity.test p4, 0.5", 0, P(4)),
    ("bra.p7 @x", P(7), 0),
    ("bra @x", 0, 0),
    ("loop r6, @x", R(6), 0),
    ("cvt.u64.u32 r12, r252", R(252), R(12)),
    ("mad.i32 r0, r1, r2, r3", R(1, 2, 3), R(0)),
    ("mov.u32 r5, r5", R(5), R(5)),
    ("mov_imm.u32 r5, 1", 0, R(5)),
    ("pool.alloc r1, 64", 0, R(1)),
    ("pool.free r1", R(1), 0),
    ("pool.load.f32 r1, r2, r3", R(2, 3), R(1)),
    ("pool.store.u32 r2, r3, r4", R(2, 3, 4), 0),
    ("bound.map r1, r2, r3, r4", R(2, 3, 4), R(1)),
    ("nbr.count r20, r10", R(10), R(20)),
    ("nbr.get r20, r10, 3", R(10), R(20)),
    ("res.accum r1, r2", R(1, 2), 0),
    ("cls.get r8", 0, R(8)),
    ("mirror r1, r2", R(2), R(1)),
    ("phase.get r3", 0, R(3)),
    ("phase.adv 5", 0, 0),
    ("bar.sync 0", 0, 0),
    ("memfence.block", 0, 0),
    ("exit", 0, 0),
    ("ret", 0, 0),
])
def test_reads_and_writes_by_operand_kind(text, read, written) -> None:
    ins = simt.assemble(text + "\nx:\nexit\n")[0]
    assert reads(ins) == read, text
    assert writes(ins) == written, text


def test_predicate_liveness() -> None:
    p = simt.assemble("""
        setlt.u32 p3, r1, r2
        mov_imm.u32 r4, 0
        sel.u32 r5, p3, r1, r2
        setlt.u32 p3, r2, r1
        bra.p3 @out
        stg.u32 [r0 + 0], r5
    out:
        exit
    """)
    live = live_in(p)
    p3 = P(3)
    assert not live[0] & p3                  # written here before any read
    assert live[1] & p3 and live[2] & p3     # read by SEL
    assert not live[3] & p3                  # rewritten before the branch reads it
    assert live[4] & p3
    assert not live[5] & p3
    assert live[2] == R(0, 1, 2) | p3
    assert live[4] == R(0, 5) | p3


# --------------------------------------------------------------------------- generated programs

@settings(max_examples=60)
@given(cases(max_lanes=8, max_statements=14))
def test_live_in_is_the_least_fixpoint_shape_on_generated_programs(case) -> None:
    """On random programs: successors stay in range and live_in solves the dataflow equations."""
    program = case.program
    n = len(program)
    succ = successors(program)
    live = live_in(program)
    assert len(succ) == len(live) == n
    for pc, ins in enumerate(program):
        assert all(0 <= t < n and t != pc for t in succ[pc]), (pc, succ[pc])
        out = 0
        for t in succ[pc]:
            out |= live[t]
        assert live[pc] == reads(ins) | (out & ~writes(ins)), pc
        assert reads(ins) & ~live[pc] == 0
