"""A scalar reference interpreter for the Atlas ISA: slow is fine, obvious is required.

:class:`ReferenceDevice` runs programs lane by lane in plain Python, under the
same contract as the vectorized :class:`simt.Device` (the same schedule, precise
faults, real barriers, pieces, statistics), so the two can be compared bit for
bit.  It imports :mod:`simt.isa` and :mod:`simt.errors` only — never
:mod:`simt.machine`.

Modules: :mod:`~simt.reference.interp` (lanes, steps, pieces, the device),
:mod:`~simt.reference.semantics` (:data:`REFERENCE`: one function per
instruction), :mod:`~simt.reference.scalar` (scalar integer and float rules),
:mod:`~simt.reference.memory` (buffers, boundary pool, pools) and
:mod:`~simt.reference.atlas` (the Atlas graph from its construction rules).
"""

from .interp import (DEFAULT_MAX_STEPS, DEFAULT_PIECE_LANES, ReferenceDevice, ReferenceResult,
                     parse_dim)
from .semantics import REFERENCE

__all__ = ["ReferenceDevice", "ReferenceResult", "REFERENCE", "DEFAULT_MAX_STEPS",
           "DEFAULT_PIECE_LANES", "parse_dim"]
