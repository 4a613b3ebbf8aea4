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
from ..values import Affine, Const, Cut

__all__ = ["KERNELS", "MAX_CALL_DEPTH", "SPAN_FRAME"]

MAX_CALL_DEPTH = 256


def _label(step: Step, name: str) -> int:
    return step.launch.program.labels[name]


def _split(step: Step, target: int, taken) -> Jump | Branch | None:
    """Where a two-way branch sends the lanes; ``taken`` is a Cut or a flag per frame position."""
    lanes = step.lanes
    kind = type(taken)
    if kind is Const:                   # a uniform predicate: every lane goes one way
        return Jump(target) if taken.value else None
    parts = taken.split(lanes) if kind is Cut else None
    if parts is None:
        if not isinstance(taken, np.ndarray):
            taken = taken.at(lanes)
        parts = lanes.split(taken)
    yes, no = parts
    if len(no) == 0:
        return Jump(target)
    return None if len(yes) == 0 else Branch(yes, target, no)


def bra(step: Step, ins) -> Jump | Branch | None:
    target = _label(step, ins.target)
    if ins.pred is None:
        return Jump(target)
    taken = step.read_pred(ins.pred, compressed=True)
    step.commit()
    return _split(step, target, taken)


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


def loop(step: Step, ins) -> Jump | Branch | None:
    count = step.read_lin(ins.count, DType.U32)
    step.commit()
    target = _label(step, ins.body)
    if isinstance(count, Affine) and count.stride == 0:     # a uniform count: no lane work
        value = int(count.scalar())
        if value == 0:
            return None
        step.write(ins.count, DType.U32, np.uint32(value - 1))
        return Jump(target)
    if not isinstance(count, np.ndarray):
        count = count.at(step.lanes)
    taken = count > 0
    step.write(ins.count, DType.U32, count - taken.astype(np.uint32))
    return _split(step, target, taken)


def exit_(step: Step, ins):
    return EXIT


def bar_sync(step: Step, ins) -> Park:
    return Park(ins.id)


def memfence(step: Step, ins) -> None:
    return None     # lanes run in lockstep over one memory: nothing to order


#: BRA and LOOP split a mask's span directly; EXIT, bar.sync and memfence touch no lanes.
SPAN_FRAME = frozenset({"BRA", "LOOP", "EXIT", "BarSync", "MemFence"})
KERNELS = {"BRA": bra, "CALL": call, "RET": ret, "LOOP": loop, "EXIT": exit_,
           "BarSync": bar_sync, "MemFence": memfence}
