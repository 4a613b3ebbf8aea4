"""PoolAlloc, PoolFree, PoolLoad, PoolStore (pools work inside launches; docs/semantics.md).

Each executing lane of a PoolAlloc gets its own pool; the lanes of one step
are allocated together, in ascending lane order, as one block of equally
sized pools so every later access stays vectorized.
"""

from __future__ import annotations

import numpy as np

from ...errors import (DeviceMemoryError, InvalidHandleError, OutOfBoundsError,
                       UnsupportedOperationError)
from ...isa.types import DType
from ..memory import Segment, check_range
from ..step import Op, Step
from .memory import load, positions, segments_for, store

__all__ = ["DECODERS"]


def pool_alloc(ins, program) -> Op:
    size, dst = ins.size, ins.dst

    def op(step: Step) -> None:
        memory = step.piece.memory
        need = step.n * size
        if memory.used + need > memory.limit:
            step.fault(None, DeviceMemoryError,
                       f"PoolAlloc of {step.n} x {size} bytes exceeds the device memory limit")
        step.commit()
        try:
            first = memory.pool_alloc(step.n, size)
        except DeviceMemoryError as exc:    # the operating system refused: nothing allocated
            step.fault(None, DeviceMemoryError, exc.reason)
            step.commit()
        step.write(dst, DType.U64, np.arange(first, first + step.n, dtype=np.uint64))
    return op


def _pool_handles(step: Step, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    block, row = step.piece.memory.pool_lookup(handles)
    bad = block < 0
    if bad.any():
        step.fault(bad, InvalidHandleError,
                   f"invalid pool handle: {int(handles[int(np.argmax(bad))])}")
    return block, row


def pool_free(ins, program) -> Op:
    reg = ins.handle

    def op(step: Step) -> None:
        handles = step.read(reg, DType.U64)
        _pool_handles(step, handles)
        # effects apply in ascending lane order: a handle freed by a lower lane of this
        # step is already invalid for every later lane that frees it again
        _, first = np.unique(handles, return_index=True)
        again = np.ones(step.n, bool)
        again[first] = False
        if again.any():
            step.fault(again, InvalidHandleError, f"invalid pool handle: "
                       f"{int(handles[int(np.argmax(again))])} (freed by a lower lane)")
        step.commit()
        step.piece.memory.pool_free(handles)
    return op


def _segments(step: Step, handles: np.ndarray, offsets: np.ndarray, size: int) -> list[Segment]:
    """Pool handle 0 is the boundary pool; others index a pool block."""
    boundary = handles == 0
    segs = []
    if boundary.any():
        where = np.flatnonzero(boundary)
        segs += segments_for(step, 0, offsets[where], size, subset=where)
    others = np.flatnonzero(~boundary)
    if others.size == 0:
        return segs
    block, row = step.piece.memory.pool_lookup(handles[others])
    invalid = block < 0
    if invalid.any():
        step.fault(others[invalid], InvalidHandleError,
                   f"invalid pool handle: {int(handles[others[int(np.argmax(invalid))]])}")
    pools = step.piece.memory.pools
    for k in np.unique(block[~invalid]):
        mine = block == k
        where = others[mine]
        pb = pools[int(k)]
        off = offsets[where]
        bad = check_range(off, size, pb.size)
        if bad.any():
            step.fault(positions(where, bad), OutOfBoundsError,
                       f"pool out of bounds: {size}-byte access at offset "
                       f"{int(off[int(np.argmax(bad))])} of a {pb.size}-byte pool")
        pos = row[mine] * pb.size + np.where(bad, 0, off).astype(np.int64)
        segs.append(Segment(pb.data, pos, where))
    return segs


def _unsupported(ins) -> str | None:
    """The fault message when ``ins.ty`` is outside the spec's types, else None."""
    return None if ins.ty in ins.spec.types else f"{ins.spec.name} for type {ins.ty.text}"


def pool_load(ins, program) -> Op:
    ty: DType = ins.ty
    pool, offset, dst, size, dtype = ins.pool, ins.offset, ins.dst, ty.size, ty.storage
    unsupported = _unsupported(ins)

    def op(step: Step) -> None:
        handles = step.read(pool, DType.U64)
        offsets = step.read(offset, DType.U64)
        segs = _segments(step, handles, offsets, size)
        if unsupported is not None:     # the REF rejects f16/bf16 only after the copy
            step.fault(None, UnsupportedOperationError, unsupported)
        step.commit()
        step.write(dst, ty, load(step, segs, dtype))
    return op


def pool_store(ins, program) -> Op:
    ty: DType = ins.ty
    pool, offset, src, size = ins.pool, ins.offset, ins.src, ty.size
    unsupported = _unsupported(ins)

    def op(step: Step) -> None:
        if unsupported is not None:
            step.fault(None, UnsupportedOperationError, unsupported)
        handles = step.read(pool, DType.U64)
        offsets = step.read(offset, DType.U64)
        values = step.read(src, ty)
        segs = _segments(step, handles, offsets, size)
        step.commit()
        store(step, segs, values)
    return op


DECODERS = {"PoolAlloc": pool_alloc, "PoolFree": pool_free, "PoolLoad": pool_load,
            "PoolStore": pool_store}
