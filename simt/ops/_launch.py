"""Host-side plumbing shared by every op: the device, temporaries, chunks and launches.

The host never computes: it validates arguments, uploads, launches and downloads.

Chunk size
----------
Inputs longer than :data:`CHUNK` elements run chunk by chunk over slices (views) of the
flattened host arrays; the device buffers of an op are sized for one chunk and reused, so
an op's device memory stays bounded whatever ``n`` is.  ``python benchmarks/chunkbench.py``
measures ``add`` and ``sum`` on float32 for several chunk sizes; on the development machine
(2 cores, simt.Device with its default 262,144-lane pieces), in ns per element, best of 3::

    CHUNK             4,096   16,384   65,536   131,072   262,144   1,048,576
    add (n = 2**21)    46.5     14.6      6.2       4.8       5.2         8.5
    sum (n = 2**21)   581.4    158.3     52.1      34.1      25.5        25.3
    add (n = 2**22)    47.0     14.6      6.7       4.8       6.4         7.9
    sum (n = 2**22)   578.5    193.8     70.5      48.6      34.1        36.7

(the ``sum`` rows vary the reductions' own chunk, :data:`REDUCE_CHUNK`).  Small chunks pay
the fixed cost of a launch (validation, piece setup, downloads) too often; very large ones
lose cache locality.  Element-wise ops, most of the library, are fastest at 131,072
elements, so ``CHUNK = 131072``.  A reduction launch also pays its block tree (about 80
steps) whatever its size, so reductions read chunks of ``REDUCE_CHUNK = 2**20`` elements.
Both must be multiples of ``BLOCK * REDUCE_ITEMS`` (the elements one reduction block
folds) so that every chunk's partials start at a whole block.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from . import _kernels
from ._kernels import KERNELS, accumulator_dtype, check_dtype, kernel

if TYPE_CHECKING:  # pragma: no cover
    from ..device import Buffer, Device
    from ..isa.program import Program

__all__ = ["BLOCK", "CHUNK", "REDUCE_CHUNK", "get_device", "Scratch", "blocks", "chunks",
           "launch", "prepare", "map_elements", "tree_reduce", "cast_scalar"]

BLOCK = 256
"""Lanes per block of the element-wise and reduction kernels (a power of two)."""

from ..machine.thresholds import OPS_CHUNK as CHUNK  # noqa: E402
"""Elements per chunk (a multiple of ``BLOCK * REDUCE_ITEMS``); see the module docstring."""

from ..machine.thresholds import OPS_REDUCE_CHUNK as REDUCE_CHUNK  # noqa: E402
"""Elements per chunk of a reduction's first pass (a multiple of ``CHUNK``): a launch
pays its block tree whatever its size, so reductions run in few large launches."""

assert CHUNK % (BLOCK * _kernels.REDUCE_ITEMS) == 0 and BLOCK & (BLOCK - 1) == 0
assert REDUCE_CHUNK % CHUNK == 0

_default: "Device | None" = None


def get_device(device: "Device | None" = None) -> "Device":
    """``device``, or the module's default :class:`simt.Device` (created on first use)."""
    global _default
    if device is not None:
        return device
    if _default is None:
        from ..device import Device
        _default = Device()
    return _default


class Scratch(contextlib.AbstractContextManager):
    """Temporary device buffers, all freed on exit, also when a kernel faults."""

    def __init__(self, device: "Device") -> None:
        self.device = device
        self._buffers: list[Buffer] = []

    def alloc(self, nbytes: int) -> "Buffer":
        """A zero-filled temporary of at least ``nbytes`` bytes (at least 8)."""
        buf = self.device.alloc(max(int(nbytes), 8))
        self._buffers.append(buf)
        return buf

    def __exit__(self, *exc_info: Any) -> None:
        buffers, self._buffers = self._buffers, []
        errors = []
        for buf in reversed(buffers):
            try:
                self.device.free(buf)
            except Exception as exc:  # keep freeing the rest; report after
                errors.append(exc)
        if errors and exc_info[0] is None:
            raise errors[0]


def blocks(lanes: int, block: int = BLOCK) -> int:
    """Blocks of ``block`` lanes covering ``lanes`` lanes (at least one)."""
    return max(1, -(-lanes // block))


def chunks(n: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of the chunks of ``range(n)`` (``size`` defaults to :data:`CHUNK`)."""
    size = CHUNK if size is None else size
    for start in range(0, n, size):
        yield start, min(n, start + size)


def budget(program: "Program", iterations: int) -> int | None:
    """A step budget for a kernel whose longest loop runs ``iterations`` times.

    A step runs one instruction for every lane at that PC, so a kernel issues at most
    about ``len(program) * (iterations + 1)`` steps; twice that, on top of the device
    default, only stops a runaway.  ``None`` (the device default) for loop-free kernels.
    """
    if iterations <= 0:
        return None
    from ..machine.executor import DEFAULT_MAX_STEPS
    return DEFAULT_MAX_STEPS + 2 * len(program) * (iterations + 1)


def launch(device: "Device", program: "Program", *, lanes: int, args: Sequence[Any],
           block: int = BLOCK, shared_bytes: int = 0, iterations: int = 0) -> None:
    """Launch ``program`` over ``blocks(lanes, block)`` blocks of ``block`` lanes."""
    device.launch(program, grid=blocks(lanes, block), block=block, args=tuple(args),
                  shared_bytes=shared_bytes, max_steps=budget(program, iterations))


def prepare(name: str, *arrays: Any) -> tuple[list[np.ndarray], tuple[int, ...], np.dtype]:
    """Validate the array arguments of op ``name``.

    Returns
    -------
    flat, shape, dtype
        The arrays flattened (C order; views of C-contiguous inputs, never copies of
        them), their common shape and dtype (native byte order).

    Raises
    ------
    ValueError
        When the shapes differ (no broadcasting).
    TypeError
        When the dtypes differ; ``UnsupportedOperationError`` (a ``TypeError``) when the
        op's kernel does not accept the dtype.
    """
    arrays = [np.asarray(a) for a in arrays]
    first = arrays[0]
    for other in arrays[1:]:
        if other.shape != first.shape:
            raise ValueError(f"simt.ops.{name}: shapes differ: {first.shape} and {other.shape}")
        if other.dtype != first.dtype:
            raise TypeError(f"simt.ops.{name}: dtypes differ: {first.dtype} and {other.dtype}; "
                            f"cast one first")
    dtype = check_dtype(name, first.dtype).numpy
    flat = [np.ascontiguousarray(a, dtype=dtype).reshape(-1) for a in arrays]
    return flat, first.shape, dtype


def cast_scalar(value: Any, dtype: np.dtype) -> np.generic:
    """``value`` as a NumPy scalar of ``dtype``, cast as ``np.full_like`` casts it.

    NumPy values are cast unsafely (wrapping, truncating); a Python int outside the
    range of an integer ``dtype`` raises ``OverflowError``.
    """
    if np.ndim(value) != 0:
        raise ValueError(f"expected a scalar, got an array of shape {np.shape(value)}")
    out = np.empty((), dtype)
    with np.errstate(all="ignore"):
        np.copyto(out, value, casting="unsafe")
    return out[()]


def map_elements(name: str, dtype: np.dtype, inputs: Sequence[np.ndarray], n: int, *,
                 scalars: Sequence[Any] = (), device: "Device | None" = None) -> np.ndarray:
    """Run the one-lane-per-element kernel ``name`` over ``n`` elements.

    Parameters
    ----------
    name, dtype
        The kernel (``kernel(name, dtype)``); its output has ``dtype`` too.
    inputs
        Flat C-contiguous arrays of ``n`` elements of ``dtype``: the kernel's input
        buffers, in argument order after ``n`` and the output.
    scalars
        Kernel arguments after the input buffers (NumPy scalars of ``dtype``).

    Returns
    -------
    numpy.ndarray
        The flat output (``n`` elements of ``dtype``).
    """
    program = kernel(name, dtype)
    out = np.empty(n, dtype)
    if n == 0:
        return out
    dev = get_device(device)
    size = min(n, CHUNK) * out.itemsize
    with Scratch(dev) as scratch:
        buffers = [scratch.alloc(size) for _ in inputs]
        result = scratch.alloc(size)
        for start, stop in chunks(n):
            for buf, array in zip(buffers, inputs):
                dev.write(buf, array[start:stop])
            launch(dev, program, lanes=stop - start,
                   args=(np.uint64(stop - start), result, *buffers, *scalars))
            out[start:stop] = dev.download(result, dtype, count=stop - start)
    return out


def tree_reduce(device: "Device", scratch: Scratch, name: str, dtype: np.dtype, n: int,
                stage: Callable[[int, int], "Buffer"]) -> "Buffer":
    """Reduce ``n`` elements with the block-tree kernel ``name`` (``sum``, ``min``, ``max``).

    For each chunk of :data:`REDUCE_CHUNK` elements, ``stage(start, stop)`` returns a
    buffer holding elements ``[start, stop)`` of the input (of ``dtype``); the first pass
    writes one partial per block into a buffer of all partials.  Passes of ``kernel(name, accumulator)`` over the
    partials follow until one is left.  ``n == 0`` gives the identity.

    Returns
    -------
    Buffer
        A temporary of ``scratch`` whose first element (of the accumulator dtype) is the
        result.
    """
    assert KERNELS[name].template == "reduce"
    per_block = BLOCK * _kernels.REDUCE_ITEMS      # elements folded by one block
    assert CHUNK % per_block == 0
    acc = accumulator_dtype(name, dtype)
    first, again = kernel(name, dtype), kernel(name, acc)
    shared = BLOCK * acc.itemsize

    def run(program: "Program", count: int, out: "Buffer", x: "Buffer", base: int) -> None:
        launch(device, program, lanes=blocks(count, per_block) * BLOCK, shared_bytes=shared,
               iterations=_kernels.REDUCE_ITEMS, args=(np.uint64(count), out, x, np.uint64(base)))

    count = blocks(n, per_block)
    partials = scratch.alloc(count * acc.itemsize)
    for start, stop in (list(chunks(n, REDUCE_CHUNK)) or [(0, 0)]):
        run(first, stop - start, partials, stage(start, stop), start // per_block)
    while count > 1:
        nxt = scratch.alloc(blocks(count, per_block) * acc.itemsize)
        run(again, count, nxt, partials, 0)
        partials, count = nxt, blocks(count, per_block)
    return partials
