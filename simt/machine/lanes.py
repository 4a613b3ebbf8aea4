"""Sets of lanes: the executing lanes of one step.

Every set holds sorted, distinct lane indices local to a piece, in one of four
forms, each chosen because some common program shape produces it and it makes
that shape cheap:

* a contiguous **range** ``[lo, hi)`` (``idx is None``): the converged case and
  the bounds-guarded prefix; indexing with it is a slice, so no mask is built;
* an **index** array (``idx``): sparse divergence, compacted;
* :class:`Tiles`: the same window ``[t0, t1)`` of lanes in each of the rows
  ``[b0, b1)`` of ``period`` lanes -- what a comparison of the lane's index in
  its block with a uniform value selects (tree reductions; the rows are blocks),
  or ``(tid & k) == 0`` (period ``2k``, recognized from a split's mask).  Any
  per-lane array of the piece, viewed as ``(rows, period)``, holds these lanes
  as a strided 2-D slice, so reads and writes are strided copies instead of
  gathers;
* :class:`Masked`: the lanes of a span ``[lo, hi)`` where a boolean mask is
  true -- dense, data-dependent divergence.  Lane-wise kernels compute such a
  step over the whole span and blend the results into the masked lanes
  (bitwise, without branches), which costs a few passes over the span instead
  of index arrays, gathers and scatters.

A Masked set is executed in its *span frame*: arrays have one entry per lane of
the span (``frame`` entries), positions count from ``lo``, and inactive
positions hold unspecified values that never fault.  Every other form uses the
*compact frame*: one entry per lane, in ascending order.  Tiles and Masked
compute their index array on first use (``idx``), so code that only knows
index arrays stays correct for them.

What every form answers is :class:`LaneForm`; code outside this module asks a
set through it and never tests which form it has.  A new form is one class here
(answering every member, with its exactness argument in its docstring) and its
cases in tests/machine/test_lanes.py, whose conformance test gives the same
lanes in every form and requires equal answers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import numpy as np

__all__ = ["LaneForm", "LaneSet", "Tiles", "Masked", "opaque", "per_block", "warp_ids", "MASK_MIN_SPAN",
           "MASK_MIN_DENSITY"]

#: Divergent lanes become a :class:`Masked` set when their span has at least this many
#: lanes and at least this fraction of the span is active; otherwise an index array.
#: Below it, computing over the span costs more than compacting (measured on 2 cores:
#: a blend is ~0.35 ns per span lane, a gather plus scatter ~1.1 ns per active lane).
from .thresholds import MASK_MIN_DENSITY, MASK_MIN_SPAN, PERIODIC_MIN_SPAN  # noqa: E402

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}



@lru_cache(maxsize=256)
def opaque(nbytes: int) -> np.dtype:
    """The dtype of one opaque item of ``nbytes`` bytes (built once: NumPy takes ~0.7 us
    to build it, three times the cost of the strided view that uses it)."""
    return np.dtype((np.void, nbytes))

class LaneForm(Protocol):
    """What every lane-set form answers (each is a :class:`LaneSet`).

    ``lo``, ``hi`` bound the lanes (``lo`` is the first lane, ``hi`` one past the
    last, for non-empty sets); ``idx`` is the index array or None for a range.
    Counting members take the lanes per block ``bpl`` and the warp size ``warp``
    (a warp is ``warp`` consecutive lanes of one block; the last warp of a block
    may be partial).  Answers that cost a pass over the lanes are cached on the
    set by the set itself (a set lives as long as its lanes stay together).
    """

    lo: int
    hi: int
    is_range: bool

    def __len__(self) -> int:
        """How many lanes."""

    @property
    def frame(self) -> int:
        """How many entries a per-lane array of a step over these lanes has."""

    @property
    def compact(self) -> "LaneSet":
        """These lanes in the compact frame (a range or an index array)."""

    @property
    def domain(self) -> "LaneSet":
        """The lanes a step's arrays have entries for."""

    @property
    def first(self) -> int:
        """The lowest lane (non-empty sets)."""

    @property
    def last(self) -> int:
        """The highest lane (non-empty sets)."""

    def at(self, pos: int) -> int:
        """The lane at position ``pos`` of the frame."""

    def indices(self) -> np.ndarray:
        """The lanes, ascending, as int64."""

    def read(self, arr: np.ndarray) -> np.ndarray:
        """Entries of a per-lane array of the piece for these lanes, in frame order."""

    def write(self, arr: np.ndarray, values) -> None:
        """Store frame-order ``values`` (or a scalar) into these lanes of ``arr``."""

    def pick(self, arr: np.ndarray) -> np.ndarray:
        """Entries of a per-lane array for these lanes only, ascending (compact frame)."""

    def fill(self, arr: np.ndarray, value) -> None:
        """Store the scalar ``value`` into these lanes of ``arr``."""

    def take(self, cond: np.ndarray) -> "LaneSet":
        """The subset where ``cond`` (one entry per frame position) is true."""

    def split(self, cond: np.ndarray) -> tuple["LaneSet", "LaneSet"]:
        """``(take(cond), take(~cond))``."""

    def union(self, other: "LaneSet") -> "LaneSet":
        """The union with a disjoint set."""

    def covers(self, other: "LaneSet") -> bool:
        """Whether every lane of ``other`` is here (False: not known cheaply)."""

    def block_counts(self, bpl: int, nblocks: int) -> np.ndarray:
        """Lanes in each of the blocks ``0 .. nblocks - 1`` (int64; do not modify)."""

    def warp_count(self, bpl: int, warp: int) -> int:
        """How many warps hold at least one of these lanes."""

    def tally(self, bpl: int, warp: int) -> tuple[int, int]:
        """``(len(self), warp_count(bpl, warp))``: what one issue by these lanes counts."""

    def warp_flags(self, first: int, count: int, bpl: int, warp: int) -> np.ndarray:
        """Which of the warps ``first .. first + count - 1`` hold a lane (bool per warp);
        every warp holding a lane must lie in that window."""

    def mixed_warps(self, other: "LaneSet", bpl: int, warp: int) -> int:
        """How many warps hold lanes of both this set and the disjoint ``other``."""


def warp_ids(lanes, bpl: int, warp: int):
    """The warp of each lane (an int or an array): warps never straddle blocks."""
    if bpl % warp == 0:
        if warp & (warp - 1) == 0:      # a shift is several times faster than a division
            return lanes >> (warp.bit_length() - 1)
        return lanes // warp
    return (lanes // bpl) * -(-bpl // warp) + (lanes % bpl) // warp


class LaneSet:
    """Sorted distinct lane indices, as a range ``[lo, hi)`` or an index array.

    ``is_range`` tells whether the set is the range ``[lo, hi)``; ``sliced``
    whether the frame is the slice ``[lo:hi]`` of per-lane arrays (ranges and
    :class:`Masked` sets).  ``facts`` caches counts the set
    has computed about itself (see :class:`LaneForm`).

    Exactness: a range is the lanes ``lo <= lane < hi``, so every count is
    arithmetic on its bounds; an index array holds the lanes themselves, so every
    answer is computed from them (the counts with one vectorized pass).
    """

    __slots__ = ("lo", "hi", "idx", "sliced", "is_range", "facts")

    def __init__(self, lo: int, hi: int, idx: np.ndarray | None = None) -> None:
        self.lo = lo
        self.hi = hi
        self.idx = idx
        self.sliced = self.is_range = idx is None
        self.facts: dict | None = None

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

    @classmethod
    def where(cls, lo: int, cond: np.ndarray, count: int | None = None,
              owned: bool = False) -> "LaneSet":
        """The lanes ``lo + i`` where ``cond[i]``: a range, :class:`Tiles` (a window
        repeating with some period), a :class:`Masked` set or indices.

        ``owned``: ``cond`` is a fresh array nobody else holds (a Masked set keeps it).
        """
        span = cond.size
        if count is None:
            count = int(np.count_nonzero(cond))
        if count == span:
            return cls(lo, lo + span)
        if count == 0:
            return cls(0, 0)
        if cond[:count].all():  # a prefix: stays a range
            return cls(lo, lo + count)
        if cond[span - count:].all():  # a suffix
            return cls(lo + span - count, lo + span)
        if span >= PERIODIC_MIN_SPAN:
            tiles = _periodic(lo, cond, count)
            if tiles is not None:
                return tiles
        if span >= MASK_MIN_SPAN and count >= MASK_MIN_DENSITY * span:
            # the set owns a copy of its mask: the caller's array may change later
            return Masked(lo, lo + span, cond if owned else cond.copy(), count)
        return cls.of(np.flatnonzero(cond) + lo)

    # ------------------------------------------------------------------ shape
    def __len__(self) -> int:
        return self.hi - self.lo if self.idx is None else self.idx.size

    @property
    def frame(self) -> int:
        """How many entries a per-lane array of a step over these lanes has."""
        return len(self)

    @property
    def compact(self) -> "LaneSet":
        """These lanes in the compact frame (a range or an index array)."""
        return self

    @property
    def domain(self) -> "LaneSet":
        """The lanes a step's arrays have entries for (a Masked set's whole span)."""
        return self

    @property
    def sel(self) -> slice | np.ndarray:
        """An index usable on any per-lane array of the piece."""
        return slice(self.lo, self.hi) if self.idx is None else self.idx

    def indices(self) -> np.ndarray:
        """The lanes as an int64 array."""
        return np.arange(self.lo, self.hi, dtype=np.int64) if self.idx is None else self.idx

    @property
    def first(self) -> int:
        """The lowest lane."""
        return self.lo

    @property
    def last(self) -> int:
        """The highest lane."""
        return self.hi - 1

    def at(self, pos: int) -> int:
        """The lane at position ``pos`` of this set's frame."""
        return self.lo + pos if self.idx is None else int(self.idx[pos])

    # ------------------------------------------------------------------ per-lane arrays
    def read(self, arr: np.ndarray) -> np.ndarray:
        """The entries of a per-lane array of the piece for these lanes, in frame order.

        For a range this is a view; otherwise a new array.
        """
        return arr[self.lo:self.hi] if self.idx is None else arr[self.idx]

    def write(self, arr: np.ndarray, values) -> None:
        """Store ``values`` (frame order, or a scalar) into these lanes of ``arr``."""
        if self.idx is None:
            arr[self.lo:self.hi] = values
        else:
            arr[self.idx] = values

    def pick(self, arr: np.ndarray) -> np.ndarray:
        """The entries of ``arr`` for these lanes only, ascending (the compact frame)."""
        return self.read(arr)

    def fill(self, arr: np.ndarray, value) -> None:
        """Store the scalar ``value`` into these lanes of ``arr``."""
        self.write(arr, value)

    # ------------------------------------------------------------------ counting
    def _fact(self, key):
        return None if self.facts is None else self.facts.get(key)

    def _keep(self, key, value):
        if self.facts is None:
            self.facts = {}
        self.facts[key] = value
        return value

    def recall(self, key):
        """What a caller remembered about these lanes under ``key`` (None: nothing)."""
        return None if self.facts is None else self.facts.get(key)

    def remember(self, key, value) -> None:
        """Keep ``value``, a pure function of these lanes and of what ``key`` names, for
        as long as the set lives (sets may wait long: it must hold no per-lane array,
        except for an index-array set, one no larger than its own index array)."""
        self._keep(key, value)

    def block_counts(self, bpl: int, nblocks: int) -> np.ndarray:
        """How many of these lanes each block ``0 .. nblocks - 1`` holds (cached)."""
        key = ("blocks", bpl, nblocks)
        counts = self._fact(key)
        if counts is None:
            counts = self._keep(key, self._block_counts(bpl, nblocks))
        return counts

    def _block_counts(self, bpl: int, nblocks: int) -> np.ndarray:
        if not self.is_range:
            return np.bincount(self.idx // bpl, minlength=nblocks)
        counts = np.zeros(nblocks, np.int64)
        lo, hi = self.lo, self.hi
        if hi <= lo:
            return counts
        b0, b1 = lo // bpl, (hi - 1) // bpl
        if b0 == b1:
            counts[b0] = hi - lo
        else:
            counts[b0] = (b0 + 1) * bpl - lo
            counts[b0 + 1: b1] = bpl
            counts[b1] = hi - b1 * bpl
        return counts

    def warp_count(self, bpl: int, warp: int) -> int:
        """How many warps hold a lane of this set (cached when it costs a pass)."""
        return self.tally(bpl, warp)[1]

    def tally(self, bpl: int, warp: int) -> tuple[int, int]:
        """``(len(self), self.warp_count(bpl, warp))`` in one call (what one issue counts)."""
        if self.is_range:
            lo, hi = self.lo, self.hi
            if hi <= lo:
                return 0, 0
            if bpl % warp == 0:
                return hi - lo, (hi - 1) // warp - lo // warp + 1
            return hi - lo, warp_ids(hi - 1, bpl, warp) - warp_ids(lo, bpl, warp) + 1
        facts = self.facts
        count = None if facts is None else facts.get((bpl, warp))
        if count is None:
            count = self._keep((bpl, warp), self._warp_count(bpl, warp))
        return len(self), count

    def _warp_count(self, bpl: int, warp: int) -> int:
        if len(self) == 0:
            return 0
        ids = warp_ids(self.indices(), bpl, warp)
        return 1 + int(np.count_nonzero(ids[1:] != ids[:-1]))

    def warp_flags(self, first: int, count: int, bpl: int, warp: int) -> np.ndarray:
        """Which of the ``count`` warps from warp ``first`` hold a lane (bool per warp)."""
        out = np.zeros(count, bool)
        if len(self) == 0:
            return out
        if self.is_range:       # consecutive lanes touch consecutive warps
            out[warp_ids(self.lo, bpl, warp) - first:
                warp_ids(self.hi - 1, bpl, warp) + 1 - first] = True
        else:
            out[warp_ids(self.indices(), bpl, warp) - first] = True
        return out

    def mixed_warps(self, other: "LaneSet", bpl: int, warp: int) -> int:
        """How many warps hold lanes of both this set and the disjoint ``other``."""
        if self.is_range and other.is_range:
            if self.hi <= self.lo or other.hi <= other.lo:
                return 0
            if self.hi == other.lo or other.hi == self.lo:
                k = max(self.lo, other.lo)  # adjacent: only the warp at the boundary mixes
                if bpl % warp == 0:
                    return int((k - 1) // warp == k // warp)
                return int(warp_ids(k - 1, bpl, warp) == warp_ids(k, bpl, warp))
        elif len(self) == 0 or len(other) == 0:
            return 0
        mixed = self._mixed(other, bpl, warp)
        if mixed is None:
            mixed = other._mixed(self, bpl, warp)
        if mixed is not None:
            return mixed
        first = warp_ids(min(self.lo, other.lo), bpl, warp)
        count = warp_ids(max(self.hi, other.hi) - 1, bpl, warp) - first + 1
        mine = self.warp_flags(first, count, bpl, warp)
        theirs = other.warp_flags(first, count, bpl, warp)
        for lanes, flags in ((self, mine), (other, theirs)):
            if not lanes.is_range:  # the flags also give the set's warp count: keep it
                lanes._keep((bpl, warp), int(np.count_nonzero(flags)))
        return int(np.count_nonzero(mine & theirs))

    def _mixed(self, other: "LaneSet", bpl: int, warp: int) -> int | None:
        """:meth:`mixed_warps` when this form can state it without a pass, else None."""
        return None

    # ------------------------------------------------------------------ set algebra
    def take(self, cond: np.ndarray) -> "LaneSet":
        """The subset where the boolean ``cond`` (one entry per frame position) is true."""
        if self.idx is None:
            return LaneSet.where(self.lo, cond)
        return LaneSet.of(self.idx[cond])

    def split(self, cond: np.ndarray) -> tuple["LaneSet", "LaneSet"]:
        """``(lanes where cond, lanes where not cond)``."""
        if self.is_range:           # the complement is fresh and its count known
            count = int(np.count_nonzero(cond))
            yes = LaneSet.where(self.lo, cond, count)
            no = None if type(yes) is not Tiles else yes.rest_of(self.lo, self.hi)
            if no is None:
                no = LaneSet.where(self.lo, ~cond, cond.size - count, owned=True)
        else:
            yes = self.take(cond)
            if len(yes) == 0:       # every lane one way (a loop test nobody passes yet)
                return yes, self
            if len(yes) == len(self):
                return self, LaneSet(0, 0)
            no = self.take(~cond)
        if type(yes) is Masked and type(no) is Masked:
            # remember the split: reuniting the two parts (or covering one with the
            # other) is then decided without a pass over the masks.  One shared record,
            # not references to each other: a cycle would keep both masks alive until
            # the garbage collector ran
            yes.parted = no.parted = (self, {})
        return yes, no

    def covers(self, other: "LaneSet") -> bool:
        """Whether every lane of ``other`` is in this set, decided cheaply (False: unknown)."""
        if self.idx is None:
            return self.lo <= other.lo and other.hi <= self.hi
        return other is self

    def union(self, other: "LaneSet") -> "LaneSet":
        """The union of two disjoint lane sets."""
        # a set is empty exactly when hi <= lo (a non-empty one spans its first to last lane)
        if other.hi <= other.lo:
            return self
        if self.hi <= self.lo:
            return other
        a, b = (self, other) if self.lo <= other.lo else (other, self)
        lo, hi = a.lo, max(a.hi, b.hi)
        na, nb = len(a), len(b)
        if na + nb == hi - lo:      # disjoint sets filling their span: reconvergence
            return LaneSet(lo, hi)
        joined = a._join(b)
        if joined is not None:
            return joined
        joined = b._join(a)
        if joined is not None:
            return joined
        span, count = hi - lo, na + nb
        if span >= MASK_MIN_SPAN and count >= MASK_MIN_DENSITY * span:
            # dense enough for a mask (what LaneSet.where makes of such a set): marking
            # each set's lanes costs a pass over its indices, less than sorting them
            # both, and a later union with the Masked result marks only the newcomers
            mask = np.zeros(span, bool)
            a._mark(mask, lo)
            b._mark(mask, lo)
            return LaneSet.where(lo, mask, count, owned=True)
        ia, ib = a.indices(), b.indices()
        merged = np.concatenate((ia, ib))
        if a.hi > b.lo:  # interleaved: merge the two sorted runs (timsort is linear here)
            merged.sort(kind="stable")
        return LaneSet.of(merged)

    def _join(self, other: "LaneSet") -> "LaneSet | None":
        """The union with ``other`` when this form can state it cheaply, else None."""
        return None

    def _mark(self, mask: np.ndarray, lo: int) -> None:
        """Set ``mask[i]`` for every lane ``lo + i`` of this set (all inside the mask)."""
        if self.idx is None:
            mask[self.lo - lo:self.hi - lo] = True
        else:
            mask[self.indices() - lo if lo else self.indices()] = True

    def __repr__(self) -> str:
        if self.idx is None:
            return f"LaneSet[{self.lo}:{self.hi}]"
        return f"LaneSet({self.idx.size} lanes in [{self.lo}, {self.hi}))"


class Tiles(LaneSet):
    """Lanes ``b * period + t`` for every row ``b0 <= b < b1`` and ``t0 <= t < t1``.

    Build with :meth:`make`, which returns a plain range when the tiles are
    contiguous (one block, or whole blocks).

    Exactness: the lanes are the row-major entries ``[b0:b1, t0:t1]`` of the
    piece viewed as rows of ``period`` lanes, so reads and writes through that
    strided view touch exactly these lanes in ascending order.  Each row holds
    ``t1 - t0`` lanes.  The counts are arithmetic when rows and blocks or warps
    nest: a block of whole rows holds ``t1 - t0`` lanes of each; with aligned
    warps (``bpl`` a multiple of the warp size) and ``period`` a multiple of the
    warp, each row's window spans the same warps; with the warp a multiple of
    ``period``, every warp meeting the rows holds whole rows, hence lanes of
    every window of the rows (so the warps from ``lo``'s to ``hi - 1``'s).
    """

    __slots__ = ("period", "b0", "b1", "t0", "t1", "_idx")

    def __init__(self, period: int, b0: int, b1: int, t0: int, t1: int) -> None:
        self.lo, self.hi, self.facts = b0 * period + t0, (b1 - 1) * period + t1, None
        self.sliced = self.is_range = False
        self.period, self.b0, self.b1, self.t0, self.t1 = period, b0, b1, t0, t1
        self._idx: np.ndarray | None = None

    @classmethod
    def make(cls, period: int, b0: int, b1: int, t0: int, t1: int) -> LaneSet:
        if b1 <= b0 or t1 <= t0:
            return LaneSet(0, 0)
        if b1 - b0 == 1 or (t0 == 0 and t1 == period):
            return LaneSet(b0 * period + t0, (b1 - 1) * period + t1)
        return cls(period, b0, b1, t0, t1)

    @property
    def idx(self) -> np.ndarray:
        if self._idx is None:
            rows = np.arange(self.b0, self.b1, dtype=np.int64)[:, None] * self.period
            self._idx = (rows + np.arange(self.t0, self.t1, dtype=np.int64)).ravel()
        return self._idx

    def __len__(self) -> int:
        return (self.b1 - self.b0) * (self.t1 - self.t0)

    @property
    def shape(self) -> tuple[int, int]:
        """(blocks, lanes per block) of the 2-D view."""
        return self.b1 - self.b0, self.t1 - self.t0

    def view(self, arr: np.ndarray) -> np.ndarray:
        """These lanes of a per-lane array of the piece, as a strided 2-D view."""
        p = self.period
        return arr[self.b0 * p:self.b1 * p].reshape(self.b1 - self.b0, p)[:, self.t0:self.t1]

    def windows(self, arr: np.ndarray) -> np.ndarray | None:
        """Each row's window of a contiguous per-lane array as one opaque item (a strided
        1-D view: copying it copies whole windows, which NumPy does several times faster
        than a 2-D strided copy of narrow windows); None for a non-contiguous array."""
        if arr.ndim != 1 or not arr.flags.c_contiguous:
            return None
        size = arr.itemsize
        return np.ndarray((self.b1 - self.b0,), opaque((self.t1 - self.t0) * size),
                          arr, (self.b0 * self.period + self.t0) * size, (self.period * size,))

    def read(self, arr: np.ndarray) -> np.ndarray:
        rows = self.windows(arr)
        if rows is None:
            return self.view(arr).flatten()
        out = np.empty(len(self), arr.dtype)    # a fresh array owning its memory
        out.view(rows.dtype)[...] = rows
        return out

    def write(self, arr: np.ndarray, values) -> None:
        if np.ndim(values):
            rows = self.windows(arr)
            if rows is not None:
                rows[...] = np.ascontiguousarray(values, arr.dtype).view(rows.dtype)
                return
        view = self.view(arr)
        view[...] = values.reshape(view.shape) if np.ndim(values) else values

    def take(self, cond: np.ndarray) -> LaneSet:
        """Dense tiles: through a mask over their rows, so that the subset gets the form
        :meth:`LaneSet.where` picks for it (tiles again, a mask or indices): a loop whose
        trip count is periodic in the lane keeps its lanes in a dense form from one trip
        to the next, where indices would gather and scatter every lane.  Sparse tiles
        (a mask would not be dense either): indices, without a pass over the rows."""
        rows = self.b1 - self.b0
        first = self.b0 * self.period
        span = self.hi - first      # the last row may end past the piece: stop at the tiles
        if span < MASK_MIN_SPAN or len(self) < MASK_MIN_DENSITY * span:
            return LaneSet.of(self.idx[cond])
        mask = np.zeros(rows * self.period, bool)
        Tiles(self.period, 0, rows, self.t0, self.t1).write(mask, cond)
        return LaneSet.where(first, mask[:span], owned=True)

    def rest_of(self, lo: int, hi: int) -> LaneSet | None:
        """The lanes of the range ``[lo, hi)`` not in this set, when they are one window
        repeating with the same period (the range is whole rows and the window touches
        a row end), else None."""
        p = self.period
        if self.b0 * p != lo or self.b1 * p != hi:
            return None
        if self.t0 == 0:
            return Tiles.make(p, self.b0, self.b1, self.t1, p)
        if self.t1 == p:
            return Tiles.make(p, self.b0, self.b1, 0, self.t0)
        return None

    def _block_counts(self, bpl: int, nblocks: int) -> np.ndarray:
        if bpl % self.period:
            return super()._block_counts(bpl, nblocks)
        # whole rows per block: count the rows [b0, b1) per block, times the window
        return LaneSet(self.b0, self.b1)._block_counts(bpl // self.period, nblocks) * (
            self.t1 - self.t0)

    def _warp_count(self, bpl: int, warp: int) -> int:
        if bpl % warp == 0 and self.period % warp == 0:
            return (self.b1 - self.b0) * ((self.t1 - 1) // warp - self.t0 // warp + 1)
        if bpl % warp == 0 and warp % self.period == 0:     # every warp holds whole rows
            return (self.hi - 1) // warp - self.lo // warp + 1
        return super()._warp_count(bpl, warp)

    def warp_flags(self, first: int, count: int, bpl: int, warp: int) -> np.ndarray:
        if bpl % warp or warp % self.period:
            return super().warp_flags(first, count, bpl, warp)
        out = np.zeros(count, bool)     # whole rows per warp: the warps from lo's to hi's
        out[self.lo // warp - first:(self.hi - 1) // warp + 1 - first] = True
        return out

    def _mixed(self, other: LaneSet, bpl: int, warp: int) -> int | None:
        if type(other) is not Tiles or bpl % warp or other.period != self.period or \
                (self.b0, self.b1) != (other.b0, other.b1) or \
                (self.t1 != other.t0 and other.t1 != self.t0):
            return None
        p = self.period
        if warp % p == 0:       # every warp meeting the rows holds whole rows: both windows
            return (self.b1 * p - 1) // warp - self.b0 * p // warp + 1
        if p % warp:
            return None
        k = max(self.t0, other.t0)  # adjacent windows: the warp at the boundary, per row
        return (self.b1 - self.b0) * int((k - 1) // warp == k // warp)

    def covers(self, other: LaneSet) -> bool:
        p = self.period
        if type(other) is Tiles:
            return (other.period == p and self.b0 <= other.b0 and other.b1 <= self.b1
                    and self.t0 <= other.t0 and other.t1 <= self.t1)
        if other.idx is None and other.hi > other.lo:   # a range inside one block's window
            b = other.lo // p
            return (b == (other.hi - 1) // p and self.b0 <= b < self.b1
                    and self.t0 <= other.lo - b * p and other.hi - b * p <= self.t1)
        return other is self

    def _join(self, other: LaneSet) -> LaneSet | None:
        if type(other) is not Tiles or other.period != self.period or \
                (other.b0, other.b1) != (self.b0, self.b1):
            return None
        if self.t1 == other.t0 or other.t1 == self.t0:      # adjacent windows
            return Tiles.make(self.period, self.b0, self.b1, min(self.t0, other.t0),
                              max(self.t1, other.t1))
        return None

    def __repr__(self) -> str:
        return (f"Tiles(blocks [{self.b0}, {self.b1}) x lanes [{self.t0}, {self.t1}) "
                f"of {self.period})")


class Masked(LaneSet):
    """The lanes ``lo + i`` of the span ``[lo, hi)`` where ``mask[i]`` (``count`` of them).

    Executed in the span frame (see the module docstring).  Build with
    :meth:`LaneSet.where`, which picks this form only for dense masks.

    Exactness: the mask is the set, position for position, so every answer is
    computed from it in span order.  When the span is warp-aligned each warp is
    ``warp`` (32) consecutive mask bytes, each 0 or 1; packed eight flags to a byte
    in order (``np.packbits``) they are one 32-bit word per warp, so a warp holds
    a lane iff its word is non-zero, and a warp of a range split into two masks
    mixes iff its word is neither zero nor all ones.
    """

    __slots__ = ("mask", "count", "_idx", "_compact", "_wide", "parted")

    def __init__(self, lo: int, hi: int, mask: np.ndarray, count: int) -> None:
        self.lo, self.hi, self.facts = lo, hi, None
        self.sliced, self.is_range = True, False
        self.mask = mask
        self.count = count
        self._idx: np.ndarray | None = None
        self._compact: LaneSet | None = None
        self._wide: dict[int, np.ndarray] = {}
        # (the set whose split made this one, {itemsize: (id of a part, its wide mask)}),
        # shared by the two parts
        self.parted: tuple[LaneSet, dict] | None = None

    @property
    def idx(self) -> np.ndarray:
        if self._idx is None:
            self._idx = np.flatnonzero(self.mask) + self.lo
        return self._idx

    def __len__(self) -> int:
        return self.count

    @property
    def frame(self) -> int:
        return self.hi - self.lo

    @property
    def compact(self) -> LaneSet:
        if self._compact is None:
            self._compact = LaneSet(self.lo, self.hi, self.idx)
        return self._compact

    @property
    def domain(self) -> LaneSet:
        return LaneSet(self.lo, self.hi)

    @property
    def first(self) -> int:
        return self.lo + int(np.argmax(self.mask))

    @property
    def last(self) -> int:
        return self.hi - 1 - int(np.argmax(self.mask[::-1]))

    def at(self, pos: int) -> int:
        return self.lo + pos

    def sibling(self, other: LaneSet) -> bool:
        """Whether ``other`` is the other part of the split that made this set."""
        return self.parted is not None and type(other) is Masked and other.parted is self.parted \
            and other is not self

    def wide(self, itemsize: int) -> np.ndarray:
        """The mask as unsigned integers of ``itemsize`` bytes: 1 or 0."""
        wide = self._wide.get(itemsize)
        if wide is None:
            wide = self._wide[itemsize] = self.mask.view(np.uint8).astype(_UNSIGNED[itemsize])
        return wide

    def flags(self, itemsize: int) -> tuple[np.ndarray, bool]:
        """0/1 unsigned integers of ``itemsize`` bytes per span lane, and whether they
        flag this set's lanes (True) or the other part's of a range's split (False).

        Exactness: the two parts of a split of a range are complementary masks over
        one span, so the other part's flags are 1 exactly where this set's are 0;
        :func:`blend` selects with either (a pass fewer than widening this mask when
        the other part has already widened its own).
        """
        wide = self._wide.get(itemsize)
        if wide is not None:
            return wide, True
        shared = None
        if self.parted is not None and self.parted[0].is_range:
            shared = self.parted[1]
            kept = shared.get(itemsize)
            if kept is not None and kept[0] != id(self):
                return kept[1], False
        wide = self.wide(itemsize)
        if shared is not None:
            shared[itemsize] = (id(self), wide)    # an id: no reference cycle
        return wide, True

    def read(self, arr: np.ndarray) -> np.ndarray:
        return arr[self.lo:self.hi]

    def write(self, arr: np.ndarray, values) -> None:
        """Blend span-frame ``values`` into the masked lanes of ``arr`` (others keep theirs)."""
        blend(arr[self.lo:self.hi], values, self)

    def pick(self, arr: np.ndarray) -> np.ndarray:
        return arr[self.lo:self.hi][self.mask]

    def fill(self, arr: np.ndarray, value) -> None:
        if arr.dtype == np.bool_ and value is True:   # one pass over the span, no blend
            span = arr[self.lo:self.hi]
            np.logical_or(span, self.mask, out=span)
        else:
            self.write(arr, value)

    def take(self, cond: np.ndarray) -> LaneSet:
        return LaneSet.where(self.lo, self.mask & cond)

    def _aligned(self, bpl: int, warp: int) -> bool:
        """Whether the span is whole warps of 32 lanes (each warp: one packed 32-bit word)."""
        return warp == 32 and bpl % warp == 0 and self.lo % warp == 0 and self.hi % warp == 0

    def _words(self) -> np.ndarray:
        """Per warp of an aligned span: its 32 flags packed into one 32-bit word."""
        return np.packbits(self.mask).view(np.uint32)

    def _some(self) -> np.ndarray:
        """Per warp of an aligned span: whether any flag is set."""
        return self._words() != 0

    def _block_counts(self, bpl: int, nblocks: int) -> np.ndarray:
        b0, b1 = self.lo // bpl, -(-self.hi // bpl)
        rows = np.zeros((b1 - b0) * bpl, bool)
        rows[self.lo - b0 * bpl:self.hi - b0 * bpl] = self.mask
        counts = np.zeros(nblocks, np.int64)
        # the span may end in blocks past the last lane (its last flags false), which
        # the caller need not count: their counts are 0
        end = min(b1, nblocks)
        counts[b0:end] = per_block(rows, bpl)[:end - b0]
        return counts

    def _warp_count(self, bpl: int, warp: int) -> int:
        if not self._aligned(bpl, warp):
            return super()._warp_count(bpl, warp)
        return int(np.count_nonzero(self._words()))

    def warp_flags(self, first: int, count: int, bpl: int, warp: int) -> np.ndarray:
        if not self._aligned(bpl, warp):
            return super().warp_flags(first, count, bpl, warp)
        out = np.zeros(count, bool)
        some, start = self._some(), self.lo // warp - first
        a, b = max(start, 0), min(start + some.size, count)    # the span may pass the window
        if a < b:
            out[a:b] = some[a - start:b - start]
        return out

    def _mixed(self, other: LaneSet, bpl: int, warp: int) -> int | None:
        if not (self.sibling(other) and self.parted[0].is_range and
                self._aligned(bpl, warp)):
            return None
        # the two masks are complements over one span: one pass answers the mixed warps
        # and each side's warp count (kept by each side); a warp's flags are all set
        # exactly when its word is all ones
        words = self._words()
        some = int(np.count_nonzero(words))
        every = int(np.count_nonzero(words == _ALL_SET))
        self._keep((bpl, warp), some)
        other._keep((bpl, warp), words.size - every)
        return some - every

    def covers(self, other: LaneSet) -> bool:
        if other is self:
            return True
        if len(other) > self.count or self.sibling(other):
            return False
        if type(other) is Masked and other.lo >= self.lo and other.hi <= self.hi:
            mine = self.mask[other.lo - self.lo:other.hi - self.lo]
            return not np.any(other.mask & ~mine)
        return False

    def _join(self, other: LaneSet) -> LaneSet | None:
        if self.sibling(other):         # the two parts of one split: the set split
            return self.parted[0]
        if type(other) is not Masked:
            if other.lo < self.lo or other.hi > self.hi:
                return None
            # a set inside the span (disjoint from this one): mark its lanes in a copy
            mask = self.mask.copy()
            other._mark(mask, self.lo)
            return LaneSet.where(self.lo, mask, self.count + len(other), owned=True)
        if (other.lo, other.hi) != (self.lo, self.hi):
            return None
        mask = self.mask | other.mask
        return LaneSet.where(self.lo, mask, self.count + other.count, owned=True)

    def _mark(self, mask: np.ndarray, lo: int) -> None:
        span = mask[self.lo - lo:self.hi - lo]
        np.logical_or(span, self.mask, out=span)

    def __repr__(self) -> str:
        return f"Masked({self.count} of [{self.lo}, {self.hi}))"


def _periodic(lo: int, cond: np.ndarray, count: int) -> "Tiles | None":
    """The lanes ``lo + i`` where ``cond[i]`` as :class:`Tiles`, when they are one window
    repeating with a period (what ``(i & k) == 0`` selects), else None.

    Exactness: the first true run gives the window length ``w`` and the next true
    lane the period ``p``; ``count == rows * w`` and every lane of those ``rows``
    windows being true means the true lanes are exactly these windows (there is
    no room for another).  Checking the second and last windows first rejects
    most other masks after a few comparisons.
    """
    s = int(np.argmax(cond))
    rest = cond[s:]
    w = int(np.argmin(rest))           # a false lane follows (prefixes/suffixes are ranges)
    if w == 0 or count % w:
        return None
    rows = count // w
    if rows < 2:
        return None
    gap = int(np.argmax(rest[w:]))
    p = w + gap
    a = lo + s
    t0 = a % p
    end = (rows - 1) * p + w
    if t0 + w > p or end > rest.size or (a // p + rows) * p > lo + cond.size:
        return None             # a window wraps a row end, or the last row passes the span
    if not (rest[p:p + w].all() and rest[end - w:end].all()):
        return None
    if rows > 2:
        if w in _UNSIGNED and rest.flags.c_contiguous:  # a window's flags as one integer
            words = np.ndarray((rows - 1,), _UNSIGNED[w], rest, 0, (p,))
            if not (words == _ONES[w]).all():
                return None
        elif not rest[:(rows - 1) * p].reshape(rows - 1, p)[:, :w].all():
            return None
    return Tiles(p, a // p, a // p + rows, t0, t0 + w)


_ALL_SET = np.uint32(0xFFFFFFFF)      # a warp's 32 flags, all set, packed
_ONES = {k: t.type(0x0101010101010101 & ((1 << 8 * k) - 1)) for k, t in _UNSIGNED.items()}


def per_block(flags: np.ndarray, bpl: int) -> np.ndarray:
    """How many of each block's ``bpl`` consecutive flags are set."""
    if bpl % 8 == 0:    # eight flag bytes per word: a word's popcount counts its set flags
        words = np.bitwise_count(flags.view(np.uint64)).reshape(-1, bpl // 8)
        return words.sum(axis=1, dtype=np.int64)
    return flags.reshape(-1, bpl).view(np.uint8).sum(axis=1, dtype=np.int64)


def blend(dst: np.ndarray, values, lanes: Masked) -> None:
    """``dst[i] = values[i]`` where ``lanes.mask[i]``, in place, bit for bit.

    ``dst`` (any view, one entry per lane of the span, in order) and ``values``
    (span frame, or a scalar) may have any shape holding the span's lanes in
    row-major order.

    ``np.copyto(..., where=)`` and ``np.where`` branch per element and run
    several times slower on random masks than this select by integer operations
    on the bit patterns, ``dst ^= (dst ^ values) * mask`` with a 0/1 mask.  With
    the complementary flags of the other part of a split (:meth:`Masked.flags`)
    it is ``dst = values ^ ((dst ^ values) * other)``: where ``other`` is 1 the
    lane keeps ``dst``, elsewhere it takes ``values``.
    """
    size = dst.dtype.itemsize
    bits = _UNSIGNED[size]
    d = dst.view(bits)
    v = np.asarray(values, dst.dtype)
    v = v.reshape(dst.shape).view(bits) if v.ndim else v.reshape(1).view(bits)[0]
    _select_bits(d, v, lanes, d, None)


def select(out: np.ndarray, old: np.ndarray, values: np.ndarray, lanes: Masked) -> None:
    """``out[i] = values[i]`` where ``lanes.mask[i]``, else ``old[i]``, bit for bit.

    :func:`blend` into a third array: ``out``, ``old`` and ``values`` are span-frame
    arrays of one dtype, ``out`` sharing no memory with the other two.  Three passes
    that write ``out`` only, where a blend into ``old`` and a copy would make four.
    """
    bits = _UNSIGNED[out.dtype.itemsize]
    _select_bits(old.view(bits), values.view(bits), lanes, out.view(bits), out.view(bits))


def _select_bits(d: np.ndarray, v, lanes: Masked, into: np.ndarray,
                 scratch: np.ndarray | None) -> None:
    """``into = d ^ ((d ^ v) * flags)`` with the lanes' 0/1 flags (or, with the other
    part's flags, ``v ^ ((d ^ v) * flags)``): ``v`` at the lanes, ``d`` elsewhere.
    ``scratch`` (None: a new array) holds the difference; it may be ``into`` when
    ``into`` is neither ``d`` nor ``v``."""
    flags, mine = lanes.flags(d.dtype.itemsize)
    diff = np.bitwise_xor(d, v, out=scratch)
    np.multiply(diff, flags.reshape(diff.shape), out=diff)
    np.bitwise_xor(d if mine else v, diff, out=into)
