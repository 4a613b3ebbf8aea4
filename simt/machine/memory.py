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

    def windows(self, mem: np.ndarray, size: int) -> np.ndarray | None:
        """Each row as one opaque item (a strided 1-D view) when a row's ``size``-byte
        elements are adjacent, else None: NumPy copies such items several times faster
        than a 2-D strided view of narrow rows."""
        if self.col_step != size or self.cols == 1 or self.row_step <= 0:
            return None
        return np.ndarray((self.rows,), np.dtype((np.void, self.cols * size)), buffer=mem,
                          offset=self.start, strides=(self.row_step,))

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
        self.pools: list[PoolBlock] = []      # live blocks, ascending handles
        self.next_pool = 1
        self._index_pools()
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
    def _zeros(self, nbytes: int, what: str) -> np.ndarray:
        """A zero-filled byte array, reserved first; nothing is kept counted if it fails."""
        self.reserve(nbytes, what)
        try:
            return np.zeros(nbytes, np.uint8)
        except MemoryError:
            self.release(nbytes)
            raise DeviceMemoryError(
                f"{what} of {nbytes} bytes: the operating system refused the memory "
                f"({self.used} of {self.limit} bytes in use on the device)") from None

    def alloc(self, nbytes: int) -> int:
        data = self._zeros(nbytes, "buffer allocation")
        handle = self.next_buffer
        self.next_buffer += 1
        self.buffers[handle] = data
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


def gather(mem: np.ndarray, pos: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Load one ``dtype`` value per byte position (little-endian, any alignment)."""
    size = dtype.itemsize
    if isinstance(pos, Run):
        return mem[pos.start: pos.start + pos.count * size].view(dtype).copy()
    if isinstance(pos, Lattice):
        rows = pos.windows(mem, size)
        if rows is not None:
            return rows.copy().view(dtype)
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


#: The duplicate test marks the keys in a scratch array over their range when that range
#: spans at most this many times the number of keys; sparser keys are sorted.
_MARK_SPAN = 8


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
    if isinstance(pos, Run):
        mem[pos.start: pos.start + pos.count * size] = values.view(np.uint8)
        return
    if isinstance(pos, Lattice):
        if pos.disjoint(size):
            rows = pos.windows(mem, size)
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
