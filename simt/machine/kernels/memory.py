"""LDG, STG, LDS, STS: address resolution, checks, gathers and scatters."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...errors import InvalidHandleError, OutOfBoundsError
from ...isa.program import (BufferOffset, PhiCoordinate, RegisterIndirect,
                            RegisterIndirectComputed, Shared, SharedIndirect)
from ...isa.types import DType
from ..events import Access
from ..lanes import LaneSet, Masked, Tiles, blend
from ..memory import (CLASS_BYTES, Lattice, Run, Segment, Strided, check_range, crosses_class,
                      gather, scatter, shared_grid, shared_tiles)
from .. import affine, debug
from ..values import Affine, Digits, Tiled, grid, grid_bounds, int_range, tiled
from ..step import Op, Step
from ..thresholds import COMPACT_LOAD_DENSITY, LEND_MIN_BYTES, SHARED_GRID_MEMO as _GRIDS_MAX

__all__ = ["DECODERS", "SPAN_FRAME", "segments_for", "shared_segments", "load", "store",
           "positions", "address_reader"]

_PAGES = 48
_EVERY = slice(None)
_U64 = np.dtype(np.uint64)


def positions(where, bad: np.ndarray) -> np.ndarray:
    """Bool mask (``where`` = all lanes) or positions of the bad lanes of a segment."""
    return bad if isinstance(where, slice) else where[bad]


def _uniform(values) -> bool:
    return np.ndim(values) == 0 or values.size == 0 or bool((values == values[0]).all())


def _positions(off: np.ndarray, bad: np.ndarray | None, base) -> np.ndarray:
    """Byte positions ``base + off`` (int64); faulting lanes (``bad``, None: none) get ``base``."""
    if bad is not None and bad.any():
        off = np.where(bad, np.uint64(0), off)
    pos = np.asarray(off, np.uint64).view(np.int64)   # in bounds, so below 2**63
    return pos + base if np.any(base) else pos


def _lattice(mem: np.ndarray, g: tuple[int, int, int, int, int], size: int) -> Segment:
    """The segment of every lane at byte positions forming the grid ``g``."""
    start, rows, cols, row_step, col_step = g
    if (cols == 1 or col_step == size) and (rows == 1 or row_step == cols * size
                                            or (cols == 1 and row_step == size)):
        return Segment(mem, Run(start, rows * cols), slice(None))
    return Segment(mem, Lattice(start, rows, cols, row_step, col_step), slice(None))


def _grid_segment(step: Step, region, offsets, size: int) -> Segment | None:
    """One strided segment for compressed offsets when every lane is in bounds.

    The offsets are exact over the lanes (see :func:`~simt.machine.values.grid`),
    so their extreme values bound every lane: checking the two suffices.  Any
    other case (a fault to pinpoint, the per-class rule) returns None and takes
    the general path.
    """
    if region is None or region.per_class:
        return None
    lanes = step.lanes.domain
    if type(offsets) is Affine and offsets.stride == size and lanes.is_range and len(lanes) \
            and offsets.dtype is _U64:
        # the usual case spelled out: consecutive elements; the unwrapped offsets rise
        # from first to last, so both inside [0, limit) means every lane is, exactly
        first, last = offsets.raw(lanes.lo), offsets.raw(lanes.hi - 1)
        if 0 <= first and last + size <= region.limit:
            return Segment(region.mem, Run(region.base + first, len(lanes)), slice(None))
        return None
    n = len(lanes)
    g = offsets.lattice(lanes, n) if n else None
    if g is None:
        return None
    # the bounds of :func:`~simt.machine.values.grid`, once: both inside [0, limit) means
    # no lane faults and no value wraps (a u64 offset's range holds every limit)
    start, rows, cols, row_step, col_step = g
    down, across = row_step * (rows - 1), col_step * (cols - 1)
    low = start + (down if down < 0 else 0) + (across if across < 0 else 0)
    high = start + (down if down > 0 else 0) + (across if across > 0 else 0)
    tmin, tmax = int_range(offsets.dtype)
    if low < 0 or low < tmin or high > tmax or high + size > region.limit:
        return None
    return _lattice(region.mem, (start + region.base, rows, cols, row_step, col_step), size)


def _dense_run(region, offsets: np.ndarray, size: int) -> Segment | None:
    """One contiguous segment for per-lane offsets ``size`` apart, all in bounds."""
    if region is None or region.per_class:
        return None
    first, last = int(offsets[0]), int(offsets[-1])
    n = offsets.shape[0]
    if last - first != (n - 1) * size or first < 0 or last + size > region.limit or (
            n > 2 and not ((offsets[1:] - offsets[:-1]) == size).all()):
        return None
    return Segment(region.mem, Run(region.base + first, n), slice(None))


def consecutive(memory, lanes: LaneSet, handles, offsets, size: int) -> Segment | None:
    """The one segment of a range of lanes accessing consecutive ``size``-byte elements of
    one buffer, every lane inside it; else None (nothing checked, no fault registered).

    The converged common case of :func:`segments_for`, decided as :func:`_grid_segment`
    does: ``offsets`` is affine with stride ``size``, so the unwrapped offsets rise from
    the first lane to the last, and both inside ``[0, limit)`` means every lane is, exactly.
    """
    kind = handles.__class__
    if lanes.__class__ is LaneSet and lanes.idx is None and offsets.__class__ is Affine \
            and offsets.stride == size and offsets.dtype is _U64 and (
                kind is int or (kind is Affine and handles.stride == 0)):
        region = memory.region(handles if kind is int else handles.base % (1 << 64))
        lo, hi = lanes.lo, lanes.hi
        if region is not None and not region.per_class and hi > lo:
            first = offsets.base + size * lo
            if 0 <= first and first + size * (hi - lo) <= region.limit:
                return Segment(region.mem, Run(region.base + first, hi - lo), _EVERY)
    return None


def segments_for(step: Step, handles, offsets, size: int,
                 subset: np.ndarray | None = None) -> list[Segment]:
    """Resolve buffer handles + byte offsets, registering handle and bounds faults.

    ``handles``/``offsets`` are per lane (or scalars); with ``subset`` they
    belong to those lane positions only.
    """
    memory = step.piece.memory
    if offsets.__class__ is Affine and subset is None and offsets.stride == size:
        seg = consecutive(memory, step.lanes, handles, offsets, size)
        if seg is not None:
            return [seg]
    count = step.n if subset is None else subset.size
    if isinstance(handles, (Tiled, Digits)):
        handles = handles.at(step.lanes)
    if isinstance(handles, Affine):
        handles = handles.base % (1 << 64) if handles.stride == 0 else handles.at(step.lanes)
    if isinstance(offsets, (Affine, Tiled)):
        if subset is None and isinstance(handles, int):
            seg = _grid_segment(step, memory.region(int(handles)), offsets, size)
            if seg is not None:
                return [seg]
        offsets = offsets.at(step.lanes if subset is None else LaneSet.of(subset))
    elif isinstance(offsets, Digits):
        offsets = offsets.at(step.lanes if subset is None else LaneSet.of(subset))
    if subset is None and isinstance(handles, int) and type(offsets) is np.ndarray \
            and count > 1:
        run = _dense_run(memory.region(handles), offsets, size)
        if run is not None:
            return [run]
    offsets = np.broadcast_to(np.asarray(offsets, np.uint64), (count,))
    if _uniform(handles):
        h0 = int(handles) if np.ndim(handles) == 0 else int(handles[0]) if count else 0
        groups = [(h0, slice(None))]
    else:
        uniq, inverse = np.unique(handles, return_inverse=True)
        groups = [(int(h), np.flatnonzero(inverse == k)) for k, h in enumerate(uniq)]
    out = []
    for handle, local in groups:
        where = local if subset is None else subset[local]
        region = memory.region(handle)
        if region is None:
            step.fault(None if isinstance(where, slice) else where, InvalidHandleError,
                       f"invalid buffer handle: {handle}")
            continue
        off = offsets[local]
        if not region.per_class and size <= region.limit and off.size \
                and int(np.maximum.reduce(off)) <= region.limit - size:   # every lane inside
            out.append(Segment(region.mem, _positions(off, None, region.base), where))
            continue
        bad = check_range(off, size, region.limit)
        if region.per_class:
            bad |= crosses_class(off, size)
        if bad.any():
            first = int(off[int(np.argmax(bad))])
            step.fault(positions(where, bad), OutOfBoundsError,
                       f"out of bounds: {size}-byte access at offset {first} of buffer {handle} "
                       f"({region.limit} bytes{', per class 12288' if region.per_class else ''})")
        out.append(Segment(region.mem, _positions(off, bad, region.base), where))
    return out


#: Shared grids found before, by what determines them (see :func:`_grid_key`); pieces of
#: one launch, and the launches of one program, meet the same lanes and offsets again.
_GRIDS: dict[tuple, "Run | Lattice | Strided"] = {}


def _grid_key(offsets, lanes: LaneSet, size: int, per: int, limit: int) -> tuple | None:
    """Everything the shared grid of compressed ``offsets`` over ``lanes`` depends on, or
    None for lane sets other than ranges and tiles.

    The grid (:func:`_shared_run`, :func:`~simt.machine.memory.shared_grid`,
    :func:`~simt.machine.memory.shared_tiles`) is a pure function of the offsets'
    parameters, the lanes' bounds (and tiles), the block's lanes and shared bytes and the
    access size, so a grid found for an equal key is the grid of these lanes.
    """
    kind = type(offsets)
    if kind is Affine:
        value = (offsets.base, offsets.stride)
    elif kind is Tiled:
        value = (offsets.base, offsets.inner, offsets.outer, offsets.period)
    else:
        return None
    if lanes.is_range:
        where = (lanes.lo, lanes.hi)
    elif type(lanes) is Tiles:
        where = (lanes.period, lanes.b0, lanes.b1, lanes.t0, lanes.t1)
    else:
        return None
    return kind, value, offsets.dtype.char, where, size, per, limit


def shared_segments(step: Step, offsets, size: int, verify: bool = False) -> list[Segment]:
    """Resolve shared-memory byte offsets of every lane inside its block's scratch.

    ``verify`` (debug mode, chosen when a program is decoded): a grid taken from
    :data:`_GRIDS` is asserted equal to the one computed afresh.
    """
    piece = step.piece
    limit = piece.shared_bytes
    kind = offsets.__class__
    if kind is Affine or kind is Tiled or kind is Digits:
        # the same compressed offsets over the same lanes (a load then a store through
        # one address): the positions found before, which no lane faulted on
        step_lanes, shared = step.lanes, piece.shared
        fact = ("shared", size)
        known = step_lanes.recall(fact)
        if known is not None and known[0] is offsets and known[1] is shared:
            return [known[2]]
        lanes = step_lanes.domain
        per = piece.geometry.lanes_per_block
        key = _grid_key(offsets, lanes, size, per, limit)
        pos = None if key is None else _GRIDS.get(key)
        if pos is not None:
            run = Segment(shared, pos, _EVERY)
            if verify:
                fresh = _shared_grid(step, offsets, size, lanes, per, limit)
                assert fresh is not None and repr(fresh.pos) == repr(pos), \
                    f"shared grid memo: {pos!r} kept for {key}, computed {fresh!r}"
        else:
            run = _shared_grid(step, offsets, size, lanes, per, limit)
        if run is not None:
            # a grid holds no per-lane array; an index-array set's positions hold one
            # int64 per lane, as the set's own index array does
            if not isinstance(run.pos, np.ndarray) or step_lanes.__class__ is LaneSet:
                step_lanes.remember(fact, (offsets, shared, run))
                if key is not None and pos is None:
                    if len(_GRIDS) >= _GRIDS_MAX:
                        _GRIDS.clear()
                    _GRIDS[key] = run.pos
            return [run]
        offsets = offsets.at(step.lanes)
    off = np.broadcast_to(np.asarray(offsets, np.uint64), (step.n,))
    bad = check_range(off, size, limit)
    if bad.any():
        first = int(off[int(np.argmax(bad))])
        step.fault(bad, OutOfBoundsError,
                   f"out of bounds: {size}-byte shared access at offset {first} "
                   f"(shared_bytes={limit})")
    pos = _positions(off, bad, piece.block_of(step.lanes.domain.indices()) * limit)
    return [Segment(piece.shared, pos, slice(None))]


def _shared_grid(step: Step, offsets, size: int, lanes: LaneSet, per: int,
                 limit: int) -> Segment | None:
    """The segment of compressed shared offsets when no lane faults, else None."""
    run = None if isinstance(offsets, Digits) else _shared_run(step, offsets, size)
    if run is None and (lanes.is_range or type(lanes) is Tiles):
        pos = shared_grid(offsets, lanes.lo, lanes.hi, per, limit, size) \
            if lanes.is_range else shared_tiles(offsets, lanes, per, limit, size)
        run = None if pos is None else Segment(step.piece.shared, pos, slice(None))
    if run is None and isinstance(offsets, Digits):
        run = _shared_digits(step, offsets, size)
    return run


def _shared_run(step: Step, offsets, size: int) -> Segment | None:
    """The segment of compressed shared offsets that are in bounds for every lane.

    Shared byte ``block * shared_bytes + offset`` is tiled in the lane with the
    block's period, so positions are computed from the compressed offsets in one
    pass (no separate block index): a strided run per block, or a contiguous
    run, when they form a grid over the lanes (see :func:`_lattice`).  Bounds
    come from the exact bounds of the offsets; a possible fault returns None for
    the checked per-lane path.
    """
    lanes, piece = step.lanes.domain, step.piece
    period, limit = piece.geometry.lanes_per_block, piece.shared_bytes
    if len(lanes) == 0 or (isinstance(offsets, Tiled) and offsets.period != period):
        return None
    exact = grid(offsets, lanes)            # exact bounds of just these lanes' offsets
    if exact is not None:
        low, high = grid_bounds(exact)
    elif not offsets.exact_on(lanes.lo, lanes.hi):
        return None
    elif isinstance(offsets, Tiled):
        low, high = offsets.bounds(lanes.lo, lanes.hi)
    else:
        low, high = sorted((offsets.raw(lanes.lo), offsets.raw(lanes.hi - 1)))
    if isinstance(offsets, Tiled):
        parts = (offsets.base, offsets.inner, offsets.outer + limit)
    else:
        parts = (offsets.base, offsets.stride, offsets.stride * period + limit)
    if low < 0 or high + size > limit:      # some lane may fault: take the checked path
        return None
    pos = tiled(*parts, period, np.dtype(np.int64))
    g = grid(pos, lanes)
    if g is not None:
        return _lattice(piece.shared, g, size)
    return Segment(piece.shared, pos.at(lanes), slice(None))


def _shared_digits(step: Step, offsets: Digits, size: int) -> Segment | None:
    """The segment of digits shared offsets that are in bounds for every lane.

    When the offsets' bounds over the piece's first ``hi`` lanes lie inside
    ``[0, shared_bytes - size]`` no lane faults and no offset wraps, so the byte
    position ``block * shared_bytes + offset`` is the digits value with
    ``shared_bytes`` added per block (a tile index of period ``lanes_per_block``),
    materialized once; None (the checked path) otherwise.
    """
    lanes, piece = step.lanes.domain, step.piece
    period, limit = piece.geometry.lanes_per_block, piece.shared_bytes
    if len(lanes) == 0:
        return None
    low, high = offsets.bounds(lanes.hi)
    if low < 0 or high + size > limit:
        return None
    pos = affine.arith("ADD", DType.U64, Digits(offsets.base, offsets.coefs, offsets.radices,
                                                _U64), Tiled(0, 0, limit, period, _U64))
    if pos is None:
        return None
    return Segment(piece.shared, pos.at(lanes).view(np.int64), slice(None))


def load(step: Step, segs: list[Segment], dtype: np.dtype) -> np.ndarray:
    """Gather one value per lane (call after ``step.commit()``).

    In a Masked step's span frame inactive lanes read in-bounds garbage: their
    positions are valid (faulting ones were replaced) and their values unused.
    """
    _loading(step, segs, dtype)
    return _gather(step, segs, dtype)


def _loading(step: Step, segs: list[Segment], dtype: np.dtype) -> None:
    """Show a load to the observers and count its bytes."""
    if step.listen is not None:
        step.observe(Access(False, step.pc, step.lanes, step.piece, segs, dtype.itemsize, None))
    step.bytes_loaded += len(step.lanes) * dtype.itemsize


def lent_window(step: Step, segs: list[Segment], dtype: np.dtype,
                lanes: LaneSet | None = None) -> np.ndarray | None:
    """A read-only view of global memory holding a range step's loaded values at its
    lanes' positions of a per-lane row (one entry per lane of the piece), or None;
    ``lanes`` (None: the step's) are the lanes whose values ``segs`` hold.

    The lanes ``[lo, hi)`` load the consecutive elements of a Run, so the entries
    ``lo * size`` bytes before the run up to ``width`` elements on are such a row
    when they lie inside the memory array or its allocation
    (:meth:`~simt.machine.memory.DeviceMemory.padded`): the loaded lanes see
    exactly the loaded elements, the others (unset in the row) bytes nobody reads.
    Only rows of at least :data:`LEND_MIN_BYTES` (below, copying costs less than
    keeping track of the view), aligned ones (device arrays start aligned; NumPy
    computes on unaligned views slowly), never shared memory (its stores and loads
    alternate: every store would copy the view anyway).
    """
    if lanes is None:
        lanes = step.lanes
    size = dtype.itemsize
    if len(segs) != 1 or lanes.__class__ is not LaneSet or lanes.idx is not None \
            or step.width * size < LEND_MIN_BYTES:
        return None
    seg = segs[0]
    pos = seg.pos
    if type(pos) is not Run or seg.mem is step.piece.shared or pos.start % size:
        return None
    start = pos.start - lanes.lo * size
    stop = start + step.width * size
    mem = seg.mem
    if stop > mem.shape[0]:
        mem = step.piece.memory.padded(mem)
    if start < 0 or stop > mem.shape[0]:
        return None
    view = mem[start:stop].view(dtype)
    view.flags.writeable = False
    return view


def _plain(handles) -> bool:
    """Whether buffer handles are one integer or an array (not a compressed value)."""
    return type(handles) is np.ndarray or isinstance(handles, (int, np.integer)) or (
        type(handles) is Affine and handles.stride == 0)


def _compact_load(step: Step, operands: tuple, size: int, dtype: np.dtype) -> np.ndarray:
    """A global load of a sparse Masked step (span-frame per-lane offsets), resolved and
    gathered at its active lanes only; the span-frame result holds 0 elsewhere.

    Exactness: a Masked step's inactive lanes neither fault nor have their loaded
    values used (the register write blends the active lanes in), so checking and
    gathering just the active positions (``subset`` of :func:`segments_for`, in span
    order) gives every active lane the same value and the same faults.
    """
    lanes = step.lanes
    local = lanes.idx - lanes.lo if lanes.lo else lanes.idx
    handles, offsets = operands
    if type(handles) is np.ndarray and handles.ndim:
        handles = handles[local]
    segs = segments_for(step, handles, offsets[local], size, subset=local)
    step.commit()
    step.bytes_loaded += len(lanes) * size
    out = np.zeros(step.n, dtype)
    for seg in segs:
        out[seg.where] = gather(seg.mem, seg.pos, dtype)
    return out


def _gather(step: Step, segs: list[Segment], dtype: np.dtype) -> np.ndarray:
    if len(segs) == 1 and isinstance(segs[0].where, slice):
        return gather(segs[0].mem, segs[0].pos, dtype)
    out = np.empty(step.n, dtype)
    for seg in segs:
        out[seg.where] = gather(seg.mem, seg.pos, dtype)
    return out


def store(step: Step, segs: list[Segment], values: np.ndarray) -> None:
    """Scatter one value per lane; colliding bytes keep the highest lane's value.

    In a Masked step's span frame only active lanes store: a strided run of
    every lane of the span is blended, other positions are filtered.
    """
    lanes = step.lanes
    memory = step.piece.memory
    if type(values) is not np.ndarray or values.shape != (step.n,):
        values = np.broadcast_to(values, (step.n,))
    elif memory.lent and not values.flags.writeable and any(
            np.may_share_memory(values, seg.mem) for seg in segs):
        values = values.copy()      # a lent view of the memory this store writes
    size = values.dtype.itemsize
    if len(segs) == 1 and step.listen is None and lanes.__class__ is not Masked \
            and values.flags.c_contiguous:
        seg = segs[0]
        if seg.where.__class__ is slice and seg.where == _EVERY:
            # one segment of every lane, in lane order: the scatter itself (written out);
            # no view of shared memory is ever lent (see lent_window), so only global
            # memory settles
            step.bytes_stored += len(lanes) * size
            if memory.lent and seg.mem is not step.piece.shared:
                _settle(memory, segs, size)
            scatter(seg.mem, seg.pos, values)
            return
    if step.listen is not None:
        step.observe(Access(True, step.pc, lanes, step.piece, segs, size, values))
    active = lanes.mask if type(lanes) is Masked else None
    step.bytes_stored += len(lanes) * size
    by_mem: dict[int, list[Segment]] = {}
    for seg in segs:
        by_mem.setdefault(id(seg.mem), []).append(seg)
    for group in by_mem.values():
        if memory.lent:
            _settle(memory, group, size)
        if len(group) == 1 and active is None:
            seg = group[0]
            scatter(seg.mem, seg.pos, np.ascontiguousarray(values[seg.where]))
            continue
        if len(group) == 1 and isinstance(group[0].where, slice) and (
                isinstance(group[0].pos, Run) or (isinstance(group[0].pos, (Lattice, Strided))
                                                  and group[0].pos.disjoint(size))):
            pos = group[0].pos
            view = (group[0].mem[pos.start: pos.start + pos.count * size].view(values.dtype)
                    if isinstance(pos, Run) else pos.view(group[0].mem, values.dtype))
            blend(view, values, lanes)
            continue
        order = np.concatenate([np.arange(step.n)[s.where] for s in group])
        pos = np.concatenate([s.pos.indices(size) if isinstance(s.pos, (Run, Lattice))
                              else s.pos for s in group])
        if active is not None:
            keep = active[order]
            order, pos = order[keep], pos[keep]
        if len(group) > 1:
            ranked = np.argsort(order, kind="stable")
            order, pos = order[ranked], pos[ranked]
        scatter(group[0].mem, pos, np.ascontiguousarray(values[order]))


def _settle(memory, group: list[Segment], size: int) -> None:
    """Give the registers viewing bytes that ``group`` (segments of one array) is about
    to write their own copy (:meth:`simt.machine.memory.DeviceMemory.settle`)."""
    pos = group[0].pos
    if len(group) == 1 and type(pos) is Run:
        memory.settle(group[0].mem, pos.start, pos.start + pos.count * size)
    else:
        memory.settle(group[0].mem)


def address_reader(addr) -> Callable[[Step], tuple]:
    """The reader of an address's operands, chosen once per instruction by its form.

    ``reader(step)`` reads the address's registers and returns ``(handles, offsets)``,
    or ``(None, offsets)`` for a shared address.
    """
    kind = type(addr)
    if kind is BufferOffset:
        fixed = (addr.handle, addr.offset)
        return lambda step: fixed
    if kind is PhiCoordinate:
        fixed = (0, addr.class_ * CLASS_BYTES + addr.page * 256 + addr.byte)
        return lambda step: fixed
    if kind is RegisterIndirect:
        base, offset = addr.base, addr.offset
        return lambda step: (step.read_lin(base, DType.U64), offset)
    if kind is RegisterIndirectComputed:
        handle, offset_reg = addr.handle_reg, addr.offset_reg
        return lambda step: (step.read_lin(handle, DType.U64),
                             step.read_lin(offset_reg, DType.U64))
    if kind is Shared:
        # one offset for every lane: a uniform compressed value, so that the lanes'
        # positions are a grid (one per block) rather than an array per lane
        fixed = (None, Affine(addr.offset, 0, _U64) if 0 <= addr.offset < 1 << 63
                 else addr.offset)
        return lambda step: fixed
    if kind is SharedIndirect:
        reg = addr.offset_reg
        u32, u64 = DType.U32, DType.U64
        c32, s32, c64, s64 = u32.code, u32.storage, u64.code, u64.storage

        tried = [(c32, s32), (c64, s64)]

        def shared_offsets(step: Step) -> tuple:
            # Row.fast answers exactly when one tag covers the lanes: then it is what
            # read_any would read (the type whose code is that tag), with nothing to check;
            # at most one of the two tags answers, so the order of the tries is moot: the
            # type that answered last is tried first
            row = step.rows[reg]
            first, second = tried
            value = row.fast(first[0], first[1], step.lanes)
            if value is None:
                value = row.fast(second[0], second[1], step.lanes)
                if value is not None:
                    tried.reverse()
                else:
                    value = step.read_any(reg, (u32, u64), compressed=True)[1]
            return None, value
        return shared_offsets
    raise AssertionError(addr)  # Program.validate() admits no other address


def _address_fault(addr) -> str | None:
    """The fault every lane of an access through ``addr`` takes, whatever the registers hold."""
    if type(addr) is PhiCoordinate and addr.page >= _PAGES:
        return f"invalid Φ-coordinate: page {addr.page} >= {_PAGES}"
    if type(addr) is RegisterIndirect and addr.offset < 0:
        return f"RegisterIndirect negative offset {addr.offset}"
    return None


def _locator(addr, size: int) -> Callable[[Step, tuple], list[Segment]]:
    """``locate(step, operands)``: check an address for ``size``-byte accesses, resolve it."""
    fault = _address_fault(addr)
    if fault is not None:
        def invalid(step: Step, operands: tuple) -> list[Segment]:
            step.fault(None, OutOfBoundsError, fault)
            return []
        return invalid
    if type(addr) in (Shared, SharedIndirect):
        verify = debug.enabled
        return lambda step, operands: shared_segments(step, operands[1], size, verify)
    return lambda step, operands: segments_for(step, operands[0], operands[1], size)


def load_decoder(ins, program) -> Op:
    ty: DType = ins.ty
    read, locate = address_reader(ins.addr), _locator(ins.addr, ty.size)
    dst, dtype = ins.dst, ty.storage

    code, size = ty.code, ty.storage.itemsize
    computed = type(ins.addr) is RegisterIndirectComputed    # never an address fault
    lendable = type(ins.addr) not in (Shared, SharedIndirect)  # see lent_window

    def op(step: Step) -> None:
        operands = read(step)
        lanes = step.lanes
        if lanes.__class__ is Masked and computed and step.listen is None \
                and lanes.count < COMPACT_LOAD_DENSITY * lanes.frame \
                and type(operands[1]) is np.ndarray and _plain(operands[0]):
            step.write(dst, ty, _compact_load(step, operands, size, dtype))
            return
        segs = locate(step, operands)
        step.commit()
        lanes = step.lanes
        if step.listen is not None:     # _loading, written out
            step.observe(Access(False, step.pc, lanes, step.piece, segs, size, None))
        step.bytes_loaded += len(lanes) * size
        if lendable and step.width * size >= LEND_MIN_BYTES:    # see lent_window
            view = lent_window(step, segs, dtype)
            if view is not None and step.rows[dst].lend(lanes, code, view, step.regs.waiting):
                run = segs[0].pos
                step.piece.memory.lend(step.regs, dst, view, segs[0].mem, run.start,
                                       run.start + run.count * size, debug.enabled)
                return
        if len(segs) == 1 and segs[0].where.__class__ is slice:    # _gather, written out
            step.write(dst, ty, gather(segs[0].mem, segs[0].pos, dtype))
            return
        step.write(dst, ty, _gather(step, segs, dtype))
    return op


def store_decoder(ins, program) -> Op:
    ty: DType = ins.ty
    read, locate = address_reader(ins.addr), _locator(ins.addr, ty.size)
    src = ins.src
    code, storage, size = ty.code, ty.storage, ty.size

    def op(step: Step) -> None:
        operands = read(step)           # REF order: address, source, then bounds
        row = step.rows[src]
        values = row.fast(code, storage, step.lanes)
        if type(values) is not np.ndarray:  # a check to make, or a compressed value
            values = step.read(src, ty)
        segs = locate(step, operands)
        step.commit()
        if step.piece.memory.lent and _in_place(step, row, segs, size):
            step.bytes_stored += len(step.lanes) * size
            return
        store(step, segs, values)
    return op


def _in_place(step: Step, row, segs: list[Segment], size: int) -> bool:
    """Whether a store by a range of lanes writes the very bytes its register's row views,
    lent by the same lanes: they hold its values already, and it has nothing to write.

    Exactness: a row lent a view (:meth:`~simt.machine.state.Row.lend`) by the lanes
    ``[row.lo, row.hi)`` reads, at each of those lanes, the bytes they loaded (or an ALU
    result computed there, :mod:`simt.machine.kernels.forward`), consecutive from the
    view's registered start; the memory settles the view before any write to them.
    The same lanes storing to those same bytes write each lane's value where it is.
    """
    lanes = step.lanes
    if step.listen is not None or len(segs) != 1 or lanes.__class__ is not LaneSet \
            or lanes.idx is not None or row.region is not None or row.tags is not None \
            or row.lo != lanes.lo or row.hi != lanes.hi:
        return False
    seg = segs[0]
    pos = seg.pos
    return type(pos) is Run and step.piece.memory.holds(row.data, seg.mem, pos.start,
                                                        pos.start + pos.count * size)


DECODERS = {"LDG": load_decoder, "LDS": load_decoder, "STG": store_decoder,
            "STS": store_decoder}
#: Loads and stores run a Masked step over its span (see :func:`load` and :func:`store`).
SPAN_FRAME = frozenset(DECODERS)
