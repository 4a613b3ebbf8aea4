"""Device memory: buffers, the Φ boundary pool, pools and per-block shared memory.

Every memory space is a flat ``uint8`` array.  An access resolves, for all
executing lanes at once, to *segments*: (array, byte positions, which lanes),
after vectorized handle and bounds checks that register faults instead of
raising (see :class:`~simt.machine.step.Step`).  Loads gather, stores scatter;
a store whose lanes collide on a byte keeps the highest lane's byte
(docs/semantics.md), resolved explicitly rather than by NumPy's unspecified order.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import DeviceMemoryError, InvalidHandleError, OutOfBoundsError
from .lanes import opaque
from .values import Affine, Digits, Tiled, int_range

__all__ = ["BOUNDARY_BYTES", "BUFFER_SLACK", "CLASS_BYTES", "CLASS_HANDLE_BASE", "DeviceMemory", "Segment",
           "Run", "Lattice", "Strided", "strided", "gather", "scatter", "default_memory_limit"]

CLASS_BYTES = 12_288
BOUNDARY_BYTES = 96 * CLASS_BYTES
CLASS_HANDLE_BASE = (1 << 64) - 96
#: Zero bytes allocated (uncounted) past the end of every buffer (an eighth of its size
#: at most), so that a lent view (:meth:`DeviceMemory.lend`) of the last elements still
#: spans a piece's lanes: the unset lanes past a guarded launch's end, up to a block of
#: 1,024 lanes of 8 bytes.
BUFFER_SLACK = 8192
_U64_MAX = np.uint64((1 << 64) - 1)


def default_memory_limit() -> int:
    """Half of the machine's physical RAM."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


class Region(NamedTuple):
    """Where a handle's bytes live: ``mem[base : base + limit]``."""

    mem: np.ndarray
    base: int
    limit: int
    per_class: bool = False     # handle 0: an access must stay inside one 12,288-byte class


@dataclass
class PoolBlock:
    """The ``count`` pools of ``size`` bytes one PoolAlloc step made (handles ``first``..).

    ``data`` holds the bytes of the pools still alive, one ``size``-byte row each.
    ``slot`` maps a pool's index in the block to its row (-1 once freed); ``None``
    while no pool of the block was freed (row = index).  When half the rows are
    dead the live rows are copied into a smaller array, so freed pools give their
    memory back; a block whose pools are all freed is dropped.
    """

    first: int
    count: int
    size: int
    data: np.ndarray            # uint8 [rows * size]
    live: int
    slot: np.ndarray | None = None

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Row in ``data`` of each pool index (-1 for freed pools)."""
        return index if self.slot is None else self.slot[index]

    def free(self, index: np.ndarray) -> None:
        """Mark the pools at ``index`` (alive, distinct) freed; compact when half are dead."""
        if self.slot is None:
            self.slot = np.arange(self.count, dtype=np.int64)
        self.slot[index] = -1
        self.live -= index.size
        rows = self.data.size // self.size if self.size else 0
        if self.live == 0 or 2 * self.live > rows:
            return
        alive = np.flatnonzero(self.slot >= 0)
        try:
            data = self.data.reshape(rows, self.size)[self.slot[alive]].reshape(-1)
        except MemoryError:     # compaction is an optimization: keep the larger array
            return
        self.data = data
        self.slot[alive] = np.arange(alive.size, dtype=np.int64)


# Run, Lattice and Segment are made at every memory access: tuples build fastest.
class Run(NamedTuple):
    """Byte positions of ``count`` consecutive elements starting at byte ``start``."""

    start: int
    count: int

    def indices(self, size: int) -> np.ndarray:
        return np.arange(self.start, self.start + self.count * size, size, dtype=np.int64)


class Lattice(NamedTuple):
    """Byte positions ``start + row_step * i + col_step * j`` (``i < rows``, ``j < cols``).

    Lanes map to ``(i, j)`` in row-major order: a strided run per block, for
    instance, when a tree level's lanes address shared memory.  Memory at a
    lattice is a strided NumPy view (no index array); positions are in bounds
    by construction.
    """

    start: int
    rows: int
    cols: int
    row_step: int
    col_step: int

    def view(self, mem: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The elements of ``mem`` at these positions, as a (rows, cols) view."""
        return np.ndarray((self.rows, self.cols), dtype, buffer=mem, offset=self.start,
                          strides=(self.row_step, self.col_step))

    def line(self, mem: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
        """The elements as a 1-D view when one axis has a single index and the other a
        nonzero step (one element per block, say), else None: NumPy builds and copies a
        1-D view faster than the 2-D one of :meth:`view`, with the same elements in
        the same (lane) order."""
        if self.rows == 1:
            n, step = self.cols, self.col_step
        elif self.cols == 1:
            n, step = self.rows, self.row_step
        else:
            return None
        if step == 0 and n > 1:
            return None
        return np.ndarray((n,), dtype, buffer=mem, offset=self.start, strides=(step,))

    def windows(self, mem: np.ndarray, size: int) -> np.ndarray | None:
        """Each row as one opaque item (a strided 1-D view) when a row's ``size``-byte
        elements are adjacent, else None: NumPy copies such items several times faster
        than a 2-D strided view of narrow rows."""
        if self.col_step != size or self.cols == 1 or self.row_step <= 0:
            return None
        return np.ndarray((self.rows,), opaque(self.cols * size), buffer=mem,
                          offset=self.start, strides=(self.row_step,))

    def disjoint(self, size: int) -> bool:
        """Whether no two ``size``-byte elements overlap (so a store's order is moot)."""
        cols = self.cols == 1 or abs(self.col_step) >= size
        rows = self.rows == 1 or abs(self.row_step) >= abs(self.col_step) * (self.cols - 1) + size
        return cols and rows

    def indices(self, size: int = 0) -> np.ndarray:
        rows = np.arange(self.rows, dtype=np.int64) * self.row_step + self.start
        return (rows[:, None] + np.arange(self.cols, dtype=np.int64) * self.col_step).ravel()


class Strided:
    """Byte positions ``start + sum(index[d] * steps[d])`` over a row-major grid of ``shape``.

    The N-dimensional form of :class:`Lattice`: lanes whose offset is a sum of digits of
    the lane (a 2-D block's ``threadIdx.x`` and ``threadIdx.y``, the block) map to the
    grid's cells in lane order.  A step of 0 reads one element for every index along
    its axis (a broadcast read).  Memory at these positions is a strided NumPy view (no
    index array); positions are in bounds by construction.  Converting it to an array
    (``np.asarray``) gives the positions one per lane, for the general paths.
    """

    __slots__ = ("start", "shape", "steps")

    def __init__(self, start: int, shape: tuple[int, ...], steps: tuple[int, ...]) -> None:
        self.start, self.shape, self.steps = start, shape, steps

    def view(self, mem: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The elements of ``mem`` at these positions, as a view of ``shape``."""
        return np.ndarray(self.shape, dtype, buffer=mem, offset=self.start, strides=self.steps)

    def disjoint(self, size: int) -> bool:
        """Whether no two ``size``-byte elements overlap: sorted by step, every axis steps
        past everything the axes below it reach (a nested grid, injective)."""
        reach = size
        for step, n in sorted((abs(s), n) for s, n in zip(self.steps, self.shape) if n > 1):
            if step < reach:
                return False
            reach = step * (n - 1) + reach
        return True

    def indices(self, size: int = 0) -> np.ndarray:
        """The byte position of every lane, in lane order (int64)."""
        total = np.full((1,) * len(self.shape), self.start, np.int64)
        for d, (n, step) in enumerate(zip(self.shape, self.steps)):
            axis = [1] * len(self.shape)
            axis[d] = n
            total = total + (np.arange(n, dtype=np.int64) * step).reshape(axis)
        return np.ascontiguousarray(np.broadcast_to(total, self.shape)).reshape(-1)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.indices()
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"Strided({self.start}, {self.shape}, {self.steps})"


def strided(start: int, shape, steps, size: int) -> "Run | Lattice | Strided":
    """The simplest of Run, Lattice, Strided for the grid ``start, shape, steps``.

    Axes of one index are dropped and an axis merges into the one inside it when it
    steps exactly over it (``steps[d] == steps[d + 1] * shape[d + 1]``).
    """
    axes: list[list[int]] = []
    for n, step in zip(shape, steps):
        if n == 1:
            continue
        if axes and axes[-1][1] == step * n:       # (outer, inner) = one longer inner axis
            axes[-1] = [axes[-1][0] * n, step]
        else:
            axes.append([n, step])
    if not axes:
        return Run(start, 1)
    if len(axes) == 1:
        n, step = axes[0]
        return Run(start, n) if step == size else Lattice(start, 1, n, 0, step)
    if len(axes) == 2:
        return Lattice(start, axes[0][0], axes[1][0], axes[0][1], axes[1][1])
    return Strided(start, tuple(n for n, _ in axes), tuple(s for _, s in axes))


def _digits_of(value) -> tuple[int, list[int], list[int | None]] | None:
    """``(base, coefs, radices)`` of an integer value as digits of the lane (see
    :class:`~simt.machine.values.Digits`), or None for other forms."""
    if type(value) is Affine:
        return value.base, [value.stride], [None]
    if type(value) is Tiled:
        return value.base, [value.inner, value.outer], [value.period, None]
    if type(value) is Digits:
        return value.base, list(value.coefs), list(value.radices)
    return None


def _split_at(coefs: list[int], radices: list[int | None], unit: int) -> bool:
    """Make ``unit`` (lanes) the unit of a digit, in place, if it divides the digits' grid.

    A digit ``(lane // u) % r`` with coefficient ``c`` equals ``c * ((lane // u) % m)
    + c * m * ((lane // (u * m)) % (r / m))`` when ``m`` divides ``r`` (for the last
    digit, which has no radix, any ``m``): the same value, with a digit boundary at
    ``u * m``.
    """
    u = 1
    for k, r in enumerate(radices):
        if u == unit:
            return True
        if r is None or unit < u * r:
            if unit % u or (r is not None and r % (unit // u)):
                return False
            m = unit // u
            coefs[k:k + 1] = [coefs[k], coefs[k] * m]
            radices[k:k + 1] = [m, None if r is None else r // m]
            return True
        u *= r
    return False


def shared_grid(offsets, lo: int, hi: int, period: int, limit: int,
                size: int) -> "Run | Lattice | Strided | None":
    """The byte positions ``(lane // period) * limit + offset`` of lanes ``[lo, hi)`` as one
    strided grid, when no lane faults; None when that is not cheaply shown.

    ``offsets`` is a compressed value (affine, tiled or digits of the lane).  As
    digits with a boundary at the block (``period`` lanes, split in if needed), the
    block term adds ``limit * unit / period`` to the coefficient of every digit at or
    above the block.  Lanes ``[lo, hi)`` must cover whole periods of the top digit, so
    that the lanes in order are exactly the cells of the grid of the digits (most
    significant first); the offsets' bounds over that grid are then exact, and
    inside ``[0, limit - size]`` and the type's range they show that no offset wraps
    and no lane faults.
    """
    form = _digits_of(offsets)
    if form is None or hi <= lo:
        return None
    base, coefs, radices = form
    if not _split_at(coefs, radices, period):
        return None
    units = _units(radices)
    top = units[-1]
    if lo % top or hi % top:
        return None
    q0, q1 = lo // top, hi // top
    extents = radices[:-1] + [q1 - q0]
    return _bounded_grid(base, coefs, units, extents, {len(coefs) - 1: q0}, offsets.dtype,
                         period, limit, size)


def shared_tiles(offsets, lanes, period: int, limit: int,
                 size: int) -> "Run | Lattice | Strided | None":
    """:func:`shared_grid` for the lanes of a :class:`~simt.machine.lanes.Tiles` set
    (``b * P + t`` for rows ``b0 <= b < b1`` and ``t0 <= t < t1``), or None.

    With digit boundaries at ``P`` and at the block (split in if needed), the
    digits below ``P`` depend on ``t`` only and the others on ``b`` only, so the
    positions are the sum of a grid over ``t`` and a grid over ``b``: one grid,
    the rows' axes outside, when ``[t0, t1)`` covers whole periods of the top
    digit below ``P`` and the rows cover whole periods of the top digit.  Bounds
    are exact over that grid, and checked as :func:`shared_grid` does.
    """
    form = _digits_of(offsets)
    P = lanes.period
    if form is None or P < 2:
        return None
    base, coefs, radices = form
    if not (_split_at(coefs, radices, period) and _split_at(coefs, radices, P)):
        return None
    units = _units(radices)
    k = units.index(P)
    low_top, top = units[k - 1], units[-1]
    if lanes.t0 % low_top or lanes.t1 % low_top or (lanes.b0 * P) % top or (lanes.b1 * P) % top:
        return None
    t0, b0 = lanes.t0 // low_top, lanes.b0 * P // top
    extents = radices[:k - 1] + [lanes.t1 // low_top - t0] + radices[k:-1] + \
        [lanes.b1 * P // top - b0]
    return _bounded_grid(base, coefs, units, extents, {k - 1: t0, len(coefs) - 1: b0},
                         offsets.dtype, period, limit, size)


def _units(radices: list[int | None]) -> list[int]:
    """The lane unit of each digit: ``1, r0, r0 * r1, ...``."""
    units = [1]
    for r in radices[:-1]:
        units.append(units[-1] * r)
    return units


def _bounded_grid(base: int, coefs: list[int], units: list[int], extents: list[int],
                  firsts: dict[int, int], dtype: np.dtype, period: int, limit: int,
                  size: int) -> "Run | Lattice | Strided | None":
    """The shared positions of the digit cells ``firsts.get(d, 0) + i`` (``i <
    extents[d]``) as one strided grid, or None when an offset may leave ``[0, limit -
    size]`` or the type's range.

    The offsets' bounds over the grid are exact (each digit moves on its own axis), and
    the block term adds ``limit * unit / period`` to every digit at or above the block.
    """
    low = high = base + sum(coefs[d] * first for d, first in firsts.items())
    for c, e in zip(coefs, extents):
        low, high = low + min(0, c * (e - 1)), high + max(0, c * (e - 1))
    tmin, tmax = int_range(dtype)
    if low < max(0, tmin) or high > tmax or high + size > limit:
        return None
    steps = [c + limit * u // period if u >= period else c for c, u in zip(coefs, units)]
    start = base + sum(steps[d] * first for d, first in firsts.items())
    return strided(start, extents[::-1], steps[::-1], size)


class Segment(NamedTuple):
    """Lanes ``where`` (positions in the step's lane order) access ``mem`` at byte ``pos``."""

    mem: np.ndarray
    pos: "np.ndarray | Run"
    where: slice | np.ndarray


class DeviceMemory:
    """Buffers, the boundary pool and pools of one device, with a byte budget."""

    def __init__(self, memory_limit: int) -> None:
        self.limit = memory_limit
        self.used = 0
        self.boundary = np.zeros(BOUNDARY_BYTES, np.uint8)
        self.buffers: dict[int, np.ndarray] = {}
        self._padded: dict[int, np.ndarray] = {}     # id -> buffer made by alloc
        self._regions: dict[int, Region] = {}
        self.next_buffer = 1
        self.pools: list[PoolBlock] = []      # live blocks, ascending handles
        self.next_pool = 1
        self._index_pools()
        self.reserve(BOUNDARY_BYTES)
        #: rows lent a view of this memory: (register file and view, both weakly; the
        #: register; the memory array and byte range loaded; the loaded values in debug mode)
        self.lent: list[tuple] = []

    # ------------------------------------------------------------------ lent views
    def lend(self, regs, reg: int, view: np.ndarray, mem: np.ndarray, lo: int, hi: int,
             check: bool = False) -> None:
        """Record that row ``reg`` of ``regs`` holds ``view``, a read-only view in which
        the lanes of a load see bytes ``[lo, hi)`` of ``mem`` (the values it loaded;
        :meth:`simt.machine.state.Row.lend`).

        Exactness: those lanes read the view instead of a copy made at the load, so
        the bytes must keep their loaded values while the row holds it.  Every write
        to device memory calls :meth:`settle` first -- stores
        (:func:`simt.machine.kernels.memory.store`), host copies (:meth:`host_view`),
        :meth:`adopt`, :meth:`free`, and the start of every launch (a parallel
        launch commits bytes straight into the buffers) -- and settling copies each
        view of bytes about to be written into its row's own storage.  Nothing else
        writes device memory.  With ``check`` (debug mode) the loaded bytes are kept
        and every :meth:`settle` asserts that each view still shows them.
        """
        if len(self.lent) >= 8:
            self.lent = [e for e in self.lent if e[1]() is not None and e[0]() is not None]
        self.lent.append((weakref.ref(regs), weakref.ref(view), reg, mem, lo, hi,
                          mem[lo:hi].copy() if check else None))

    def holds(self, view, mem: np.ndarray, lo: int, hi: int) -> bool:
        """Whether ``view`` is lent (:meth:`lend`) with bytes ``[lo, hi)`` of ``mem`` as
        the ones its lanes loaded: they then hold those lanes' values of the view."""
        if view is None:
            return False
        for entry in self.lent:
            if entry[1]() is view:
                return entry[3] is mem and entry[4] == lo and entry[5] == hi
        return False

    def settle(self, mem: np.ndarray | None = None, lo: int = 0, hi: int | None = None) -> None:
        """Copy every lent view of bytes ``[lo, hi)`` of ``mem`` (None: every view; ``hi``
        None: to the end) into its row's own storage, before they are written."""
        if mem is not None:
            # nothing to do unless a view of those bytes was lent, or one is checked
            # (debug mode: every settle asserts every view)
            for entry in self.lent:
                if entry[6] is not None or (entry[3] is mem and lo < entry[5] and (
                        hi is None or entry[4] < hi)):
                    break
            else:
                return
        keep = []
        for entry in self.lent:
            regs, view = entry[0](), entry[1]()
            if view is None or regs is None:
                continue                        # the row, or its file, moved on
            _, _, reg, at, start, stop, loaded = entry
            row = regs.regs[reg]
            if row.data is not view:
                continue
            if loaded is not None:
                assert np.array_equal(at[start:stop], loaded), (
                    f"lent view of r{reg}: device memory changed under a register that "
                    "still holds it")
            if mem is None or (at is mem and start < (stop if hi is None else hi)
                               and lo < stop):
                row.own_lent()
                continue
            keep.append(entry)
        self.lent = keep

    # ------------------------------------------------------------------ budget
    def reserve(self, nbytes: int, what: str = "allocation") -> None:
        """Account ``nbytes``; raise ``DeviceMemoryError`` (nothing reserved) past the limit."""
        if self.used + nbytes > self.limit:
            raise DeviceMemoryError(
                f"{what} of {nbytes} bytes exceeds the device memory limit "
                f"({self.used} of {self.limit} bytes in use)")
        self.used += nbytes

    def release(self, nbytes: int) -> None:
        self.used -= nbytes

    # ------------------------------------------------------------------ buffers
    def _zeros(self, nbytes: int, what: str, slack: int = 0) -> np.ndarray:
        """A zero-filled byte array, reserved first; nothing is kept counted if it fails.

        With ``slack`` the array is the first ``nbytes`` of a larger one (uncounted).
        """
        self.reserve(nbytes, what)
        try:
            return np.zeros(nbytes + slack, np.uint8)[:nbytes] if slack else \
                np.zeros(nbytes, np.uint8)
        except MemoryError:
            self.release(nbytes)
            raise DeviceMemoryError(
                f"{what} of {nbytes} bytes: the operating system refused the memory "
                f"({self.used} of {self.limit} bytes in use on the device)") from None

    def alloc(self, nbytes: int) -> int:
        data = self._zeros(nbytes, "buffer allocation", min(BUFFER_SLACK, nbytes // 8))
        handle = self.next_buffer
        self.next_buffer += 1
        self.buffers[handle] = data
        self._padded[id(data)] = data
        return handle

    def padded(self, mem: np.ndarray) -> np.ndarray:
        """``mem`` with the bytes allocated past its end (up to :data:`BUFFER_SLACK` for
        a buffer made by :meth:`alloc`, none for other memory).

        Nothing writes or reads those bytes as device memory (every access is
        checked against the buffer's size), so they are always zero; a lent view
        (:meth:`lend`) may reach into them at lanes it leaves unset.
        """
        if self._padded.get(id(mem)) is mem and mem.base is not None:
            return mem.base
        return mem

    def free(self, handle: int) -> None:
        if handle == 0 or handle >= CLASS_HANDLE_BASE:
            raise InvalidHandleError(f"cannot free the boundary pool (handle {handle})")
        self._regions.pop(handle, None)
        try:
            data = self.buffers.pop(handle)
        except KeyError:
            raise InvalidHandleError(f"invalid buffer handle: {handle} (unknown or freed)") from None
        self._padded.pop(id(data), None)
        if self.lent:
            self.settle(data)
        self.release(data.size)

    def adopt(self, handle: int, data: np.ndarray) -> None:
        """Hold buffer ``handle``'s bytes (0: the boundary pool) in ``data`` from now on.

        ``data`` is a ``uint8`` array of the same size that the caller filled with
        the current contents (a parallel launch moves memory where workers map it).
        """
        if self.lent:
            self.settle()
        if handle == 0:
            self.boundary = data
            self._regions.clear()
        else:
            old = self.buffers.get(handle)
            if old is not None:
                self._padded.pop(id(old), None)
            self.buffers[handle] = data
            self._regions.pop(handle, None)

    def region(self, handle: int) -> Region | None:
        """The bytes a buffer handle names (0: whole pool, 2^64-96+c: class c), or None."""
        region = self._regions.get(handle)
        if region is not None:
            return region
        if handle == 0:
            region = Region(self.boundary, 0, BOUNDARY_BYTES, per_class=True)
        elif handle >= CLASS_HANDLE_BASE:
            region = Region(self.boundary, (handle - CLASS_HANDLE_BASE) * CLASS_BYTES,
                            CLASS_BYTES)
        else:
            data = self.buffers.get(handle)
            if data is None:
                return None
            region = Region(data, 0, data.size)
        self._regions[handle] = region      # forgotten when the buffer is freed
        return region

    def host_view(self, handle: int, offset: int, nbytes: int) -> np.ndarray:
        """``nbytes`` bytes of a buffer at ``offset`` for host copies (whole pool for handle 0)."""
        if handle == 0:
            region = Region(self.boundary, 0, BOUNDARY_BYTES)
        else:
            region = self.region(handle)
        if region is None:
            raise InvalidHandleError(f"invalid buffer handle: {handle} (unknown or freed)")
        if offset < 0 or nbytes < 0 or offset + nbytes > region.limit:
            raise OutOfBoundsError(
                f"host copy of {nbytes} bytes at offset {offset} is outside buffer {handle} "
                f"({region.limit} bytes)")
        start = region.base + offset
        if self.lent:       # the host may write these bytes (a session paused mid-launch)
            self.settle(region.mem, start, start + nbytes)
        return region.mem[start: start + nbytes]

    # ------------------------------------------------------------------ pools
    def pool_alloc(self, count: int, size: int) -> int:
        """Allocate ``count`` pools of ``size`` bytes; return the first handle."""
        data = self._zeros(count * size, "PoolAlloc")
        block = PoolBlock(self.next_pool, count, size, data, count)
        self.pools.append(block)
        self.next_pool += count
        self._index_pools()
        return block.first

    def _index_pools(self) -> None:
        self._pool_firsts = np.array([b.first for b in self.pools], np.uint64)
        self._pool_counts = np.array([b.count for b in self.pools], np.uint64)

    def _pool_index(self, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(block index, pool index in the block, inside) of each handle.

        ``inside`` says whether a handle falls in a block's range (the pool may
        still be freed).  A binary search over the live blocks' first handles,
        done in u64 so every handle value, 2^63 and above included, is exact.
        """
        handles = np.asarray(handles, np.uint64)
        if not self.pools or handles.size == 0:
            zero = np.zeros(handles.shape, np.int64)
            return zero, zero, np.zeros(handles.shape, bool)
        block = np.searchsorted(self._pool_firsts, handles, side="right").astype(np.int64) - 1
        inside = block >= 0
        block[~inside] = 0
        index = handles - self._pool_firsts[block]      # wraps where not inside: masked
        inside &= index < self._pool_counts[block]
        return block, np.where(inside, index, np.uint64(0)).astype(np.int64), inside

    def pool_lookup(self, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(block index into ``pools``, row in its data) of each pool handle.

        Block -1 marks a handle that is not a live pool, whatever its value.
        """
        block, index, inside = self._pool_index(handles)
        row = np.zeros(block.shape, np.int64)
        if not inside.any():
            return np.full(block.shape, -1, np.int64), row
        touched = np.unique(block[inside])
        if touched.size == 1:
            rows = self.pools[int(touched[0])].rows(index)
            ok = inside & (rows >= 0)
            row[ok] = rows[ok]
        else:
            ok = inside.copy()
            for k in touched:
                mine = np.flatnonzero(inside & (block == k))
                rows = self.pools[int(k)].rows(index[mine])
                row[mine] = np.maximum(rows, 0)
                ok[mine] = rows >= 0
        return np.where(ok, block, -1), row

    def pool_free(self, handles: np.ndarray) -> None:
        """Free the pools of ``handles`` (live and distinct: the caller checked)."""
        block, index, _ = self._pool_index(handles)
        for k in np.unique(block):
            pb = self.pools[int(k)]
            mine = index[block == k]
            pb.free(mine)
            self.release(mine.size * pb.size)
        if any(pb.live == 0 for pb in self.pools):
            self.pools = [pb for pb in self.pools if pb.live]
            self._index_pools()


def check_range(off: np.ndarray, size: int, limit: int) -> np.ndarray:
    """Lanes whose ``off + size`` exceeds ``limit``, computed without u64 overflow."""
    off = np.asarray(off, np.uint64)
    if limit < size:
        return np.ones(off.shape, bool)
    return off > np.uint64(limit - size)


def crosses_class(off: np.ndarray, size: int) -> np.ndarray:
    """Accesses of the whole pool (handle 0) that run past the end of their class."""
    return np.asarray(off, np.uint64) % np.uint64(CLASS_BYTES) + np.uint64(size) > np.uint64(
        CLASS_BYTES)


# ---------------------------------------------------------------------- gather / scatter

def _byte_positions(pos: np.ndarray, size: int) -> np.ndarray:
    return (pos[:, None] + np.arange(size, dtype=np.int64)).ravel()


def _contiguous(pos: np.ndarray, size: int) -> bool:
    n = pos.size
    return n > 0 and int(pos[-1]) - int(pos[0]) == (n - 1) * size and (
        n < 3 or bool(((pos[1:] - pos[:-1]) == size).all()))


def _flat_copy(view: np.ndarray) -> np.ndarray:
    """A contiguous 1-D copy of a strided view.  Axes of stride 0 (one element read for
    every index) are copied once and repeated, which NumPy does several times faster
    than a copy that steps through them."""
    zero = [d for d, (n, s) in enumerate(zip(view.shape, view.strides)) if s == 0 and n > 1]
    if not zero:
        return view.flatten()
    if zero == [view.ndim - 1]:         # one value per run of lanes: a fresh 1-D result
        return np.repeat(view[..., 0].reshape(-1), view.shape[-1])
    out = view[tuple(slice(0, 1) if d in zero else slice(None) for d in range(view.ndim))]
    for d in zero:
        out = np.repeat(out, view.shape[d], axis=d)
    return out.reshape(-1)


def gather(mem: np.ndarray, pos: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Load one ``dtype`` value per byte position (little-endian, any alignment)."""
    size = dtype.itemsize
    kind = type(pos)
    if kind is Run:
        return mem[pos.start: pos.start + pos.count * size].view(dtype).copy()
    if kind is Lattice:
        line = pos.line(mem, dtype)
        if line is not None:
            return line.copy()
        rows = pos.windows(mem, size)
        if rows is not None:    # into an array of dtype: the result owns its memory
            out = np.empty(pos.rows * pos.cols, dtype)
            out.view(rows.dtype)[...] = rows
            return out
    if isinstance(pos, (Lattice, Strided)):
        return _flat_copy(pos.view(mem, dtype))
    if _contiguous(pos, size):
        start = int(pos[0])
        return mem[start: start + pos.size * size].view(dtype).copy()
    if size == 1:
        return mem[pos].view(dtype)
    usable = mem.size - mem.size % size
    idx = _element_index(pos, size)
    if idx is not None:
        return np.take(mem[:usable].view(dtype), idx)
    return mem[_byte_positions(pos, size)].view(dtype)


def _element_index(pos: np.ndarray, size: int) -> np.ndarray | None:
    """``pos // size`` when every position is a multiple of ``size`` (a power of two:
    a mask and a shift, several times cheaper than integer division), else None."""
    if not pos.size or size & (size - 1):
        return None
    if int(np.bitwise_or.reduce(pos)) & (size - 1):    # one reduction, no temporary
        return None
    return pos >> (size.bit_length() - 1)


#: The duplicate test marks the keys in a scratch array over their range when that range
#: spans at most this many times the number of keys; sparser keys are sorted.
from .thresholds import MARK_SPAN as _MARK_SPAN  # noqa: E402


def _distinct(keys: np.ndarray) -> bool | None:
    """Whether the keys are pairwise distinct; None when their range is too sparse to tell
    cheaply.

    Every key marks its entry of a zeroed boolean array over ``[min, max]``; the
    number of marked entries is the number of distinct keys, so the keys are
    distinct exactly when it equals their count.  Every write stores the same
    value, so the answer never depends on the order of colliding writes.  Fewer
    values in the range than keys (pigeonhole) means a duplicate without any write.
    """
    n = keys.size
    lo, hi = int(keys.min()), int(keys.max())
    span = hi - lo + 1
    if span < n:
        return False
    if span > _MARK_SPAN * n:
        return None
    marks = np.zeros(span, bool)
    marks[keys - lo if lo else keys] = True
    return int(np.count_nonzero(marks)) == n


def _last_wins(keys: np.ndarray) -> np.ndarray | slice:
    """Indices keeping, for each distinct key, its last occurrence (highest lane).

    ``slice(None)`` (every index) when the keys are distinct: ascending, or found so by
    :func:`_distinct`.  Otherwise a stable argsort orders equal keys by lane, so the
    last index of each run of equal sorted keys is that key's highest lane.
    """
    n = keys.size
    if n < 2 or bool((keys[1:] > keys[:-1]).all()):
        return slice(None)
    if _distinct(keys):
        return slice(None)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    last = np.empty(n, bool)
    last[-1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=last[:-1])
    return order[last]


def scatter(mem: np.ndarray, pos: np.ndarray, values: np.ndarray) -> None:
    """Store ``values`` at byte positions ``pos`` (in ascending lane order)."""
    size = values.dtype.itemsize
    kind = type(pos)
    if kind is Run:
        mem[pos.start: pos.start + pos.count * size] = values.view(np.uint8)
        return
    if kind is Lattice and (pos.rows == 1 or pos.cols == 1):
        line = pos.line(mem, values.dtype)
        # one axis: distinct elements when it steps at least one element
        if line is not None and (line.shape[0] == 1 or abs(line.strides[0]) >= size):
            line[...] = values
            return
    if isinstance(pos, (Lattice, Strided)):
        if pos.disjoint(size):
            rows = pos.windows(mem, size) if type(pos) is Lattice else None
            if rows is not None:
                rows[...] = np.ascontiguousarray(values).view(rows.dtype)
                return
            view = pos.view(mem, values.dtype)
            view[...] = values.reshape(view.shape)
            return
        pos = pos.indices()
    if _contiguous(pos, size):
        start = int(pos[0])
        mem[start: start + pos.size * size] = values.view(np.uint8)
        return
    idx = _element_index(pos, size) if size > 1 else None
    if idx is not None:
        usable = mem.size - mem.size % size
        keep = _last_wins(idx)
        mem[:usable].view(values.dtype)[idx[keep]] = values[keep]
        return
    bpos = _byte_positions(pos, size) if size > 1 else pos
    bvals = np.ascontiguousarray(values).view(np.uint8).ravel()
    keep = _last_wins(bpos)
    mem[bpos[keep]] = bvals[keep]


def describe(memory: DeviceMemory, mem: np.ndarray, pos: int, shared: np.ndarray | None = None,
             shared_bytes: int = 0) -> tuple[str, int | None, int]:
    """Where byte ``pos`` of the memory array ``mem`` lives, as a user names it.

    Returns ``(space, handle, address)``: ``("boundary", 0, offset in the Φ pool)``,
    ``("global", buffer handle, offset)``, ``("pool", pool handle, offset in the pool)``
    or ``("shared", None, offset in the block's shared memory)`` when ``mem`` is a
    piece's ``shared`` array of ``shared_bytes`` per block.  Checks use it to word
    their errors; it scans the buffers and pools, so it is not for the execution path.
    """
    if mem is memory.boundary:
        return "boundary", 0, pos
    if shared is not None and mem is shared:
        return "shared", None, pos % shared_bytes if shared_bytes else pos
    for handle, data in memory.buffers.items():
        if data is mem:
            return "global", handle, pos
    for pb in memory.pools:
        if pb.data is mem:
            return "pool", pb.first + pos // pb.size, pos % pb.size
    raise ValueError("describe: not a memory array of this device")
