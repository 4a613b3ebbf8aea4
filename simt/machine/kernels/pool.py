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
from ..step import Step
from .memory import load, positions, segments_for, store

__all__ = ["KERNELS"]


def pool_alloc(step: Step, ins) -> None:
    memory = step.launch.memory
    need = step.n * ins.size
    if memory.used + need > memory.limit:
        step.fault(None, DeviceMemoryError,
                   f"PoolAlloc of {step.n} x {ins.size} bytes exceeds the device memory limit")
    step.commit()
    try:
        first = memory.pool_alloc(step.n, ins.size)
    except DeviceMemoryError as exc:    # the operating system refused: nothing was allocated
        step.fault(None, DeviceMemoryError, exc.reason)
        step.commit()
    step.write(ins.dst, DType.U64, np.arange(first, first + step.n, dtype=np.uint64))


def _pool_handles(step: Step, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    block, row = step.launch.memory.pool_lookup(handles)
    bad = block < 0
    if bad.any():
        step.fault(bad, InvalidHandleError,
                   f"invalid pool handle: {int(handles[int(np.argmax(bad))])}")
    return block, row


def pool_free(step: Step, ins) -> None:
    handles = step.read(ins.handle, DType.U64)
    block, row = _pool_handles(step, handles)
    # effects apply in ascending lane order: a handle freed by a lower lane of this
    # step is already invalid for every later lane that frees it again
    _, first = np.unique(handles, return_index=True)
    again = np.ones(step.n, bool)
    again[first] = False
    if again.any():
        step.fault(again, InvalidHandleError, f"invalid pool handle: "
                   f"{int(handles[int(np.argmax(again))])} (freed by a lower lane)")
    step.commit()
    step.launch.memory.pool_free(handles)


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
    block, row = step.launch.memory.pool_lookup(handles[others])
    invalid = block < 0
    if invalid.any():
        step.fault(others[invalid], InvalidHandleError,
                   f"invalid pool handle: {int(handles[others[int(np.argmax(invalid))]])}")
    pools = step.launch.memory.pools
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


def _unsupported(step: Step, ins) -> None:
    step.fault(None, UnsupportedOperationError, f"{ins.spec.name} for type {ins.ty.text}")


def pool_load(step: Step, ins) -> None:
    ty: DType = ins.ty
    handles = step.read(ins.pool, DType.U64)
    offsets = step.read(ins.offset, DType.U64)
    segs = _segments(step, handles, offsets, ty.size)
    if ty not in ins.spec.types:        # the REF rejects f16/bf16 only after the copy
        _unsupported(step, ins)
    step.commit()
    step.write(ins.dst, ty, load(step, segs, ty.storage))


def pool_store(step: Step, ins) -> None:
    ty: DType = ins.ty
    if ty not in ins.spec.types:
        _unsupported(step, ins)
    handles = step.read(ins.pool, DType.U64)
    offsets = step.read(ins.offset, DType.U64)
    values = step.read(ins.src, ty)
    segs = _segments(step, handles, offsets, ty.size)
    step.commit()
    store(step, segs, values)


KERNELS = {"PoolAlloc": pool_alloc, "PoolFree": pool_free, "PoolLoad": pool_load,
           "PoolStore": pool_store}
