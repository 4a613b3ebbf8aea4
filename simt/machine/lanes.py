"""Sets of lanes: the executing mask of one step.

A :class:`LaneSet` holds sorted, distinct lane indices local to a piece.  It is
either a contiguous range (the converged case and the usual bounds-guarded
prefix: indexing with it is a slice, so no mask is ever built) or an explicit
index array (divergent lanes, compacted).
"""

from __future__ import annotations

import numpy as np

__all__ = ["LaneSet"]


class LaneSet:
    """Sorted distinct lane indices, as a range ``[lo, hi)`` or an index array."""

    __slots__ = ("lo", "hi", "idx")

    def __init__(self, lo: int, hi: int, idx: np.ndarray | None = None) -> None:
        self.lo = lo
        self.hi = hi
        self.idx = idx

    @classmethod
    def range(cls, lo: int, hi: int) -> "LaneSet":
        return cls(lo, hi)

    @classmethod
    def of(cls, idx: np.ndarray) -> "LaneSet":
        """From a sorted distinct index array; becomes a range when contiguous."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return cls(0, 0)
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        if hi - lo == idx.size:
            return cls(lo, hi)
        return cls(lo, hi, idx)

    @property
    def is_range(self) -> bool:
        return self.idx is None

    def __len__(self) -> int:
        return self.hi - self.lo if self.idx is None else self.idx.size

    @property
    def sel(self) -> slice | np.ndarray:
        """An index usable on any per-lane array of the piece."""
        return slice(self.lo, self.hi) if self.idx is None else self.idx

    def indices(self) -> np.ndarray:
        """The lanes as an int64 array."""
        return np.arange(self.lo, self.hi, dtype=np.int64) if self.idx is None else self.idx

    @property
    def first(self) -> int:
        return self.lo

    def at(self, pos: int) -> int:
        """The lane at position ``pos`` of this set."""
        return self.lo + pos if self.idx is None else int(self.idx[pos])

    def take(self, cond: np.ndarray) -> "LaneSet":
        """The subset where the boolean ``cond`` (one entry per lane of this set) is true."""
        if self.idx is None:
            count = int(np.count_nonzero(cond))
            if count == len(self):
                return self
            if count == 0:
                return LaneSet(0, 0)
            if cond[:count].all():  # a prefix: stays a range
                return LaneSet(self.lo, self.lo + count)
            if cond[len(self) - count:].all():  # a suffix
                return LaneSet(self.hi - count, self.hi)
            return LaneSet.of(np.flatnonzero(cond) + self.lo)
        return LaneSet.of(self.idx[cond])

    def split(self, cond: np.ndarray) -> tuple["LaneSet", "LaneSet"]:
        """``(lanes where cond, lanes where not cond)``."""
        return self.take(cond), self.take(~cond)

    def union(self, other: "LaneSet") -> "LaneSet":
        """The union of two disjoint lane sets."""
        if len(other) == 0:
            return self
        if len(self) == 0:
            return other
        a, b = (self, other) if self.lo <= other.lo else (other, self)
        lo, hi = a.lo, max(a.hi, b.hi)
        if len(a) + len(b) == hi - lo:      # disjoint sets filling their span: reconvergence
            return LaneSet(lo, hi)
        ia, ib = a.indices(), b.indices()
        merged = np.concatenate((ia, ib))
        if a.hi > b.lo:  # interleaved: merge the two sorted runs (timsort is linear here)
            merged.sort(kind="stable")
        return LaneSet.of(merged)

    def __repr__(self) -> str:
        if self.idx is None:
            return f"LaneSet[{self.lo}:{self.hi}]"
        return f"LaneSet({self.idx.size} lanes in [{self.lo}, {self.hi}))"
