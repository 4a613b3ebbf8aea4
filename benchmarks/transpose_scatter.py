"""A tiled transpose through shared memory and a plain permuting scatter, timed beside NumPy.

* ``transpose``: a 1024 x 1024 float32 matrix, 2-D blocks of 16 x 16 lanes on a
  2-D grid of 64 x 64 blocks.  Each block loads a 16 x 16 tile into shared
  memory (``tile[ty][tx] = in[by*16 + ty][bx*16 + tx]``), synchronizes, and
  writes it transposed (``out[bx*16 + ty][by*16 + tx] = tile[tx][ty]``).  The
  thread index comes from ``r252`` (threadIdx.x) and from ``r255`` with ``and``
  and ``shr`` (threadIdx.y, blockIdx.y), blockIdx.x from ``r253``, as a CUDA
  programmer would write it.  Checked against NumPy's ``a.T``; the baseline is
  ``np.ascontiguousarray(a.T)``.
* ``scatter``: ``y[perm[i]] = x[i]`` with a non-ascending permutation (the bit
  reversal of the lane index, so the stores' positions are distinct but not
  ascending).  Checked against and timed beside ``y[perm] = x``.

Usage::

    python benchmarks/transpose_scatter.py            # best of 5
    python benchmarks/transpose_scatter.py --repeat 3
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

__all__ = ["TRANSPOSE", "SCATTER", "run_transpose", "run_scatter"]

N = 1024
TILE = 16
SCATTER_BITS = 20

TRANSPOSE = """
; out = in.T for an N x N f32 matrix (N = gridDim.x * 16); 2-D blocks of 16 x 16,
; a 2-D grid of (N/16) x (N/16) blocks; shared = 16 * 16 * 4 bytes.
; args: r0 = in, r1 = out, r2 = N (u64), r3 = log2(N / 16) (u32)
    mov_imm.u64 r4, 255
    and.u64 r5, r255, r4            ; the lane's linear index in its block
    mov_imm.u32 r6, 4
    shr.u64 r7, r5, r6              ; ty
    cvt.u64.u32 r8, r252            ; tx
    cvt.u64.u32 r9, r253            ; bx
    mov_imm.u32 r10, 8
    shr.u64 r11, r255, r10          ; the block's linear index
    shr.u64 r11, r11, r3            ; by
    mov_imm.u64 r12, 16
    mul.u64 r13, r11, r12
    add.u64 r13, r13, r7            ; row = by * 16 + ty
    mul.u64 r14, r9, r12
    add.u64 r14, r14, r8            ; col = bx * 16 + tx
    mul.u64 r15, r13, r2
    add.u64 r15, r15, r14
    mov_imm.u32 r16, 2
    shl.u64 r15, r15, r16           ; byte offset of in[row][col]
    ldg.f32 r17, [r0 + r15]
    mul.u64 r18, r7, r12
    add.u64 r18, r18, r8
    shl.u64 r18, r18, r16           ; tile[ty][tx]
    sts.f32 [shared + r18], r17
    bar.sync 0
    mul.u64 r19, r8, r12
    add.u64 r19, r19, r7
    shl.u64 r19, r19, r16           ; tile[tx][ty]
    lds.f32 r20, [shared + r19]
    mul.u64 r21, r9, r12
    add.u64 r21, r21, r7            ; out row = bx * 16 + ty
    mul.u64 r22, r11, r12
    add.u64 r22, r22, r8            ; out col = by * 16 + tx
    mul.u64 r23, r21, r2
    add.u64 r23, r23, r22
    shl.u64 r23, r23, r16
    stg.f32 [r1 + r23], r20
    exit
"""

SCATTER = """
; y[perm[i]] = x[i] for i < n.  args: r0 = x, r1 = perm (u32), r2 = y, r3 = n (u64)
    setge.u64 p0, r255, r3
    bra.p0 @done
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    ldg.u32 r7, [r1 + r5]
    cvt.u64.u32 r8, r7
    shl.u64 r8, r8, r4
    stg.f32 [r2 + r8], r6
done:
    exit
"""


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_transpose(dev: simt.Device, repeat: int, n: int = N) -> tuple[float, float, bool]:
    """(simt seconds, NumPy seconds, result correct) of the tiled transpose."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    src, dst = dev.upload(a), dev.alloc(a.nbytes)
    blocks = n // TILE
    prog = simt.assemble(TRANSPOSE)

    def run() -> None:
        dev.launch(prog, grid=(blocks, blocks), block=(TILE, TILE),
                   args=(src, dst, np.uint64(n), np.uint32(blocks.bit_length() - 1)),
                   shared_bytes=TILE * TILE * 4)

    run()
    ok = np.array_equal(dev.download(dst, np.float32).reshape(n, n), a.T)
    t_simt = _best(run, repeat)
    t_numpy = _best(lambda: np.ascontiguousarray(a.T), repeat)
    dev.free(src)
    dev.free(dst)
    return t_simt, t_numpy, ok


def _bit_reversal(bits: int) -> np.ndarray:
    idx = np.arange(1 << bits, dtype=np.uint32)
    out = np.zeros_like(idx)
    for b in range(bits):
        out |= ((idx >> b) & 1) << (bits - 1 - b)
    return out


def run_scatter(dev: simt.Device, repeat: int, bits: int = SCATTER_BITS
                ) -> tuple[float, float, bool]:
    """(simt seconds, NumPy seconds, result correct) of ``y[perm] = x``."""
    n = 1 << bits
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32)
    perm = _bit_reversal(bits)
    bx, bp, by = dev.upload(x), dev.upload(perm), dev.alloc(4 * n)
    prog = simt.assemble(SCATTER)

    def run() -> None:
        dev.launch(prog, grid=n // 256, block=256, args=(bx, bp, by, np.uint64(n)))

    run()
    expected = np.zeros(n, np.float32)
    expected[perm] = x
    ok = np.array_equal(dev.download(by, np.float32), expected)
    y = np.zeros(n, np.float32)

    def baseline() -> None:
        y[perm] = x

    t_simt = _best(run, repeat)
    t_numpy = _best(baseline, repeat)
    for buf in (bx, bp, by):
        dev.free(buf)
    return t_simt, t_numpy, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    dev = simt.Device()
    print("| workload | simt | NumPy | ratio | result |")
    print("|---|---|---|---|---|")
    wrong = False
    for name, fn in (("tiled transpose 1024x1024 f32, 16x16 blocks", run_transpose),
                     (f"scatter 2^{SCATTER_BITS} f32, bit-reversal permutation", run_scatter)):
        t_simt, t_numpy, ok = fn(dev, args.repeat)
        wrong |= not ok
        print(f"| {name} | {t_simt * 1e3:.1f} ms | {t_numpy * 1e3:.2f} ms | "
              f"{t_simt / t_numpy:.1f}x | {'ok' if ok else 'WRONG RESULT'} |")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
