"""The init check: loads of memory bytes never written.

A byte is written once the host uploaded or wrote it, a device store wrote it,
or a launch without this check ended (see :mod:`simt.machine.written`, which
keeps the per-byte flags of device memory across launches).  Shared memory is
unwritten when its block begins; pools when PoolAlloc made them; buffers when
``alloc`` made them (the zero fill does not count).  The boundary pool counts
as written.

Exactness: every store of a checked launch goes through the access hook, which
sets the flags of exactly the bytes its executing lanes wrote, after the
instruction was found free of hazards; every load checks exactly the bytes its
executing lanes read.  Host copies set the flags of the bytes copied.  So a
load is reported if and only if one of its bytes was never written in any of
the ways above.  The error is for the lowest executing lane with such a byte;
``address`` is the lowest unwritten byte it reads.

Speed: arrays that count as written (most of them, in launches after an
unchecked one) cost one dictionary lookup per access; contiguous runs and
lattices of lanes test and set the flags through views.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import UninitializedMemoryError
from ..machine.events import Access, Hazard, LaunchInfo, Observer
from ..machine.lanes import Masked
from ..machine.memory import Lattice, Run, describe
from ..machine.written import written
from .racecheck import out_of_memory_at

__all__ = ["InitCheck"]


def _flags(access: Access, seg, bitmap: np.ndarray):
    """(frame positions, (lanes, size) view or copy of the flags, setter, byte positions of
    a row) of a segment's executing lanes."""
    size = access.size
    lanes = access.lanes
    if isinstance(seg.where, slice) and type(lanes) is not Masked and isinstance(
            seg.pos, (Run, Lattice)):
        pos = seg.pos
        frame = None
        if isinstance(pos, Run):
            start, end = pos.start, pos.start + pos.count * size
            view = bitmap[start:end].reshape(pos.count, size)

            def row_bytes(k):
                return start + k * size + np.arange(size)
        else:
            view = np.lib.stride_tricks.as_strided(
                bitmap[pos.start:], (pos.rows, pos.cols, size), (pos.row_step, pos.col_step, 1))

            def row_bytes(k):
                i, j = divmod(k, pos.cols)
                return pos.start + i * pos.row_step + j * pos.col_step + np.arange(size)
        return frame, view, row_bytes, None
    frame, _, first = access.lanes_of(seg)
    idx = first[:, None] + np.arange(size, dtype=np.int64)
    return frame, bitmap[idx], (lambda k: idx[k]), idx


class InitCheck(Observer):
    """Raise :class:`~simt.errors.UninitializedMemoryError` at a load of unwritten bytes."""

    def on_launch(self, launch: LaunchInfo) -> None:
        self._memory = launch.memory
        self._written = written(launch.memory)
        self._program = launch.program
        self._shared_bytes = launch.shared_bytes
        self._shared = None
        self._shared_flags = None
        self._reserved = [0]
        weakref.finalize(self, _give_back, launch.memory, self._reserved)

    def on_piece(self, piece) -> None:
        if self._shared_flags is not None:
            self._memory.release(self._shared_flags.size)
            self._reserved[0] -= self._shared_flags.size
            self._shared_flags = None
        self._shared = piece.shared
        if piece.shared.size:
            self._memory.reserve(piece.shared.size, "init check shadow memory")
            self._reserved[0] += piece.shared.size
            self._shared_flags = np.zeros(piece.shared.size, bool)

    def on_finish(self) -> None:
        _give_back(self._memory, self._reserved)
        self._shared_flags = None

    def _bitmap(self, mem: np.ndarray) -> np.ndarray | None:
        if mem is self._shared:
            return self._shared_flags
        return self._written.bitmap(mem)

    def check(self, access: Access) -> Hazard | None:
        with out_of_memory_at(access):
            return self._check(access)

    def _check(self, access: Access) -> Hazard | None:
        if access.store:
            return None
        found = None
        count = 0
        for seg in access.segments:
            bitmap = self._bitmap(seg.mem)
            if bitmap is None:
                continue
            frame, flags, row_bytes, _ = _flags(access, seg, bitmap)
            flags = flags.reshape(-1, access.size)
            if flags.all():
                continue
            bad = np.flatnonzero(~flags.all(axis=1))
            count += bad.size
            pos = bad if frame is None else frame[bad]
            k = int(np.argmin(pos))
            if found is None or pos[k] < found[0]:
                found = (int(pos[k]), seg.mem, row_bytes(int(bad[k])), bitmap)
        if found is None:
            return None
        pos, mem, mine, bitmap = found
        mine = np.asarray(mine, np.int64)
        first = int(mine[~bitmap[mine]].min())
        space, handle, address = describe(self._memory, mem, first, self._shared,
                                          self._shared_bytes)
        where = {"shared": "shared", "global": f"buffer {handle}", "pool": f"pool {handle}",
                 "boundary": "boundary"}[space]
        since = {"shared": "since its block began", "global": "since alloc",
                 "pool": "since PoolAlloc", "boundary": ""}[space]
        error = UninitializedMemoryError(
            f"load of uninitialized memory: {where}[+{address}] ({access.size}-byte load; "
            f"byte {address} never written {since})", space=space, buffer=handle,
            address=address)
        self.on_finish()        # a hazard always ends the launch: give the flags back
        return Hazard(pos, 1, error, count)

    def access(self, access: Access) -> None:
        with out_of_memory_at(access):
            self._access(access)

    def _access(self, access: Access) -> None:
        if not access.store:
            return
        for seg in access.segments:
            bitmap = self._bitmap(seg.mem)
            if bitmap is None:
                continue
            frame, flags, _, idx = _flags(access, seg, bitmap)
            if idx is None:
                flags[...] = True       # a view of the flags
            else:
                bitmap[idx] = True


def _give_back(memory, reserved: list) -> None:
    if reserved[0]:
        memory.release(reserved[0])
        reserved[0] = 0
