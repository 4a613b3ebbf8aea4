"""Ready-to-launch workloads shared by the asv suites and the scripts.

A :class:`Workload` holds a device with its buffers already uploaded, the launch to time
(``run``), the same result computed directly with NumPy (``baseline``, when there is
one) and a ``check`` that compares the device's output with NumPy.  The methodology of
the performance targets (docs/performance.md) is built in: :func:`prepared` runs the
program once before anything is timed, and only ``dev.launch`` is inside ``run``.

Nothing here is named like an asv benchmark (``time_*``, ``peakmem_*``, ...), so asv's
discovery, which imports every module of ``benchmarks/``, finds no benchmark in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import simt

from . import kernels

__all__ = ["BLOCK", "Workload", "grid_for", "inputs", "ramp", "vector_add", "if_else",
           "tree_reduction", "block_partials", "straight_line", "opcode", "divergence",
           "neighbour_exchange", "fill_buffer", "best_of", "prepared"]

#: Threads per block for every 1-D workload, as in the performance targets.
BLOCK = 256


def grid_for(n: int, block: int = BLOCK) -> int:
    """Return the number of blocks that cover ``n`` lanes (at least one)."""
    return max(1, -(-n // block))


@dataclass
class Workload:
    """A launch ready to be timed, its NumPy baseline and its result check.

    Attributes
    ----------
    dev : simt.Device
        The device holding the buffers.
    run : callable
        Performs exactly one ``dev.launch`` and returns its :class:`simt.LaunchResult`.
    baseline : callable or None
        Computes the same result directly with NumPy (into preallocated output).
    check : callable
        Returns True when the device's output matches NumPy.
    lanes : int
        Lanes launched (grid x block).
    buffers : list of simt.Buffer
        Freed by :meth:`free`.
    """

    dev: simt.Device
    run: Callable[[], simt.LaunchResult]
    check: Callable[[], bool]
    lanes: int
    baseline: Callable[[], object] | None = None
    buffers: list[simt.Buffer] = field(default_factory=list)

    def free(self) -> None:
        """Free the workload's device buffers."""
        for buf in self.buffers:
            self.dev.free(buf)
        self.buffers.clear()


def _launcher(dev: simt.Device, text: str, **launch) -> Callable[[], simt.LaunchResult]:
    prog = kernels.program(text)

    def run() -> simt.LaunchResult:
        return dev.launch(prog, **launch)

    return run


def fill_buffer(dev: simt.Device, buf: simt.Buffer, n: int,
                value_of: Callable[[slice], np.ndarray], chunk: int = 1 << 22) -> None:
    """Write ``n`` elements into ``buf`` chunk by chunk, keeping host memory small.

    ``value_of(slice)`` returns the elements of that slice; used for the 1e8-lane
    workloads, whose host arrays would otherwise double the memory being measured.
    """
    for start in range(0, n, chunk):
        part = np.ascontiguousarray(value_of(slice(start, min(n, start + chunk))))
        dev.write(buf, part, offset=start * part.itemsize)


def ramp(start: int, stop: int) -> np.ndarray:
    """Exactly representable f32 values ``i mod 4096`` for ``i`` in ``[start, stop)``."""
    return (np.arange(start, stop) % 4096).astype(np.float32)


def inputs(kind: str, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Return the float32 inputs of a workload, the same for simt, NumPy and the peers.

    Parameters
    ----------
    kind : {"vecadd", "branch", "reduce"}
        ``(a, b)`` standard normal for the vector add; ``(a,)`` standard normal (random
        sign) for the if/else branch and the tree reduction.
    n : int
    seed : int
    """
    rng = np.random.default_rng(seed)
    if kind == "vecadd":
        return rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    if kind in ("branch", "reduce"):
        return (rng.standard_normal(n, np.float32),)
    raise ValueError(f"kind must be 'vecadd', 'branch' or 'reduce', got {kind!r}")


def vector_add(dev: simt.Device, n: int, variant: str = "shl", seed: int = 0,
               host_copy: bool = True) -> Workload:
    """Guarded f32 vector add over ``n`` lanes, block 256.

    Parameters
    ----------
    dev : simt.Device
    n : int
        Number of elements.
    variant : {"shl", "mul", "cvt"}
        How the kernel computes the byte offset (see :data:`kernels.VECTOR_ADD_VARIANTS`).
    seed : int
        Seed of the input data.
    host_copy : bool
        Keep host copies of the inputs for ``baseline`` and ``check``.  With False
        (the 1e8-lane memory probe) the inputs are written chunk by chunk from a
        formula, and ``baseline`` is None.
    """
    if host_copy:
        a, b = inputs("vecadd", n, seed)
        c = np.empty_like(a)
        bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * n)]
    else:
        bufs = [dev.alloc(4 * n), dev.alloc(4 * n), dev.alloc(4 * n)]
        fill_buffer(dev, bufs[0], n, lambda s: ramp(s.start, s.stop))
        fill_buffer(dev, bufs[1], n, lambda s: np.full(s.stop - s.start, 0.5, np.float32))
    grid = grid_for(n)
    run = _launcher(dev, kernels.VECTOR_ADD_VARIANTS[variant], grid=grid, block=BLOCK,
                    args=(*bufs, np.uint64(n)))

    def check() -> bool:
        if host_copy:
            return bool(np.array_equal(dev.download(bufs[2], np.float32), a + b))
        edge = min(n, 4096)  # the first and last elements: 1.2 GB would take seconds
        return all(np.array_equal(dev.download(bufs[2], np.float32, count=edge, offset=4 * start),
                                  ramp(start, start + edge) + np.float32(0.5))
                   for start in (0, n - edge))

    baseline = (lambda: np.add(a, b, out=c)) if host_copy else None
    return Workload(dev, run, check, grid * BLOCK, baseline, bufs)


def if_else(dev: simt.Device, n: int, data: str = "random", seed: int = 0,
            variant: str = "join") -> Workload:
    """The demo if/else kernel (``c = 2a if a > 0 else -a``) over ``n`` lanes.

    Parameters
    ----------
    data : {"random", "positive"}
        Random-sign N(0, 1) data (lanes diverge at random) or its absolute value (every
        lane takes the same path).  The baseline is ``np.where(a > 0, a + a, -a)``.
    variant : str
        A key of :data:`kernels.IF_ELSE_VARIANTS`.
    """
    (a,) = inputs("branch", n, seed)
    if data == "positive":
        a = np.abs(a) + np.float32(1e-3)
    elif data != "random":
        raise ValueError(f"data must be 'random' or 'positive', got {data!r}")
    bufs = [dev.upload(a), dev.alloc(4 * n)]
    grid = grid_for(n)
    run = _launcher(dev, kernels.IF_ELSE_VARIANTS[variant], grid=grid, block=BLOCK,
                    args=(*bufs, np.uint64(n)))

    def check() -> bool:
        return bool(np.array_equal(dev.download(bufs[1], np.float32), np.where(a > 0, a + a, -a)))

    return Workload(dev, run, check, grid * BLOCK, lambda: np.where(a > 0, a + a, -a), bufs)


def block_partials(a: np.ndarray, block: int) -> np.ndarray:
    """Per-block sums of ``a`` (float64, zero-padded to whole blocks)."""
    blocks = grid_for(a.size, block)
    padded = np.zeros(blocks * block, np.float64)
    padded[:a.size] = a
    return padded.reshape(blocks, block).sum(axis=1)


def tree_reduction(dev: simt.Device, n: int, block: int = BLOCK, seed: int = 0,
                   variant: str = "gallery") -> Workload:
    """The demo shared-memory tree reduction: per-block partial sums of ``n`` f32.

    The baseline is ``a.sum()``, the one-call NumPy result the issue compares with;
    ``variant`` is a key of :data:`kernels.TREE_REDUCTION_VARIANTS`.
    """
    (a,) = inputs("reduce", n, seed)
    blocks = grid_for(n, block)
    bufs = [dev.upload(a), dev.alloc(4 * blocks)]
    run = _launcher(dev, kernels.TREE_REDUCTION_VARIANTS[variant], grid=blocks, block=block,
                    args=(*bufs, np.uint64(n)), shared_bytes=4 * block)

    def check() -> bool:
        got = dev.download(bufs[1], np.float32)
        return bool(np.allclose(got, block_partials(a, block), rtol=1e-5, atol=1e-4))

    return Workload(dev, run, check, blocks * block, a.sum, bufs)


def straight_line(dev: simt.Device, lanes: int = 32, length: int = 1000,
                  operands: str = "uniform") -> Workload:
    """The straight-line ALU kernel of ``length`` instructions on one block of ``lanes``
    (``operands``: see :func:`kernels.straight_line_alu`)."""
    run = _launcher(dev, kernels.straight_line_alu(length, operands), grid=1, block=lanes)

    def check() -> bool:
        return run().stats.steps == length

    return Workload(dev, run, check, lanes)


def _f32_input(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (np.float32(0.5) + np.float32(0.5) * rng.random(n, np.float32)).astype(np.float32)


def opcode(dev: simt.Device, op: str, n: int, count: int = 32, seed: int = 0) -> Workload:
    """The per-opcode throughput kernel for ``op`` over ``n`` lanes (block <= 256)."""
    x = _f32_input(n, seed)
    bufs = [dev.upload(x), dev.alloc(4 * n)]
    block = min(BLOCK, n)
    grid = grid_for(n, block)
    text = kernels.opcode_kernel(op, count)
    run = _launcher(dev, text, grid=grid, block=block, args=(*bufs, np.uint64(n)))

    def check() -> bool:
        # Lanes below n run every instruction; the guard sends the others straight to
        # the final exit (setge, bra, exit).
        length = len(kernels.program(text))
        return run().stats.lane_instructions == n * length + (grid * block - n) * 3

    return Workload(dev, run, check, grid * block, None, bufs)


def divergence(dev: simt.Device, n: int, pattern: str = "random", seed: int = 0) -> Workload:
    """The two-path divergence kernel over ``n`` lanes.

    Parameters
    ----------
    pattern : {"none", "parity", "random"}
        Every lane on path A; odd lanes on path B; each lane on B with probability 1/2.
    """
    rng = np.random.default_rng(seed)
    x = _f32_input(n, seed)
    if pattern == "none":
        flag = np.zeros(n, np.uint32)
    elif pattern == "parity":
        flag = (np.arange(n) & 1).astype(np.uint32)
    elif pattern == "random":
        flag = rng.integers(0, 2, n, dtype=np.uint32)
    else:
        raise ValueError(f"pattern must be 'none', 'parity' or 'random', got {pattern!r}")
    bufs = [dev.upload(x), dev.upload(flag), dev.alloc(4 * n)]
    grid = grid_for(n)
    run = _launcher(dev, kernels.DIVERGENCE, grid=grid, block=BLOCK,
                    args=(*bufs, np.uint64(n)))

    def expected() -> np.ndarray:
        half = np.float32(0.5)
        a = b = x
        for _ in range(4):
            a = a * half + x
            b = (b - half) * x
        return np.where(flag == 0, a, b)

    def check() -> bool:
        return bool(np.allclose(dev.download(bufs[2], np.float32), expected(), rtol=1e-6))

    return Workload(dev, run, check, grid * BLOCK, None, bufs)


def neighbour_exchange(dev: simt.Device, n: int, block: int = BLOCK, rounds: int = 16,
                       seed: int = 0) -> Workload:
    """The barrier-heavy neighbour-exchange kernel (``2 * rounds`` barriers per block)."""
    x = _f32_input(n, seed)
    blocks = grid_for(n, block)
    bufs = [dev.upload(x), dev.alloc(4 * n)]
    run = _launcher(dev, kernels.NEIGHBOUR_EXCHANGE, grid=blocks, block=block,
                    args=(*bufs, np.uint64(n), np.uint32(rounds)), shared_bytes=4 * block)

    def check() -> bool:
        v = np.zeros(blocks * block, np.float32)
        v[:n] = x
        v = v.reshape(blocks, block)
        for _ in range(rounds):
            v = v + np.roll(v, -1, axis=1)
        return bool(np.allclose(dev.download(bufs[1], np.float32), v.reshape(-1)[:n],
                                rtol=1e-5))

    return Workload(dev, run, check, blocks * block, None, bufs)


def prepared(workload: Workload) -> Workload:
    """Run ``workload`` and its baseline once (warm-up), check the result, return it.

    The warm-up is the issue's "program run once before"; for the NumPy baseline it
    faults in the output array's pages, which would otherwise be timed once per setup.

    Raises
    ------
    RuntimeError
        If the device's result differs from NumPy's: a benchmark of a wrong result
        must fail, not publish a number.
    """
    workload.run()
    if workload.baseline is not None:
        workload.baseline()
    if not workload.check():
        raise RuntimeError("the workload's result differs from NumPy's")
    return workload


def best_of(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Return the best time in seconds of ``number`` calls of ``fn``, over ``repeat`` tries."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best
