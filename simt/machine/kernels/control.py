"""BRA, CALL, RET, LOOP, EXIT, bar.sync and memfence.

Control kernels return where the lanes go (:class:`~simt.machine.step.Jump`,
``EXIT`` or :class:`~simt.machine.step.Park`); the scheduler applies the PC
rule and regroups the lanes.
"""

from __future__ import annotations

import numpy as np

from ...errors import CallStackError
from ...isa.types import DType
from ..step import EXIT, Branch, Jump, Park, Step
from ..values import Cut

__all__ = ["KERNELS", "MAX_CALL_DEPTH"]

MAX_CALL_DEPTH = 256


def _label(step: Step, name: str) -> int:
    return step.launch.program.labels[name]


def bra(step: Step, ins) -> Jump | None:
    target = _label(step, ins.target)
    if ins.pred is None:
        return Jump(target)
    taken = step.read_pred(ins.pred, compressed=step.lanes.is_range)
    step.commit()
    if isinstance(taken, Cut):          # a predicate monotone in the lane: split the range
        yes, no = taken.split(step.lanes)
        if len(no) == 0:
            return Jump(target)
        return None if len(yes) == 0 else Branch(yes, target, no)
    if not isinstance(taken, np.ndarray):
        taken = taken.at(step.lanes)
    yes, no = step.lanes.split(taken)
    if len(no) == 0:
        return Jump(target)
    return None if len(yes) == 0 else Branch(yes, target, no, taken)


def call(step: Step, ins) -> Jump:
    depth, _ = step.regs.call_stack(1)
    d = depth[step.lanes.sel]
    step.fault(d >= MAX_CALL_DEPTH, CallStackError,
               f"call stack overflow: depth would exceed {MAX_CALL_DEPTH}")
    step.commit()
    deepest = int(d.max()) + 1
    depth, stack = step.regs.call_stack(deepest)
    stack[d, step.lanes.indices()] = step.pc + 1
    depth[step.lanes.sel] = d + 1
    return Jump(_label(step, ins.target))


def ret(step: Step, ins) -> Jump:
    depth, stack = step.regs.call_stack(0)
    d = depth[step.lanes.sel]
    step.fault(d == 0, CallStackError, "call stack underflow: RET with an empty call stack")
    step.commit()
    targets = stack[d - 1, step.lanes.indices()].astype(np.int64)
    depth[step.lanes.sel] = d - 1
    return Jump(targets)


def loop(step: Step, ins) -> Jump | None:
    count = step.read(ins.count, DType.U32)
    step.commit()
    taken = count > 0
    step.write(ins.count, DType.U32, np.where(taken, count - np.uint32(1), count))
    target = _label(step, ins.body)
    yes, no = step.lanes.split(taken)
    if len(no) == 0:
        return Jump(target)
    return None if len(yes) == 0 else Branch(yes, target, no, taken)


def exit_(step: Step, ins):
    return EXIT


def bar_sync(step: Step, ins) -> Park:
    return Park(ins.id)


def memfence(step: Step, ins) -> None:
    return None     # lanes run in lockstep over one memory: nothing to order


KERNELS = {"BRA": bra, "CALL": call, "RET": ret, "LOOP": loop, "EXIT": exit_,
           "BarSync": bar_sync, "MemFence": memfence}
