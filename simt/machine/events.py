"""What an observer sees of a launch: one :class:`Event` per issued instruction.

Tools (statistics, checkers, tracers) implement :class:`Observer` and are
handed to the executor; the executor never imports them.  An event carries
the arrays the executor already computed, so observing costs no extra pass
over the lanes unless the observer wants one.  The executor refills one Event
object per piece, so an observer that keeps events must copy them
(``dataclasses.replace(event)``).
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
    """One instruction issue.

    Attributes
    ----------
    pc, instruction
        What ran.
    lanes
        The executing lanes, piece-local and ascending.
    piece
        The piece they belong to (``piece.lane0`` converts to global ids).
    targets
        Next PC after the PC rule: one int for all lanes, one per lane, a
        :class:`~simt.machine.step.Branch` of two lane ranges, or ``None``
        when the lanes exited or parked at a barrier.
    bytes_loaded, bytes_stored
        Memory traffic of this issue.
    releases
        Block barriers released as a consequence of this issue.
    """

    pc: int
    instruction: Instruction
    lanes: LaneSet
    piece: Piece
    targets: int | np.ndarray | None
    bytes_loaded: int
    bytes_stored: int
    releases: int


class Observer(Protocol):
    """Something that watches launches."""

    def on_launch(self, geometry: Geometry, program: Program) -> None: ...

    def after(self, event: Event) -> None: ...

    def on_finish(self) -> None: ...
