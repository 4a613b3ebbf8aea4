"""Vectorized semantics of every instruction, by family, bound to the table by name.

Every instruction is written one way, as a *decoder*: ``DECODERS[spec.name](ins,
program)`` resolves the instruction's fields, labels, address form and ALU variant
once and returns ``op(step)``, which executes it for all of ``step.lanes`` at each
issue (the :class:`~simt.machine.step.Step` interface: read, fault, commit,
write).  The executor runs the :func:`decoded` program.  A coverage test pins
``set(DECODERS)`` to the instruction table.

``SPAN_FRAME`` names the instructions whose op runs a
:class:`~simt.machine.lanes.Masked` step in its span frame (computing over the
whole span and blending the results); every other op gets such lanes compacted
to an index array.
"""

from __future__ import annotations

from ...isa.program import Program
from .. import debug
from ..step import Decoder, Op
from . import atlas, control, data, memory, pool
from .forward import forwarded

__all__ = ["DECODERS", "SPAN_FRAME", "decoded"]

DECODERS: dict[str, Decoder] = {**data.DECODERS, **memory.DECODERS, **control.DECODERS,
                                **atlas.DECODERS, **pool.DECODERS}
SPAN_FRAME = data.SPAN_FRAME | control.SPAN_FRAME | memory.SPAN_FRAME


def decoded(program: Program) -> list[Op]:
    """Every instruction decoded once: ``ops[pc](step)`` issues it (cached per program);
    an ALU result stored by the next instruction is forwarded (:mod:`.forward`)."""
    return program.derived(debug.DECODED, lambda p: forwarded(
        p, [DECODERS[ins.spec.name](ins, p) for ins in p]))
