"""A CALL/RET branch tree in both layouts: steps, SIMD efficiency and time, checked against NumPy.

Every lane runs a loop that calls a function holding a 4-level if/else tree on
the top four bits of a per-lane pseudo-random value; each of the 16 leaves
updates an accumulator differently, and the value steps on (a 32-bit linear
congruential generator) between calls, so the lanes of a warp take different
paths on every call.

The function sits either after its caller (``natural``: the way one writes it)
or before it (``callee_first``: the program starts with a jump over the
function).  Under the scheduling rule of docs/semantics.md (the deepest call
depth first, then the minimum PC) lanes inside a call run until they return
and reconverge with their callers in either layout, so both take about the same
number of steps; the target is at most twice the steps of the callee-first
layout at every size.

Usage::

    python benchmarks/branch_tree.py            # 1e3, 1e4 and 262,144 lanes
    python benchmarks/branch_tree.py --repeat 3

:func:`branch_tree_kernel` returns the kernel text and :func:`branch_tree_expected`
the result NumPy computes, for other scripts and suites to import.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import simt  # noqa: E402

__all__ = ["LAYOUTS", "LEVELS", "ITERATIONS", "SIZES", "BLOCK", "branch_tree_kernel",
           "branch_tree_expected", "leaf_constants", "run_branch_tree"]

LAYOUTS = ("natural", "callee_first")
LEVELS = 4
ITERATIONS = 12
SIZES = (1_000, 10_000, 262_144)
BLOCK = 256
_LCG_A, _LCG_C = 1664525, 1013904223    # x <- a * x + c (mod 2**32) between calls
_MIX = 31                               # acc <- acc * 31 + leaf constant


def leaf_constants(levels: int = LEVELS) -> np.ndarray:
    """The u32 constant each leaf adds; leaf ``k`` is reached when ``x >> (32 - levels) == k``."""
    k = np.arange(1, (1 << levels) + 1, dtype=np.uint64)
    return ((k * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _tree(path: str, levels: int, leaves: np.ndarray) -> list[str]:
    """The code of the subtree at ``path`` (a string of 0/1 choices from the root)."""
    depth = len(path)
    if depth == levels:
        return [f"leaf_{path}:",
                f"    mul.u32 r11, r11, r15",
                f"    mov_imm.u32 r20, {int(leaves[int(path, 2)])}",
                f"    add.u32 r11, r11, r20",
                f"    ret"]
    return [f"node_{path or 'root'}:",
            f"    and.u32 r21, r10, r{30 + depth}",      # this level's bit of x
            f"    setne.u32 p0, r21, r34",
            f"    bra.p0 @node_{path}1" if depth + 1 < levels else f"    bra.p0 @leaf_{path}1",
            *_tree(path + "0", levels, leaves),             # the left child falls through
            *_tree(path + "1", levels, leaves)]


def branch_tree_kernel(layout: str = "natural", levels: int = LEVELS,
                       iterations: int = ITERATIONS) -> str:
    """The branch-tree kernel's assembly text.

    Arguments: ``r0`` the u32 input buffer (one value per lane), ``r1`` the u32
    output buffer, ``r2`` the lane count ``n`` (u32); lanes with a global id of
    ``n`` or more exit at once.

    Parameters
    ----------
    layout
        ``"natural"`` (the function after its caller) or ``"callee_first"``.
    levels
        Depth of the if/else tree (1 to 4); it tests the top ``levels`` bits of x.
    iterations
        Calls per lane (at least 1).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if not 1 <= levels <= 4 or iterations < 1:
        raise ValueError(f"need 1 <= levels <= 4 and iterations >= 1, got {levels}, {iterations}")
    masks = [f"    mov_imm.u32 r{30 + d}, {1 << (31 - d)}" for d in range(levels)]
    main = ["main:",
            "    mov_imm.u32 r5, 2",
            "    shl.u64 r4, r255, r5",            # byte offset of the lane's element
            "    cvt.u32.u64 r3, r255",
            "    setge.u32 p1, r3, r2",
            "    bra.p1 @done",                     # lanes past n leave
            "    ldg.u32 r10, [r0 + r4]",
            "    mov_imm.u32 r11, 0",
            f"    mov_imm.u32 r12, {iterations - 1}",   # LOOP runs its body count + 1 times
            f"    mov_imm.u32 r13, {_LCG_A}",
            f"    mov_imm.u32 r14, {_LCG_C}",
            f"    mov_imm.u32 r15, {_MIX}",
            "    mov_imm.u32 r34, 0",
            *masks,
            "again:",
            "    call @node_root",
            "    mul.u32 r10, r10, r13",
            "    add.u32 r10, r10, r14",
            "    loop r12, @again",
            "    stg.u32 [r1 + r4], r11",
            "done:",
            "    exit"]
    function = _tree("", levels, leaf_constants(levels))
    if layout == "natural":
        lines = main + function
    else:
        lines = ["    bra @main"] + function + main
    return "\n".join(lines) + "\n"


def branch_tree_expected(x: np.ndarray, levels: int = LEVELS,
                         iterations: int = ITERATIONS) -> np.ndarray:
    """What the kernel stores for the u32 inputs ``x``, computed with NumPy."""
    x = np.asarray(x, np.uint32).copy()
    acc = np.zeros_like(x)
    leaves = leaf_constants(levels)
    with np.errstate(over="ignore"):
        for _ in range(iterations):
            acc = acc * np.uint32(_MIX) + leaves[x >> np.uint32(32 - levels)]
            x = x * np.uint32(_LCG_A) + np.uint32(_LCG_C)
    return acc


def run_branch_tree(dev: simt.Device, layout: str, lanes: int, seed: int = 0,
                    repeat: int = 1) -> tuple[simt.LaunchResult, float, bool]:
    """Launch the kernel over ``lanes`` lanes; return (result, best time in s, matches NumPy)."""
    program = simt.assemble(branch_tree_kernel(layout))
    x = np.random.default_rng(seed).integers(0, 1 << 32, lanes, dtype=np.uint32)
    inp, out = dev.upload(x), dev.alloc(4 * lanes)
    grid = -(-lanes // BLOCK)
    best = float("inf")
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            res = dev.launch(program, grid=grid, block=BLOCK, args=(inp, out, np.uint32(lanes)))
            best = min(best, time.perf_counter() - start)
        ok = bool(np.array_equal(dev.download(out, np.uint32), branch_tree_expected(x)))
    finally:
        dev.free(inp)
        dev.free(out)
    return res, best, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N launches (default 3)")
    parser.add_argument("--sizes", type=lambda s: [int(float(v)) for v in s.split(",")],
                        default=list(SIZES), help="comma-separated lane counts")
    args = parser.parse_args(argv)
    dev = simt.Device()
    print(f"branch tree: {LEVELS}-level if/else in a function called {ITERATIONS} times per "
          f"lane, block {BLOCK} (best of {args.repeat})\n")
    print("| lanes | layout | steps | simd_efficiency | time | result |")
    print("|---|---|---|---|---|---|")
    failed = False
    for lanes in args.sizes:
        steps = {}
        for layout in LAYOUTS:
            res, t, ok = run_branch_tree(dev, layout, lanes, repeat=args.repeat)
            steps[layout] = res.stats.steps
            failed |= not ok
            print(f"| {lanes:,} | {layout} | {res.stats.steps:,} | "
                  f"{res.stats.simd_efficiency:.3f} | {t * 1e3:.1f} ms | "
                  f"{'ok' if ok else 'WRONG RESULT'} |")
        ratio = steps["natural"] / steps["callee_first"]
        failed |= ratio > 2
        print(f"| {lanes:,} | natural / callee_first | {ratio:.3f} | | | "
              f"{'pass' if ratio <= 2 else 'FAIL'} (target <= 2) |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
