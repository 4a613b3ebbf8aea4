"""Forwarding: an ALU result computed straight into the bytes the next instruction stores.

``add.f32 r8, r6, r7`` followed by ``stg.f32 [r2 + r5], r8`` computes ``r8`` into a
fresh array, then copies it into the buffer: two passes over the values where one
does.  :func:`forwarded` decodes each such pair -- a float ADD, SUB or MUL and, at the
next pc, a global store of its destination in its type through a computed address
(``[rH + rO]``) that names neither the destination -- to an ALU op that, when the
store is bound to follow at once, by a range of lanes, each writing its element of one
run of a buffer, computes the result into those bytes and lends the register a
read-only view of them (:meth:`~simt.machine.state.Row.lend`, as a load of the run
would).  The store then finds its register viewing the very bytes it writes
(:func:`~simt.machine.kernels.memory.store_decoder`) and writes nothing.  In every
other case the op is the ALU op as decoded.

Exactness:

* the store is issued next, by the same lanes, with nothing in between: the executor
  issues each instruction of a run up to ``step.last`` in turn by the same lanes, and
  the ALU op falls through.  No observer sees the bytes change one issue early: none
  watches memory accesses (``step.listen`` is None) and stepping never fuses runs;
* neither instruction faults: the ALU op reads its operands with no check to make
  (``Row.fast``: one tag over the lanes, arrays) and float add, sub and mul never
  fault; the store's address registers are read with no check to make either and
  resolve to one run of every lane inside one buffer
  (:func:`~simt.machine.kernels.memory.consecutive`).
  The store reads the same address at its issue: the ALU op writes only its
  destination, which the address does not name;
* the bytes get exactly what the store would write: the same kernel computes into
  them (a ufunc gives the same values with ``out``), NaNs resolved as in the
  register (a resolved result is copied in);
* lent views stay exact: the memory settles every view of those bytes before they
  are written (the operands are read after, so an operand that viewed them is its
  row's copy by then), and the destination's view is registered like a load's, to be
  settled before any later write.  A row that cannot take the view (the liveness
  rule, or no room for a view of the piece's width) takes a copy, and the store then
  writes the same bytes again.

The same holds for a Masked step (one path of a divergent if/else) whose lanes, falling
through, join the lanes waiting at the store (the other path's) when those are all
the lanes left to run (``step.join``: none at another pc, none parked, so the store is
issued next, by every lane that has not exited) and together they are a range whose
store writes one run: the step computes over its span, and the bytes get its result at
its lanes and, at the waiting lanes, the destination's values they hold (the store
reads the register for all of them; its row holds the waiting lanes' values in the
store's type, one per lane, so the store would not fault on them either).  One select
of three passes writes the buffer, where blending into the register and then copying
it made four.  The step budget must leave room for the store (``step.room``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...isa.program import Program, RegisterIndirectComputed
from ...isa.types import DType
from .. import alu, debug
from ..alu import inside
from ..lanes import LaneSet, Masked, select
from ..memory import Segment
from ..step import Op, Step
from ..thresholds import LEND_MIN_BYTES
from .memory import consecutive, lent_window

__all__ = ["forwarded"]

#: The ALU instructions forwarded, by name: the float kernels that compute into an array.
_FORWARDED = {"ADD": inside.add, "SUB": inside.sub, "MUL": inside.mul}


def forwarded(program: Program, ops: Sequence[Op]) -> list[Op]:
    """``ops`` with each ALU op whose result the next instruction stores forwarding it."""
    out = list(ops)
    for pc in range(len(ops) - 1):
        ins, store = program[pc], program[pc + 1]
        fn = _FORWARDED.get(ins.spec.name)
        addr = getattr(store, "addr", None)
        if fn is not None and ins.ty.is_float and ins.ty.size >= 4 \
                and store.spec.name == "STG" and store.src == ins.dst and store.ty is ins.ty \
                and type(addr) is RegisterIndirectComputed \
                and ins.dst not in (addr.handle_reg, addr.offset_reg):
            out[pc] = _forwarding(pc, ins, fn, addr, ops[pc])
    return out


def _forwarding(pc: int, ins, fn, addr: RegisterIndirectComputed, plain: Op) -> Op:
    """The ALU op at ``pc`` forwarding its result into the next instruction's store."""
    ty = ins.ty
    ra, rb, dst = ins.src1, ins.src2, ins.dst
    code, dtype, size = ty.code, ty.storage, ty.size
    kernel = alu.interval_kernel(fn, ty)
    same = alu.same_kernel(fn, ty) if ra == rb else None
    handle_reg, offset_reg = addr.handle_reg, addr.offset_reg
    u64 = DType.U64
    c64, s64 = u64.code, u64.storage

    def op(step: Step):
        lanes = step.lanes
        if step.listen is None and step.width * size >= LEND_MIN_BYTES:
            kind = lanes.__class__
            if kind is LaneSet:
                if lanes.idx is None and step.last > pc:
                    seg = _run(step, lanes)
                    if seg is not None and _into(step, seg):
                        return None
            elif kind is Masked and pc + 1 < step.room and step.join is not None:
                waiting = step.join(pc)
                if waiting is not None:
                    joined = waiting.union(lanes)
                    if joined.__class__ is LaneSet and joined.idx is None:
                        seg = _run(step, joined)
                        if seg is not None and _select_into(step, seg, waiting, joined):
                            return None
        return plain(step)

    def _run(step: Step, lanes: LaneSet) -> Segment | None:
        """The aligned run of one buffer that the store by the range ``lanes`` writes,
        when its address registers resolve to one with no check to make; else None."""
        rows = step.rows
        handles = rows[handle_reg].fast(c64, s64, lanes)
        offsets = rows[offset_reg].fast(c64, s64, lanes)
        if handles is None or offsets is None:
            return None
        seg = consecutive(step.piece.memory, lanes, handles, offsets, size)
        return seg if seg is not None and seg.pos.start % size == 0 else None

    def _operands(step: Step, seg: Segment, hi: int):
        """``(a, b)`` over the step's lanes, read after every lent view of the run's bytes
        up to ``hi`` is settled (an operand that viewed them is its row's copy by then);
        None when an operand is not an array over the lanes."""
        memory = step.piece.memory
        if memory.lent:
            memory.settle(seg.mem, seg.pos.start, hi)
        lanes, rows = step.lanes, step.rows
        a = rows[ra].fast(code, dtype, lanes)
        b = rows[rb].fast(code, dtype, lanes)
        return (a, b) if type(a) is np.ndarray and type(b) is np.ndarray else None

    def _compute(rows, a, b, out=None) -> tuple:
        """``(result, interval)``: the result in ``out`` (or a fresh array; a resolved NaN
        result may be fresh either way) and its interval (None: unknown)."""
        row_a = rows[ra]
        if same is not None and row_a.interval is None:
            return same(a, b, out), None
        return kernel(a, b, row_a.interval, rows[rb].interval, out)

    def _lend(step: Step, seg: Segment, hi: int, lanes: LaneSet, interval) -> bool:
        """Lend the destination register the run's bytes up to ``hi`` as the values of
        ``lanes``, registered to be settled before they are written; False (nothing
        done) when the row cannot take the view."""
        view = lent_window(step, [seg], dtype, lanes)
        if view is None or not step.rows[dst].lend(lanes, code, view, step.regs.waiting,
                                                   interval):
            return False
        step.piece.memory.lend(step.regs, dst, view, seg.mem, seg.pos.start, hi,
                               debug.enabled)
        return True

    def _into(step: Step, seg: Segment) -> bool:
        """Compute into the run's bytes and give the register its view; False (nothing
        computed, at most lent views settled) when an operand is not an array over the
        lanes."""
        lanes = step.lanes
        lo = seg.pos.start
        hi = lo + len(lanes) * size
        operands = _operands(step, seg, hi)
        if operands is None:
            return False
        dest = seg.mem[lo:hi].view(dtype)
        result, interval = _compute(step.rows, *operands, dest)
        if result is not dest:
            dest[...] = result
        if not _lend(step, seg, hi, lanes, interval):
            step.write(dst, ty, dest.copy(), interval)
        return True

    def _select_into(step: Step, seg: Segment, waiting: LaneSet, joined: LaneSet) -> bool:
        """Compute a Masked step's result and select it, with the destination's values of
        the ``waiting`` lanes, into the bytes the ``joined`` range stores next; give the
        register the view.  False (nothing computed, at most lent views settled) when an
        operand is not an array over the lanes or the destination's row does not hold
        the waiting lanes' values in its type, one per lane."""
        lanes, row_d = step.lanes, step.rows[dst]
        lo = seg.pos.start
        hi = lo + len(joined) * size
        operands = _operands(step, seg, hi)
        if operands is None or type(row_d.fast(code, dtype, waiting)) is not np.ndarray \
                or row_d.lin is not None or row_d.packed or row_d.near is not None:
            return False
        old = row_d.data        # one value per lane; the waiting lanes' in the dst type
        values = _compute(step.rows, *operands)[0]
        dest = seg.mem[lo:hi].view(dtype)
        first, start, stop, end = joined.lo, lanes.lo, lanes.hi, joined.hi
        dest[:start - first] = old[first:start]     # lanes outside the span all wait
        dest[stop - first:] = old[stop:end]
        select(dest[start - first:stop - first], old[start:stop], values, lanes)
        if not _lend(step, seg, hi, joined, None):
            step.write(dst, ty, values)
        return True

    return op
