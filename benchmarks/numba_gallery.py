"""The real-world gallery (``benchmarks/realworld.py``) written for Numba's CUDA simulator.

Each kernel is the CUDA kernel one would write for the gallery entry of the same name,
from the same description: the same algorithm, block shape and shared-memory layout as
the Atlas-ISA program, on the same data (the gallery's own data functions, seed 0), and
checked against the same NumPy reference -- exactly where the gallery's check is exact.
Two differences are forced by Numba and stated where they occur: the resonance
histogram counts with ``cuda.atomic.add`` (CUDA has no ``res.accum``), and GEMM's
``cuda.fma`` is ``a * b + c`` rounded twice in the simulator, so its tolerance is twice
the gallery's one-rounding bound.  The CALL/RET tree's two layouts are one kernel here
(code placement is not something a Numba user controls): both gallery entries run it.

Importing this module needs no Numba; :func:`run` (the entry point, called in the
measuring subprocess of ``benchmarks/compare_peers.py``) imports it with
``NUMBA_ENABLE_CUDASIM=1``.
"""

from __future__ import annotations

import functools
import math
import os
import time
from typing import Callable

import numpy as np

from benchmarks import realworld as rw

SCAN_BLOCK = 256        # scan and bitonic sort: one block of the gallery's size
NB_BLOCK = 128          # n-body bodies per tile
HIST_BLOCK = 64         # shared histogram: lanes a block, each with its own counters
BINS = rw.BINS
HIST_COUNTERS = BINS * HIST_BLOCK
TILE = rw.TILE
S = rw.TREE_SPLITS
LEAF = rw.TREE_LEAVES


# ======================================================================================
# Kernels
# ======================================================================================

# The simulator swaps its fake ``cuda`` module into the *module globals* of a kernel, so
# ``cuda`` must be a global name of this module when the kernels run; it is bound by
# :func:`kernels`, so that importing this module needs no Numba (asv imports every module
# of ``benchmarks/``).
cuda = float32 = uint32 = None


@functools.cache
def kernels() -> dict[str, Callable]:
    """Import Numba's CUDA simulator and define the kernels: ``{name: kernel}``.

    Raises
    ------
    RuntimeError
        If Numba was imported without ``NUMBA_ENABLE_CUDASIM=1`` (a real CUDA target).
    """
    global cuda, float32, uint32
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
    from numba import config, cuda, float32, uint32
    if not config.ENABLE_CUDASIM:
        raise RuntimeError("benchmarks.numba_gallery needs NUMBA_ENABLE_CUDASIM=1 before "
                           "Numba is imported")

    @cuda.jit
    def mandelbrot(out, width, x0, y0, dx, dy, maxit, n):
        i = cuda.grid(1)
        if i < n:
            y = i // width
            x = i - y * width
            cr = float32(x) * dx + x0
            ci = float32(y) * dy + y0
            zr = float32(0)
            zi = float32(0)
            count = 0
            while count < maxit:
                zr2 = zr * zr
                zi2 = zi * zi
                if zr2 + zi2 > float32(4):
                    break
                t = zr * zi
                zi = (t + t) + ci
                zr = (zr2 - zi2) + cr
                count += 1
            out[i] = count


    @cuda.jit
    def scan(x, out, n):
        s = cuda.shared.array(SCAN_BLOCK, float32)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        v = x[i] if i < n else float32(0)
        s[t] = v
        cuda.syncthreads()
        d = 1
        while d < cuda.blockDim.x:
            if t >= d:
                v = v + s[t - d]
            cuda.syncthreads()          # every lane has read before any lane writes
            s[t] = v
            cuda.syncthreads()
            d *= 2
        if i < n:
            out[i] = v


    @cuda.jit
    def bitonic(x, out, n):
        s = cuda.shared.array(SCAN_BLOCK, float32)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        s[t] = x[i] if i < n else float32(math.inf)
        cuda.syncthreads()
        k = 2
        while k <= cuda.blockDim.x:
            j = k >> 1
            while j > 0:
                partner = t ^ j
                if partner > t:
                    a = s[t]
                    b = s[partner]
                    if t & k == 0:
                        s[t] = min(a, b)
                        s[partner] = max(a, b)
                    else:
                        s[t] = max(a, b)
                        s[partner] = min(a, b)
                cuda.syncthreads()
                j >>= 1
            k <<= 1
        if i < n:
            out[i] = s[t]


    @cuda.jit
    def transpose(a, out):
        tile = cuda.shared.array((TILE, TILE + 1), float32)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        c0 = cuda.blockIdx.x * TILE
        r0 = cuda.blockIdx.y * TILE
        rows, cols = a.shape
        if r0 + ty < rows and c0 + tx < cols:
            tile[ty, tx] = a[r0 + ty, c0 + tx]
        cuda.syncthreads()
        if c0 + ty < cols and r0 + tx < rows:
            out[c0 + ty, r0 + tx] = tile[tx, ty]


    @cuda.jit
    def spmv(rowptr, col, val, x, y, rows):
        row = cuda.grid(1)
        if row < rows:
            acc = float32(0)
            for k in range(rowptr[row], rowptr[row + 1]):
                acc += val[k] * x[col[k]]
            y[row] = acc


    @cuda.jit
    def jacobi(g, out):
        rows, cols = g.shape
        idx = cuda.grid(1)
        if idx < rows * cols:
            i = idx // cols
            j = idx - i * cols
            v = g[i, j]
            if i != 0 and j != 0 and i != rows - 1 and j != cols - 1:
                v = ((g[i - 1, j] + g[i + 1, j]) + g[i, j - 1] + g[i, j + 1]) * float32(0.25)
            out[i, j] = v


    @cuda.jit
    def nbody(x, y, z, m, ax, ay, az, eps2):
        sx = cuda.shared.array(NB_BLOCK, float32)
        sy = cuda.shared.array(NB_BLOCK, float32)
        sz = cuda.shared.array(NB_BLOCK, float32)
        sm = cuda.shared.array(NB_BLOCK, float32)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        xi, yi, zi = x[i], y[i], z[i]
        accx = float32(0)
        accy = float32(0)
        accz = float32(0)
        for base in range(0, x.size, NB_BLOCK):
            sx[t] = x[base + t]
            sy[t] = y[base + t]
            sz[t] = z[base + t]
            sm[t] = m[base + t]
            cuda.syncthreads()
            for j in range(NB_BLOCK):
                dx = sx[j] - xi
                dy = sy[j] - yi
                dz = sz[j] - zi
                d2 = ((dx * dx + dy * dy) + dz * dz) + eps2
                inv = float32(1) / math.sqrt(d2)
                s = ((inv * inv) * inv) * sm[j]
                accx += dx * s
                accy += dy * s
                accz += dz * s
            cuda.syncthreads()          # the tile is read by all before it is replaced
        ax[i] = accx
        ay[i] = accy
        az[i] = accz


    @cuda.jit
    def histogram_atomic(v, hist, n):
        i = cuda.grid(1)
        if i < n:
            cuda.atomic.add(hist, min(int(v[i] * float32(BINS)), BINS - 1), 1)


    @cuda.jit
    def histogram_shared(v, partial, n, per_lane):
        counters = cuda.shared.array(HIST_COUNTERS, uint32)     # bin b, lane t at b * B + t
        t = cuda.threadIdx.x
        block = cuda.blockDim.x
        for b in range(BINS):
            counters[b * block + t] = 0
        k = cuda.blockIdx.x * block * per_lane + t
        for _ in range(per_lane):
            if k < n:
                b = min(int(v[k] * float32(BINS)), BINS - 1)
                counters[b * block + t] += 1
            k += block
        cuda.syncthreads()              # all counters final before the columns are summed
        b = t
        while b < BINS:
            total = 0
            for lane in range(block):
                total += counters[b * block + lane]
            partial[cuda.blockIdx.x, b] = total
            b += block


    @cuda.jit
    def histogram_merge(partial, hist):
        b = cuda.grid(1)
        if b < BINS:
            total = 0
            for k in range(partial.shape[0]):
                total += partial[k, b]
            hist[b] = total


    @cuda.jit
    def saxpy(x, y, out, a):
        i = cuda.grid(1)
        while i < x.size:
            out[i] = a * x[i] + y[i]
            i += cuda.gridsize(1)


    @cuda.jit(device=True)
    def classify(v):
        if v < S[7]:
            if v < S[3]:
                if v < S[1]:
                    if v < S[0]:
                        return LEAF[0]
                    return LEAF[1]
                if v < S[2]:
                    return LEAF[2]
                return LEAF[3]
            if v < S[5]:
                if v < S[4]:
                    return LEAF[4]
                return LEAF[5]
            if v < S[6]:
                return LEAF[6]
            return LEAF[7]
        if v < S[11]:
            if v < S[9]:
                if v < S[8]:
                    return LEAF[8]
                return LEAF[9]
            if v < S[10]:
                return LEAF[10]
            return LEAF[11]
        if v < S[13]:
            if v < S[12]:
                return LEAF[12]
            return LEAF[13]
        if v < S[14]:
            return LEAF[14]
        return LEAF[15]


    @cuda.jit
    def branch_tree(data, out):
        i = cuda.grid(1)
        if i < data.shape[1]:
            total = 0
            for k in range(data.shape[0]):
                total += classify(data[k, i])
            out[i] = total


    @cuda.jit
    def gemm(a, b, c):
        sa = cuda.shared.array((TILE, TILE), float32)
        sb = cuda.shared.array((TILE, TILE), float32)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        column = cuda.blockIdx.x * TILE + tx
        acc = float32(0)
        for k0 in range(0, a.shape[1], TILE):
            sa[ty, tx] = a[row, k0 + tx]
            sb[ty, tx] = b[k0 + ty, column]
            cuda.syncthreads()
            for k in range(TILE):
                acc = cuda.fma(sa[ty, k], sb[k, tx], acc)
            cuda.syncthreads()          # the tiles are read by all before they are replaced
        c[row, column] = acc

    return {"mandelbrot": mandelbrot, "scan": scan, "bitonic": bitonic, "transpose": transpose, "spmv": spmv, "jacobi": jacobi, "nbody": nbody, "histogram_atomic": histogram_atomic, "histogram_shared": histogram_shared, "histogram_merge": histogram_merge, "saxpy": saxpy, "branch_tree": branch_tree, "gemm": gemm}


# ======================================================================================
# Set-ups: (launch, check, lanes) for a gallery entry at a problem size
# ======================================================================================

Setup = tuple[Callable[[], None], Callable[[], bool], int]


def _blocks(n: int, block: int) -> int:
    return max(1, -(-n // block))


def _mandelbrot(size: int) -> Setup:
    kern = kernels()
    width, height, x0, y0, dx, dy = rw.mandelbrot_view(size)
    n, maxit = width * height, 256
    out = cuda.to_device(np.zeros(n, np.uint32))
    grid = _blocks(n, 256)
    expected = rw.mandelbrot_numpy(width, height, x0, y0, dx, dy, maxit)
    return (lambda: kern["mandelbrot"][grid, 256](out, width, x0, y0, dx, dy, maxit, n),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * 256)


def _scan(size: int) -> Setup:
    kern = kernels()
    x = rw.normal_values(size)
    d_x, out = cuda.to_device(x), cuda.to_device(np.zeros(size, np.float32))
    grid = _blocks(size, SCAN_BLOCK)
    expected = rw.scan_numpy(x, SCAN_BLOCK)
    return (lambda: kern["scan"][grid, SCAN_BLOCK](d_x, out, size),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * SCAN_BLOCK)


def _bitonic(size: int) -> Setup:
    kern = kernels()
    x = rw.normal_values(size)
    d_x, out = cuda.to_device(x), cuda.to_device(np.zeros(size, np.float32))
    grid = _blocks(size, SCAN_BLOCK)
    padded = np.full(grid * SCAN_BLOCK, np.inf, np.float32)
    padded[:size] = x
    expected = np.sort(padded.reshape(-1, SCAN_BLOCK), axis=1).reshape(-1)[:size]
    return (lambda: kern["bitonic"][grid, SCAN_BLOCK](d_x, out, size),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * SCAN_BLOCK)


def _transpose(size: int) -> Setup:
    kern = kernels()
    a = rw.transpose_matrix(size)
    rows, cols = a.shape
    d_a, out = cuda.to_device(a), cuda.to_device(np.zeros((cols, rows), np.float32))
    grid = (_blocks(cols, TILE), _blocks(rows, TILE))
    return (lambda: kern["transpose"][grid, (TILE, TILE)](d_a, out),
            lambda: np.array_equal(out.copy_to_host(), a.T), grid[0] * grid[1] * TILE * TILE)


def _spmv(size: int) -> Setup:
    kern = kernels()
    rowptr, col, val, x = rw.spmv_matrix(size)
    ins = [cuda.to_device(v) for v in (rowptr, col, val, x)]
    y = cuda.to_device(np.zeros(size, np.float32))
    grid = _blocks(size, 128)
    expected = rw.spmv_numpy(rowptr, col, val, x)
    return (lambda: kern["spmv"][grid, 128](*ins, y, size),
            lambda: np.array_equal(y.copy_to_host(), expected), grid * 128)


def _jacobi(size: int) -> Setup:
    kern = kernels()
    g = rw.jacobi_grid(size)
    d_g, out = cuda.to_device(g), cuda.to_device(np.zeros_like(g))
    grid = _blocks(g.size, 256)
    expected = rw.jacobi_numpy(g)
    return (lambda: kern["jacobi"][grid, 256](d_g, out),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * 256)


def _nbody(size: int) -> Setup:
    kern = kernels()
    bodies = rw.nbody_bodies(size, NB_BLOCK)
    n = bodies[0].size
    ins = [cuda.to_device(v) for v in bodies]
    outs = [cuda.to_device(np.zeros(n, np.float32)) for _ in range(3)]
    expected = rw.nbody_numpy(*bodies, rw.NBODY_EPS2)
    return (lambda: kern["nbody"][n // NB_BLOCK, NB_BLOCK](*ins, *outs, rw.NBODY_EPS2),
            lambda: all(np.array_equal(o.copy_to_host(), e) for o, e in zip(outs, expected)),
            n)


def _histogram_resonance(size: int) -> Setup:
    kern = kernels()
    v = rw.histogram_values(size)
    d_v = cuda.to_device(v)
    hist = cuda.to_device(np.zeros(BINS, np.uint32))
    zeros = np.zeros(BINS, np.uint32)
    grid = _blocks(size, 256)
    expected = np.bincount(rw.histogram_bins(v), minlength=BINS)

    def launch() -> None:
        hist.copy_to_device(zeros)      # atomics add to what is there: count from zero
        kern["histogram_atomic"][grid, 256](d_v, hist, size)
    return launch, lambda: np.array_equal(hist.copy_to_host(), expected), grid * 256


def _histogram_shared(size: int, per_lane: int = 16) -> Setup:
    kern = kernels()
    v = rw.histogram_values(size)
    blocks = _blocks(size, HIST_BLOCK * per_lane)
    d_v = cuda.to_device(v)
    partial = cuda.to_device(np.zeros((blocks, BINS), np.uint32))
    hist = cuda.to_device(np.zeros(BINS, np.uint32))
    expected = np.bincount(rw.histogram_bins(v), minlength=BINS)

    def launch() -> None:
        kern["histogram_shared"][blocks, HIST_BLOCK](d_v, partial, size, per_lane)
        kern["histogram_merge"][1, BINS](partial, hist)
    return launch, lambda: np.array_equal(hist.copy_to_host(), expected), blocks * HIST_BLOCK


def _saxpy(size: int, per_lane: int = 8) -> Setup:
    kern = kernels()
    x, y = rw.saxpy_vectors(size)
    d_x, d_y = cuda.to_device(x), cuda.to_device(y)
    out = cuda.to_device(np.zeros(size, np.float32))
    grid = _blocks(_blocks(size, per_lane), 256)
    expected = rw.SAXPY_A * x + y
    return (lambda: kern["saxpy"][grid, 256](d_x, d_y, out, rw.SAXPY_A),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * 256)


def _branch_tree(size: int) -> Setup:
    kern = kernels()
    data = rw.branch_tree_data(size)
    d_data, out = cuda.to_device(data), cuda.to_device(np.zeros(size, np.uint32))
    grid = _blocks(size, 256)
    expected = rw.branch_tree_numpy(data)
    return (lambda: kern["branch_tree"][grid, 256](d_data, out),
            lambda: np.array_equal(out.copy_to_host(), expected), grid * 256)


def _gemm(size: int) -> Setup:
    kern = kernels()
    a, b = rw.gemm_matrices(size)
    side = a.shape[0]
    d_a, d_b = cuda.to_device(a), cuda.to_device(b)
    c = cuda.to_device(np.zeros((side, side), np.float32))
    exact = a.astype(np.float64) @ b.astype(np.float64)
    # each of the k steps rounds at most twice to f32 (the simulator's fma is a * b + c)
    bound = 2 * side * 2.0 ** -24 * (np.abs(a).astype(np.float64)
                                     @ np.abs(b).astype(np.float64))
    grid = (side // TILE, side // TILE)

    def check() -> bool:
        return bool(np.all(np.abs(c.copy_to_host().astype(np.float64) - exact) <= bound))
    return lambda: kern["gemm"][grid, (TILE, TILE)](d_a, d_b, c), check, side * side


#: gallery name -> set-up of the Numba version (every entry of ``realworld.KERNELS``).
SETUPS: dict[str, Callable[[int], Setup]] = {
    "mandelbrot": _mandelbrot,
    "scan": _scan,
    "bitonic_sort": _bitonic,
    "transpose": _transpose,
    "spmv_csr": _spmv,
    "jacobi": _jacobi,
    "nbody": _nbody,
    "histogram_resonance": _histogram_resonance,
    "histogram_shared": _histogram_shared,
    "saxpy": _saxpy,
    "branch_tree_natural": _branch_tree,
    "branch_tree_callee_first": _branch_tree,
    "gemm_tiled": _gemm,
}


def run(name: str, size: int, timed: Callable[[Callable[[], None]], float]) -> dict:
    """Set up gallery kernel ``name`` at problem ``size``, time its launch with ``timed``
    and check the result: ``{"seconds", "ok", "lanes", "setup_seconds"}``."""
    start = time.perf_counter()
    launch, check, lanes = SETUPS[name](size)
    setup = time.perf_counter() - start
    seconds = timed(launch)
    return {"seconds": seconds, "ok": bool(check()), "lanes": lanes, "setup_seconds": setup}
