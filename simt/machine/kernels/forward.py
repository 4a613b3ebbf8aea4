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
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...isa.program import Program, RegisterIndirectComputed
from ...isa.types import DType
from .. import alu, debug
from ..alu import inside
from ..lanes import LaneSet
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
        if lanes.__class__ is LaneSet and lanes.idx is None and step.last > pc \
                and step.listen is None and step.width * size >= LEND_MIN_BYTES:
            rows = step.rows
            handles = rows[handle_reg].fast(c64, s64, lanes)
            offsets = rows[offset_reg].fast(c64, s64, lanes)
            if handles is not None and offsets is not None:
                memory = step.piece.memory
                seg = consecutive(memory, lanes, handles, offsets, size)
                if seg is not None and seg.pos.start % size == 0 and _into(step, seg, memory):
                    return None
        return plain(step)

    def _into(step: Step, seg: Segment, memory) -> bool:
        """Compute into the run's bytes and give the register its view; False (nothing
        computed, at most lent views settled) when an operand is not an array over the
        lanes."""
        lanes, rows = step.lanes, step.rows
        row_a, row_b = rows[ra], rows[rb]
        lo = seg.pos.start
        hi = lo + len(lanes) * size
        if memory.lent:         # before the operands are read: a view of the bytes is copied
            memory.settle(seg.mem, lo, hi)
        a = row_a.fast(code, dtype, lanes)
        b = row_b.fast(code, dtype, lanes)
        if type(a) is not np.ndarray or type(b) is not np.ndarray:
            return False
        dest = seg.mem[lo:hi].view(dtype)
        if same is not None and row_a.interval is None:
            result, interval = same(a, b, dest), None
        else:
            result, interval = kernel(a, b, row_a.interval, row_b.interval, dest)
        if result is not dest:
            dest[...] = result
        view = lent_window(step, [seg], dtype)
        if view is not None and rows[dst].lend(lanes, code, view, step.regs.waiting, interval):
            memory.lend(step.regs, dst, view, seg.mem, lo, hi, debug.enabled)
        else:
            step.write(dst, ty, dest.copy(), interval)
        return True

    return op
