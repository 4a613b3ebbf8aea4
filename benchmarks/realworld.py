"""The real-world kernel gallery: programs users write on day one, each checked against NumPy.

Nobody tuned simt for these kernels; they are what the performance work is measured on,
not microbenchmarks.  Every entry of :data:`KERNELS` has

* ``text(...)`` -- the Atlas-ISA program, written as one would write the CUDA kernel
  (bounds guards, shared memory with ``bar.sync`` wherever lanes exchange data, no
  atomics: counting goes through ``res.accum`` or per-lane counters);
* ``setup(dev, size)`` -- inputs built at problem size ``size`` (pixels, elements, rows,
  bodies; the lanes launched are ``Workload.lanes``), uploaded, and a
  :class:`~benchmarks.workloads.Workload` whose ``run`` launches, whose ``baseline``
  computes the same result the way one would in NumPy, and whose ``check`` compares the
  device's output with a NumPy reference (exactly where the kernel's operation order can
  be replayed in NumPy, else within a stated tolerance);
* ``small`` and ``large`` -- a size of about 1e3 lanes and the largest size that runs
  in seconds on a 2-core machine.

The CALL/RET branch tree is there twice: its subroutine after the caller (the natural
layout) and placed first.  Under plain minimum-PC scheduling the natural layout never
reconverges after a return and issues far more steps; its sizes keep it within the
generous step budget given to every launch here.

Users: ``benchmarks/realworld_report.py`` (times simt against NumPy), the asv suite
``benchmarks/bench_realworld.py``, ``tests/test_realworld.py`` and the Numba versions of
``benchmarks/numba_gallery.py`` (run by ``benchmarks/compare_peers.py``), which take
their data from this module's data functions (``mandelbrot_view``, ``normal_values``,
``spmv_matrix``, ...), the ones the set-ups use.  Nothing here is named
like an asv benchmark.

Every program takes its buffers and sizes as arguments; the race-freedom of the shared
memory kernels follows the usual rule: a barrier between any write and a read of the
same word by another lane, and every lane of a block reaches every barrier (bounds
guards skip memory accesses, never a ``bar.sync``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

import simt

from . import kernels
from .workloads import Workload

__all__ = ["RealWorldKernel", "KERNELS", "names", "get",
           "mandelbrot_text", "scan_text", "bitonic_text", "transpose_text", "spmv_text",
           "jacobi_text", "nbody_text", "histogram_resonance_text", "histogram_shared_text",
           "histogram_merge_text", "saxpy_text", "branch_tree_text", "gemm_text",
           "mandelbrot_view", "normal_values", "transpose_matrix", "spmv_matrix",
           "jacobi_grid", "nbody_bodies", "histogram_values", "saxpy_vectors",
           "branch_tree_data", "gemm_matrices"]

#: Generous step budget for the kernels whose step count grows with the data
#: (divergent loops, the CALL/RET branch tree in its natural layout).
GENEROUS_STEPS = 200_000_000


@dataclass(frozen=True)
class RealWorldKernel:
    """One gallery entry (see the module docstring)."""

    name: str
    summary: str
    text: Callable[[], str]
    setup: Callable[..., Workload]
    small: int
    large: int


def _launcher(dev: simt.Device, text: str, **launch) -> Callable[[], simt.LaunchResult]:
    prog = kernels.program(text)
    launch.setdefault("max_steps", GENEROUS_STEPS)

    def run() -> simt.LaunchResult:
        return dev.launch(prog, **launch)
    return run


def _blocks(n: int, block: int) -> int:
    return max(1, -(-n // block))


# ======================================================================================
# Mandelbrot
# ======================================================================================

def mandelbrot_text() -> str:
    """Escape-time Mandelbrot: one lane per pixel, f32, up to ``maxit`` iterations."""
    return """
; out[y*W + x] = iterations before |z| > 2 for z -> z^2 + c, c = (x0 + x dx) + i (y0 + y dy)
; args: r0=out (u32) r1=W (u32) r2=x0 r3=y0 r4=dx r5=dy (f32) r6=maxit (u32) r7=n (u64)
    setge.u64 p0, r255, r7
    bra.p0 @done
    cvt.u32.u64 r8, r255
    div.u32 r9, r8, r1              ; y
    mul.u32 r10, r9, r1
    sub.u32 r10, r8, r10            ; x
    cvt.f32.u32 r11, r10
    mul.f32 r11, r11, r4
    add.f32 r11, r11, r2            ; cr
    cvt.f32.u32 r12, r9
    mul.f32 r12, r12, r5
    add.f32 r12, r12, r3            ; ci
    mov_imm.f32 r13, 0.0            ; zr
    mov_imm.f32 r14, 0.0            ; zi
    mov_imm.u32 r15, 0              ; iterations
    mov_imm.u32 r16, 1
    mov_imm.f32 r17, 4.0
iterate:
    setge.u32 p1, r15, r6
    bra.p1 @store
    mul.f32 r18, r13, r13           ; zr^2
    mul.f32 r19, r14, r14           ; zi^2
    add.f32 r20, r18, r19
    setgt.f32 p2, r20, r17
    bra.p2 @store
    mul.f32 r21, r13, r14
    add.f32 r21, r21, r21
    add.f32 r14, r21, r12           ; zi = 2 zr zi + ci
    sub.f32 r13, r18, r19
    add.f32 r13, r13, r11           ; zr = zr^2 - zi^2 + cr
    add.u32 r15, r15, r16
    bra @iterate
store:
    mov_imm.u32 r22, 2
    shl.u64 r23, r255, r22
    stg.u32 [r0 + r23], r15
done:
    exit
"""


def mandelbrot_numpy(width: int, height: int, x0, y0, dx, dy, maxit: int) -> np.ndarray:
    """The kernel's iteration counts, with its f32 operations in its order (exact)."""
    f = np.float32
    idx = np.arange(width * height, dtype=np.uint32)
    cr = (idx % width).astype(f) * f(dx) + f(x0)
    ci = (idx // width).astype(f) * f(dy) + f(y0)
    count = np.zeros(idx.size, np.uint32)
    live = np.arange(idx.size)
    zr = np.zeros(idx.size, f)
    zi = np.zeros(idx.size, f)
    for _ in range(maxit):
        zr2, zi2 = zr * zr, zi * zi
        inside = ~((zr2 + zi2) > f(4))
        live, zr, zi, zr2, zi2 = live[inside], zr[inside], zi[inside], zr2[inside], zi2[inside]
        if not live.size:
            break
        t = zr * zi
        zi = (t + t) + ci[live]
        zr = (zr2 - zi2) + cr[live]
        count[live] += 1
    return count


def mandelbrot_view(size: int) -> tuple[int, int, np.float32, np.float32, np.float32,
                                         np.float32]:
    """``(width, height, x0, y0, dx, dy)``: about ``size`` pixels over [-2, 0.5] x [-1.25, 1.25]."""
    width = max(4, int(round(math.sqrt(size))))
    height = max(1, size // width)
    f = np.float32
    return width, height, f(-2.0), f(-1.25), f(2.5 / width), f(2.5 / height)


def mandelbrot_setup(dev: simt.Device, size: int, maxit: int = 256) -> Workload:
    """A square image of about ``size`` pixels over [-2, 0.5] x [-1.25, 1.25]."""
    width, height, x0, y0, dx, dy = mandelbrot_view(size)
    n = width * height
    out = dev.alloc(4 * n)
    block = 256
    run = _launcher(dev, mandelbrot_text(), grid=_blocks(n, block), block=block,
                    args=(out, np.uint32(width), x0, y0, dx, dy, np.uint32(maxit), np.uint64(n)))
    expected = mandelbrot_numpy(width, height, x0, y0, dx, dy, maxit)

    def check() -> bool:
        return bool(np.array_equal(dev.download(out, np.uint32), expected))

    return Workload(dev, run, check, _blocks(n, block) * block,
                    lambda: mandelbrot_numpy(width, height, x0, y0, dx, dy, maxit), [out])


# ======================================================================================
# Block-wide inclusive scan (Hillis-Steele)
# ======================================================================================

def scan_text() -> str:
    """Inclusive scan of each block's elements, Hillis-Steele in shared memory."""
    return """
; out[i] = sum of in[j] for j from the start of i's block to i (inclusive), f32
; args: r0=in r1=out (f32) r2=n (u64); blockDim a power of two; shared = 4 * blockDim
    mov_imm.u32 r3, 2
    mov_imm.u32 r10, 1
    mov_imm.f32 r4, 0.0
    setge.u64 p0, r255, r2
    bra.p0 @loaded
    shl.u64 r5, r255, r3
    ldg.f32 r4, [r0 + r5]
loaded:
    shl.u32 r6, r252, r3            ; my slot
    sts.f32 [shared + r6], r4
    bar.sync 0
    mov_imm.u32 r7, 1               ; distance d
step:
    setge.u32 p1, r7, r254
    bra.p1 @finish
    setlt.u32 p2, r252, r7
    bra.p2 @publish
    sub.u32 r8, r252, r7
    shl.u32 r8, r8, r3
    lds.f32 r9, [shared + r8]       ; s[t - d]
    add.f32 r4, r4, r9
publish:
    bar.sync 0                      ; every lane has read before any lane writes
    sts.f32 [shared + r6], r4
    bar.sync 0
    shl.u32 r7, r7, r10
    bra @step
finish:
    bra.p0 @done
    stg.f32 [r1 + r5], r4
done:
    exit
"""


def scan_numpy(x: np.ndarray, block: int) -> np.ndarray:
    """Hillis-Steele's sums in its order (exact for f32)."""
    s = np.zeros(_blocks(x.size, block) * block, np.float32)
    s[:x.size] = x
    s = s.reshape(-1, block)
    d = 1
    while d < block:
        s[:, d:] = s[:, d:] + s[:, :-d]
        d *= 2
    return s.reshape(-1)[:x.size]


def normal_values(size: int, seed: int = 0) -> np.ndarray:
    """``size`` standard-normal f32 values (the scan's and the bitonic sort's input)."""
    return np.random.default_rng(seed).standard_normal(size).astype(np.float32)


def scan_setup(dev: simt.Device, size: int, block: int = 256, seed: int = 0) -> Workload:
    """``size`` standard-normal f32 values, scanned per block of ``block``."""
    x = normal_values(size, seed)
    bufs = [dev.upload(x), dev.alloc(4 * size)]
    blocks = _blocks(size, block)
    run = _launcher(dev, scan_text(), grid=blocks, block=block,
                    args=(*bufs, np.uint64(size)), shared_bytes=4 * block)
    expected = scan_numpy(x, block)
    padded = np.zeros(blocks * block, np.float32)
    padded[:size] = x
    rows = padded.reshape(-1, block)

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[1], np.float32), expected))

    return Workload(dev, run, check, blocks * block, lambda: np.cumsum(rows, axis=1), bufs)


# ======================================================================================
# Bitonic sort of each block in shared memory
# ======================================================================================

def bitonic_text() -> str:
    """Bitonic sort of each block's elements (ascending), one element per lane."""
    return """
; each block's blockDim elements of in, sorted ascending into out (+inf past n)
; args: r0=in r1=out (f32) r2=n (u64); blockDim a power of two; shared = 4 * blockDim
    mov_imm.u32 r3, 2
    mov_imm.u32 r4, 1
    mov_imm.u32 r5, 0
    mov_imm.f32 r6, inf
    setge.u64 p0, r255, r2
    bra.p0 @loaded
    shl.u64 r7, r255, r3
    ldg.f32 r6, [r0 + r7]
loaded:
    shl.u32 r8, r252, r3            ; my slot
    sts.f32 [shared + r8], r6
    bar.sync 0
    mov_imm.u32 r9, 2               ; k: size of the bitonic sequences being merged
merge:
    setgt.u32 p1, r9, r254
    bra.p1 @sorted
    shr.u32 r10, r9, r4             ; j = k / 2
exchange:
    xor.u32 r11, r252, r10          ; partner
    setle.u32 p2, r11, r252         ; the lower lane of a pair does the exchange
    bra.p2 @sync
    shl.u32 r12, r11, r3
    lds.f32 r13, [shared + r8]
    lds.f32 r14, [shared + r12]
    min.f32 r15, r13, r14
    max.f32 r16, r13, r14
    and.u32 r17, r252, r9
    seteq.u32 p3, r17, r5           ; ascending half
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
    bra.p0 @done
    lds.f32 r20, [shared + r8]
    stg.f32 [r1 + r7], r20
done:
    exit
"""


def bitonic_setup(dev: simt.Device, size: int, block: int = 256, seed: int = 0) -> Workload:
    """``size`` standard-normal f32 values, each block of ``block`` sorted."""
    x = normal_values(size, seed)
    blocks = _blocks(size, block)
    bufs = [dev.upload(x), dev.alloc(4 * size)]
    run = _launcher(dev, bitonic_text(), grid=blocks, block=block,
                    args=(*bufs, np.uint64(size)), shared_bytes=4 * block)
    padded = np.full(blocks * block, np.inf, np.float32)
    padded[:size] = x
    rows = padded.reshape(-1, block)
    expected = np.sort(rows, axis=1).reshape(-1)[:size]

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[1], np.float32), expected))

    return Workload(dev, run, check, blocks * block, lambda: np.sort(rows, axis=1), bufs)


# ======================================================================================
# Tiled transpose through shared memory, 16 x 16 blocks
# ======================================================================================

TILE = 16


def transpose_text() -> str:
    """out = in^T through a padded 16x16 shared tile; 2-D blocks, lane ids from r255."""
    return """
; out[c, r] = in[r, c] for an R x C f32 matrix; block (16, 16), grid (ceil(C/16), ceil(R/16))
; args: r0=in r1=out (f32) r2=R r3=C r4=grid x (u32); shared = 16 * 17 * 4
    cvt.u32.u64 r5, r255
    mov_imm.u32 r6, 255
    and.u32 r7, r5, r6              ; lane in block
    mov_imm.u32 r8, 15
    and.u32 r9, r7, r8              ; tx
    mov_imm.u32 r10, 4
    shr.u32 r11, r7, r10            ; ty
    mov_imm.u32 r12, 8
    shr.u32 r13, r5, r12            ; block, linear
    div.u32 r14, r13, r4            ; block y
    shl.u32 r15, r253, r10          ; first column of the tile
    shl.u32 r16, r14, r10           ; first row of the tile
    mov_imm.u32 r17, 17
    mov_imm.u32 r18, 2
    add.u32 r19, r16, r11           ; row read
    add.u32 r20, r15, r9            ; column read
    setge.u32 p0, r19, r2
    bra.p0 @loaded
    setge.u32 p1, r20, r3
    bra.p1 @loaded
    mul.u32 r21, r19, r3
    add.u32 r21, r21, r20
    cvt.u64.u32 r22, r21
    shl.u64 r22, r22, r18
    ldg.f32 r23, [r0 + r22]
    mul.u32 r24, r11, r17
    add.u32 r24, r24, r9
    shl.u32 r24, r24, r18           ; tile[ty][tx] (rows padded to 17)
    sts.f32 [shared + r24], r23
loaded:
    bar.sync 0
    add.u32 r25, r15, r11           ; row written (a column of in)
    add.u32 r26, r16, r9            ; column written (a row of in)
    setge.u32 p2, r25, r3
    bra.p2 @done
    setge.u32 p3, r26, r2
    bra.p3 @done
    mul.u32 r27, r9, r17
    add.u32 r27, r27, r11
    shl.u32 r27, r27, r18           ; tile[tx][ty]
    lds.f32 r28, [shared + r27]
    mul.u32 r29, r25, r2
    add.u32 r29, r29, r26
    cvt.u64.u32 r30, r29
    shl.u64 r30, r30, r18
    stg.f32 [r1 + r30], r28
done:
    exit
"""


def transpose_matrix(size: int, seed: int = 0) -> np.ndarray:
    """A standard-normal f32 matrix of about ``size`` elements, R x (R + 5) (ragged tiles)."""
    rows = max(1, int(math.sqrt(size)))
    return np.random.default_rng(seed).standard_normal((rows, rows + 5)).astype(np.float32)


def transpose_setup(dev: simt.Device, size: int, seed: int = 0) -> Workload:
    """A standard-normal f32 matrix of about ``size`` elements, R x (R + 5) (ragged tiles)."""
    a = transpose_matrix(size, seed)
    rows, cols = a.shape
    bufs = [dev.upload(a), dev.alloc(a.nbytes)]
    gx, gy = _blocks(cols, TILE), _blocks(rows, TILE)
    run = _launcher(dev, transpose_text(), grid=(gx, gy), block=(TILE, TILE),
                    args=(*bufs, np.uint32(rows), np.uint32(cols), np.uint32(gx)),
                    shared_bytes=TILE * (TILE + 1) * 4)
    expected = a.T.copy()

    def check() -> bool:
        got = dev.download(bufs[1], np.float32).reshape(cols, rows)
        return bool(np.array_equal(got, expected))

    return Workload(dev, run, check, gx * gy * TILE * TILE, lambda: a.T.copy(), bufs)


# ======================================================================================
# CSR sparse matrix-vector product, one lane per row
# ======================================================================================

def spmv_text() -> str:
    """y = A x for a CSR matrix; each lane walks its row."""
    return """
; y[row] = sum over k in [rowptr[row], rowptr[row+1]) of val[k] * x[col[k]], in k order
; args: r0=rowptr (u32) r1=col (u32) r2=val (f32) r3=x (f32) r4=y (f32) r5=rows (u64)
    setge.u64 p0, r255, r5
    bra.p0 @done
    mov_imm.u32 r6, 2
    mov_imm.u64 r7, 4
    mov_imm.u32 r8, 1
    shl.u64 r9, r255, r6
    ldg.u32 r10, [r0 + r9]          ; k = start
    add.u64 r11, r9, r7
    ldg.u32 r12, [r0 + r11]         ; end
    mov_imm.f32 r13, 0.0
row:
    setge.u32 p1, r10, r12
    bra.p1 @store
    cvt.u64.u32 r14, r10
    shl.u64 r14, r14, r6
    ldg.u32 r15, [r1 + r14]
    ldg.f32 r16, [r2 + r14]
    cvt.u64.u32 r17, r15
    shl.u64 r17, r17, r6
    ldg.f32 r18, [r3 + r17]
    mul.f32 r19, r16, r18
    add.f32 r13, r13, r19
    add.u32 r10, r10, r8
    bra @row
store:
    stg.f32 [r4 + r9], r13
done:
    exit
"""


def spmv_matrix(rows: int, mean_nnz: int = 8, seed: int = 0):
    """A random CSR matrix (rows x rows; 0 to 2 * ``mean_nnz`` entries a row) and a vector."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 2 * mean_nnz + 1, rows)
    rowptr = np.zeros(rows + 1, np.uint32)
    np.cumsum(lengths, out=rowptr[1:])
    nnz = int(rowptr[-1])
    col = rng.integers(0, rows, nnz).astype(np.uint32)
    val = rng.standard_normal(nnz).astype(np.float32)
    x = rng.standard_normal(rows).astype(np.float32)
    return rowptr, col, val, x


def spmv_numpy(rowptr, col, val, x) -> np.ndarray:
    """The kernel's sums, each row in k order (exact for f32)."""
    start, lengths = rowptr[:-1].astype(np.int64), np.diff(rowptr).astype(np.int64)
    y = np.zeros(lengths.size, np.float32)
    for k in range(int(lengths.max(initial=0))):
        live = np.flatnonzero(lengths > k)
        j = start[live] + k
        y[live] = y[live] + val[j] * x[col[j]]
    return y


def spmv_reduceat(rowptr, col, val, x) -> np.ndarray:
    """SpMV the NumPy way: products, then ``np.add.reduceat`` per row (empty rows 0)."""
    products = val * x[col]
    if not products.size:
        return np.zeros(rowptr.size - 1, np.float32)
    starts = np.minimum(rowptr[:-1], products.size - 1).astype(np.intp)
    y = np.add.reduceat(products, starts)
    y[rowptr[:-1] == rowptr[1:]] = 0
    return y


def spmv_setup(dev: simt.Device, size: int, seed: int = 0) -> Workload:
    """A ``size``-row random CSR matrix, 8 nonzeros a row on average."""
    rowptr, col, val, x = spmv_matrix(size, seed=seed)
    bufs = [dev.upload(rowptr), dev.upload(col if col.size else np.zeros(1, np.uint32)),
            dev.upload(val if val.size else np.zeros(1, np.float32)), dev.upload(x),
            dev.alloc(4 * size)]
    block = 128
    run = _launcher(dev, spmv_text(), grid=_blocks(size, block), block=block,
                    args=(*bufs, np.uint64(size)))
    expected = spmv_numpy(rowptr, col, val, x)

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[4], np.float32), expected))

    return Workload(dev, run, check, _blocks(size, block) * block,
                    lambda: spmv_reduceat(rowptr, col, val, x), bufs)


# ======================================================================================
# Jacobi step of the 2-D Laplace equation
# ======================================================================================

def jacobi_text() -> str:
    """One Jacobi sweep: the mean of the four neighbours inside, the border copied."""
    return """
; out[i,j] = ((in[i-1,j] + in[i+1,j]) + in[i,j-1] + in[i,j+1]) * 0.25 inside, in[i,j] on the border
; args: r0=in r1=out (f32) r2=R r3=C (u32) r4=n = R*C (u64)
    setge.u64 p0, r255, r4
    bra.p0 @done
    cvt.u32.u64 r5, r255
    div.u32 r6, r5, r3              ; i
    mul.u32 r7, r6, r3
    sub.u32 r7, r5, r7              ; j
    mov_imm.u32 r8, 2
    shl.u64 r9, r255, r8
    ldg.f32 r10, [r0 + r9]
    mov_imm.u32 r11, 0
    mov_imm.u32 r12, 1
    seteq.u32 p1, r6, r11
    bra.p1 @store
    seteq.u32 p2, r7, r11
    bra.p2 @store
    sub.u32 r13, r2, r12
    seteq.u32 p3, r6, r13
    bra.p3 @store
    sub.u32 r14, r3, r12
    seteq.u32 p4, r7, r14
    bra.p4 @store
    cvt.u64.u32 r15, r3
    shl.u64 r15, r15, r8            ; row pitch, bytes
    mov_imm.u64 r16, 4
    sub.u64 r17, r9, r15
    ldg.f32 r18, [r0 + r17]         ; up
    add.u64 r17, r9, r15
    ldg.f32 r19, [r0 + r17]         ; down
    sub.u64 r17, r9, r16
    ldg.f32 r20, [r0 + r17]         ; left
    add.u64 r17, r9, r16
    ldg.f32 r21, [r0 + r17]         ; right
    add.f32 r22, r18, r19
    add.f32 r22, r22, r20
    add.f32 r22, r22, r21
    mov_imm.f32 r23, 0.25
    mul.f32 r10, r22, r23
store:
    stg.f32 [r1 + r9], r10
done:
    exit
"""


def jacobi_numpy(grid: np.ndarray) -> np.ndarray:
    """One Jacobi sweep in the kernel's operation order (exact for f32)."""
    out = grid.copy()
    out[1:-1, 1:-1] = ((grid[:-2, 1:-1] + grid[2:, 1:-1]) + grid[1:-1, :-2]
                       + grid[1:-1, 2:]) * np.float32(0.25)
    return out


def jacobi_grid(size: int, seed: int = 0) -> np.ndarray:
    """A square-ish f32 grid of about ``size`` points, uniform random values."""
    rows = max(3, int(math.sqrt(size)))
    cols = max(3, size // rows)
    return np.random.default_rng(seed).random((rows, cols), np.float32)


def jacobi_setup(dev: simt.Device, size: int, seed: int = 0) -> Workload:
    """A square-ish grid of about ``size`` points, uniform random values."""
    g = jacobi_grid(size, seed)
    rows, cols = g.shape
    n = rows * cols
    bufs = [dev.upload(g), dev.alloc(g.nbytes)]
    block = 256
    run = _launcher(dev, jacobi_text(), grid=_blocks(n, block), block=block,
                    args=(*bufs, np.uint32(rows), np.uint32(cols), np.uint64(n)))
    expected = jacobi_numpy(g)

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[1], np.float32).reshape(rows, cols),
                                   expected))

    return Workload(dev, run, check, _blocks(n, block) * block, lambda: jacobi_numpy(g), bufs)


# ======================================================================================
# N-body: all-pairs accelerations, tiled through shared memory
# ======================================================================================

def nbody_text() -> str:
    """Softened gravitational accelerations, all pairs, one body a lane, tiles in shared memory."""
    return """
; a_i = sum over j of m_j d / (|d|^2 + eps^2)^(3/2), d = r_j - r_i, all f32, j in order
; args: r0=x r1=y r2=z r3=m (f32) r4=ax r5=ay r6=az (f32) r7=N (u32, a multiple of
; blockDim) r8=eps^2 (f32); shared = 16 * blockDim
    mov_imm.u32 r9, 2
    shl.u64 r10, r255, r9
    ldg.f32 r11, [r0 + r10]         ; my position
    ldg.f32 r12, [r1 + r10]
    ldg.f32 r13, [r2 + r10]
    mov_imm.f32 r14, 0.0
    mov_imm.f32 r15, 0.0
    mov_imm.f32 r16, 0.0
    shl.u32 r17, r252, r9           ; my slot in each plane of the tile
    shl.u32 r18, r254, r9           ; bytes in a plane
    add.u32 r19, r17, r18
    add.u32 r20, r19, r18
    add.u32 r21, r20, r18
    mov_imm.u32 r22, 0              ; first body of the tile
    mov_imm.u32 r36, 4
tile:
    add.u32 r23, r22, r252
    cvt.u64.u32 r24, r23
    shl.u64 r24, r24, r9
    ldg.f32 r25, [r0 + r24]
    sts.f32 [shared + r17], r25
    ldg.f32 r25, [r1 + r24]
    sts.f32 [shared + r19], r25
    ldg.f32 r25, [r2 + r24]
    sts.f32 [shared + r20], r25
    ldg.f32 r25, [r3 + r24]
    sts.f32 [shared + r21], r25
    bar.sync 0
    mov_imm.u32 r26, 0              ; body in the tile, as a byte offset
body:
    lds.f32 r27, [shared + r26]
    sub.f32 r27, r27, r11           ; dx
    add.u32 r28, r26, r18
    lds.f32 r29, [shared + r28]
    sub.f32 r29, r29, r12           ; dy
    add.u32 r28, r28, r18
    lds.f32 r30, [shared + r28]
    sub.f32 r30, r30, r13           ; dz
    add.u32 r28, r28, r18
    lds.f32 r31, [shared + r28]     ; m
    mul.f32 r32, r27, r27
    mul.f32 r33, r29, r29
    add.f32 r32, r32, r33
    mul.f32 r33, r30, r30
    add.f32 r32, r32, r33
    add.f32 r32, r32, r8
    rsqrt.f32 r33, r32
    mul.f32 r34, r33, r33
    mul.f32 r34, r34, r33
    mul.f32 r34, r34, r31           ; m / d^3
    mul.f32 r35, r27, r34
    add.f32 r14, r14, r35
    mul.f32 r35, r29, r34
    add.f32 r15, r15, r35
    mul.f32 r35, r30, r34
    add.f32 r16, r16, r35
    add.u32 r26, r26, r36
    setlt.u32 p0, r26, r18
    bra.p0 @body
    bar.sync 0                      ; the tile is read by all before it is replaced
    add.u32 r22, r22, r254
    setlt.u32 p1, r22, r7
    bra.p1 @tile
    stg.f32 [r4 + r10], r14
    stg.f32 [r5 + r10], r15
    stg.f32 [r6 + r10], r16
    exit
"""


def nbody_numpy(x, y, z, m, eps2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's accelerations, bodies j in order, its f32 operations (exact)."""
    f = np.float32
    ax, ay, az = (np.zeros(x.size, f) for _ in range(3))
    one = f(1)
    for j in range(x.size):
        dx, dy, dz = x[j] - x, y[j] - y, z[j] - z
        d2 = ((dx * dx + dy * dy) + dz * dz) + eps2
        inv = one / np.sqrt(d2)
        s = ((inv * inv) * inv) * m[j]
        ax, ay, az = ax + dx * s, ay + dy * s, az + dz * s
    return ax, ay, az


def nbody_broadcast(x, y, z, m, eps2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs the NumPy way: N x N differences, then sums along rows."""
    dx, dy, dz = x[None, :] - x[:, None], y[None, :] - y[:, None], z[None, :] - z[:, None]
    s = m[None, :] / np.sqrt(dx * dx + dy * dy + dz * dz + eps2) ** 3
    return (dx * s).sum(axis=1), (dy * s).sum(axis=1), (dz * s).sum(axis=1)


#: The n-body softening, squared.
NBODY_EPS2 = np.float32(1e-3)


def nbody_bodies(size: int, block: int = 128, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``(x, y, z, m)``: ``size`` bodies (rounded up to whole blocks) in a unit cube,
    masses in [0.5, 1), f32."""
    n = _blocks(size, block) * block
    rng = np.random.default_rng(seed)
    x, y, z = (rng.random(n, np.float32) for _ in range(3))
    m = (np.float32(0.5) + np.float32(0.5) * rng.random(n, np.float32)).astype(np.float32)
    return x, y, z, m


def nbody_setup(dev: simt.Device, size: int, block: int = 128, seed: int = 0) -> Workload:
    """``size`` bodies (rounded up to whole blocks) in a unit cube, masses in [0.5, 1)."""
    x, y, z, m = nbody_bodies(size, block, seed)
    n = x.size
    eps2 = NBODY_EPS2
    bufs = [dev.upload(v) for v in (x, y, z, m)] + [dev.alloc(4 * n) for _ in range(3)]
    run = _launcher(dev, nbody_text(), grid=n // block, block=block,
                    args=(*bufs, np.uint32(n), eps2), shared_bytes=16 * block)
    expected = nbody_numpy(x, y, z, m, eps2)

    def check() -> bool:
        return all(np.array_equal(dev.download(buf, np.float32), want)
                   for buf, want in zip(bufs[4:], expected))

    return Workload(dev, run, check, n, lambda: nbody_broadcast(x, y, z, m, eps2), bufs)


# ======================================================================================
# Histograms of 96 bins: through res.accum, and through per-lane shared counters
# ======================================================================================

BINS = 96


def histogram_resonance_text() -> str:
    """Histogram of f32 values in [0, 1) into 96 bins by ``res.accum``."""
    return """
; resonance[min(floor(96 v), 95)] += 1 for each v of data
; args: r0=data (f32) r1=n (u64)
    setge.u64 p0, r255, r1
    bra.p0 @done
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    ldg.f32 r4, [r0 + r3]
    mov_imm.f32 r5, 96.0
    mul.f32 r4, r4, r5
    cvt.u32.f32 r6, r4
    mov_imm.u32 r7, 95
    min.u32 r6, r6, r7
    cvt.u8.u32 r8, r6
    mov_imm.f64 r9, 1.0
    res.accum r8, r9
done:
    exit
"""


def histogram_bins(v: np.ndarray) -> np.ndarray:
    """The kernels' bin of each value: ``min(floor(96 v), 95)`` computed in f32."""
    return np.minimum((v * np.float32(BINS)).astype(np.uint32), BINS - 1)


def histogram_values(size: int, seed: int = 0) -> np.ndarray:
    """``size`` f32 values in [0, 1), beta(2, 5) distributed (uneven bins)."""
    rng = np.random.default_rng(seed)
    return (rng.beta(2.0, 5.0, size)).astype(np.float32)     # uneven bins


def histogram_resonance_setup(dev: simt.Device, size: int, seed: int = 0) -> Workload:
    """``size`` values in [0, 1), counted into the launch's 96-class resonance."""
    v = histogram_values(size, seed)
    buf = dev.upload(v)
    block = 256
    run = _launcher(dev, histogram_resonance_text(), grid=_blocks(size, block), block=block,
                    args=(buf, np.uint64(size)))
    expected = np.bincount(histogram_bins(v), minlength=BINS).astype(np.float64)
    last: list[simt.LaunchResult] = []

    def launch() -> simt.LaunchResult:
        last[:] = [run()]
        return last[0]

    def check() -> bool:
        return bool(last) and bool(np.array_equal(last[0].resonance, expected))

    return Workload(dev, launch, check, _blocks(size, block) * block,
                    lambda: np.bincount(histogram_bins(v), minlength=BINS), [buf])


def histogram_shared_text() -> str:
    """Per-block histograms: each lane counts in its own shared-memory column, then the
    block sums the columns (no atomics)."""
    return """
; partial[block, bin] = number of this block's values in bin; a block covers blockDim * E
; consecutive values, lane t takes those at t, t + blockDim, ...; 96 bins
; args: r0=data (f32) r1=partial (u32, blocks x 96) r2=n (u64) r3=E (u32, >= 1)
; shared = 96 * 4 * blockDim (counter of bin b, lane t at (b * blockDim + t) * 4)
    mov_imm.u32 r4, 2
    mov_imm.u32 r5, 1
    mov_imm.u32 r6, 0
    mov_imm.u32 r7, 96
    mov_imm.u32 r27, 4
    shl.u32 r8, r252, r4            ; t * 4
    shl.u32 r9, r254, r4            ; blockDim * 4: from one bin to the next
    mov.u32 r10, r8
    mov_imm.u32 r11, 95             ; LOOP runs count + 1 times
clear:
    sts.u32 [shared + r10], r6
    add.u32 r10, r10, r9
    loop r11, @clear
    mul.u32 r12, r253, r254
    mul.u32 r12, r12, r3
    add.u32 r12, r12, r252          ; my first value
    cvt.u32.u64 r13, r2
    sub.u32 r14, r3, r5
    mov_imm.f32 r15, 96.0
    mov_imm.u32 r16, 95
count:
    setge.u32 p0, r12, r13
    bra.p0 @next
    cvt.u64.u32 r17, r12
    shl.u64 r17, r17, r4
    ldg.f32 r18, [r0 + r17]
    mul.f32 r18, r18, r15
    cvt.u32.f32 r19, r18
    min.u32 r19, r19, r16
    mul.u32 r20, r19, r9
    add.u32 r20, r20, r8
    lds.u32 r21, [shared + r20]
    add.u32 r21, r21, r5
    sts.u32 [shared + r20], r21
next:
    add.u32 r12, r12, r254
    loop r14, @count
    bar.sync 0                      ; all counters final before the columns are summed
    mov.u32 r22, r252               ; bin
reduce:
    setge.u32 p1, r22, r7
    bra.p1 @done
    mul.u32 r23, r22, r9
    mov_imm.u32 r24, 0
    sub.u32 r25, r254, r5
sum:
    lds.u32 r26, [shared + r23]
    add.u32 r24, r24, r26
    add.u32 r23, r23, r27
    loop r25, @sum
    mul.u32 r28, r253, r7
    add.u32 r28, r28, r22
    cvt.u64.u32 r29, r28
    shl.u64 r29, r29, r4
    stg.u32 [r1 + r29], r24
    add.u32 r22, r22, r254
    bra @reduce
done:
    exit
"""


def histogram_merge_text() -> str:
    """The final histogram from the per-block histograms: one lane a bin."""
    return """
; hist[bin] = sum over blocks of partial[block, bin]; 96 lanes
; args: r0=partial (u32, blocks x 96) r1=hist (u32) r2=blocks (u32)
    cvt.u32.u64 r3, r255
    mov_imm.u32 r4, 96
    setge.u32 p0, r3, r4
    bra.p0 @done
    mov_imm.u32 r5, 0
    mov_imm.u32 r6, 0
    mov_imm.u32 r7, 2
    mov_imm.u32 r8, 1
gather:
    mul.u32 r9, r6, r4
    add.u32 r9, r9, r3
    cvt.u64.u32 r10, r9
    shl.u64 r10, r10, r7
    ldg.u32 r11, [r0 + r10]
    add.u32 r5, r5, r11
    add.u32 r6, r6, r8
    setlt.u32 p1, r6, r2
    bra.p1 @gather
    shl.u64 r12, r255, r7
    stg.u32 [r1 + r12], r5
done:
    exit
"""


def histogram_shared_setup(dev: simt.Device, size: int, per_lane: int = 16, block: int = 64,
                           seed: int = 0) -> Workload:
    """``size`` values in [0, 1): per-block histograms in shared memory, then one merge."""
    v = histogram_values(size, seed)
    chunk = block * per_lane
    blocks = _blocks(size, chunk)
    bufs = [dev.upload(v), dev.alloc(4 * BINS * blocks), dev.alloc(4 * BINS)]
    count = _launcher(dev, histogram_shared_text(), grid=blocks, block=block,
                      args=(bufs[0], bufs[1], np.uint64(size), np.uint32(per_lane)),
                      shared_bytes=4 * BINS * block)
    merge = _launcher(dev, histogram_merge_text(), grid=1, block=BINS,
                      args=(bufs[1], bufs[2], np.uint32(blocks)))

    def run() -> simt.LaunchResult:
        count()
        return merge()

    expected = np.bincount(histogram_bins(v), minlength=BINS).astype(np.uint32)

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[2], np.uint32), expected))

    return Workload(dev, run, check, blocks * block,
                    lambda: np.bincount(histogram_bins(v), minlength=BINS), bufs)


# ======================================================================================
# Grid-stride SAXPY
# ======================================================================================

def saxpy_text() -> str:
    """out = a x + y with a grid-stride loop: fewer lanes than elements."""
    return """
; out[i] = a * x[i] + y[i] for i = id, id + L, id + 2L, ... < n (L lanes in the grid)
; args: r0=x r1=y r2=out (f32) r3=n (u64) r4=L (u64) r5=a (f32)
    mov_imm.u32 r6, 2
    mov.u64 r7, r255
    shl.u64 r8, r4, r6              ; stride, bytes
    shl.u64 r9, r7, r6
next:
    setge.u64 p0, r7, r3
    bra.p0 @done
    ldg.f32 r10, [r0 + r9]
    ldg.f32 r11, [r1 + r9]
    mul.f32 r12, r5, r10
    add.f32 r12, r12, r11
    stg.f32 [r2 + r9], r12
    add.u64 r7, r7, r4
    add.u64 r9, r9, r8
    bra @next
done:
    exit
"""


#: SAXPY's scalar.
SAXPY_A = np.float32(2.5)


def saxpy_vectors(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: ``size`` standard-normal f32 values each."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size, np.float32), rng.standard_normal(size, np.float32)


def saxpy_setup(dev: simt.Device, size: int, per_lane: int = 8, seed: int = 0) -> Workload:
    """``size`` elements, about ``size / per_lane`` lanes (whole blocks of 256)."""
    x, y = saxpy_vectors(size, seed)
    a = SAXPY_A
    block = 256
    blocks = _blocks(_blocks(size, per_lane), block)
    lanes = blocks * block
    bufs = [dev.upload(x), dev.upload(y), dev.alloc(4 * size)]
    run = _launcher(dev, saxpy_text(), grid=blocks, block=block,
                    args=(*bufs, np.uint64(size), np.uint64(lanes), a))

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[2], np.float32), a * x + y))

    return Workload(dev, run, check, lanes, lambda: a * x + y, bufs)


# ======================================================================================
# CALL/RET: a 4-level if/else tree in a subroutine called from a loop, both layouts
# ======================================================================================

#: The 15 split points of the tree (u32) and the value of each of its 16 leaves.
TREE_SPLITS = tuple((k + 1) << 28 for k in range(15))
TREE_LEAVES = tuple(k * k + 3 for k in range(16))


def _tree_subroutine() -> str:
    """``r21 = TREE_LEAVES[number of splits <= r20]`` by 4 nested if/else, then ret."""
    lines = ["classify:                       ; in r20 (u32), out r21"]

    def node(lo: int, hi: int, label: str) -> None:
        if hi - lo == 1:
            lines.append(f"{label}:")
            lines.append(f"    mov_imm.u32 r21, {TREE_LEAVES[lo]}")
            lines.append("    ret")
            return
        mid = (lo + hi) // 2                     # leaves [lo, mid) lie below split mid-1
        if label != "classify":
            lines.append(f"{label}:")
        lines.append(f"    mov_imm.u32 r22, {TREE_SPLITS[mid - 1]}")
        lines.append("    setlt.u32 p1, r20, r22")
        lines.append(f"    bra.p1 @tree_{lo}_{mid}")
        node(mid, hi, f"tree_{mid}_{hi}")
        node(lo, mid, f"tree_{lo}_{mid}")
    node(0, 16, "classify")
    return "\n".join(lines) + "\n"


def branch_tree_text(layout: str = "natural") -> str:
    """The branch-tree kernel with the subroutine after its caller (``"natural"``) or
    placed first (``"callee_first"``, jumped over at the start)."""
    main = """
main:
; out[i] = sum over k < K of leaf(data[k * L + i]); leaf by the 4-level tree in @classify
; args: r0=data (u32, K x L) r1=out (u32) r2=L (u64) r3=K (u32, >= 1)
    setge.u64 p0, r255, r2
    bra.p0 @done
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    shl.u64 r6, r2, r4              ; L * 4: from one round to the next
    mov.u64 r7, r5
    mov_imm.u32 r8, 0               ; sum
    mov_imm.u32 r9, 1
    sub.u32 r10, r3, r9             ; LOOP runs count + 1 times
round:
    ldg.u32 r20, [r0 + r7]
    call @classify
    add.u32 r8, r8, r21
    add.u64 r7, r7, r6
    loop r10, @round
    stg.u32 [r1 + r5], r8
done:
    exit
"""
    tree = _tree_subroutine()
    if layout == "natural":
        return main + tree
    if layout == "callee_first":
        return "    bra @main\n" + tree + main
    raise ValueError(f"layout must be 'natural' or 'callee_first', got {layout!r}")


def branch_tree_numpy(data: np.ndarray) -> np.ndarray:
    """The kernel's sums: leaves by ``np.searchsorted`` over the splits, summed per lane."""
    leaf = np.searchsorted(np.array(TREE_SPLITS, np.uint32), data, side="right")
    return np.array(TREE_LEAVES, np.uint32)[leaf].sum(axis=0, dtype=np.uint32)


def branch_tree_data(size: int, rounds: int = 8, seed: int = 0) -> np.ndarray:
    """``rounds`` x ``size`` uniform random u32 values (every leaf equally likely)."""
    return np.random.default_rng(seed).integers(0, 1 << 32, (rounds, size), dtype=np.uint32)


def branch_tree_setup(dev: simt.Device, size: int, layout: str = "natural", rounds: int = 8,
                      seed: int = 0) -> Workload:
    """``size`` lanes, ``rounds`` uniform random u32 values each (every leaf equally likely)."""
    data = branch_tree_data(size, rounds, seed)
    bufs = [dev.upload(data), dev.alloc(4 * size)]
    block = 256
    run = _launcher(dev, branch_tree_text(layout), grid=_blocks(size, block), block=block,
                    args=(*bufs, np.uint64(size), np.uint32(rounds)))
    expected = branch_tree_numpy(data)

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[1], np.uint32), expected))

    return Workload(dev, run, check, _blocks(size, block) * block,
                    lambda: branch_tree_numpy(data), bufs)


# ======================================================================================
# Tiled GEMM through shared memory, 16 x 16 tiles, fma.f32
# ======================================================================================

def gemm_text() -> str:
    """C = A B with 16x16 tiles of A and B in shared memory; the inner loop unrolled."""
    inner = []
    for k in range(TILE):
        inner += ["    lds.f32 r30, [shared + r26]", "    lds.f32 r31, [shared + r27]",
                  "    fma.f32 r25, r30, r31, r25"]
        if k < TILE - 1:
            inner += ["    add.u32 r26, r26, r32", "    add.u32 r27, r27, r33"]
    return """
; C[r, c] = sum over k of A[r, k] B[k, c] by fma.f32 in k order; M, N, K multiples of 16
; block (16, 16), grid (N/16, M/16); shared: A tile at 0, B tile at 1024 (16 x 16 f32 each)
; args: r0=A (M x K) r1=B (K x N) r2=C (M x N) (f32) r3=N r4=K r5=grid x (u32)
    cvt.u32.u64 r6, r255
    mov_imm.u32 r7, 255
    and.u32 r8, r6, r7              ; lane in block
    mov_imm.u32 r9, 15
    and.u32 r10, r8, r9             ; tx
    mov_imm.u32 r11, 4
    shr.u32 r12, r8, r11            ; ty
    mov_imm.u32 r13, 8
    shr.u32 r14, r6, r13
    div.u32 r14, r14, r5            ; block y
    shl.u32 r15, r14, r11
    add.u32 r15, r15, r12           ; row of C
    shl.u32 r16, r253, r11
    add.u32 r16, r16, r10           ; column of C
    mov_imm.u32 r17, 2
    shl.u32 r18, r8, r17            ; my slot in a tile: (ty * 16 + tx) * 4
    mov_imm.u32 r19, 1024
    add.u32 r19, r19, r18           ; my slot in the B tile
    mov_imm.u32 r32, 6
    shl.u32 r20, r12, r32           ; ty * 64: my row of the A tile
    shl.u32 r21, r10, r17
    mov_imm.u32 r33, 1024
    add.u32 r21, r21, r33           ; B tile column start
    mov_imm.u32 r32, 4              ; A tile: next k
    mov_imm.u32 r33, 64             ; B tile: next k
    mul.u32 r22, r15, r4
    add.u32 r22, r22, r10           ; A index of my first load: row * K + tx
    mul.u32 r23, r12, r3
    add.u32 r23, r23, r16           ; B index of my first load: ty * N + column
    mov_imm.u32 r34, 16
    mul.u32 r35, r3, r34            ; 16 rows of B
    shr.u32 r24, r4, r11
    mov_imm.u32 r36, 1
    sub.u32 r24, r24, r36           ; LOOP over K / 16 tiles runs count + 1 times
    mov_imm.f32 r25, 0.0
tile:
    cvt.u64.u32 r28, r22
    shl.u64 r28, r28, r17
    ldg.f32 r29, [r0 + r28]
    sts.f32 [shared + r18], r29
    cvt.u64.u32 r28, r23
    shl.u64 r28, r28, r17
    ldg.f32 r29, [r1 + r28]
    sts.f32 [shared + r19], r29
    bar.sync 0
    mov.u32 r26, r20
    mov.u32 r27, r21
""" + "\n".join(inner) + """
    bar.sync 0                      ; the tiles are read by all before they are replaced
    add.u32 r22, r22, r34
    add.u32 r23, r23, r35
    loop r24, @tile
    mul.u32 r37, r15, r3
    add.u32 r37, r37, r16
    cvt.u64.u32 r38, r37
    shl.u64 r38, r38, r17
    stg.f32 [r2 + r38], r25
    exit
"""


def gemm_matrices(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``: square standard-normal f32 matrices whose product has about ``size``
    elements (side a multiple of 16)."""
    side = max(TILE, int(round(math.sqrt(size) / TILE)) * TILE)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((side, side)).astype(np.float32)
    return a, rng.standard_normal((side, side)).astype(np.float32)


def gemm_setup(dev: simt.Device, size: int, seed: int = 0) -> Workload:
    """Square f32 matrices with about ``size`` elements of C (side a multiple of 16)."""
    a, b = gemm_matrices(size, seed)
    m, k = a.shape
    n = b.shape[1]
    bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * m * n)]
    gx, gy = n // TILE, m // TILE
    run = _launcher(dev, gemm_text(), grid=(gx, gy), block=(TILE, TILE),
                    args=(*bufs, np.uint32(n), np.uint32(k), np.uint32(gx)),
                    shared_bytes=2 * TILE * TILE * 4)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    # each of the k fused steps rounds once to f32: |error| <= k * 2**-24 * sum |a||b|
    bound = k * 2.0 ** -24 * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))

    def check() -> bool:
        got = dev.download(bufs[2], np.float32).reshape(m, n).astype(np.float64)
        return bool(np.all(np.abs(got - exact) <= bound))

    return Workload(dev, run, check, gx * gy * TILE * TILE, lambda: a @ b, bufs)


# ======================================================================================
# The registry
# ======================================================================================

KERNELS: dict[str, RealWorldKernel] = {k.name: k for k in (
    RealWorldKernel("mandelbrot", "Mandelbrot escape times, f32, up to 256 iterations",
                    mandelbrot_text, mandelbrot_setup, 1_024, 1_048_576),
    RealWorldKernel("scan", "block-wide inclusive scan (Hillis-Steele, shared memory)",
                    scan_text, scan_setup, 1_024, 1_048_576),
    RealWorldKernel("bitonic_sort", "bitonic sort of each 256-element block (shared memory)",
                    bitonic_text, bitonic_setup, 1_024, 1_048_576),
    RealWorldKernel("transpose", "tiled transpose through a padded 16x16 shared tile",
                    transpose_text, transpose_setup, 1_024, 4_194_304),
    RealWorldKernel("spmv_csr", "CSR sparse matrix-vector product, one lane per row",
                    spmv_text, spmv_setup, 1_024, 1_048_576),
    RealWorldKernel("jacobi", "one Jacobi sweep of the 2-D Laplace equation",
                    jacobi_text, jacobi_setup, 1_024, 4_194_304),
    RealWorldKernel("nbody", "all-pairs n-body accelerations, f32, tiles in shared memory",
                    nbody_text, nbody_setup, 1_024, 4_096),
    RealWorldKernel("histogram_resonance", "96-bin histogram through res.accum",
                    histogram_resonance_text, histogram_resonance_setup, 1_024, 4_194_304),
    RealWorldKernel("histogram_shared", "96-bin histogram from per-lane shared counters",
                    histogram_shared_text, histogram_shared_setup, 16_384, 4_194_304),
    RealWorldKernel("saxpy", "grid-stride SAXPY, 8 elements a lane",
                    saxpy_text, saxpy_setup, 8_192, 16_777_216),
    RealWorldKernel("branch_tree_natural",
                    "CALL/RET to a 4-level if/else tree placed after its caller",
                    lambda: branch_tree_text("natural"),
                    lambda dev, size, **kw: branch_tree_setup(dev, size, "natural", **kw),
                    1_024, 16_384),
    RealWorldKernel("branch_tree_callee_first",
                    "CALL/RET to a 4-level if/else tree placed before its caller",
                    lambda: branch_tree_text("callee_first"),
                    lambda dev, size, **kw: branch_tree_setup(dev, size, "callee_first", **kw),
                    1_024, 262_144),
    RealWorldKernel("gemm_tiled", "tiled GEMM through 16x16 shared tiles, fma.f32",
                    gemm_text, gemm_setup, 1_024, 262_144),
)}


def names() -> list[str]:
    """The gallery's kernel names, in registry order."""
    return list(KERNELS)


def get(name: str) -> RealWorldKernel:
    """The entry called ``name`` (``KeyError`` naming the known ones otherwise)."""
    try:
        return KERNELS[name]
    except KeyError:
        raise KeyError(f"no gallery kernel {name!r}; known: {', '.join(KERNELS)}") from None
