"""Losses (mean squared error, cross entropy, binary cross entropy; no clamping): per-element terms, a tree sum, a mean kernel.

For each chunk, the loss's element-wise kernel writes the loss of every element into a
device buffer, and the ``sum`` kernel's first pass folds it into block partials; the
``sum`` passes finish the total and the ``mean`` kernel divides it by ``N`` on the device.
``N = 0`` gives ``0 / 0 = NaN`` (like ``np.mean`` of nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._kernels import kernel
from . import _launch
from ._launch import Scratch, get_device, launch, prepare, tree_reduce

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..device import Device

__all__ = ["mse", "cross_entropy", "binary_cross_entropy"]


def _loss(name: str, pred: ArrayLike, target: ArrayLike, device: Device | None) -> np.generic:
    (p, t), _, dtype = prepare(name, pred, target)
    n = p.size
    terms, mean = kernel(name, dtype), kernel("mean", dtype)
    dev = get_device(device)
    with Scratch(dev) as scratch:
        size = min(n, _launch.REDUCE_CHUNK) * p.itemsize
        p_buf, t_buf, y_buf = (scratch.alloc(size) for _ in range(3))

        def stage(start: int, stop: int):
            if stop > start:
                dev.write(p_buf, p[start:stop])
                dev.write(t_buf, t[start:stop])
                launch(dev, terms, lanes=stop - start,
                       args=(np.uint64(stop - start), y_buf, p_buf, t_buf))
            return y_buf

        total = tree_reduce(dev, scratch, "sum", dtype, n, stage)
        result = scratch.alloc(p.itemsize)
        launch(dev, mean, lanes=1, block=1, args=(np.uint64(n), result, total))
        return dev.download(result, dtype, count=1)[0]


def mse(pred: ArrayLike, target: ArrayLike, *, device: Device | None = None) -> np.generic:
    """Mean squared error ``(1/N) sum (p - t)^2`` as a NumPy scalar (float32 / float64).

    Parameters
    ----------
    pred, target
        Arrays of the same shape and float dtype; ``N`` is their size.
    device
        The :class:`simt.Device` to run on (default: the module's default device).
    """
    return _loss("mse", pred, target, device)


def cross_entropy(pred: ArrayLike, target: ArrayLike, *,
                  device: Device | None = None) -> np.generic:
    """``-(1/N) sum t ln p`` over all ``N`` elements, no clamping (``p = 0`` gives inf or
    NaN).  See :func:`mse`."""
    return _loss("cross_entropy", pred, target, device)


def binary_cross_entropy(pred: ArrayLike, target: ArrayLike, *,
                         device: Device | None = None) -> np.generic:
    """``-(1/N) sum [t ln p + (1 - t) ln(1 - p)]``, no clamping.  See :func:`mse`."""
    return _loss("binary_cross_entropy", pred, target, device)
