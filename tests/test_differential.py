"""Differential properties: the vectorized executor against the scalar reference.

Random valid programs and launches (:mod:`simt.testing.programs`) run on the
public API (``simt.Device``) and on :class:`simt.reference.ReferenceDevice`;
both must agree bit for bit on final memory (every buffer and the whole
boundary pool), resonance, the statistics both define, and errors (class,
pc, lane).  A race-free launch must leave the same memory whatever the grid
is cut into.

Sizes follow the Hypothesis profile (tests/conftest.py): ``ci`` keeps
launches to a few hundred lanes; ``thorough`` goes to thousands.
Disagreements found are kept below as explicit regression cases.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings

import simt
from simt.isa import DType
from simt.testing.engines import Vectorized, assert_agree, run
from simt.testing.programs import (OUT_STRIDE, UNIFORM_BYTES, ArgSpec, Case, Outcome, cases,
                                   describe_difference, run_reference)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
THOROUGH = PROFILE == "thorough"
MAX_LANES = 4096 if THOROUGH else 256
STATEMENTS = 28 if THOROUGH else 20
EXAMPLES = {"mixed": 3000 if THOROUGH else 600, "clean": 1000 if THOROUGH else 200,
            "pieces": 300 if THOROUGH else 100, "device_pieces": 100 if THOROUGH else 20}
EXECUTOR_MIN_PIECE = 65_536      # simt.Device accepts no smaller piece


# --------------------------------------------------------------------------- running on simt.Device

def run_device(case: Case, piece_lanes: int | None = None) -> Outcome:
    """Run ``case`` on a fresh ``simt.Device`` through the public API."""
    return run(Vectorized() if piece_lanes is None else Vectorized(piece_lanes=piece_lanes), case)


def text_case(text: str, grid: int = 1, block: int = 1, **kw) -> Case:
    """A hand-written case with the generator's buffers: r0 data, r1 output, r2 = 0."""
    lanes = grid * block
    data = bytes(range(256)) * (8 * lanes // 256 + 1)
    return Case(simt.assemble(text), (grid, 1, 1), (block, 1, 1), kw.pop("shared_bytes", 0),
                (ArgSpec(buffer=0), ArgSpec(buffer=1), ArgSpec(ty=DType.U64, bits=0)),
                (data[: 8 * lanes + 8], bytes(OUT_STRIDE * lanes), bytes(UNIFORM_BYTES)), **kw)


# Disagreements found so far, kept as explicit regression cases.
# 1. A BRA or LOOP taken by some lanes only, whose target is the next instruction (or
#    itself: the PC rule makes that a fall-through), sends every lane to the same next PC:
#    not a divergent branch (contract §6 counts next PCs, not "taken" masks).
BRANCH_TO_NEXT = text_case("""
    mov_imm.u32 r9, 1
    setlt.u32 p0, r252, r9
    bra.p0 @next
next:
    bra.p0 @next2
next2:
    bra.p0 @next2
    mov.u32 r10, r252
    loop r10, @next3
next3:
    exit
""", block=2)
# 2. FMA with NaN operands returns the first NaN operand (order a, b, c), quieted, as every
#    arithmetic operation does (and as the REF's mul_add does).
FMA_NANS = text_case("""
    mov_imm.f64 r9, 1.0
    mov_imm.f64 r10, 9218868437227405313      ; 0x7FF0000000000001, a signalling NaN
    mov_imm.f64 r11, 9221120237041090562      ; 0x7FF8000000000002, a quiet NaN
    fma.f64 r12, r9, r9, r10
    fma.f64 r13, r9, r11, r10
    stg.f64 [r1 + 0], r12
    stg.f64 [r1 + 8], r13
    mov_imm.f32 r14, 2139095041               ; 0x7F800001, a signalling NaN
    mov_imm.f32 r15, 0
    fma.f32 r16, r14, r15, r15
    stg.f32 [r1 + 16], r16
""")
# 3. (reference) Which NaN a NaN-NaN operation returns must not depend on how CPython
#    orders the operands of a commutative operation: the first operand's, quieted.
MUL_TWO_NANS = text_case("""
    mov_imm.f32 r9, 2139095041                 ; 0x7F800001, signalling
    mov_imm.f32 r10, 2143289344                ; 0x7FC00000
    mad.f32 r11, r9, r10, r10
    mul.f32 r12, r10, r9
    stg.f32 [r1 + 0], r11
    stg.f32 [r1 + 4], r12
""")
# 4. SETcc with an unsigned-only condition on a signed or float type: the REF reads both
#    sources first and only then rejects the condition, so a mistyped source is reported
#    as a TypeMismatchError (first failing check in the REF's order, contract §2).
SETCC_ORDER = text_case("""
    mov_imm.u32 r9, 1
    setltu.i32 p0, r9, r9
""")
# 5. Lanes of one step that free the same pool: effects apply in ascending lane order, so
#    the second free finds the pool gone (InvalidHandleError at lane 1), and the fault being
#    precise, lane 0's free does not happen either.
SAME_STEP_DOUBLE_FREE = text_case("""
    pool.alloc r9, 8
    mov_imm.u64 r10, 1
    pool.free r10
""", block=3)


# --------------------------------------------------------------------------- properties

# 6. fma.f32 with a signalling NaN factor: quieted with the f32 quiet bit (bit 22).
FMA_F32_SNAN = text_case("""
    mov_imm.f32 r16, 2139095041                ; 0x7F800001, signalling
    mov_imm.f32 r17, 0
    fma.f32 r18, r16, r17, r17
    stg.f32 [r1 + 0], r18
""")

# 7. Two NaN operands, one per lane and one uniform: NumPy's vector-scalar add/multiply
#    loops (and some tail elements) compute ``b op a``; the result must be a's NaN, quieted.
TWO_NANS_UNIFORM = text_case("""
    mov_imm.u32 r13, 3
    shl.u64 r4, r255, r13
    mov_imm.u64 r9, 9220229334499986888          ; 0x7FF4D5BA96820DC8, a signalling NaN
    stg.u64 [r0 + r4], r9
    ldg.f64 r18, [r0 + r4]
    mov_imm.f64 r19, nan
    add.f64 r20, r18, r19
    mul.f64 r21, r18, r19
    reduce.add.f64 r22, r18, 2
    mov_imm.u64 r14, 24
    mul.u64 r14, r255, r14
    stg.f64 [r1 + r14], r20
    mov_imm.u64 r15, 8
    add.u64 r14, r14, r15
    stg.f64 [r1 + r14], r21
    add.u64 r14, r14, r15
    stg.f64 [r1 + r14], r22
""", block=40)

REGRESSIONS = {"branch_to_next": BRANCH_TO_NEXT, "fma_nans": FMA_NANS,
               "fma_f32_snan": FMA_F32_SNAN, "two_nans_uniform": TWO_NANS_UNIFORM,
               "mul_two_nans": MUL_TWO_NANS, "setcc_check_order": SETCC_ORDER,
               "same_step_double_free": SAME_STEP_DOUBLE_FREE}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_known_disagreements_stay_fixed(name: str) -> None:
    case = REGRESSIONS[name]
    assert_agree(case)


@settings(max_examples=EXAMPLES["mixed"])
@given(cases(max_lanes=MAX_LANES, max_statements=STATEMENTS))
def test_executor_agrees_with_reference(case: Case) -> None:
    assert_agree(case)


@settings(max_examples=EXAMPLES["clean"])
@given(cases(max_lanes=MAX_LANES, max_statements=STATEMENTS, chaotic=False))
def test_executor_agrees_with_reference_on_clean_programs(case: Case) -> None:
    assert_agree(case)


@settings(max_examples=EXAMPLES["pieces"])
@given(cases(max_lanes=MAX_LANES, max_statements=STATEMENTS, race_free=True))
def test_race_free_memory_does_not_depend_on_pieces(case: Case) -> None:
    """Reference in one piece, reference in pieces of one block, executor: same memory."""
    whole = run_reference(case)
    if whole.error is not None:
        return
    per_block = case.block[0] * case.block[1] * case.block[2]
    for piece_lanes in sorted({per_block, 2 * per_block + 1}):
        split = run_reference(case, piece_lanes=piece_lanes)
        assert split.error is None, (case, split.exception)
        assert (split.buffers, split.boundary) == (whole.buffers, whole.boundary), (
            f"piece_lanes={piece_lanes}:\n{describe_difference(whole, split)}")
    dev = run_device(case)
    assert (dev.error, dev.buffers, dev.boundary) == (None, whole.buffers, whole.boundary), \
        describe_difference(whole, dev, ("reference", "simt.Device"))


@settings(max_examples=EXAMPLES["device_pieces"])
@given(cases(max_lanes=64, max_statements=STATEMENTS, race_free=True, chaotic=False))
def test_executor_pieces_leave_the_same_memory(case: Case) -> None:
    """The executor's smallest piece size against its default, on a launch larger than both
    pieces would hold together (the reference is too slow for launches of this size)."""
    per_block = case.block[0] * case.block[1] * case.block[2]
    blocks = EXECUTOR_MIN_PIECE // per_block + 3
    big = case.with_grid((blocks, 1, 1))
    one = run_device(big, piece_lanes=4 * EXECUTOR_MIN_PIECE)
    if one.error is not None:
        return
    split = run_device(big, piece_lanes=EXECUTOR_MIN_PIECE)
    assert split.error is None, split.exception
    assert (split.buffers, split.boundary) == (one.buffers, one.boundary), \
        describe_difference(one, split, ("one piece", "pieces"))
