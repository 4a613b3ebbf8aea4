"""Compressed register values: one value for all lanes, or affine in the lane index.

Contract §1 allows a register row to be held as "one value for all lanes, or
base + stride x lane" as long as nothing observable changes.  These classes are
that: a row holding an :class:`Affine` (integers, including the uniform case
``stride == 0``), a :class:`Const` (any type) or a :class:`Cut` (a predicate
that is true on one side of a lane index) costs O(1) to produce and to reason
about, and is materialized with :meth:`at` only when a kernel needs arrays
(uniform values as read-only broadcast views, so still O(1)).

Lane indices are piece-local.  Affine arithmetic is exact in Python ints and
wraps to the type only when evaluated, which is correct because wrapping is a
ring homomorphism (two's complement included): ``wrap(a) + wrap(b) ==
wrap(a + b)`` and likewise for ``-``, ``*`` and ``<<``.
"""

from __future__ import annotations

import numpy as np

from .lanes import LaneSet

__all__ = ["Affine", "Tiled", "Const", "Cut", "Lin", "int_range", "tiled"]

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}
_M64 = (1 << 64) - 1


def int_range(dtype: np.dtype) -> tuple[int, int]:
    """(min, max) representable in an integer dtype."""
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _broadcast(value, dtype: np.dtype, n: int) -> np.ndarray:
    """A read-only length-``n`` view of one value (no per-lane storage)."""
    return np.lib.stride_tricks.as_strided(np.array(value, dtype), (n,), (0,), writeable=False)


class Affine:
    """The integer ``wrap(base + stride * lane)`` for every lane of the piece."""

    __slots__ = ("base", "stride", "dtype", "_view", "_scalar")

    def __init__(self, base: int, stride: int, dtype: np.dtype) -> None:
        self.base = base
        self.stride = stride
        self.dtype = dtype
        self._view: tuple | None = None     # (key, the last materialized values)
        self._scalar: np.generic | None = None

    def scalar(self) -> np.generic:
        """The value of a uniform (``stride == 0``) row, wrapped to the type."""
        if self._scalar is None:
            bits = np.array(self.base & ((1 << (8 * self.dtype.itemsize)) - 1),
                            _UNSIGNED[self.dtype.itemsize])
            self._scalar = bits.view(self.dtype)[()]
        return self._scalar

    def raw(self, lane: int) -> int:
        """The unwrapped value at ``lane``."""
        return self.base + self.stride * lane

    def exact_on(self, lo: int, hi: int) -> bool:
        """Whether no value over lanes ``[lo, hi)`` wraps (so the row is truly linear there)."""
        tmin, tmax = int_range(self.dtype)
        a, b = self.raw(lo), self.raw(hi - 1)
        return tmin <= min(a, b) and max(a, b) <= tmax

    def at(self, lanes: LaneSet) -> np.ndarray:
        """The values of ``lanes`` as an array of ``dtype``."""
        n = len(lanes)
        if n == 0:
            return np.empty(0, self.dtype)
        if lanes.is_range and self.exact_on(lanes.lo, lanes.hi):
            first = self.raw(lanes.lo)
            if self.stride == 0:    # a read-only broadcast view: no per-lane work at all
                key = ("uniform", n)
                if self._view is None or self._view[0] != key:
                    self._view = (key, _broadcast(first, self.dtype, n))
                return self._view[1]
            if max(first, self.raw(lanes.hi - 1)) < (1 << 63):
                key = (lanes.lo, lanes.hi)
                if self._view is None or self._view[0] != key:
                    values = np.arange(first, first + self.stride * n, self.stride,
                                       dtype=np.int64).astype(self.dtype, copy=False)
                    values.flags.writeable = False
                    self._view = (key, values)
                return self._view[1][:]     # a view: never adopted as a row's storage
        idx = lanes.indices().astype(np.uint64)
        wide = np.uint64(self.base & _M64) + np.uint64(self.stride & _M64) * idx
        return wide.astype(_UNSIGNED[self.dtype.itemsize]).view(self.dtype)

    def __repr__(self) -> str:
        return f"Affine({self.base} + {self.stride}*lane, {self.dtype})"


class Tiled:
    """The integer ``wrap(base + inner * (lane % period) + outer * (lane // period))``.

    Values that repeat a pattern per block of ``period`` lanes: the lane index
    inside a block (``r252``), the block index (``r253`` of a 1-D grid), and
    anything affine in those.  When ``outer == inner * period`` the value is
    simply affine in the lane and :func:`tiled` returns an :class:`Affine`.
    """

    __slots__ = ("base", "inner", "outer", "period", "dtype", "_view")

    def __init__(self, base: int, inner: int, outer: int, period: int, dtype: np.dtype) -> None:
        self.base, self.inner, self.outer, self.period = base, inner, outer, period
        self.dtype = dtype
        self._view: tuple | None = None     # (lane range, its materialized values)

    def bounds(self, lo: int, hi: int) -> tuple[int, int]:
        """Unwrapped (min, max) over lanes ``[lo, hi)`` (exact or slightly wide)."""
        b0, b1 = lo // self.period, (hi - 1) // self.period
        r0, r1 = (lo % self.period, (hi - 1) % self.period) if b0 == b1 else (0, self.period - 1)
        ins = (self.inner * r0, self.inner * r1)
        outs = (self.outer * b0, self.outer * b1)
        return self.base + min(ins) + min(outs), self.base + max(ins) + max(outs)

    def exact_on(self, lo: int, hi: int) -> bool:
        tmin, tmax = int_range(self.dtype)
        low, high = self.bounds(lo, hi)
        return tmin <= low and high <= tmax

    def at(self, lanes: LaneSet) -> np.ndarray:
        p = self.period
        if lanes.is_range and self.exact_on(lanes.lo, lanes.hi) and \
                max(map(abs, self.bounds(lanes.lo, lanes.hi))) < (1 << 62):
            key = (lanes.lo, lanes.hi)
            if self._view is None or self._view[0] != key:
                # one row per tile: an outer column plus an inner row, then the lanes' slice
                b0, b1 = lanes.lo // p, (lanes.hi - 1) // p + 1
                grid = (np.arange(p, dtype=np.int64) * self.inner)[None, :] + (
                    np.arange(b0, b1, dtype=np.int64) * self.outer + self.base)[:, None]
                values = grid.ravel()[lanes.lo - b0 * p: lanes.hi - b0 * p].astype(self.dtype)
                values.flags.writeable = False
                self._view = (key, values)
            return self._view[1][:]         # a view: never adopted as a row's storage
        idx = lanes.indices()
        if p & (p - 1) == 0:                # a power of two: shift and mask
            q, r = idx >> (p.bit_length() - 1), idx & (p - 1)
        else:
            q, r = np.divmod(idx, p)
        if len(lanes) and max(map(abs, self.bounds(lanes.lo, lanes.hi))) < (1 << 62):
            return (r * self.inner + q * self.outer + self.base).astype(self.dtype)
        wide = (np.uint64(self.base & _M64) + np.uint64(self.inner & _M64) * r.astype(np.uint64)
                + np.uint64(self.outer & _M64) * q.astype(np.uint64))
        return wide.astype(_UNSIGNED[self.dtype.itemsize]).view(self.dtype)

    def __repr__(self) -> str:
        return (f"Tiled({self.base} + {self.inner}*(lane%{self.period}) + "
                f"{self.outer}*(lane//{self.period}), {self.dtype})")


def tiled(base: int, inner: int, outer: int, period: int, dtype: np.dtype) -> "Affine | Tiled":
    """A :class:`Tiled` value, or the :class:`Affine` it is when it is linear in the lane."""
    if outer == inner * period or period == 1:
        return Affine(base, inner if period > 1 else outer, dtype)
    return Tiled(base, inner, outer, period, dtype)


class Const:
    """One value (a NumPy scalar of the storage dtype) for every lane."""

    __slots__ = ("value", "dtype", "_view")

    def __init__(self, value: np.generic) -> None:
        self.value = value
        self.dtype = value.dtype
        self._view: np.ndarray | None = None

    def at(self, lanes: LaneSet) -> np.ndarray:
        n = len(lanes)
        if self._view is None or self._view.shape[0] != n:
            self._view = _broadcast(self.value, self.dtype, n)
        return self._view

    def __repr__(self) -> str:
        return f"Const({self.value!r})"


class Cut:
    """A predicate: ``lane >= k`` (``above``) or ``lane < k`` for every lane."""

    __slots__ = ("k", "above")
    dtype = np.dtype(bool)

    def __init__(self, k: int, above: bool) -> None:
        self.k = k
        self.above = above

    def split(self, lanes: LaneSet) -> tuple[LaneSet, LaneSet]:
        """(lanes where true, lanes where false) of a range."""
        k = min(max(self.k, lanes.lo), lanes.hi)
        low, high = LaneSet.range(lanes.lo, k), LaneSet.range(k, lanes.hi)
        return (high, low) if self.above else (low, high)

    def at(self, lanes: LaneSet) -> np.ndarray:
        idx = lanes.indices()
        return idx >= self.k if self.above else idx < self.k

    def __repr__(self) -> str:
        return f"Cut(lane {'>=' if self.above else '<'} {self.k})"


Lin = Affine | Tiled | Const | Cut
