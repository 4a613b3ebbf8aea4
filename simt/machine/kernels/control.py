"""BRA, CALL, RET, LOOP, EXIT, bar.sync and memfence.

Each decoder resolves its label once; the op it returns tells where the lanes
go (:class:`~simt.machine.step.Jump`, ``EXIT`` or
:class:`~simt.machine.step.Park`); the scheduler applies the PC rule and
regroups the lanes.
"""

from __future__ import annotations

import numpy as np

from ...errors import CallStackError
from ...isa.types import DType
from ..state import PRED_TAG
from ..step import EXIT, Branch, Jump, Op, Park, Step
from ..values import Affine, Const, Cut

__all__ = ["DECODERS", "MAX_CALL_DEPTH", "SPAN_FRAME"]

MAX_CALL_DEPTH = 256


def _split(step: Step, target: int, taken, jump: Jump | None = None) -> Jump | Branch | None:
    """Where a two-way branch sends the lanes; ``taken`` is a Cut or a flag per frame position.

    ``jump``: ``Jump(target)``, made once by the caller (Jumps are immutable).
    """
    lanes = step.lanes
    kind = type(taken)
    if jump is None:
        jump = Jump(target)
    if kind is Const:                   # a uniform predicate: every lane goes one way
        return jump if taken.value else None
    parts = taken.split(lanes) if kind is Cut else None
    if parts is None:
        if not isinstance(taken, np.ndarray):
            taken = taken.at(lanes)
        parts = lanes.split(taken)
    yes, no = parts
    if len(no) == 0:
        return jump
    return None if len(yes) == 0 else Branch(yes, target, no)


def bra(ins, program) -> Op:
    target = program.labels[ins.target]
    jump = Jump(target)
    if ins.pred is None:
        return lambda step: jump
    pred = ins.pred
    boolean = np.dtype(bool)

    def op(step: Step) -> Jump | Branch | None:
        # a written predicate covering the lanes is read with no check to make
        taken = step.regs.preds[pred].fast(PRED_TAG, boolean, step.lanes)
        if taken is None:
            taken = step.read_pred(pred, compressed=True)
            step.commit()
        return _split(step, target, taken, jump)
    return op


def call(ins, program) -> Op:
    jump = Jump(program.labels[ins.target])

    def op(step: Step) -> Jump:
        depth, _ = step.call_stack(1)
        d = depth[step.lanes.sel]
        step.fault(d >= MAX_CALL_DEPTH, CallStackError,
                   f"call stack overflow: depth would exceed {MAX_CALL_DEPTH}")
        step.commit()
        deepest = int(d.max()) + 1
        depth, stack = step.call_stack(deepest)
        stack[d, step.lanes.indices()] = step.pc + 1
        depth[step.lanes.sel] = d + 1
        return jump
    return op


def ret(ins, program) -> Op:
    def op(step: Step) -> Jump:
        depth, stack = step.call_stack(0)
        d = depth[step.lanes.sel]
        step.fault(d == 0, CallStackError, "call stack underflow: RET with an empty call stack")
        step.commit()
        targets = stack[d - 1, step.lanes.indices()].astype(np.int64)
        depth[step.lanes.sel] = d - 1
        return Jump(targets)
    return op


def loop(ins, program) -> Op:
    target, reg = program.labels[ins.body], ins.count
    jump = Jump(target)

    def op(step: Step) -> Jump | Branch | None:
        count = step.read_lin(reg, DType.U32)
        step.commit()
        if isinstance(count, Affine) and count.stride == 0:     # a uniform count: no lane work
            value = int(count.scalar())
            if value == 0:
                return None
            step.write(reg, DType.U32, np.uint32(value - 1))
            return jump
        if not isinstance(count, np.ndarray):
            count = count.at(step.lanes)
        taken = count > 0
        step.write(reg, DType.U32, count - taken.astype(np.uint32))
        return _split(step, target, taken, jump)
    return op


def exit_(ins, program) -> Op:
    return lambda step: EXIT


def bar_sync(ins, program) -> Op:
    park = Park(ins.id)
    return lambda step: park


def memfence(ins, program) -> Op:
    return lambda step: None    # lanes run in lockstep over one memory: nothing to order


#: BRA and LOOP split a mask's span directly; EXIT, bar.sync and memfence touch no lanes.
SPAN_FRAME = frozenset({"BRA", "LOOP", "EXIT", "BarSync", "MemFence"})
DECODERS = {"BRA": bra, "CALL": call, "RET": ret, "LOOP": loop, "EXIT": exit_,
            "BarSync": bar_sync, "MemFence": memfence}
