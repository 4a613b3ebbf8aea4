"""Hypothesis strategy for random programs that are race-free by construction.

:func:`racefree_cases` draws a :class:`RaceFreeCase`: a program that moves data
through two per-block shared arrays and global memory in *phases* separated by
``bar.sync``, with a launch shape and input.  A GPU would run it correctly, so
``check="all"`` must find nothing, and the checked launch must compute what an
unchecked one computes.

Why the programs are race-free (the ordering rules of docs/semantics.md, "Checks"):

* every lane reaches every barrier (barriers sit at uniform points of the main
  code, possibly inside a loop with a uniform trip count; lanes exit only at the
  end), so each phase's accesses are ordered after the previous phase's;
* within a phase one shared array is only read (any slot) and the other is
  written at ``perm(tid)`` for a permutation ``perm`` of the block's slots, so no
  slot has two writers; a lane may load the slot it wrote (its own program order)
  and store single bytes of it; a "broadcast" phase has every lane store the same
  value to one slot (benign equal stores) and nothing else;
* global memory: the input is only read; each lane writes only its own words of
  the output.

Both shared arrays are filled before the first barrier and the input is
uploaded, so no load reads an unwritten byte either.  Divergence comes from
data: a lane may skip its store in a phase (the slot keeps an older value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

__all__ = ["RaceFreeCase", "racefree_cases"]

_OPS = ("add", "xor", "mul")


@dataclass(frozen=True)
class RaceFreeCase:
    """A race-free program with its launch: ``args = (input, output)`` buffers of u32."""

    text: str
    grid: int
    block: int
    slots: int          # output words per lane
    inputs: np.ndarray

    @property
    def lanes(self) -> int:
        return self.grid * self.block

    @property
    def shared_bytes(self) -> int:
        return 8 * self.block


def _index(out: list[str], dst: int, kind: str, shift: int, block: int) -> None:
    """u64 slot index into ``r<dst>`` from tid (r1): a permutation of ``[0, block)``."""
    if kind == "reverse":
        out += [f"    mov_imm.u64 r{dst}, {block - 1}", f"    sub.u64 r{dst}, r{dst}, r1"]
        return
    out += [f"    mov_imm.u64 r{dst}, {shift % block}", f"    add.u64 r{dst}, r1, r{dst}",
            f"    div.u64 r30, r{dst}, r5", "    mul.u64 r30, r30, r5",
            f"    sub.u64 r{dst}, r{dst}, r30"]


@st.composite
def racefree_cases(draw, max_lanes: int = 256) -> RaceFreeCase:
    """Race-free programs with barriers and shared memory, and their launches."""
    block = draw(st.integers(1, min(64, max_lanes)))
    grid = draw(st.integers(1, max(1, min(4, max_lanes // block))))
    phases = draw(st.integers(1, 5))
    looped = draw(st.booleans()) and phases >= 2
    slots = phases + 1
    lines = [
        "    mov.u64 r24, r1                 ; the output buffer",
        "    cvt.u64.u32 r1, r252            ; tid",
        "    mov_imm.u32 r2, 2",
        "    shl.u64 r3, r255, r2            ; gid * 4",
        "    ldg.u32 r4, [r0 + r3]           ; v = input[gid]",
        f"    mov_imm.u64 r5, {block}",
        f"    mov_imm.u64 r6, {4 * block}         ; second shared array",
        f"    mov_imm.u64 r7, {4 * slots}",
        "    mul.u64 r8, r255, r7             ; this lane's output words",
        "    shl.u64 r9, r1, r2",
        "    sts.u32 [shared + r9], r4",
        "    add.u64 r9, r9, r6",
        "    sts.u32 [shared + r9], r4",
        "    bar.sync 0",
    ]
    loop_at = draw(st.integers(0, phases - 2)) if looped else None
    for k in range(phases):
        if k == loop_at:
            lines += [f"    mov_imm.u32 r60, {draw(st.integers(0, 2))}", "again:"]
        read, write = (0, 1) if draw(st.booleans()) else (1, 0)
        base_r = "r6" if read else None
        base_w = "r6" if write else None
        if draw(st.integers(0, 5)) == 0:        # broadcast: every lane the same value
            value = draw(st.integers(0, 2 ** 32 - 1))
            slot = draw(st.integers(0, block - 1))
            lines += [f"    mov_imm.u32 r20, {value}", f"    mov_imm.u64 r21, {4 * slot}"]
            if base_w:
                lines.append(f"    add.u64 r21, r21, {base_w}")
            lines += ["    sts.u32 [shared + r21], r20", "    bar.sync 0",
                      "    lds.u32 r22, [shared + r21]", "    add.u32 r4, r4, r22",
                      "    bar.sync 0"]
            continue
        _index(lines, 10, draw(st.sampled_from(["shift", "reverse"])),
               draw(st.integers(0, 63)), block)
        lines.append("    shl.u64 r10, r10, r2")
        if base_r:
            lines.append(f"    add.u64 r10, r10, {base_r}")
        lines += ["    lds.u32 r11, [shared + r10]",
                  f"    {draw(st.sampled_from(_OPS))}.u32 r4, r4, r11"]
        _index(lines, 12, draw(st.sampled_from(["shift", "reverse"])),
               draw(st.integers(0, 63)), block)
        lines.append("    shl.u64 r12, r12, r2")
        if base_w:
            lines.append(f"    add.u64 r12, r12, {base_w}")
        skip = draw(st.booleans())
        if skip:        # data-dependent: lanes whose value has bit b set keep the old slot
            lines += [f"    mov_imm.u32 r13, {1 << draw(st.integers(0, 7))}",
                      "    and.u32 r14, r4, r13", "    mov_imm.u32 r15, 0",
                      "    setne.u32 p0, r14, r15", f"    bra.p0 @skip{k}"]
        lines.append("    sts.u32 [shared + r12], r4")
        if draw(st.booleans()):     # read back what this lane wrote
            lines += ["    lds.u32 r16, [shared + r12]", "    xor.u32 r4, r4, r16",
                      "    mov_imm.u32 r17, 1", "    add.u32 r4, r4, r17"]
        if draw(st.booleans()):     # one byte of its own slot
            byte = draw(st.integers(0, 3))
            lines += [f"    mov_imm.u64 r18, {byte}", "    add.u64 r18, r12, r18",
                      "    cvt.u8.u32 r19, r4", "    sts.u8 [shared + r18], r19"]
        if skip:
            lines.append(f"skip{k}:")
        if draw(st.booleans()):
            lines += [f"    mov_imm.u64 r23, {4 * k}", "    add.u64 r23, r8, r23",
                      "    stg.u32 [r24 + r23], r4"]
        lines.append("    bar.sync 0")
    if loop_at is not None:     # phases loop_at.. run again, every lane the same times
        lines.append("    loop r60, @again")
    lines += [f"    mov_imm.u64 r23, {4 * phases}", "    add.u64 r23, r8, r23",
              "    stg.u32 [r24 + r23], r4", "    exit"]
    text = "\n".join(lines) + "\n"
    seed = draw(st.integers(0, 2 ** 32 - 1))
    inputs = np.random.default_rng(seed).integers(0, 2 ** 32, grid * block, dtype=np.uint32)
    return RaceFreeCase(text, grid, block, slots, inputs)
