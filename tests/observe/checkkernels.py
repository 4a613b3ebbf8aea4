"""Kernels the check tests share: correct ones and the same with a barrier forgotten."""

from __future__ import annotations

SCAN_BLOCK = 64


def scan(barriers: str = "all") -> str:
    """In-place Hillis-Steele inclusive scan of u32 per block of 64 lanes (shared 256 B).

    ``barriers``: ``"all"`` (correct), ``"none"`` (every barrier forgotten) or
    ``"no_read_write"`` (no barrier between a level's read and its write).
    args: r0 = input buffer, r1 = output buffer.
    """
    bar = "    bar.sync 0"
    first = bar if barriers != "none" else ""
    between = bar if barriers == "all" else ""
    after = bar if barriers != "none" else ""
    lines = [
        "    cvt.u64.u32 r2, r252            ; tid",
        "    mov_imm.u32 r3, 2",
        "    shl.u64 r4, r255, r3            ; global byte offset",
        "    shl.u64 r5, r2, r3              ; this lane's shared slot",
        "    mov_imm.u32 r8, 0",
        "    ldg.u32 r6, [r0 + r4]",
        "    sts.u32 [shared + r5], r6",
        first,
    ]
    d = 1
    while d < SCAN_BLOCK:
        lines += [
            f"    mov_imm.u64 r7, {d}",
            "    setge.u64 p0, r2, r7",
            "    sub.u64 r9, r2, r7",
            "    sel.u64 r9, p0, r9, r2          ; read s[tid - d] (own slot if tid < d)",
            "    shl.u64 r9, r9, r3",
            "    lds.u32 r10, [shared + r9]",
            "    sel.u32 r10, p0, r10, r8",
            between,
            "    lds.u32 r11, [shared + r5]",
            "    add.u32 r11, r11, r10",
            "    sts.u32 [shared + r5], r11",
            after,
        ]
        d *= 2
    lines += ["    lds.u32 r12, [shared + r5]", "    stg.u32 [r1 + r4], r12", "    exit"]
    return "\n".join(line for line in lines if line) + "\n"


def transpose(barrier: bool = True) -> str:
    """Transpose a 32x32 u32 matrix through 16x16 shared tiles: grid 4, block 256, shared 1024.

    args: r0 = input buffer, r1 = output buffer.
    """
    return f"""
    mov_imm.u32 r2, 15
    and.u32 r3, r252, r2            ; x
    mov_imm.u32 r4, 4
    shr.u32 r5, r252, r4            ; y
    mov_imm.u32 r6, 1
    and.u32 r7, r253, r6            ; tile column
    shr.u32 r8, r253, r6            ; tile row
    mov_imm.u32 r10, 5
    mov_imm.u32 r12, 2
    shl.u32 r9, r8, r4
    add.u32 r9, r9, r5
    shl.u32 r9, r9, r10
    shl.u32 r11, r7, r4
    add.u32 r11, r11, r3
    add.u32 r9, r9, r11
    shl.u32 r9, r9, r12
    cvt.u64.u32 r13, r9
    ldg.u32 r14, [r0 + r13]
    shl.u32 r15, r252, r12
    sts.u32 [shared + r15], r14     ; tile[y][x] = in[row][col]
{"    bar.sync 0" if barrier else ""}
    shl.u32 r17, r7, r4
    add.u32 r17, r17, r5
    shl.u32 r17, r17, r10
    shl.u32 r18, r8, r4
    add.u32 r18, r18, r3
    add.u32 r17, r17, r18
    shl.u32 r17, r17, r12
    cvt.u64.u32 r19, r17
    shl.u32 r20, r3, r4
    add.u32 r20, r20, r5
    shl.u32 r20, r20, r12
    lds.u32 r22, [shared + r20]     ; tile[x][y]
    stg.u32 [r1 + r19], r22
    exit
"""
