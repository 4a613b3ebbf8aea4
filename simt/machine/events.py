"""What an observer sees of a launch: an :class:`Event` per run of issued instructions.

Tools (statistics, checkers, tracers) implement :class:`Observer` and are
handed to the executor; the executor never imports them.  An event carries
the arrays the executor already computed, so observing costs no extra pass
over the lanes unless the observer wants one.

Converged straight-line code is reported as one event per *run*: ``count``
consecutive instructions from ``pc`` on, issued one after the other by the
same lanes with nothing else scheduled in between (each instruction of the run
but the last went on to the next pc).  Everything else is one event per
instruction (``count == 1``).  This keeps observing cheap where the executor's
own work per instruction is smallest; a tracer that wants single instructions
expands a run with ``piece.program[pc + k]``.

The executor refills one Event object per piece, so an observer that keeps
events must copy them (``dataclasses.replace(event)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..isa.program import Instruction, Program
from .lanes import LaneSet
from .launch import Geometry, Piece

__all__ = ["Event", "Observer"]


@dataclass(slots=True)
class Event:
    """A run of ``count`` instructions issued by the same lanes.

    Attributes
    ----------
    pc, count
        The instructions ``pc .. pc + count - 1`` ran, in order.
    instruction
        The last of them (the one ``targets`` is about).
    lanes
        The executing lanes, piece-local and ascending.
    piece
        The piece they belong to (``piece.lane0`` converts to global ids).
    targets
        Next PC after the PC rule: one int for all lanes, one per lane, a
        :class:`~simt.machine.step.Branch` of two lane ranges, or ``None``
        when the lanes exited or parked at a barrier.
    bytes_loaded, bytes_stored
        Memory traffic of the run.
    releases
        Block barriers released as a consequence of the run's last instruction.
    """

    pc: int
    instruction: Instruction
    lanes: LaneSet
    piece: Piece
    targets: int | np.ndarray | None
    bytes_loaded: int
    bytes_stored: int
    releases: int
    count: int = 1


class Observer(Protocol):
    """Something that watches launches."""

    def on_launch(self, geometry: Geometry, program: Program) -> None: ...

    def after(self, event: Event) -> None: ...

    def on_finish(self) -> None: ...
