"""``softmax(x, axis=-1)``: one block per row, max and sum as shared-memory trees.

The axis is moved last and the array made C-contiguous, so the data is ``R`` rows of
``L`` elements.  Rows run in chunks of ``max(1, CHUNK // L)`` rows, one block per row;
the block size is the power of two ``min(256, next_pow2(L))``, so a short row does not
idle 256 lanes.  Each block computes its row's max, ``e = exp(x - max)`` with the sum of
``e`` (accumulated in float64, then rounded to the dtype), and ``e / sum`` — all inside the
kernel, so no data-dependent value is ever part of a program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ._kernels import kernel
from . import _launch
from ._launch import BLOCK, Scratch, get_device, launch, prepare

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..device import Device

__all__ = ["softmax"]


def softmax(x: ArrayLike, axis: int = -1, *, device: Device | None = None) -> np.ndarray:
    """Max-subtracted softmax along ``axis``: ``exp(x - max) / sum(exp(x - max))``.

    Parameters
    ----------
    x
        A float32 or float64 array with at least one dimension.
    axis
        The axis along which the values sum to 1.
    device
        The :class:`simt.Device` to run on (default: the module's default device).

    Returns
    -------
    numpy.ndarray
        A new C-contiguous array of ``x``'s shape and dtype.  A row holding NaN or
        ``+inf``, or only ``-inf``, gives NaN (as NumPy does for the same formula).
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("simt.ops.softmax needs an array with at least one dimension")
    moved = np.moveaxis(x, normalize_axis_index(axis, x.ndim), -1)
    (flat,), _, dtype = prepare("softmax", moved)
    out = np.empty(moved.shape, dtype)
    if flat.size:
        length = moved.shape[-1]
        _run_rows(flat.reshape(-1, length), out.reshape(-1, length), dtype, device)
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))


def _run_rows(x: np.ndarray, y: np.ndarray, dtype: np.dtype, device: Device | None) -> None:
    """``y[r] = softmax(x[r])`` for every row of the C-contiguous 2-D arrays."""
    program = kernel("softmax", dtype)
    count, length = x.shape
    block = min(BLOCK, 1 << (length - 1).bit_length())
    per_launch = max(1, _launch.CHUNK // length)
    dev = get_device(device)
    with Scratch(dev) as scratch:
        size = min(count, per_launch) * length * x.itemsize
        x_buf, y_buf = scratch.alloc(size), scratch.alloc(size)
        for start in range(0, count, per_launch):
            stop = min(count, start + per_launch)
            dev.write(x_buf, x[start:stop])
            launch(dev, program, lanes=(stop - start) * block, block=block,
                   shared_bytes=block * 8, iterations=3 * -(-length // block) + 30,
                   args=(np.uint64(length), y_buf, x_buf))
            y[start:stop] = dev.download(y_buf, dtype, count=(stop - start) * length
                                         ).reshape(stop - start, length)
