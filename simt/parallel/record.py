"""Byte sets of device memory a piece read or wrote, kept as sorted disjoint intervals.

A piece's memory traffic is recorded by :class:`Recorder`, an observer that
sees every load and store of the piece (with the memory array, byte positions
and executing lanes) just before it takes effect.  Memory is named by *key*:
a buffer handle, or 0 for the boundary pool.  Per-block shared memory is
private to its piece and never recorded.
"""

from __future__ import annotations

import numpy as np

from ..machine.events import Access, Observer
from ..machine.memory import DeviceMemory, Run

__all__ = ["Intervals", "Recorder", "memory_keys", "union", "overlaps", "gather_bytes",
           "scatter_bytes"]

#: key -> (starts, ends): sorted, disjoint, non-adjacent byte intervals [start, end)
Intervals = dict[int, tuple[np.ndarray, np.ndarray]]


_COMPACT = 1 << 22


def _merge(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted disjoint intervals covering the same bytes as ``[starts, ends)``."""
    if starts.size == 0:
        return starts.astype(np.int64), ends.astype(np.int64)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new = np.empty(starts.size, bool)
    new[0] = True
    new[1:] = starts[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], starts.size] - 1
    return starts[first], reach[last]


def union(a: Intervals, b: Intervals) -> Intervals:
    """The bytes in ``a`` or ``b``."""
    out = dict(a)
    for key, (s, e) in b.items():
        if key in out:
            s0, e0 = out[key]
            out[key] = _merge(np.concatenate([s0, s]), np.concatenate([e0, e]))
        else:
            out[key] = (s, e)
    return out


def overlaps(a: Intervals, b: Intervals) -> bool:
    """Whether ``a`` and ``b`` share a byte."""
    for key, (s, e) in a.items():
        other = b.get(key)
        if other is None or s.size == 0 or other[0].size == 0:
            continue
        s2, e2 = other
        # for each interval of a, the first interval of b ending after its start
        k = np.searchsorted(e2, s, side="right")
        inside = k < s2.size
        if bool((s2[k[inside]] < e[inside]).any()):
            return True
    return False


def _indices(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Every byte position of the intervals, ascending."""
    lengths = ends - starts
    total = int(lengths.sum())
    if starts.size == 1:
        return np.arange(int(starts[0]), int(ends[0]), dtype=np.int64)
    shift = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + shift


def gather_bytes(mem: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The bytes of ``mem`` in the intervals, concatenated."""
    if starts.size == 1:
        return mem[int(starts[0]):int(ends[0])].copy()
    return mem[_indices(starts, ends)]


def scatter_bytes(mem: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  data: np.ndarray) -> None:
    """Write :func:`gather_bytes`'s ``data`` back into the intervals of ``mem``."""
    if starts.size == 1:
        mem[int(starts[0]):int(ends[0])] = data
    elif starts.size:
        mem[_indices(starts, ends)] = data


def memory_keys(memory: DeviceMemory) -> dict[int, int]:
    """``id(array) -> key`` of every global memory array of ``memory`` (pools excluded)."""
    keys = {id(arr): handle for handle, arr in memory.buffers.items()}
    keys[id(memory.boundary)] = 0
    return keys


class Recorder(Observer):
    """Records the bytes of global memory each access touches, per key.

    Parameters
    ----------
    keys
        ``id(array) -> key`` (see :func:`memory_keys`); other arrays (shared
        memory) are ignored.
    reads
        Whether to record loads too (stores always are).
    """

    def __init__(self, keys: dict[int, int], reads: bool = True) -> None:
        self.keys = keys
        self.want_reads = reads
        self._reads: dict[int, list] = {}
        self._writes: dict[int, list] = {}
        self._pending = 0           # positions recorded since the last compaction

    def access(self, access: Access) -> None:
        if not access.store and not self.want_reads:
            return
        into = self._writes if access.store else self._reads
        size = access.size
        plain = getattr(access.lanes, "mask", None) is None
        for seg in access.segments:
            key = self.keys.get(id(seg.mem))
            if key is None:
                continue
            pos = seg.pos
            if plain and isinstance(pos, Run) and isinstance(seg.where, slice):
                starts = np.array([pos.start], np.int64)
                ends = starts + pos.count * size
            else:
                starts = access.lanes_of(seg)[2]
                if not access.store and starts.size > 1:
                    # a read set only decides re-runs, so its hull serves (a re-run is
                    # exact whether or not it was needed); per-lane intervals of a large
                    # gather would cost more to merge than the piece to run
                    starts, ends = (np.array([starts.min()], np.int64),
                                    np.array([starts.max() + size], np.int64))
                else:
                    ends = starts + size
            into.setdefault(key, []).append((starts, ends))
            self._pending += starts.size
        if self._pending > _COMPACT:    # a long loop: keep the sets, not every access
            for parts in (self._reads, self._writes):
                for key, (s, e) in self._close(parts).items():
                    parts[key] = [(s, e)]
            self._pending = 0

    @staticmethod
    def _close(parts: dict[int, list]) -> Intervals:
        out = {}
        for key, chunks in parts.items():
            starts = np.concatenate([c[0] for c in chunks])
            ends = np.concatenate([c[1] for c in chunks])
            out[key] = _merge(starts, ends)
        return out

    def take(self) -> tuple[Intervals, Intervals]:
        """(reads, writes) recorded so far, merged; the recorder starts afresh."""
        reads, writes = self._close(self._reads), self._close(self._writes)
        self._reads, self._writes = {}, {}
        self._pending = 0
        return reads, writes
