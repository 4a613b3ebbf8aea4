"""Vectorized semantics of every instruction, by family, bound to the table by name.

``KERNELS[spec.name](step, ins)`` executes ``ins`` for all of ``step.lanes``.
A coverage test pins ``set(KERNELS)`` to the instruction table.

``DECODERS`` holds, for the hottest instructions, functions that bind an
instruction to its kernel ahead of time (``decode(ins)(step)``); the executor
runs the :func:`decoded` program.  ``SPAN_FRAME`` names the kernels that run a :class:`~simt.machine.lanes.Masked`
step in its span frame (computing over the whole span and blending the
results); every other kernel gets such lanes compacted to an index array.
"""

from __future__ import annotations

from typing import Callable

from ...isa.program import Instruction, Program
from .. import debug
from ..step import Step
from . import atlas, control, data, memory, pool

__all__ = ["KERNELS", "DECODERS", "SPAN_FRAME", "decoded"]

KERNELS = {**data.KERNELS, **memory.KERNELS, **control.KERNELS, **atlas.KERNELS, **pool.KERNELS}
DECODERS = {**data.DECODERS}
SPAN_FRAME = data.SPAN_FRAME | control.SPAN_FRAME | memory.SPAN_FRAME

Op = Callable[[Step], object]


def decoded(program: Program) -> list[Op]:
    """Every instruction bound to its kernel once: ``ops[pc](step)`` (cached per program).

    A decoder of :data:`DECODERS` resolves an instruction's fields ahead of
    time; any other kernel is called with the instruction.
    """
    return program.derived(debug.DECODED, lambda p: [_bind(ins) for ins in p])


def _bind(ins: Instruction) -> Op:
    decode = DECODERS.get(ins.spec.name)
    if decode is not None:
        return decode(ins)
    kernel = KERNELS[ins.spec.name]
    return lambda step: kernel(step, ins)
