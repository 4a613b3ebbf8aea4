"""Compressed register values: forms that describe a whole row in O(1).

A register row may be held compressed, as long as nothing observable changes:

=========  ==========================================================  ==========
form       value at piece-local lane ``l``                             dtype
=========  ==========================================================  ==========
Const      one value                                                   any
Affine     ``wrap(base + stride l)`` (``stride == 0``: uniform)        integer
Tiled      ``wrap(base + inner (l mod P) + outer (l div P))``          integer
Digits     ``wrap(base + sum c_k ((l div u_k) mod r_k))``              integer
Cut        ``key(l) in [lo, hi)`` (or not), key ``(l mod P)`` or ``l``  bool
=========  ==========================================================  ==========

What a form answers (the protocol :class:`Form` states it):

* ``dtype`` and ``at(lanes)``: the values of a lane set as an array of
  ``dtype`` in the lanes' frame (read-only views where it can; never a row's
  own storage).
* ``uniform()``: the value as a NumPy scalar when it is one value for every
  lane, else None.
* ``parts()``: ``(base, coefs, radices)`` when the form is an integer sum of
  digits of the lane (Affine, Tiled, Digits), else None.  This is what the
  instruction rules compose: :data:`simt.machine.affine.RULES` maps an
  instruction to the function that keeps its result compressed, and works on
  parts, so a new integer form that gives its parts needs no rule of its own.
* integer forms also answer ``bounds(lo, hi)`` (unwrapped min and max over
  lanes ``[lo, hi)``, exact or wider), ``exact_on(lo, hi)`` (no lane there
  wraps, so the unwrapped value is the value) and ``retyped(dtype)`` (the same
  unwrapped value in another integer type).

Exactness: integer forms are exact in Python ints and wrap to the type only
when evaluated, which is correct because wrapping is a ring homomorphism (two's
complement included): ``wrap(a) + wrap(b) == wrap(a + b)`` and likewise for
``-``, ``*`` and ``<<``.  Each class states the rest beside it.  Lane indices
are piece-local.
"""

from __future__ import annotations

from math import gcd
from typing import Protocol

import numpy as np

from .lanes import LaneSet, Tiles

__all__ = ["Form", "Parts", "Affine", "Tiled", "Digits", "Const", "Cut", "Lin", "int_range",
           "tiled", "digits", "grid"]

#: ``(base, coefs, radices)``: ``base + sum(coefs[k] * digit_k(lane))`` (see :class:`Digits`)
Parts = tuple[int, tuple[int, ...], tuple["int | None", ...]]


class Form(Protocol):
    """What every compressed value answers (see the module docstring)."""

    dtype: np.dtype

    def at(self, lanes: LaneSet) -> np.ndarray:
        """The values of ``lanes`` as an array of ``dtype`` (in the lanes' frame)."""

    def uniform(self) -> np.generic | None:
        """The one value of every lane, or None when lanes may differ."""

    def parts(self) -> Parts | None:
        """The value as digits of the lane (integer forms), else None."""

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}
_M64 = (1 << 64) - 1


_RANGES: dict[np.dtype, tuple[int, int]] = {}


def int_range(dtype: np.dtype) -> tuple[int, int]:
    """(min, max) representable in an integer dtype."""
    got = _RANGES.get(dtype)
    if got is None:
        info = np.iinfo(dtype)
        got = _RANGES[dtype] = int(info.min), int(info.max)
    return got


def _broadcast(value, dtype: np.dtype, n: int) -> np.ndarray:
    """A read-only length-``n`` view of one value (no per-lane storage)."""
    return np.lib.stride_tricks.as_strided(np.array(value, dtype), (n,), (0,), writeable=False)


_RAMPS: dict[np.dtype, np.ndarray] = {}
from .thresholds import RAMP_CACHE_LIMIT as _RAMP_CACHE_LIMIT  # noqa: E402


def _ramp(n: int, dtype: np.dtype) -> np.ndarray:
    """``0, 1, ..., n - 1`` as a read-only ``dtype`` array (short ones cached)."""
    ramp = _RAMPS.get(dtype)
    if ramp is None or ramp.size < n:
        if n > _RAMP_CACHE_LIMIT:
            return np.arange(n, dtype=dtype)
        ramp = np.arange(max(n, 1024), dtype=dtype)
        ramp.flags.writeable = False
        _RAMPS[dtype] = ramp
    return ramp[:n]


def _on_tiles(lanes: Tiles, base: int, inner: int, outer: int, dtype: np.dtype
              ) -> np.ndarray | None:
    """``wrap(base + inner * t + outer * b)`` over the tiles' (block, lane-in-block) grid.

    Evaluated in int64 (an outer column plus an inner row), which is exact when
    the unwrapped values stay below 2**62 in magnitude; None otherwise.
    """
    if abs(base) + abs(inner) * lanes.t1 + abs(outer) * lanes.b1 >= (1 << 62):
        return None
    rows = np.arange(lanes.b0, lanes.b1, dtype=np.int64) * outer + base
    cols = np.arange(lanes.t0, lanes.t1, dtype=np.int64) * inner
    return (rows[:, None] + cols[None, :]).ravel().astype(dtype)


class Affine:
    """The integer ``wrap(base + stride * lane)`` for every lane of the piece.

    Exact by the ring homomorphism alone; ``stride == 0`` is the uniform
    integer (the only uniform integer form: :func:`tiled` and :func:`digits`
    return it for values that do not vary).
    """

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

    def uniform(self) -> np.generic | None:
        if self.stride != 0:
            return None
        return self._scalar if self._scalar is not None else self.scalar()

    def parts(self) -> Parts:
        return self.base, (self.stride,), (None,)

    def retyped(self, dtype: np.dtype) -> "Affine":
        return Affine(self.base, self.stride, dtype)

    def raw(self, lane: int) -> int:
        """The unwrapped value at ``lane``."""
        return self.base + self.stride * lane

    def bounds(self, lo: int, hi: int) -> tuple[int, int]:
        """Unwrapped (min, max) over lanes ``[lo, hi)`` (exact), ``hi > lo``."""
        a, b = self.raw(lo), self.raw(hi - 1)
        return (a, b) if a <= b else (b, a)

    def exact_on(self, lo: int, hi: int) -> bool:
        """Whether no value over lanes ``[lo, hi)`` wraps (so the row is truly linear there)."""
        tmin, tmax = int_range(self.dtype)
        a, b = self.raw(lo), self.raw(hi - 1)
        return tmin <= min(a, b) and max(a, b) <= tmax

    def lattice(self, lanes: LaneSet, n: int) -> tuple[int, int, int, int, int] | None:
        """The unchecked :func:`grid` of this value over ``lanes`` (``n > 0`` of them)."""
        if lanes.is_range:
            return self.raw(lanes.lo), 1, n, 0, self.stride
        if type(lanes) is Tiles:
            return (self.raw(lanes.lo), lanes.b1 - lanes.b0, lanes.t1 - lanes.t0,
                    self.stride * lanes.period, self.stride)
        return None

    def at(self, lanes: LaneSet) -> np.ndarray:
        """The values of ``lanes`` as an array of ``dtype`` (in the lanes' frame)."""
        lanes = lanes.domain
        n = len(lanes)
        if n == 0:
            return np.empty(0, self.dtype)
        if type(lanes) is Tiles:
            if self.stride == 0:
                return _broadcast(self.scalar(), self.dtype, n)
            values = _on_tiles(lanes, self.base, self.stride, self.stride * lanes.period,
                               self.dtype)
            if values is not None:
                return values
        if lanes.is_range:
            if self.stride == 0:    # a read-only broadcast view: no per-lane work at all
                key = ("uniform", n)
                if self._view is None or self._view[0] != key:
                    self._view = (key, _broadcast(self.scalar(), self.dtype, n))
                return self._view[1]
            key = (lanes.lo, lanes.hi)
            if self._view is None or self._view[0] != key:
                # base + stride * lane in the type's own unsigned arithmetic, which wraps
                # exactly as the value does (wrapping is a ring homomorphism)
                bits = _UNSIGNED[self.dtype.itemsize]
                mod = (1 << (8 * bits.itemsize)) - 1
                values = _ramp(n, bits)
                if self.stride != 1:
                    values = values * bits.type(self.stride & mod)
                values = np.add(values, bits.type(self.raw(lanes.lo) & mod)).view(self.dtype)
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
    Exact as :class:`Affine` is: the digits of :class:`Digits` with radices
    ``(period, None)``.
    """

    __slots__ = ("base", "inner", "outer", "period", "dtype", "_view")

    def __init__(self, base: int, inner: int, outer: int, period: int, dtype: np.dtype) -> None:
        self.base, self.inner, self.outer, self.period = base, inner, outer, period
        self.dtype = dtype
        self._view: tuple | None = None     # (lane range, its materialized values)

    def uniform(self) -> None:
        return None

    def parts(self) -> Parts:
        return self.base, (self.inner, self.outer), (self.period, None)

    def retyped(self, dtype: np.dtype) -> "Tiled":
        return Tiled(self.base, self.inner, self.outer, self.period, dtype)

    def lattice(self, lanes: LaneSet, n: int) -> tuple[int, int, int, int, int] | None:
        """The unchecked :func:`grid` of this value over ``lanes`` (``n > 0`` of them)."""
        q = self.period
        if type(lanes) is Tiles and lanes.period == q:
            return (self.base + self.inner * lanes.t0 + self.outer * lanes.b0,
                    lanes.b1 - lanes.b0, lanes.t1 - lanes.t0, self.outer, self.inner)
        if lanes.is_range and lanes.lo // q == (lanes.hi - 1) // q:      # inside one tile
            b = lanes.lo // q
            return (self.base + self.inner * (lanes.lo - b * q) + self.outer * b, 1, n, 0,
                    self.inner)
        if lanes.is_range and lanes.lo % q == 0 and lanes.hi % q == 0:  # whole tiles
            return self.base + self.outer * (lanes.lo // q), n // q, q, self.outer, self.inner
        return None

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
        lanes = lanes.domain
        if type(lanes) is Tiles and lanes.period == p:
            values = _on_tiles(lanes, self.base, self.inner, self.outer, self.dtype)
            if values is not None:
                return values
        if lanes.is_range and self.exact_on(lanes.lo, lanes.hi) and \
                max(map(abs, self.bounds(lanes.lo, lanes.hi))) < (1 << 62):
            key = (lanes.lo, lanes.hi)
            if self._view is None or self._view[0] != key:
                # one row per tile: an outer column plus an inner row, then the lanes' slice
                b0, b1 = lanes.lo // p, (lanes.hi - 1) // p + 1
                if b1 - b0 == 1:    # inside one tile (whose period may exceed the piece)
                    first = lanes.lo - b0 * p
                    values = (np.arange(first, first + len(lanes), dtype=np.int64) * self.inner
                              + (self.outer * b0 + self.base)).astype(self.dtype)
                else:
                    grid = (np.arange(p, dtype=np.int64) * self.inner)[None, :] + (
                        np.arange(b0, b1, dtype=np.int64) * self.outer + self.base)[:, None]
                    values = grid.ravel()[lanes.lo - b0 * p: lanes.hi - b0 * p].astype(
                        self.dtype)
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


class Digits:
    """The integer ``wrap(base + sum(coefs[k] * digit_k(lane)))`` over a mixed-radix lane.

    ``digit_k(lane) = (lane // unit_k) % radices[k]`` with ``unit_0 = 1`` and
    ``unit_(k+1) = unit_k * radices[k]``; the last digit has no radix (None):
    ``lane // unit_last``.  With one digit this is an :class:`Affine` value, with
    two a :class:`Tiled` one (:func:`digits` returns those forms when it can).
    Three or more describe nested tiles: a 2-D block's ``threadIdx.y``
    (``(lane % 256) >> 4`` is the digits ``(0, 1, 0)`` of radices ``(16, 16, None)``)
    or ``blockIdx.x`` of a 2-D grid (``(lane // lanes_per_block) % grid.x``).

    Evaluation wraps once at the end, exact because wrapping is a ring
    homomorphism (the sum is computed in u64, which wraps modulo a multiple of
    the type's modulus).
    """

    __slots__ = ("base", "coefs", "radices", "dtype", "_view")

    def __init__(self, base: int, coefs: tuple[int, ...], radices: tuple[int | None, ...],
                 dtype: np.dtype) -> None:
        self.base, self.coefs, self.radices, self.dtype = base, coefs, radices, dtype
        self._view: tuple | None = None     # (lane range, its materialized values)

    def uniform(self) -> None:
        return None

    def parts(self) -> Parts:
        return self.base, self.coefs, self.radices

    def retyped(self, dtype: np.dtype) -> "Digits":
        return Digits(self.base, self.coefs, self.radices, dtype)

    def lattice(self, lanes: LaneSet, n: int) -> None:
        return None

    def units(self) -> list[int]:
        """``unit_k`` of each digit."""
        out, u = [], 1
        for r in self.radices:
            out.append(u)
            u = u * r if r is not None else u
        return out

    def bounds(self, lo: int, hi: int | None = None) -> tuple[int, int]:
        """Unwrapped (min, max) over lanes ``[lo, hi)`` (exact or wide), ``hi > lo``;
        with one argument ``n``, over lanes ``[0, n)``.

        Each digit contributes its range over the lanes: the digits from the
        first lane's to the last lane's when both lie in one run of the digit's
        radix (one ``unit * radix`` block), else all of ``[0, radix)``.
        """
        if hi is None:
            lo, hi = 0, lo
        low = high = self.base
        for c, r, u in zip(self.coefs, self.radices, self.units()):
            first, last = lo // u, (hi - 1) // u
            if r is not None:
                first, last = (first % r, last % r) if first // r == last // r else (0, r - 1)
            ends = (c * first, c * last)
            low, high = low + min(ends), high + max(ends)
        return low, high

    def exact_on(self, lo: int, hi: int) -> bool:
        """Whether no value over lanes ``[lo, hi)`` wraps."""
        tmin, tmax = int_range(self.dtype)
        low, high = self.bounds(lo, hi)
        return tmin <= low and high <= tmax

    def at(self, lanes: LaneSet) -> np.ndarray:
        """The values of ``lanes`` as an array of ``dtype`` (in the lanes' frame)."""
        lanes = lanes.domain
        n = len(lanes)
        u64 = np.dtype(np.uint64)
        units = self.units()
        coefs = [np.uint64(c & _M64) for c in self.coefs]
        top = units[-1]
        if n and lanes.is_range:
            q0, q1 = lanes.lo // top, (lanes.hi - 1) // top + 1
        if n and lanes.is_range and (q1 - q0) * top <= 4 * n + 1024:
            key = (lanes.lo, lanes.hi)
            if self._view is not None and self._view[0] == key:
                return self._view[1][:]     # a view: never adopted as a row's storage
            # one axis per digit, most significant first: the lanes of q0 * top .. q1 * top
            m = len(units)
            total = np.arange(q0, q1, dtype=u64) * coefs[-1] + np.uint64(self.base & _M64)
            total = total.reshape((-1,) + (1,) * (m - 1))
            for k in range(m - 2, -1, -1):
                shape = [1] * m
                shape[m - 1 - k] = self.radices[k]
                total = total + (np.arange(self.radices[k], dtype=u64) * coefs[k]).reshape(shape)
            flat = total.reshape(-1)[lanes.lo - q0 * top: lanes.hi - q0 * top]
            values = flat.astype(_UNSIGNED[self.dtype.itemsize]).view(self.dtype)
            values.flags.writeable = False
            self._view = (key, values)
            return values[:]
        idx = lanes.indices().astype(u64)
        flat = np.full(idx.shape, np.uint64(self.base & _M64), u64)
        for c, r, u in zip(coefs, self.radices, units):
            digit = idx // np.uint64(u) if u > 1 else idx
            if r is not None:
                digit = digit % np.uint64(r)
            flat += digit * c
        return flat.astype(_UNSIGNED[self.dtype.itemsize]).view(self.dtype)

    def __repr__(self) -> str:
        terms = " + ".join(f"{c}*(lane//{u}" + (f"%{r})" if r is not None else ")")
                           for c, r, u in zip(self.coefs, self.radices, self.units()))
        return f"Digits({self.base} + {terms}, {self.dtype})"


def digits(base: int, coefs, radices, dtype: np.dtype) -> "Affine | Tiled | Digits":
    """The value ``base + sum(coefs[k] * digit_k(lane))`` in its simplest form.

    Digits of radix 1 (always 0) are dropped, and adjacent digits merge when
    ``coefs[k + 1] == coefs[k] * radices[k]`` (then
    ``c * d_k + c * r_k * d_(k+1)`` is ``c`` times the merged digit, exactly); one
    digit left is an :class:`Affine` value, two a :class:`Tiled` one.
    """
    if 1 in radices:        # a digit of radix 1 is 0 on every lane: drop it
        kept = [(c, r) for c, r in zip(coefs, radices) if r != 1]
        coefs, radices = [c for c, _ in kept], [r for _, r in kept]
    cs, rs = [coefs[0]], [radices[0]]
    for c, r in zip(coefs[1:], radices[1:]):
        if c == cs[-1] * rs[-1]:
            rs[-1] = rs[-1] * r if r is not None else None
        else:
            cs.append(c)
            rs.append(r)
    if len(cs) == 1:
        return Affine(base, cs[0], dtype)
    if len(cs) == 2:
        return Tiled(base, cs[0], cs[1], rs[0], dtype)
    return Digits(base, tuple(cs), tuple(rs), dtype)


class Const:
    """One value (a NumPy scalar of the storage dtype) for every lane.

    Exact trivially: lane-wise semantics applied to equal inputs give equal
    outputs.  Integers use ``Affine(value, 0)`` instead, which composes.
    """

    __slots__ = ("value", "dtype", "_view")

    def __init__(self, value: np.generic) -> None:
        self.value = value
        self.dtype = value.dtype
        self._view: np.ndarray | None = None

    def uniform(self) -> np.generic:
        return self.value

    def parts(self) -> None:
        return None

    def at(self, lanes: LaneSet) -> np.ndarray:
        n = lanes.frame
        if self._view is None or self._view.shape[0] != n:
            self._view = _broadcast(self.value, self.dtype, n)
        return self._view

    def __repr__(self) -> str:
        return f"Const({self.value!r})"


class Cut:
    """A predicate: true where a key lies in the window ``[lo, hi)`` (``hi`` None: no upper
    end), or outside it when ``negate``.

    The key is the lane itself, or with a ``period`` the lane's index in its
    block of ``period`` lanes (``lane % period``): comparing a value affine in
    the lane (or in ``r252``) with a uniform one gives such a predicate.  A
    digit ``(lane // u) % r`` lies in ``[k0, k1)`` exactly when ``lane % (u r)``
    lies in ``[k0 u, k1 u)``, so a value that varies with one digit only
    compares to a Cut of period ``u r`` too (``simt.machine.affine``).
    """

    __slots__ = ("lo", "hi", "negate", "period")
    dtype = np.dtype(bool)

    def __init__(self, lo: int, hi: int | None, negate: bool = False,
                 period: int | None = None) -> None:
        self.lo, self.hi, self.negate, self.period = lo, hi, negate, period

    def uniform(self) -> None:
        return None

    def parts(self) -> None:
        return None

    def split(self, lanes: LaneSet) -> tuple[LaneSet, LaneSet] | None:
        """(lanes where true, lanes where false), or None if not cheaply expressible."""
        p = self.period
        if p is None:
            if not lanes.is_range:
                return None
            first, end = lanes.lo, lanes.hi
        elif type(lanes) is Tiles and lanes.period == p:
            first, end, b0, b1 = lanes.t0, lanes.t1, lanes.b0, lanes.b1
        elif lanes.is_range and lanes.lo % p == 0 and lanes.hi % p == 0:   # whole blocks
            first, end, b0, b1 = 0, p, lanes.lo // p, lanes.hi // p
        else:
            return None
        lo, hi = self.lo, self.hi
        a = first if lo < first else end if lo > end else lo
        b = end if hi is None or hi > end else a if hi < a else hi
        if a > first and b < end:       # the outside is two pieces
            return None
        c, d = (b, end) if a == first else (first, a)   # the outside
        if p is None:
            inside = LaneSet(a, b) if a < b else LaneSet(0, 0)
            outside = LaneSet(c, d) if c < d else LaneSet(0, 0)
        else:
            inside, outside = Tiles.make(p, b0, b1, a, b), Tiles.make(p, b0, b1, c, d)
        return (outside, inside) if self.negate else (inside, outside)

    def _holds(self, key: np.ndarray) -> np.ndarray:
        inside = key >= self.lo
        if self.hi is not None:
            inside &= key < self.hi
        return ~inside if self.negate else inside

    def at(self, lanes: LaneSet) -> np.ndarray:
        """The predicate of ``lanes``; with a period, over a range or Tiles, one pattern
        repeated (``lane % P`` repeats every ``P`` lanes, and over rows of ``Q`` lanes
        every ``P / gcd(P, Q)`` rows) instead of a key per lane."""
        lanes, p = lanes.domain, self.period
        n = len(lanes)
        if p is not None and n >= 4 * p:
            if lanes.is_range:
                start = lanes.lo % p
                pattern = self._holds(np.arange(p))
                return np.tile(pattern, -(-(start + n) // p))[start:start + n]
            if type(lanes) is Tiles:
                q, rows = lanes.period, lanes.b1 - lanes.b0
                r = min(rows, p // gcd(p, q))
                key = (np.arange(lanes.b0, lanes.b0 + r)[:, None] * q
                       + np.arange(lanes.t0, lanes.t1)[None, :]) % p
                return np.tile(self._holds(key), (-(-rows // r), 1))[:rows].reshape(-1)
        key = lanes.indices()
        if p is not None:
            key = key % p
        return self._holds(key)

    def __repr__(self) -> str:
        key = "lane" if self.period is None else f"lane%{self.period}"
        window = f"[{self.lo}, {'inf' if self.hi is None else self.hi})"
        return f"Cut({key} {'not ' if self.negate else ''}in {window})"


Lin = Affine | Tiled | Digits | Const | Cut


def grid(value: "Affine | Tiled", lanes: LaneSet) -> tuple[int, int, int, int, int] | None:
    """``(start, rows, cols, row_step, col_step)`` with the value of the lanes' k-th lane
    ``= start + row_step * i + col_step * j`` for ``k = i * cols + j``; None if no such grid.

    Ranges give one row; :class:`~simt.machine.lanes.Tiles` (and ranges of whole
    blocks, for tiled values) one row per block.  The values are unwrapped: the
    grid is returned only when none of them wraps, so it is exact.
    """
    n = len(lanes)
    if n == 0:
        return None
    g = value.lattice(lanes, n)
    if g is None:
        return None
    low, high = grid_bounds(g)
    tmin, tmax = int_range(value.dtype)
    return g if tmin <= low and high <= tmax else None


def grid_bounds(g: tuple[int, int, int, int, int]) -> tuple[int, int]:
    """(min, max) of the values of a :func:`grid`."""
    start, rows, cols, row_step, col_step = g
    down = row_step * (rows - 1), col_step * (cols - 1)
    return start + min(0, down[0]) + min(0, down[1]), start + max(0, down[0]) + max(0, down[1])
