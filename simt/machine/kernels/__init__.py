"""Vectorized semantics of every instruction, by family, bound to the table by name.

``KERNELS[spec.name](step, ins)`` executes ``ins`` for all of ``step.lanes``.
A coverage test pins ``set(KERNELS)`` to the instruction table.

``SPAN_FRAME`` names the kernels that run a :class:`~simt.machine.lanes.Masked`
step in its span frame (computing over the whole span and blending the
results); every other kernel gets such lanes compacted to an index array.
"""

from __future__ import annotations

from . import atlas, control, data, memory, pool

__all__ = ["KERNELS", "SPAN_FRAME"]

KERNELS = {**data.KERNELS, **memory.KERNELS, **control.KERNELS, **atlas.KERNELS, **pool.KERNELS}
SPAN_FRAME = data.SPAN_FRAME | control.SPAN_FRAME
