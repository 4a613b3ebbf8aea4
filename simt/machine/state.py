"""Per-lane state of one piece: typed registers, predicates, call stacks, phases.

Registers of all lanes live in rows, one per register the program touches
(contract §1: the register file is ``[register, lane]``).  A :class:`Row`
holds its values compressed (:mod:`simt.machine.values`: uniform, affine or
tiled in the lane) or as an array in the NumPy dtype of the type last written,
and keeps its type tags compressed too: one tag over a lane range (unset
elsewhere) until a divergent write needs a per-lane ``int8`` tag array.  A row
written with two storage dtypes in different lanes falls back to raw 64-bit
patterns.
"""

from __future__ import annotations

import numpy as np

from ..isa.types import DType
from .lanes import LaneSet
from .values import Affine, Const, Cut, Lin, Tiled

__all__ = ["Row", "RegisterFile", "UNSET", "PRED_TAG"]

UNSET = -1          # tag of a never-written register or predicate
PRED_TAG = 1        # tag of a written predicate
_RAW = np.dtype(np.uint64)
_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}


def _adoptable(values, dtype: np.dtype, n: int) -> bool:
    """Whether ``values`` is a fresh array that can become a row's storage as is."""
    return (type(values) is np.ndarray and values.base is None and values.dtype == dtype
            and values.shape == (n,) and values.flags.writeable)


def _uniform(value: np.generic, dtype: np.dtype) -> "Affine | Const":
    """One value for every lane, as a compressed row value."""
    if dtype.kind in "iu":
        lin = Affine(int(value), 0, dtype)
        lin._scalar = value
        return lin
    return Const(value)


class Row:
    """One register (or predicate) across all lanes of a piece.

    Tags: while ``tags`` is None, lanes ``[lo, hi)`` carry ``tag`` and every
    other lane is unset (a fresh row is ``UNSET`` on all lanes; the usual
    bounds-guarded prefix stays in this form); otherwise ``tags`` holds one tag
    per lane.  Values: ``lin`` (a compressed :mod:`~simt.machine.values`
    value, O(1)) or ``data`` (one entry per lane).
    """

    __slots__ = ("tag", "lo", "hi", "tags", "data", "lin")

    def __init__(self, n: int) -> None:
        self.tag = UNSET
        self.lo, self.hi = 0, n
        self.tags: np.ndarray | None = None
        self.data: np.ndarray | None = None
        self.lin: Lin | None = None

    def check(self, lanes: LaneSet, want: int) -> tuple[np.ndarray | None, int] | None:
        """Lanes whose tag is not ``want``: None if all match, else ``(where, tag of the first)``.

        ``where`` is a bool mask over ``lanes`` or None for all of them.
        """
        if self.tags is not None:
            tags = self.tags[lanes.sel]
            bad = tags != want
            if bad.any():
                return bad, int(tags[int(np.argmax(bad))])
            return None
        inside = lanes.lo >= self.lo and lanes.hi <= self.hi
        if self.tag == want:
            if inside:
                return None
            idx = lanes.indices()
            bad = (idx < self.lo) | (idx >= self.hi)
            return bad, UNSET
        first = self.tag if self.lo <= lanes.lo < self.hi else UNSET
        return None if len(lanes) == 0 else (None, first)

    def values(self, lanes: LaneSet, dtype: np.dtype) -> np.ndarray:
        """The stored values of ``lanes`` viewed as ``dtype`` (meaningful where tags match)."""
        if self.lin is not None:
            if self.lin.dtype == dtype:
                return self.lin.at(lanes)
            return np.zeros(len(lanes), dtype)
        data = self.data
        if data is None:
            return np.zeros(len(lanes), dtype)
        got = data[lanes.sel]
        if data.dtype == dtype:
            return got
        if data.dtype == _RAW:
            return got.astype(_UNSIGNED[dtype.itemsize]).view(dtype)
        return np.zeros(len(lanes), dtype)  # another type throughout: every lane mismatches

    def write(self, lanes: LaneSet, tag: int, dtype: np.dtype, values, n: int, live: int) -> None:
        """Write ``values`` (an array, a NumPy scalar or a compressed value) into ``lanes``.

        ``n`` is the piece's lane count and ``live`` how many lanes have not
        exited; a write covering every live lane makes the row's tag uniform.
        """
        if (type(values) is np.ndarray and values.base is None and lanes.idx is None
                and lanes.lo == 0 and lanes.hi == n and values.dtype is dtype
                and values.shape[0] == n and values.ndim == 1):
            # the converged common case: a fresh result for every lane becomes the row
            self.data, self.lin, self.tag, self.lo, self.hi, self.tags = values, None, tag, 0, n, None
            return
        kind = type(values)
        if kind is not np.ndarray and lanes.idx is None and lanes.lo == 0 and lanes.hi == n \
                and isinstance(values, np.generic):
            # one value for every lane (uniform operands): the row becomes that value
            self.lin, self.data = _uniform(values, dtype), None
            self.tag, self.lo, self.hi, self.tags = tag, 0, n, None
            return
        if kind is np.ndarray and values.ndim == 0:
            values = values[()]
            kind = type(values)
        if kind is not np.ndarray and isinstance(values, np.generic):
            values = _uniform(values, dtype)
            kind = type(values)
        compressed = kind is Affine or kind is Tiled or kind is Const or kind is Cut
        if lanes.is_range and self.tags is None and (
                self.tag == UNSET or (lanes.lo <= self.lo and lanes.hi >= self.hi)):
            # every lane that held a value is overwritten: restart the row on this range
            self.tag, self.lo, self.hi = tag, lanes.lo, lanes.hi
            if compressed:
                self.lin, self.data = values, None
            elif len(lanes) == n and _adoptable(values, dtype, n):
                self.data, self.lin = values, None   # a fresh result: keep it, don't copy
            else:
                data = self.data
                if data is None or data.dtype != dtype:
                    data = np.empty(n, dtype)
                data[lanes.sel] = values
                self.data, self.lin = data, None
            return
        if self.lin is not None:                     # partial overwrite: materialize
            data = self.lin.at(LaneSet.range(0, n))
            self.data, self.lin = (data if data.flags.writeable else data.copy()), None
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
        if data.dtype == _RAW and dtype != _RAW:
            values = np.asarray(values, dtype).view(_UNSIGNED[dtype.itemsize]).astype(_RAW)
        data[lanes.sel] = values
        if covers_live:
            self.tag, self.lo, self.hi, self.tags = tag, 0, n, None
            return
        if self.tags is None:
            if self.tag == tag and lanes.lo >= self.lo and lanes.hi <= self.hi:
                return                      # every written lane already carries this tag
            if self.tag == tag and lanes.is_range and lanes.lo <= self.hi and lanes.hi >= self.lo:
                self.lo, self.hi = min(self.lo, lanes.lo), max(self.hi, lanes.hi)
                return
            tags = np.full(n, UNSET, np.int8)
            tags[self.lo:self.hi] = self.tag
            self.tags, self.tag = tags, None
        self.tags[lanes.sel] = tag


class RegisterFile:
    """Registers, predicates and control state of the ``n`` lanes of one piece."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.live = n
        self.regs = [Row(n) for _ in range(256)]
        self.preds = [Row(n) for _ in range(16)]
        self.depth: np.ndarray | None = None      # call depth per lane
        self.stack: np.ndarray | None = None      # return PCs, [depth, lane]
        self.phase: np.ndarray | None = None      # phase counter per lane

    def write(self, reg: int, ty: DType, lanes: LaneSet, values) -> None:
        self.regs[reg].write(lanes, ty.code, ty.storage, values, self.n, self.live)

    def write_pred(self, pred: int, lanes: LaneSet, values) -> None:
        self.preds[pred].write(lanes, PRED_TAG, np.dtype(bool), values, self.n, self.live)

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
