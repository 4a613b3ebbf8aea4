"""Per-lane state of one piece: typed registers, predicates, call stacks, phases.

Registers of all lanes live in rows, one per register the program touches
(the register file is ``[register, lane]``).  A :class:`Row`
holds its values compressed (:mod:`simt.machine.values`: uniform, affine or
tiled in the lane) or as an array in the NumPy dtype of the type last written,
and keeps its type tags compressed too: one tag over a *region* -- a lane set
(:mod:`simt.machine.lanes`: a range, tiles or a mask), unset elsewhere -- until
a write that no region describes needs a per-lane ``int8`` tag array.  A row
written with two storage dtypes in different lanes falls back to raw 64-bit
patterns.

Two invariants govern writes:

* **Liveness.** A partial write may drop the values other lanes hold in the
  row when no waiting lane can read them again; the rule, its argument and the
  cross-lane exception are stated once, in :mod:`simt.isa.flow` (``waiting``
  below is its bit set).
* **Array ownership.** A row's ``data`` array belongs to that row alone:
  kernels receive it, or slices of it, for reading (:meth:`Row.fast`,
  :meth:`Row.values`) and never write into it or keep it.  A write *adopts*
  the array it is given -- keeps it as the row's storage, no copy -- exactly
  when :func:`owned` holds for it (a one-dimensional array of the row's dtype
  that owns its memory: ``base is None``) and it spans the piece, or holds one
  value per lane of a set that is not a slice and restarts the row (a *packed*
  row, see :class:`Row`).  Adopting is
  safe only because nobody else holds such an array: ALU results are fresh
  (the ALU never returns an operand array: :mod:`simt.machine.alu`), gathers
  from memory are fresh, a kernel that forwards an array it read (MOV, SEL)
  copies it when :func:`owned` holds, since it may be another row's storage,
  and arrays shared on purpose (cached materializations of compressed values,
  broadcasts; read-only) are handed out as views.  Everything that is not
  owned is copied into the row's own storage.  The one exception is a *lent*
  row (:meth:`Row.lend`): a load of consecutive elements may leave the row
  holding a read-only view of device memory instead of a copy; the device
  memory copies it into the row's own storage before anything writes to those
  bytes (:meth:`simt.machine.memory.DeviceMemory.settle`), and a write into
  the row in place copies it first.  :mod:`simt.machine.debug` asserts these
  invariants.
* **Held values.** Lanes that are neither a range nor a mask (an index array,
  tiles) would gather every operand and scatter every result.  A write that
  restarts a row on such a set keeps the set's compact array as the row's storage
  (a packed row, :class:`Row`); a write or read by the set into a row whose other
  lanes hold values keeps the set's values in their compact frame beside
  ``data`` (``near``, :meth:`Row.hold`) while that set runs, and writes them into
  ``data`` when any other access needs it (:meth:`Row.settle`; every run of steps
  starts by settling, :meth:`RegisterFile.settle`).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..isa.flow import PRED_BIT
from ..isa.types import DType
from .lanes import LaneSet, Masked, Tiles
from .values import Affine, Const, Cut, Digits, Lin, Tiled

__all__ = ["Row", "RegisterFile", "UNSET", "PRED_TAG", "owned"]

UNSET = -1          # tag of a never-written register or predicate
PRED_TAG = 1        # tag of a written predicate
_RAW = np.dtype(np.uint64)
_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}
_COMPRESSED = (Affine, Tiled, Digits, Const, Cut)
_INTEGERS = frozenset(np.dtype(c) for c in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"))


def owned(values, dtype: np.dtype) -> bool:
    """Whether ``values`` is an array a row may adopt as its storage (the ownership rule
    above): a one-dimensional ndarray of ``dtype`` that owns its memory."""
    return (type(values) is np.ndarray and values.base is None
            and (values.dtype is dtype or values.dtype == dtype) and values.ndim == 1)


def _uniform(value: np.generic, dtype: np.dtype) -> "Affine | Const":
    """One value for every lane, as a compressed row value."""
    if dtype in _INTEGERS:
        lin = Affine(int(value), 0, dtype)
        lin._scalar = value
        return lin
    return Const(value)


def _merged(a: LaneSet, b: LaneSet) -> LaneSet | None:
    """``a | b`` for possibly overlapping sets when a region can say it cheaply, else None."""
    if a.is_range and b.is_range:
        if b.lo <= a.hi and b.hi >= a.lo:
            return LaneSet.range(min(a.lo, b.lo), max(a.hi, b.hi))
        return None
    if a.covers(b):
        return a
    if b.covers(a):
        return b
    if type(a) is Masked and a.sibling(b):    # the two parts of one split
        return a.parted[0]
    if type(b) is Masked and (type(a) is not Masked or b.hi - b.lo > a.hi - a.lo):
        a, b = b, a
    if type(a) is Masked and a.lo <= b.lo and b.hi <= a.hi:
        mask = a.mask.copy()
        if type(b) is Masked:
            mask[b.lo - a.lo:b.hi - a.lo] |= b.mask
        elif b.is_range:
            mask[b.lo - a.lo:b.hi - a.lo] = True
        else:
            mask[b.idx - a.lo] = True
        return LaneSet.where(a.lo, mask)
    if type(a) is Tiles and type(b) is Tiles and a.period == b.period and \
            (a.b0, a.b1) == (b.b0, b.b1) and a.t0 <= b.t1 and b.t0 <= a.t1:
        return Tiles.make(a.period, a.b0, a.b1, min(a.t0, b.t0), max(a.t1, b.t1))
    return None


class Row:
    """One register (or predicate) across all lanes of a piece.

    Tags: while ``tags`` is None, the lanes of the region carry ``tag`` and every
    other lane is unset; the region is the range ``[lo, hi)`` when ``region`` is
    None, else the lane set ``region`` (whose span is ``[lo, hi)``).  A fresh
    row is ``UNSET`` on all lanes.  Otherwise ``tags`` holds one tag per lane.
    Values: ``lin`` (a compressed :mod:`~simt.machine.values` value, O(1)) or
    ``data`` (one entry per lane) -- or, while ``packed``, one entry per lane of the
    region only, in its compact frame.  ``interval``: for a float row, None or bounds
    ``(lo, hi, zeros)`` every lane of the region is known to lie in, never NaN, with
    the signed zeros it may hold (:mod:`simt.machine.alu.intervals`); only a write
    that restarts the row on its lanes keeps the interval its writer passes, every
    other write leaves None.
    ``whole``: the value (``lin`` or ``data``) when one tag ``tag`` covers every lane
    of the piece and the value has that tag's storage dtype, else None -- the one
    test of a converged read (the decoders' fast paths); None is always allowed.

    Packed rows: a write that restarts the row on a lane set that is not a slice of
    the piece (:class:`~simt.machine.lanes.Tiles`, an index array) with a fresh
    compact array keeps that array as the row's storage instead of scattering it
    into a per-lane array.  Exactness: the region's lanes are then the only lanes
    whose tag is set, so the array holds every value the row has; a read by the very
    set object that wrote it (the rest of a fused run, the usual case) is the array
    itself, and anything else first unpacks it (:meth:`_unpack`: the scatter the
    write skipped, into an array that is zero outside the region).  A tree
    reduction's levels load, add and store the same rows over the same tiles, so
    each level skips a scatter per write and a gather per read.
    """

    __slots__ = ("n", "bit", "tag", "lo", "hi", "region", "tags", "data", "lin", "packed",
                 "interval", "whole", "near", "near_values", "near_dirty", "held",
                 "file")    # file: the RegisterFile, set in debug mode only

    def __init__(self, n: int, bit: int) -> None:
        self.n = n
        self.bit = bit              # this row's bit in a liveness bit set (simt.isa.flow)
        self.tag = UNSET
        self.lo, self.hi = 0, n
        self.region: LaneSet | None = None
        self.tags: np.ndarray | None = None
        self.data: np.ndarray | None = None
        self.lin: Lin | None = None
        self.packed = False         # data holds the region's lanes only (compact frame)
        self.interval: tuple[float, float, int] | None = None
        self.whole = None
        self.near: LaneSet | None = None       # the lanes whose values are held compactly
        self.near_values: np.ndarray | None = None
        self.near_dirty = False                 # data does not hold near_values yet
        self.held: list | None = None           # the register file's list of holding rows

    def hold(self, lanes: LaneSet, tag: int, dtype: np.dtype, values, live: int) -> bool:
        """Keep a write's ``values`` for ``lanes`` compactly instead of scattering them
        into ``data``; False (after settling any held values) when this write cannot.

        Exactness: a row holding values answers, for each lane of ``near``,
        ``near_values`` at its position (frame order) and ``data`` for every other
        lane; a clean hold (a cached read) equals what ``data`` holds.  A write is
        held only when it changes no tag (the region already gives these lanes this
        tag) and does not cover every live lane (which would retag the row), so the
        tags stay exact; a later write by the same lanes replaces the held values,
        which is what scattering both writes in turn leaves.  The row's ``data`` must
        be its own per-lane array (not packed, not a lent view), and the write clears
        the row's interval, as every partial write does.  Every other access settles
        first -- the scatter the writes would have made, into lanes nothing else
        wrote meanwhile -- and a run of steps by other lanes starts after
        :meth:`RegisterFile.settle`, so the kernels that read ``data`` or ``whole``
        directly (steps over every lane of the piece) never see it stale.
        """
        near = self.near
        if self.held is not None and type(values) is np.ndarray and not lanes.sliced \
                and self.tags is None and self.tag == tag and self.lin is None \
                and not self.packed and (near is lanes or self._covers(lanes)):
            data = self.data
            if data is not None and data.dtype is dtype and values.dtype == dtype \
                    and data.flags.writeable \
                    and values.shape == (len(lanes),) and len(lanes) != live:
                if near is not lanes:
                    if near is not None:
                        self.settle()
                    self.held.append(self)
                    self.near = lanes
                if values.base is not None or not values.flags.writeable:
                    values = values.copy()      # the row holds only arrays it owns
                self.near_values, self.near_dirty = values, True
                self.interval = None
                return True
        if near is not None:
            self.settle()
        return False

    def settle(self) -> None:
        """Write held values into ``data`` and drop them (see :meth:`hold`)."""
        if self.near is not None:
            if self.near_dirty:
                self.near.write(self.data, self.near_values)
            self.near = self.near_values = None
            self.near_dirty = False

    def _set_region(self, lanes: LaneSet, tag: int) -> None:
        self.tag, self.lo, self.hi, self.tags = tag, lanes.lo, lanes.hi, None
        self.region = None if lanes.is_range else lanes
        self.whole = None

    def _region_set(self) -> LaneSet:
        return LaneSet.range(self.lo, self.hi) if self.region is None else self.region

    def _covers(self, lanes: LaneSet) -> bool:
        """Whether the region holds every lane of ``lanes`` (decided cheaply)."""
        if self.region is None:
            return self.lo <= lanes.lo and lanes.hi <= self.hi
        return self.region.covers(lanes)

    def _covered_by(self, lanes: LaneSet) -> bool:
        """Whether ``lanes`` holds every lane of the region (decided cheaply)."""
        if self.region is None:
            if lanes.is_range:
                return lanes.lo <= self.lo and self.hi <= lanes.hi
            return lanes.covers(LaneSet.range(self.lo, self.hi))
        return lanes.covers(self.region)

    def check(self, lanes: LaneSet, want: int) -> tuple[np.ndarray | None, int] | None:
        """Lanes whose tag is not ``want``: None if all match, else ``(where, tag of the first)``.

        ``where`` is a bool mask over the lanes' frame or None for all of them.
        """
        if self.tags is None:
            if self._covers(lanes):     # every lane carries the region's tag
                return None if self.tag == want or len(lanes) == 0 else (None, self.tag)
            if len(lanes) == 0:
                return None
            self._tag_array()
        tags = lanes.read(self.tags)
        bad = tags != want
        if type(lanes) is Masked:
            bad &= lanes.mask
        if bad.any():
            return bad, int(tags[int(np.argmax(bad))])
        return None

    def _tag_array(self) -> None:
        """Switch to per-lane tags (exact for any lane set, one pass per check)."""
        if self.packed:             # the values are read through the region: unpack first
            self._unpack()
        tags = np.full(self.n, UNSET, np.int8)
        if self.tag != UNSET:
            self._region_set().write(tags, np.int8(self.tag))
        self.tags, self.tag, self.region, self.whole = tags, None, None, None

    def values(self, lanes: LaneSet, dtype: np.dtype) -> np.ndarray:
        """The stored values of ``lanes`` viewed as ``dtype`` (meaningful where tags match)."""
        if self.near is not None:
            self.settle()
        if self.lin is not None:
            if self.lin.dtype == dtype:
                return self.lin.at(lanes)
            return np.zeros(lanes.frame, dtype)
        if self.packed:
            if lanes is self.region and self.data.dtype == dtype:
                return self.data
            self._unpack()
        data = self.data
        if data is None:
            return np.zeros(lanes.frame, dtype)
        got = lanes.read(data)
        if data.dtype == dtype:
            return got
        if data.dtype == _RAW:
            return got.astype(_UNSIGNED[dtype.itemsize]).view(dtype)
        return np.zeros(lanes.frame, dtype)  # another type throughout: every lane mismatches

    def fast(self, code: int, dtype: np.dtype, lanes: LaneSet):
        """The value of ``lanes`` when one tag ``code`` covers them, else None.

        The common case of :meth:`simt.machine.step.Step.read_lin`, with no fault to
        register: the region is a range holding the lanes' span, or the lane set
        ``lanes`` itself (a divergent run writes and reads over one set object).  The
        value is a compressed value, the row's own array (every lane; read-only for
        kernels), a slice of it, or for lanes that are not sliced a fresh gather.
        """
        if self.tags is None and self.tag == code:
            region = self.region
            if region is None:
                if lanes.lo < self.lo or self.hi < lanes.hi:
                    return None
            elif region is not lanes:
                return None
            lin = self.lin
            if lin is not None:
                return lin if lin.dtype is dtype else None
            data = self.data
            if data.dtype is dtype:
                near = self.near
                if near is not None:
                    if near is lanes:
                        return self.near_values
                    self.settle()
                if self.packed:         # region is lanes: the compact array is the value
                    return data
                if lanes.sliced:
                    if lanes.lo == 0 and lanes.hi == self.n:
                        return data
                    return data[lanes.lo:lanes.hi]
                values = lanes.read(data)
                if self.held is not None:     # the same lanes read it again: keep it
                    self.near, self.near_values, self.near_dirty = lanes, values, False
                    self.held.append(self)
                return values
        return None

    def write_all(self, tag: int, dtype: np.dtype, values, interval=None) -> bool:
        """Write a fresh array, a scalar or a compressed value into every lane of the
        piece; False if none of these.

        The converged common case of :meth:`write`: the array becomes the row's
        storage as is, the scalar its uniform value, a compressed value its ``lin``;
        ``interval`` (see the class) holds for ``values``.
        """
        kind = type(values)
        if kind is np.ndarray:
            n = self.n
            # owned(values, dtype), inlined on the hottest path (a call costs ~0.1 us per
            # instruction); an equal dtype that is not this object falls to write()
            if values.base is None and values.dtype is dtype and values.shape == (n,):
                if self.whole is None or self.tag != tag:   # else the tag part stands
                    self.tag, self.lo, self.hi = tag, 0, n
                    self.tags = self.region = None
                self.data = self.whole = values
                self.lin, self.interval, self.packed = None, interval, False
                return True
        elif kind is dtype.type:
            self.lin = self.whole = _uniform(values, dtype)
            self.data = None
            self.tag, self.lo, self.hi, self.tags, self.region = tag, 0, self.n, None, None
            self.interval, self.packed = interval, False
            return True
        elif kind in _COMPRESSED:       # what write() keeps of a compressed value, too
            self.lin = values
            self.whole = values if values.dtype is dtype else None
            self.data = None
            self.tag, self.lo, self.hi, self.tags, self.region = tag, 0, self.n, None, None
            self.interval, self.packed = interval, False
            return True
        return False

    def lend(self, lanes: LaneSet, tag: int, view: np.ndarray, waiting: int,
             interval=None) -> bool:
        """Hold ``view`` (read-only device memory, one entry per lane of the piece) as the
        value of the range ``lanes``, every other lane unset; False (nothing done) when
        a waiting lane may still read another lane's value (the liveness rule, as in
        :meth:`write`).  ``interval`` (see the class) holds for the view's values.

        Exact while the viewed bytes keep the values loaded: the caller registers the
        view with the device memory, which settles it (copies it into the row's own
        storage) before any write to them; a write into the row in place copies it
        first (:meth:`_write_dense`), and writes that restart the row never reuse a
        read-only array.
        """
        if (waiting >> self.bit) & 1 and not (self.tags is None and (
                self.tag == UNSET or self._covered_by(lanes))):
            return False
        if self.near is not None:
            self.settle()
        self.data, self.lin, self.tag, self.lo, self.hi = view, None, tag, lanes.lo, lanes.hi
        self.tags = self.region = None
        self.packed, self.interval = False, interval
        self.whole = view if lanes.lo == 0 and lanes.hi == self.n and \
            view.dtype is DType(tag).storage else None
        return True

    def own_lent(self) -> None:
        """Replace a lent view (:meth:`lend`) by a copy of it in the row's own storage."""
        data = self.data.copy()
        if self.whole is self.data:
            self.whole = data
        self.data = data

    def write(self, lanes: LaneSet, tag: int, dtype: np.dtype, values, n: int, live: int,
              waiting: int = 0, interval=None) -> None:
        """Write ``values`` (frame order, a NumPy scalar or a compressed value) into ``lanes``.

        ``n`` is the piece's lane count and ``live`` how many lanes have not
        exited; a write covering every live lane makes the row's tag uniform.
        ``waiting`` is the liveness bit set (:func:`simt.isa.flow.kept`) of the
        pcs where the other lanes wait: when this row's bit is clear no other lane
        can read its value again before writing it, so the write may drop them
        (the liveness rule of :mod:`simt.isa.flow`).  ``interval`` (see the class) holds
        for ``values`` on ``lanes``; the row keeps it only when the write restarts it.
        """
        if lanes.__class__ is LaneSet and lanes.lo == 0 and lanes.hi == n and lanes.idx is None \
                and self.write_all(tag, dtype, values, interval):
            return
        if (self.near is not None or not lanes.sliced) and \
                self.hold(lanes, tag, dtype, values, live):
            return
        kind = type(values)
        if kind is np.ndarray:
            compressed = False
            if values.ndim == 0:
                values = values[()]
                kind = type(values)
        if kind is not np.ndarray:
            if isinstance(values, np.generic):
                values = _uniform(values, dtype)
                kind = type(values)
            compressed = kind in _COMPRESSED
        if not (waiting >> self.bit) & 1 or (self.tags is None and (
                self.tag == UNSET or self._covered_by(lanes))):
            # every lane holding a value that can still be read is overwritten:
            # restart the row on these lanes (_set_region, written out)
            self.tag, self.lo, self.hi, self.tags = tag, lanes.lo, lanes.hi, None
            self.region = None if lanes.is_range else lanes
            packed, self.packed = self.packed, False
            self.interval = interval
            self.whole = None
            if compressed:
                self.lin, self.data = values, None
            elif lanes.sliced and lanes.frame == n and owned(values, dtype) \
                    and values.shape[0] == n:
                self.data, self.lin = values, None   # a fresh result: keep it, don't copy
            elif not lanes.sliced and owned(values, dtype) and values.shape[0] == len(lanes):
                self.data, self.lin, self.packed = values, None, True   # see the class
            else:
                data = self.data
                if data is None or packed or data.dtype != dtype or not data.flags.writeable:
                    data = np.empty(n, dtype)
                if lanes.sliced:            # unwritten lanes of a mask's span are unset
                    data[lanes.lo:lanes.hi] = values
                else:
                    lanes.write(data, values)
                self.data, self.lin = data, None
            if self.lo == 0 and self.hi == n and self.region is None:
                value = self.data if self.lin is None else self.lin
                if value.dtype is dtype:
                    self.whole = value
            return
        self.interval = self.whole = None            # lanes keep older values: unknown
        if self.lin is not None:                     # partial overwrite: materialize
            data = self.lin.at(LaneSet.range(0, n))
            self.data, self.lin = (data if data.flags.writeable else data.copy()), None
        elif self.packed:
            self._unpack()
        if compressed:
            values = values.at(lanes)
        self._write_dense(lanes, tag, dtype, values, n, live)

    def _write_dense(self, lanes: LaneSet, tag: int, dtype: np.dtype, values, n: int,
                     live: int) -> None:
        covers_live = len(lanes) == live
        data = self.data
        if data is None or (data.dtype != dtype and data.dtype != _RAW):
            if data is None or covers_live or (self.tags is None and self.tag == UNSET):
                data = self.data = np.empty(n, dtype)
            else:  # lanes keep values of another storage type: fall back to raw bits
                data = self.data = data.view(_UNSIGNED[data.dtype.itemsize]).astype(_RAW)
        elif not data.flags.writeable:     # a lent view of device memory (see lend)
            data = self.data = data.copy()
        if data.dtype == _RAW and dtype != _RAW:
            values = np.asarray(values, dtype).view(_UNSIGNED[dtype.itemsize]).astype(_RAW)
        lanes.write(data, values)
        if covers_live:
            self.tag, self.lo, self.hi, self.tags, self.region = tag, 0, n, None, None
            self.whole = data if data.dtype is dtype else None
            return
        if self.tags is None:
            if self.tag == tag:
                if self._covers(lanes):
                    return                  # every written lane already carries this tag
                merged = _merged(self._region_set(), lanes)
                if merged is not None:
                    self._set_region(merged, tag)
                    return
            self._tag_array()
        lanes.write(self.tags, np.int8(tag))

    def _spread(self) -> np.ndarray:
        """A packed row's values as a per-lane array (zero outside the region)."""
        full = np.zeros(self.n, self.data.dtype)
        self.region.write(full, self.data)
        return full

    def _unpack(self) -> None:
        """Hold the values one per lane of the piece again (see the class)."""
        self.data, self.packed = self._spread(), False

    def readout(self) -> tuple[np.ndarray, np.ndarray]:
        """Every lane's value bits (uint64, zero-extended) and tag (int8; ``UNSET``: never
        written), as new arrays: what an inspector shows of the row (held values
        included; the row itself is left as it is)."""
        tags = self.tags.copy() if self.tags is not None else np.full(self.n, UNSET, np.int8)
        if self.tags is None and self.tag != UNSET:
            self._region_set().write(tags, np.int8(self.tag))
        values = self.lin.at(LaneSet.range(0, self.n)) if self.lin is not None else \
            self._spread() if self.packed else self.data
        if self.near is not None and self.near_dirty:
            values = values.copy()
            self.near.write(values, self.near_values)
        if values is None:
            return np.zeros(self.n, _RAW), tags
        values = np.asarray(values)
        return values.view(_UNSIGNED[values.dtype.itemsize]).astype(_RAW), tags


class RegisterFile:
    """Registers, predicates and control state of the ``n`` lanes of one piece.

    Rows exist for the registers and predicates a program names (``regs`` and
    ``preds``; None: all of them); the others are None, and writes to them
    (kernel arguments the program never reads) are dropped.
    """

    def __init__(self, n: int, regs: Iterable[int] | None = None,
                 preds: Iterable[int] | None = None) -> None:
        self.n = n
        self.live = n
        self.held: list[Row] = []   # rows holding a lane set's values (Row.hold)
        self.waiting = 0          # kept bit set where non-executing lanes wait (isa.flow)
        self.regs: list[Row | None] = [None] * 256
        self.preds: list[Row | None] = [None] * 16
        rows, held = self.regs, self.held
        for r in range(256) if regs is None else regs:
            row = rows[r] = Row(n, r)
            row.held = held
        for p in range(16) if preds is None else preds:
            self.preds[p] = Row(n, PRED_BIT + p)
        self.depth: np.ndarray | None = None      # call depth per lane
        self.stack: np.ndarray | None = None      # return PCs, [depth, lane]
        self.phase: np.ndarray | None = None      # phase counter per lane

    def settle(self) -> None:
        """Write every held value into its row (before a run of steps by other lanes)."""
        for row in self.held:
            row.settle()
        self.held.clear()

    def write(self, reg: int, ty: DType, lanes: LaneSet, values) -> None:
        row = self.regs[reg]
        if row is not None:
            row.write(lanes, ty.code, ty.storage, values, self.n, self.live, self.waiting)

    def write_pred(self, pred: int, lanes: LaneSet, values) -> None:
        self.preds[pred].write(lanes, PRED_TAG, np.dtype(bool), values, self.n, self.live,
                               self.waiting)

    def call_stack(self, min_depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(depth, stack) arrays with room for at least ``min_depth`` levels."""
        if self.depth is None:
            self.depth = np.zeros(self.n, np.int16)
            self.stack = np.zeros((0, self.n), np.int32)
        if self.stack.shape[0] < min_depth:
            grown = np.zeros((max(min_depth, 2 * self.stack.shape[0]), self.n), np.int32)
            grown[: self.stack.shape[0]] = self.stack
            self.stack = grown
        return self.depth, self.stack

    def phases(self) -> np.ndarray:
        if self.phase is None:
            self.phase = np.zeros(self.n, np.uint32)
        return self.phase
