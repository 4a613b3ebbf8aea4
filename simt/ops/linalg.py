"""``matvec`` (one lane per row) and ``gemm`` (16 x 16 tiles through shared memory).

Both take 2-D row-major operands of one dtype (int8..uint64 wrap like NumPy's integer
matmul; float32, float64).  Rows of ``a`` run in chunks of about :data:`CHUNK` elements
(whole 16-row tile rows for ``gemm``); the other operand is uploaded once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from ._kernels import kernel
from . import _launch
from ._launch import BLOCK, Scratch, blocks, get_device, launch, prepare

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..device import Buffer, Device

__all__ = ["matvec", "gemm"]

TILE = 16
"""Edge of the square output tile of one ``gemm`` block (16 x 16 = 256 lanes)."""

from ..machine.thresholds import OPS_GEMM_CHUNK as GEMM_CHUNK  # noqa: E402
"""Elements of ``a`` (and of the result) per ``gemm`` launch, in whole tile rows: a
launch walks ``K`` whatever its size, so ``gemm`` runs in few large launches."""


def _operands(name: str, a: ArrayLike, b: ArrayLike, b_ndim: int
              ) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != b_ndim:
        raise ValueError(f"simt.ops.{name} needs a 2-D and a {b_ndim}-D array, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"simt.ops.{name}: inner dimensions differ: {a.shape} @ {b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"simt.ops.{name}: dtypes differ: {a.dtype} and {b.dtype}; "
                        f"cast one first")
    (flat_a,), _, dtype = prepare(name, a)
    (flat_b,), _, _ = prepare(name, b)
    return flat_a.reshape(a.shape), flat_b.reshape(b.shape), dtype


Run = Callable[["Device", "Buffer", "Buffer", "Buffer", int], None]


def _by_rows(a: np.ndarray, other: np.ndarray, out: np.ndarray, rows_per: int,
             device: Device | None, run: Run) -> np.ndarray:
    """Upload ``other`` once, then for each chunk of ``rows_per`` rows of ``a``: write them,
    ``run(dev, a_buf, other_buf, out_buf, rows)``, and download those rows of ``out``."""
    dev = get_device(device)
    rows = a.shape[0]
    with Scratch(dev) as scratch:
        size = min(rows, rows_per)
        a_buf = scratch.alloc(size * a[0].nbytes)
        out_buf = scratch.alloc(size * out[0].nbytes)
        other_buf = scratch.alloc(other.nbytes)
        dev.write(other_buf, other.reshape(-1))
        for start in range(0, rows, rows_per):
            stop = min(rows, start + rows_per)
            dev.write(a_buf, a[start:stop].reshape(-1))
            run(dev, a_buf, other_buf, out_buf, stop - start)
            part = out[start:stop]
            part[...] = dev.download(out_buf, out.dtype, count=part.size).reshape(part.shape)
    return out


def matvec(a: ArrayLike, x: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a @ x`` for a 2-D ``a`` (M x K) and a 1-D ``x`` (K): one lane per row.

    Each lane walks its row sequentially (``acc += a[i, k] * x[k]``, two roundings per
    step), so float results differ from NumPy's BLAS within ``K`` roundings of
    ``|a| @ |x|``.

    Returns
    -------
    numpy.ndarray
        ``M`` elements of the operands' dtype.
    """
    a, x, dtype = _operands("matvec", a, x, 1)
    m, k = a.shape
    out = np.zeros(m, dtype)
    if m == 0:
        return out
    program = kernel("matvec", dtype)

    def run(dev: Device, a_buf: Buffer, x_buf: Buffer, y_buf: Buffer, rows: int) -> None:
        launch(dev, program, lanes=rows, iterations=k,
               args=(np.uint64(rows), y_buf, a_buf, x_buf, np.uint64(k)))

    rows_per = max(BLOCK, _launch.CHUNK // max(k, 1) // BLOCK * BLOCK)
    return _by_rows(a, x, out, rows_per, device, run)


def gemm(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a @ b`` for 2-D ``a`` (M x K) and ``b`` (K x N), any sizes.

    Every block computes a 16 x 16 tile of the result, staging 16 x 16 tiles of ``a`` and
    ``b`` in shared memory (zeros outside the matrices) with a barrier before and after
    each use.  Float dot products accumulate sequentially along ``K``.

    Returns
    -------
    numpy.ndarray
        An ``M x N`` array of the operands' dtype (zeros when ``K == 0``).
    """
    a, b, dtype = _operands("gemm", a, b, 2)
    (m, k), n = a.shape, b.shape[1]
    out = np.zeros((m, n), dtype)
    if m == 0 or n == 0:
        return out
    program = kernel("gemm", dtype)
    across = -(-n // TILE)

    def run(dev: Device, a_buf: Buffer, b_buf: Buffer, c_buf: Buffer, rows: int) -> None:
        tiles = blocks(rows, TILE) * across
        launch(dev, program, lanes=tiles * TILE * TILE, shared_bytes=2 * TILE * TILE * a.itemsize,
               iterations=blocks(k, TILE) * (TILE + 1) + 1,
               args=(np.uint64(rows), c_buf, a_buf, b_buf, np.uint64(k), np.uint64(n)))

    rows_per = max(TILE, GEMM_CHUNK // max(k, n, 1) // TILE * TILE)
    return _by_rows(a, b, out, rows_per, device, run)
