"""Per-lane state of one piece: typed registers, predicates, call stacks, phases.

Registers of all lanes live in rows, one per register the program touches
(contract §1: the register file is ``[register, lane]``).  A :class:`Row`
stores its values in the NumPy dtype of the type last written and keeps the
type tags compressed: one tag for the whole row while every live lane agrees,
a per-lane ``int8`` tag array only after a divergent write of another type.
A row written with two different storage dtypes in different lanes falls back
to raw 64-bit patterns.
"""

from __future__ import annotations

import numpy as np

from ..isa.types import DType
from .lanes import LaneSet

__all__ = ["Row", "RegisterFile", "UNSET", "PRED_TAG"]

UNSET = -1          # tag of a never-written register or predicate
PRED_TAG = 1        # tag of a written predicate
_RAW = np.dtype(np.uint64)
_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}


def _adoptable(values, dtype: np.dtype, n: int) -> bool:
    """Whether ``values`` is a fresh array that can become a row's storage as is."""
    return (isinstance(values, np.ndarray) and values.dtype == dtype and values.shape == (n,)
            and values.flags.owndata and values.flags.writeable and values.base is None)


class Row:
    """One register (or predicate) across all lanes of a piece."""

    __slots__ = ("data", "tag", "tags")

    def __init__(self) -> None:
        self.data: np.ndarray | None = None
        self.tag: int | None = UNSET       # the tag of every lane, or None: see `tags`
        self.tags: np.ndarray | None = None

    def tags_of(self, lanes: LaneSet) -> np.ndarray | int:
        """The tags of ``lanes``: one int when uniform, else an int8 array."""
        return self.tag if self.tag is not None else self.tags[lanes.sel]

    def values(self, lanes: LaneSet, dtype: np.dtype) -> np.ndarray:
        """The stored values of ``lanes`` viewed as ``dtype`` (meaningful where tags match)."""
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
        """Write ``values`` (array or scalar) with ``tag`` into ``lanes``.

        ``n`` is the piece's lane count and ``live`` how many lanes have not
        exited; a write covering every live lane makes the row's tag uniform.
        """
        covers_live = len(lanes) == live
        if len(lanes) == n and _adoptable(values, dtype, n):
            self.data = values          # a fresh result for every lane: keep it, don't copy
        else:
            data = self.data
            if data is None or (data.dtype != dtype and data.dtype != _RAW):
                if data is None or covers_live or self.tag == UNSET:
                    data = self.data = np.empty(n, dtype)
                else:  # lanes keep values of another storage type: fall back to raw bits
                    data = self.data = data.view(_UNSIGNED[data.dtype.itemsize]).astype(_RAW)
            if data.dtype == _RAW and dtype != _RAW:
                values = np.asarray(values, dtype).view(_UNSIGNED[dtype.itemsize]).astype(_RAW)
            data[lanes.sel] = values
        if covers_live:
            self.tag, self.tags = tag, None
        elif self.tag != tag:
            if self.tags is None:
                self.tags = np.full(n, self.tag, np.int8)
                self.tag = None
            self.tags[lanes.sel] = tag


class RegisterFile:
    """Registers, predicates and control state of the ``n`` lanes of one piece."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.live = n
        self.regs = [Row() for _ in range(256)]
        self.preds = [Row() for _ in range(16)]
        self.depth: np.ndarray | None = None      # call depth per lane
        self.stack: np.ndarray | None = None      # return PCs, [depth, lane]
        self.phase: np.ndarray | None = None      # phase counter per lane

    def write(self, reg: int, ty: DType, lanes: LaneSet, values) -> None:
        self.regs[reg].write(lanes, ty.value, ty.storage, values, self.n, self.live)

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
