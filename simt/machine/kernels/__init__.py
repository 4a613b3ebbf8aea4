"""Vectorized semantics of every instruction, by family, bound to the table by name.

``KERNELS[spec.name](step, ins)`` executes ``ins`` for all of ``step.lanes``.
A coverage test pins ``set(KERNELS)`` to the instruction table.
"""

from __future__ import annotations

from . import atlas, control, data, memory, pool

__all__ = ["KERNELS"]

KERNELS = {**data.KERNELS, **memory.KERNELS, **control.KERNELS, **atlas.KERNELS, **pool.KERNELS}
