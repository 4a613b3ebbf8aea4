"""The observer hook: what tools see of a launch, and when.

Every tool -- statistics, the checks, tracing, profiling, progress, stepping
sessions, the merge of parallel pieces -- is an :class:`Observer` handed to the
executor; the executor never imports a tool.  An observer overrides only the
methods it needs, and the executor calls only those: a launch whose observers
do not listen to memory accesses computes no access record, one without a
``before`` listener issues converged straight-line code in fused runs.  The
choice is made once per launch (:class:`Listeners`), never per step.

When each method is called, for one piece of a launch:

``on_launch(launch)``
    once per launch, before anything runs (``launch.geometry``, ``.program``).
``on_piece(piece)``
    each piece, before its first instruction.
``before(issue)``
    before an instruction issues, with its pc and lanes (an :class:`Event`
    whose traffic fields are not yet known).  May raise: the instruction then
    has no effect.
``check(access) -> Hazard | None``
    each memory access (:class:`Access`), after the instruction's faults were
    checked and before it has any effect.  Returns the hazard of its lowest
    lane, if any; the executor raises the hazard of the lowest lane over all
    checkers (ties: the lower ``rank``), so the access then has no effect.
``access(access)``
    each memory access that is about to take effect (no hazard was found).
``release(barrier) -> Hazard | None``
    before an issue completes barrier releases (:class:`Release`).
``after(event)``
    after an issue (or a fused run of issues) took effect.
``on_finish()``
    once, when the launch ends without error.

Converged straight-line code is reported to ``after`` as one event per *run*
(``count`` consecutive instructions issued by the same lanes) unless some
observer listens to ``before`` or sets ``per_instruction = True``; then every
instruction is its own event.

Events are refilled in place (one object per piece): an observer that keeps
one must copy what it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

from ..isa.program import Instruction, Program

from .memory import Lattice, Run

if TYPE_CHECKING:
    from ..errors import SimtError
    from .lanes import LaneSet
    from .launch import Geometry, Piece
    from .memory import Segment

__all__ = ["Event", "Access", "Release", "Hazard", "LaunchInfo", "Observer", "Listeners",
           "first_hazard"]


@dataclass(slots=True)
class LaunchInfo:
    """What an observer learns when a launch starts."""

    program: Program
    geometry: "Geometry"
    shared_bytes: int
    piece_lanes: int
    #: the device memory (to describe where a byte of a memory array lives)
    memory: object


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
    released
        Their piece-local block indices (an int64 array), or None when none.
    step
        How many instructions the launch issued before this event (all pieces).
    """

    pc: int
    instruction: Instruction | None
    lanes: "LaneSet"
    piece: "Piece"
    targets: "int | np.ndarray | None"
    bytes_loaded: int
    bytes_stored: int
    releases: int
    count: int = 1
    released: np.ndarray | None = None
    step: int = 0


@dataclass(slots=True)
class Access:
    """A memory instruction about to touch memory, after its faults were checked.

    ``segments`` are where the lanes go (:class:`~simt.machine.memory.Segment`:
    a memory array, byte positions of each lane's first byte, which positions
    of the step's frame); ``size`` bytes per lane.  ``values`` are the stored
    values in the step's frame (stores only).  :meth:`lanes_of` gives, per
    segment, the executing lanes only (a masked step's frame also holds
    inactive positions).
    """

    store: bool
    pc: int
    lanes: "LaneSet"
    piece: "Piece"
    segments: "list[Segment]"
    size: int
    values: np.ndarray | None

    def frame_positions(self, where) -> np.ndarray:
        """Frame positions of a segment's ``where`` as an int64 array."""
        if isinstance(where, slice):
            return np.arange(self.lanes.frame, dtype=np.int64)
        return np.asarray(where, np.int64)

    def lanes_of(self, seg: "Segment") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame positions, piece-local lanes, element byte positions) of a segment's
        executing lanes, ascending in lane order."""
        frame = self.frame_positions(seg.where)
        pos = seg.pos
        if isinstance(pos, (Run, Lattice)):
            pos = pos.indices(self.size)
        pos = np.asarray(pos, np.int64)
        lanes = self.lanes
        mask = getattr(lanes, "mask", None)
        if mask is not None:        # span frame: keep the active positions
            keep = mask[frame]
            frame, pos = frame[keep], pos[keep]
            local = lanes.lo + frame
        else:
            local = lanes.indices()[frame]
        return frame, local, pos


@dataclass(slots=True)
class Release:
    """An issue at ``pc`` by ``lanes`` (``kind``: ``"park"`` or ``"exit"``) is about to
    release the barriers of the piece-local ``blocks``; ``scheduler`` holds the parked
    and exited lanes as they were before the issue.  A :class:`Hazard` returned for a
    release gives a piece-local lane as its ``pos``."""

    pc: int
    kind: str
    lanes: "LaneSet"
    blocks: np.ndarray
    piece: "Piece"
    scheduler: object


class Hazard(NamedTuple):
    """A check's finding: ``error`` for the lane at frame position ``pos`` (lower wins;
    on a tie the lower ``rank``)."""

    pos: int
    rank: int
    error: "SimtError"
    count: int = 1


def first_hazard(found) -> Hazard | None:
    """The hazard that is raised among checkers' findings (``None`` entries ignored):
    the lowest lane, and on a tie the lower rank (a race before an uninitialized load)."""
    hazards = [h for h in found if h is not None]
    return min(hazards, key=lambda h: (h.pos, h.rank)) if hazards else None


class Observer:
    """Base class of tools that watch launches; override what you need (see module doc)."""

    #: ask for one ``after`` event per instruction instead of fused runs
    per_instruction: bool = False

    def on_launch(self, launch: LaunchInfo) -> None:
        pass

    def on_piece(self, piece: "Piece") -> None:
        pass

    def before(self, issue: Event) -> None:
        pass

    def check(self, access: Access) -> Hazard | None:
        return None

    def access(self, access: Access) -> None:
        pass

    def release(self, barrier: Release) -> Hazard | None:
        return None

    def after(self, event: Event) -> None:
        pass

    def on_finish(self) -> None:
        pass


_HOOKS = ("on_launch", "on_piece", "before", "check", "access", "release", "after", "on_finish")


class Listeners:
    """The bound methods of each hook that some observer overrides, chosen once per launch."""

    __slots__ = _HOOKS + ("per_instruction", "memory")

    def __init__(self, observers) -> None:
        for hook in _HOOKS:
            setattr(self, hook, [])
        for o in observers:
            kind = type(o)
            for hook, default in _DEFAULTS:
                method = getattr(kind, hook, None)
                if method is not None and method is not default:
                    getattr(self, hook).append(getattr(o, hook))
        self.per_instruction = bool(self.before) or any(
            getattr(o, "per_instruction", False) for o in observers)
        #: whether memory instructions must describe their accesses
        self.memory = bool(self.check) or bool(self.access)


_DEFAULTS = tuple((hook, getattr(Observer, hook)) for hook in _HOOKS)
