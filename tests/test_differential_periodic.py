"""Differential tests of lanes chosen by ``(tid & k) == 0`` (a window repeating with a period).

A bitonic sort of each block through shared memory splits the lanes of every
exchange pass by ``tid ^ j <= tid``: one window of ``j`` lanes repeating with
period ``2 j``.  Over spans of at least ``PERIODIC_MIN_SPAN`` lanes such splits become
:class:`~simt.machine.lanes.Tiles` of that period, whose reads, writes and shared
accesses are strided; the device must agree with the scalar reference bit for bit.
"""

from __future__ import annotations

import numpy as np
from simt.machine import lanes as lanes_mod
from simt.testing.engines import assert_agree
from test_differential_shapes import issued, make_case, out_words, run_device  # noqa: F401

BITONIC = """
    mov_imm.u32 r3, 2
    mov_imm.u32 r4, 1
    mov_imm.u32 r5, 0
    mov_imm.u32 r9, 3
    shl.u64 r7, r255, r9
    ldg.f32 r6, [r0 + r7]
    shl.u32 r8, r252, r3
    sts.f32 [shared + r8], r6
    bar.sync 0
    mov_imm.u32 r9, 2
merge:
    setgt.u32 p1, r9, r254
    bra.p1 @sorted
    shr.u32 r10, r9, r4
exchange:
    xor.u32 r11, r252, r10
    setle.u32 p2, r11, r252
    bra.p2 @sync
    shl.u32 r12, r11, r3
    lds.f32 r13, [shared + r8]
    lds.f32 r14, [shared + r12]
    min.f32 r15, r13, r14
    max.f32 r16, r13, r14
    and.u32 r17, r252, r9
    seteq.u32 p3, r17, r5
    sel.f32 r18, p3, r15, r16
    sel.f32 r19, p3, r16, r15
    sts.f32 [shared + r8], r18
    sts.f32 [shared + r12], r19
sync:
    bar.sync 0
    shr.u32 r10, r10, r4
    setne.u32 p4, r10, r5
    bra.p4 @exchange
    shl.u32 r9, r9, r4
    bra @merge
sorted:
    lds.f32 r20, [shared + r8]
    stg.f32 [r1 + r7], r20
    exit
"""


def _data(lanes: int, seed: int) -> bytes:
    """Lane i's f32 at byte 8 i (small integers: many ties)."""
    words = np.zeros(2 * lanes + 2, np.float32)
    words[0:2 * lanes:2] = np.random.default_rng(seed).integers(-8, 8, lanes)
    return words.tobytes()


def test_bitonic_sort_on_periodic_lanes_agrees(issued, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(lanes_mod, "PERIODIC_MIN_SPAN", 2048)   # a launch the reference runs fast
    block, lanes = 32, 2048
    case = make_case(BITONIC, lanes // block, block, data=_data(lanes, 0),
                     shared_bytes=4 * block)
    outcome = assert_agree(case)
    assert outcome.error is None
    rows = np.frombuffer(_data(lanes, 0), np.float32)[0:2 * lanes:2].reshape(-1, block)
    np.testing.assert_array_equal(out_words(outcome, np.float32, lanes).reshape(-1, block),
                                  np.sort(rows, axis=1))
    issued.clear()
    assert run_device(case).error is None
    assert "Tiles" in issued            # the exchange passes ran on periodic Tiles
