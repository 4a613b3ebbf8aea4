"""Reductions: ``sum``, ``min``, ``max`` as block trees in shared memory.

Each block of 256 lanes loads one element per lane (the identity past the end), folds
them pairwise in shared memory with a barrier between levels, and lane 0 writes the
block's partial.  Chunks of the input append their partials to one device buffer; passes
of the same kernel over the partials follow until one value is left
(:func:`simt.ops._launch.tree_reduce`).  The summation order is therefore a tree (like
NumPy's pairwise summation, but with other pairs): float sums can differ from NumPy in the
last bits.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import numpy as np

from . import _launch
from ._launch import Scratch, get_device, prepare, tree_reduce
from ._kernels import accumulator_dtype

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..device import Device

__all__ = ["sum", "min", "max"]


def _reduce(name: str, a: ArrayLike, device: Device | None) -> np.generic:
    (flat,), _, dtype = prepare(name, a)
    n = flat.size
    if n == 0 and name != "sum":
        raise ValueError(f"simt.ops.{name} of an empty array: {name} has no identity")
    dev = get_device(device)
    with Scratch(dev) as scratch:
        staging = scratch.alloc(builtins.min(n, _launch.REDUCE_CHUNK) * flat.itemsize)

        def stage(start: int, stop: int):
            if stop > start:
                dev.write(staging, flat[start:stop])
            return staging

        result = tree_reduce(dev, scratch, name, dtype, n, stage)
        return dev.download(result, accumulator_dtype(name, dtype), count=1)[0]


def sum(a: ArrayLike, *, device: Device | None = None) -> np.generic:  # noqa: A001
    """``a.sum()`` as a NumPy scalar.

    Integers accumulate in 64 bits like NumPy (signed -> int64, unsigned -> uint64,
    wrapping); floats in their own type (float32, float64) along a tree.  The sum of an
    empty array is 0.
    """
    return _reduce("sum", a, device)


def min(a: ArrayLike, *, device: Device | None = None) -> np.generic:  # noqa: A001
    """``np.nanmin(a)`` as a NumPy scalar of ``a.dtype``: NaNs are ignored unless all are
    NaN.  An empty array raises ``ValueError``."""
    return _reduce("min", a, device)


def max(a: ArrayLike, *, device: Device | None = None) -> np.generic:  # noqa: A001
    """``np.nanmax(a)`` as a NumPy scalar of ``a.dtype``: NaNs are ignored unless all are
    NaN.  An empty array raises ``ValueError``."""
    return _reduce("max", a, device)
