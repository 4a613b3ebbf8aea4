"""Forwarding: an ALU result computed straight into the bytes the next instruction stores.

``add.f32 r8, r6, r7`` followed by ``stg.f32 [r2 + r5], r8`` computes ``r8`` into a
fresh array, then copies it into the buffer: two passes over the values where one
does.  :func:`forwarded` decodes each such pair -- a float ADD, SUB or MUL and, at the
next pc, a global store of its destination in its type through a computed address
(``[rH + rO]``) that names neither the destination -- to an ALU op that, when the
store is bound to follow at once and to write every lane's element of one run of a
buffer, computes the result into those bytes and lends the register a read-only view
of them (:meth:`~simt.machine.state.Row.lend`).  The store then finds its values in
place (:meth:`~simt.machine.memory.DeviceMemory.holds`) and writes nothing.  In every
other case the op is the ALU op as decoded.

Exactness:

* the store is issued next, by the same lanes, with nothing in between: the executor
  issues each instruction of a run up to ``step.last`` in turn by the same lanes, and
  the ALU op falls through.  No observer sees the bytes change one issue early: none
  watches memory accesses (``step.listen`` is None) and stepping never fuses runs;
* neither instruction faults: the ALU op reads its operands with no check to make
  (one tag over every lane, arrays) and float add, sub and mul never fault; the
  store's address registers are read with no check to make either and resolve to one
  run of every lane inside one buffer (:func:`~simt.machine.kernels.memory.consecutive`).
  The store reads the same address at its issue: the ALU op writes only its
  destination, which the address does not name;
* the bytes get exactly what the store would write: the same kernel computes into
  them (a ufunc gives the same values with ``out``), NaNs resolved as in the
  register (a resolved result is copied in);
* lent views stay exact: the memory settles every view of those bytes before they
  are written (the operands are read after, so an operand that viewed them is its
  row's copy by then), and the destination's view is registered like a load's, to be
  settled before any later write.  A row that cannot take the view (the liveness
  rule) takes a copy, and the store then writes the same bytes again.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...isa.program import Program, RegisterIndirectComputed
from ...isa.types import DType
from .. import alu, debug
from ..alu import inside
from ..step import Op, Step
from ..thresholds import LEND_MIN_BYTES
from .memory import consecutive

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
    ndarray = np.ndarray

    def op(step: Step):
        if step.full and step.last > pc and step.listen is None \
                and step.width * size >= LEND_MIN_BYTES:
            rows, lanes = step.rows, step.lanes
            row_a, row_b = rows[ra], rows[rb]
            if row_a.tag == code and row_b.tag == code and type(row_a.whole) is ndarray \
                    and type(row_b.whole) is ndarray:
                handles = rows[handle_reg].fast(c64, s64, lanes)
                offsets = rows[offset_reg].fast(c64, s64, lanes)
                memory = step.piece.memory
                seg = None if handles is None or offsets is None else \
                    consecutive(memory, lanes, handles, offsets, size)
                if seg is not None and seg.pos.start % size == 0:
                    _into(step, seg, memory, row_a, row_b)
                    return None
        return plain(step)

    def _into(step: Step, seg, memory, row_a, row_b) -> None:
        lo = seg.pos.start
        hi = lo + step.width * size
        if memory.lent:
            memory.settle(seg.mem, lo, hi)
        a, b = row_a.whole, row_b.whole
        dest = seg.mem[lo:hi].view(dtype)
        if same is not None and row_a.interval is None:
            result, interval = same(a, b, dest), None
        else:
            result, interval = kernel(a, b, row_a.interval, row_b.interval, dest)
        if result is not dest:
            dest[...] = result
        dest.flags.writeable = False
        row = step.rows[dst]
        if row.lend(step.lanes, code, dest, step.regs.waiting, interval):
            memory.lend(step.regs, dst, dest, seg.mem, lo, hi, debug.enabled)
        else:
            step.write(dst, ty, dest.copy(), interval)

    return op
