"""Device memory: buffers, the Φ boundary pool, pools and per-block shared memory.

Every memory space is a flat ``uint8`` array.  An access resolves, for all
executing lanes at once, to *segments*: (array, byte positions, which lanes),
after vectorized handle and bounds checks that register faults instead of
raising (see :class:`~simt.machine.step.Step`).  Loads gather, stores scatter;
a store whose lanes collide on a byte keeps the highest lane's byte
(contract §2), resolved explicitly rather than by NumPy's unspecified order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import DeviceMemoryError, InvalidHandleError, OutOfBoundsError

__all__ = ["BOUNDARY_BYTES", "CLASS_BYTES", "CLASS_HANDLE_BASE", "DeviceMemory", "Segment",
           "Run", "Lattice", "gather", "scatter", "default_memory_limit"]

CLASS_BYTES = 12_288
BOUNDARY_BYTES = 96 * CLASS_BYTES
CLASS_HANDLE_BASE = (1 << 64) - 96
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
    """``count`` pools of ``size`` bytes allocated by one PoolAlloc step (handles first..)."""

    first: int
    size: int
    data: np.ndarray            # uint8 [count * size]
    alive: np.ndarray           # bool [count]


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

    def disjoint(self, size: int) -> bool:
        """Whether no two ``size``-byte elements overlap (so a store's order is moot)."""
        cols = self.cols == 1 or abs(self.col_step) >= size
        rows = self.rows == 1 or abs(self.row_step) >= abs(self.col_step) * (self.cols - 1) + size
        return cols and rows

    def indices(self, size: int = 0) -> np.ndarray:
        rows = np.arange(self.rows, dtype=np.int64) * self.row_step + self.start
        return (rows[:, None] + np.arange(self.cols, dtype=np.int64) * self.col_step).ravel()


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
        self._regions: dict[int, Region] = {}
        self.next_buffer = 1
        self.pools: list[PoolBlock] = []
        self.next_pool = 1
        self.reserve(BOUNDARY_BYTES)

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
    def alloc(self, nbytes: int) -> int:
        self.reserve(nbytes, "buffer allocation")
        handle = self.next_buffer
        self.next_buffer += 1
        self.buffers[handle] = np.zeros(nbytes, np.uint8)
        return handle

    def free(self, handle: int) -> None:
        if handle == 0 or handle >= CLASS_HANDLE_BASE:
            raise InvalidHandleError(f"cannot free the boundary pool (handle {handle})")
        self._regions.pop(handle, None)
        try:
            data = self.buffers.pop(handle)
        except KeyError:
            raise InvalidHandleError(f"invalid buffer handle: {handle} (unknown or freed)") from None
        self.release(data.size)

    def adopt(self, handle: int, data: np.ndarray) -> None:
        """Hold buffer ``handle``'s bytes (0: the boundary pool) in ``data`` from now on.

        ``data`` is a ``uint8`` array of the same size that the caller filled with
        the current contents (a parallel launch moves memory where workers map it).
        """
        if handle == 0:
            self.boundary = data
            self._regions.clear()
        else:
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
        return region.mem[region.base + offset: region.base + offset + nbytes]

    # ------------------------------------------------------------------ pools
    def pool_alloc(self, count: int, size: int) -> int:
        """Allocate ``count`` pools of ``size`` bytes; return the first handle."""
        self.reserve(count * size, "PoolAlloc")
        block = PoolBlock(self.next_pool, size, np.zeros(count * size, np.uint8),
                          np.ones(count, bool))
        self.pools.append(block)
        self.next_pool += count
        return block.first

    def pool_lookup(self, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(block index, row) of each pool handle; block -1 for unknown or freed handles."""
        firsts = np.array([b.first for b in self.pools] or [1 << 62], np.uint64)
        block = np.searchsorted(firsts, handles, side="right").astype(np.int64) - 1
        row = np.zeros(handles.shape, np.int64)
        ok = block >= 0
        for k, pb in enumerate(self.pools):
            mine = block == k
            if mine.any():
                r = (handles[mine] - np.uint64(pb.first)).astype(np.int64)
                alive = r < pb.alive.size
                alive[alive] = pb.alive[r[alive]]
                row[mine] = np.where(alive, r, 0)
                ok[np.flatnonzero(mine)[~alive]] = False
        block[~ok] = -1
        return block, row

    def pool_free(self, block: np.ndarray, row: np.ndarray) -> None:
        for k in np.unique(block):
            pb = self.pools[int(k)]
            rows = row[block == k]
            pb.alive[rows] = False
            self.release(rows.size * pb.size)


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


def gather(mem: np.ndarray, pos: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Load one ``dtype`` value per byte position (little-endian, any alignment)."""
    size = dtype.itemsize
    if isinstance(pos, Run):
        return mem[pos.start: pos.start + pos.count * size].view(dtype).copy()
    if isinstance(pos, Lattice):
        return pos.view(mem, dtype).flatten()
    if _contiguous(pos, size):
        start = int(pos[0])
        return mem[start: start + pos.size * size].view(dtype).copy()
    if size == 1:
        return mem[pos].view(dtype)
    usable = mem.size - mem.size % size
    if pos.size and not (pos % size).any():
        return mem[:usable].view(dtype)[pos // size]
    return mem[_byte_positions(pos, size)].view(dtype)


def _last_wins(keys: np.ndarray) -> np.ndarray:
    """Indices keeping, for each distinct key, its last occurrence (highest lane)."""
    if keys.size < 2 or bool((keys[1:] > keys[:-1]).all()):
        return slice(None)
    rev = keys[::-1]
    _, first = np.unique(rev, return_index=True)
    return keys.size - 1 - first


def scatter(mem: np.ndarray, pos: np.ndarray, values: np.ndarray) -> None:
    """Store ``values`` at byte positions ``pos`` (in ascending lane order)."""
    size = values.dtype.itemsize
    if isinstance(pos, Run):
        mem[pos.start: pos.start + pos.count * size] = values.view(np.uint8)
        return
    if isinstance(pos, Lattice):
        if pos.disjoint(size):
            view = pos.view(mem, values.dtype)
            view[...] = values.reshape(view.shape)
            return
        pos = pos.indices()
    if _contiguous(pos, size):
        start = int(pos[0])
        mem[start: start + pos.size * size] = values.view(np.uint8)
        return
    if size > 1 and pos.size and not (pos % size).any():
        usable = mem.size - mem.size % size
        idx = pos // size
        keep = _last_wins(idx)
        mem[:usable].view(values.dtype)[idx[keep]] = values[keep]
        return
    bpos = _byte_positions(pos, size) if size > 1 else pos
    bvals = np.ascontiguousarray(values).view(np.uint8).ravel()
    keep = _last_wins(bpos)
    mem[bpos[keep]] = bvals[keep]
