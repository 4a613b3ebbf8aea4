"""One instruction executed for every lane at one PC: check, then commit.

Instruction kernels receive a :class:`Step`.  Reads (``read``, ``read_pred``)
and explicit checks (``fault``) only *register* faults; ``commit()`` raises the
fault of the lowest faulting lane before anything is written, so a faulting
instruction has no effect for any lane (precise faults, docs/semantics.md).
For that lane the first registered check wins, so kernels check in the REF's
order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import SimtError, TypeMismatchError, UninitializedRegisterError
from ..isa.types import DType
from .events import first_hazard
from .lanes import LaneSet, Masked
from .state import PRED_TAG, UNSET, RegisterFile

__all__ = ["Step", "Fault", "Jump", "Branch", "EXIT", "Park", "Op", "Decoder"]


class Fault(Exception):
    """A precise fault: ``error`` for the lane at position ``pos`` of the step."""

    def __init__(self, pos: int, error: SimtError, count: int) -> None:
        super().__init__(str(error))
        self.pos = pos
        self.error = error
        self.count = count


@dataclass(frozen=True)
class Jump:
    """Next PC: one int for all lanes, or one per lane (in lane order)."""

    target: int | np.ndarray


@dataclass(frozen=True)
class Branch:
    """A two-way split: ``taken`` lanes jump to ``target``, ``rest`` fall through."""

    taken: LaneSet
    target: int
    rest: LaneSet


@dataclass(frozen=True)
class Park:
    """The lanes wait at a barrier with this id."""

    barrier: int


class _Exit:
    def __repr__(self) -> str:
        return "EXIT"


EXIT = _Exit()
Where = np.ndarray | None          # bool mask over the step's lanes, or positions; None: all
#: One issue of a decoded instruction: ``op(step)`` returns None (fall through), a Jump,
#: a Branch, EXIT or a Park.
Op = Callable[["Step"], object]
#: ``decode(ins, program) -> op``: fields, labels, address forms and ALU variants resolved once.
Decoder = Callable[[Any, Any], Op]


class Step:
    """The context of one instruction issue.

    Attributes
    ----------
    pc
        Program counter of the instruction.
    lanes
        The executing lanes (piece-local, ascending); arrays have ``n`` entries.
    full
        Whether the lanes are every lane of the piece (the converged case).
    n
        Entries of a per-lane array of this step (``lanes.frame``).
    piece
        The running piece (memory, geometry, resonance, shared memory, program).
    width
        Lanes of the piece (every row of the register file has this many).
    regs
        The piece's register file (the executor's; kernels use the methods below).
    rows
        The register rows (``rows[reg]``: :class:`~simt.machine.state.Row`), for
        decoders' fast paths: ``row.fast`` reads and ``row.write_all`` writes with no
        check to make; anything else goes through :meth:`read_lin` and :meth:`write`.
    bytes_loaded, bytes_stored
        Memory traffic of this issue, for observers.
    last
        The pc of the last instruction of the run these lanes are issuing: up to it,
        each instruction that falls through is issued next by the same lanes, with
        nothing run in between (the executor sets it at each run).
    room
        The first pc that the piece's step budget would not let these lanes issue,
        counting on from the first pc of their run (one issue per pc): an instruction
        at ``pc`` is issued only if ``pc < room`` (the executor sets it at each run).
    join
        None, or (when the executor runs without stopping between issues: no stepping,
        no per-instruction observers) the scheduler's
        :meth:`~simt.machine.scheduler.MinPC.joins`: ``join(pc)`` is the set of lanes
        waiting at ``pc + 1`` when they are the only other lanes left to run (lanes
        falling through ``pc`` then issue ``pc + 1`` next, together with them), else None.

    This is the whole interface a kernel uses: reads (:meth:`read`, :meth:`read_lin`,
    :meth:`read_any`, :meth:`read_pred`), checks (:meth:`fault`, then :meth:`commit`),
    writes (:meth:`write`, :meth:`write_pred`), memory accesses (:meth:`observe`) and
    per-lane control state (:meth:`call_stack`, :meth:`phases`).
    """

    __slots__ = ("pc", "lanes", "regs", "rows", "piece", "width", "n", "full", "bytes_loaded",
                 "bytes_stored", "listen", "last", "room", "join", "_pos", "_error", "_bad")

    def __init__(self, regs: RegisterFile, piece) -> None:
        self.regs = regs
        self.rows = regs.regs
        self.width = regs.n
        self.piece = piece
        self.listen = None      # Listeners when observers watch memory accesses
        self.bytes_loaded = self.bytes_stored = 0
        self.last = -1
        self.room = 0
        self.join = None
        self._pos = self._error = self._bad = None

    def start(self, pc: int, lanes: LaneSet) -> "Step":
        """Prepare for a run of instructions from ``pc`` by ``lanes`` (one Step serves a piece).

        A registered fault always ends the launch, so the fault fields never need
        clearing; the traffic counters only when a memory instruction set them.
        The executor moves ``pc`` on itself within a run.
        """
        if self.regs.held:      # values held for other lanes go back to the rows
            self.regs.settle()
        self.pc = pc
        self.lanes = lanes
        if lanes.__class__ is LaneSet and lanes.idx is None:     # a range
            self.n = lanes.hi - lanes.lo
            self.full = lanes.lo == 0 and lanes.hi == self.width
        else:
            self.n = lanes.frame
            self.full = False
        if self.bytes_loaded or self.bytes_stored:
            self.bytes_loaded = self.bytes_stored = 0
        return self

    def use(self, lanes: LaneSet) -> None:
        """Execute the next instruction over ``lanes`` (a Masked set or its compact form)."""
        if lanes is not self.lanes:
            self.lanes = lanes
            self.n = lanes.frame
            self.full = False

    # ------------------------------------------------------------------ faults
    def fault(self, where: Where, error: type[SimtError] | Callable[[int], SimtError],
              message: str | None = None) -> None:
        """Register a fault for the lanes ``where`` (bool mask, positions, or None for all).

        Positions are in the lanes' frame; in a :class:`~simt.machine.lanes.Masked`
        step only active positions fault.  ``error`` is an error class (with
        ``message``) or a function of the faulting lane's position returning the
        error instance.
        """
        lanes = self.lanes
        if type(lanes) is Masked:
            if where is None:
                where = lanes.mask
            else:
                where = np.asarray(where)
                if where.dtype == bool:
                    where = where & lanes.mask
                else:
                    where = where[lanes.mask[where]]
        if where is None:
            positions = None
            first = 0
        else:
            where = np.asarray(where)
            if where.dtype == bool:
                if not where.any():
                    return
                first = int(np.argmax(where))
                positions = where
            else:
                if where.size == 0:
                    return
                first = int(where.min())
                positions = where
        if self._bad is None:
            self._bad = np.zeros(self.n, bool)
        if positions is None:
            self._bad[:] = True
        else:
            self._bad[positions] = True
        if self._pos is None or first < self._pos:
            self._pos = first
            self._error = error(first) if message is None else error(message)

    @property
    def faulted(self) -> bool:
        return self._pos is not None

    def commit(self) -> None:
        """Raise the registered fault, if any; afterwards the step may write."""
        if self._pos is not None:
            raise Fault(self._pos, self._error, int(np.count_nonzero(self._bad)))

    def observe(self, access) -> None:
        """Show a memory access to the observers before it takes effect (after ``commit``).

        Raises the hazard of the lowest lane any checker found (ties: the lower rank).
        """
        listen = self.listen
        hazard = first_hazard(check(access) for check in listen.check)
        if hazard is not None:
            raise Fault(hazard.pos, hazard.error, hazard.count)
        for record in listen.access:
            record(access)

    # ------------------------------------------------------------------ registers
    def read(self, reg: int, ty: DType, where: np.ndarray | None = None) -> np.ndarray:
        """The values of ``reg`` as ``ty`` for every lane; checks initialization and tag.

        With a boolean ``where``, only those lanes are checked (SEL reads just
        the selected source); the other lanes' values are unspecified.
        """
        row = self.rows[reg]
        self._check(row, ty, reg, where)
        return row.values(self.lanes, ty.storage)

    def read_lin(self, reg: int, ty: DType):
        """Like :meth:`read`, but a compressed row comes back compressed (see ``values``).

        Arrays returned may be the register file's own storage: read-only for kernels.
        """
        row = self.rows[reg]
        value = row.fast(ty.code, ty.storage, self.lanes)
        if value is not None:   # kernels never modify operands; MOV copies what it writes back
            return value
        self._check(row, ty, reg, None)
        lin = row.lin
        if lin is not None and lin.dtype == ty.storage:
            return lin
        return row.values(self.lanes, ty.storage)

    def _check(self, row, ty: DType, reg: int, where: np.ndarray | None) -> None:
        found = row.check(self.lanes, ty.code)
        if found is None:
            return
        bad, tag = found
        if where is not None:
            bad = where if bad is None else bad & where
            if type(self.lanes) is Masked:
                bad = bad & self.lanes.mask
            if not bad.any():
                return
            tag = row.check(self.lanes.take(bad), ty.code)[1]
        if tag == UNSET:
            self.fault(bad, UninitializedRegisterError, f"uninitialized register: r{reg}")
        else:
            self.fault(bad, TypeMismatchError,
                       f"type mismatch: expected {ty.text}, got {DType(tag).text} in r{reg}")

    def read_any(self, reg: int, allowed: tuple[DType, ...], compressed: bool = False
                 ) -> tuple[DType, np.ndarray]:
        """Read ``reg`` whose tag must be one of ``allowed`` (the first lane's decides)."""
        row = self.rows[reg]
        read = self.read_lin if compressed else self.read
        if row.tags is None and row._covers(self.lanes):     # one tag for every lane
            tag = row.tag
            for ty in allowed:
                if ty.code == tag:
                    return ty, read(reg, ty)
            return allowed[0], read(reg, allowed[0])
        first = self.lanes.first - self.lanes.lo if type(self.lanes) is Masked else 0
        for ty in allowed:
            found = row.check(self.lanes, ty.code)
            if found is None or (found[0] is not None and not found[0][first]):
                return ty, read(reg, ty)
        return allowed[0], read(reg, allowed[0])

    def read_pred(self, pred: int, compressed: bool = False):
        """A predicate's values (a :class:`~simt.machine.values.Cut` if ``compressed`` allows)."""
        row = self.regs.preds[pred]
        found = row.check(self.lanes, PRED_TAG)
        if found is not None:
            self.fault(found[0], UninitializedRegisterError, f"uninitialized predicate: p{pred}")
        if compressed and row.lin is not None:
            return row.lin
        return row.values(self.lanes, np.dtype(bool))

    def write(self, reg: int, ty: DType, values, interval=None) -> None:
        """Write ``values`` (frame order; a NumPy scalar, array or compressed value) of
        ``ty`` into ``reg`` for the step's lanes (after :meth:`commit`).

        ``interval``: bounds every written float value is known to lie in, never NaN
        (:mod:`simt.machine.alu.intervals`), or None.
        """
        row = self.rows[reg]
        if self.full and row.write_all(ty.code, ty.storage, values, interval):
            return
        regs = self.regs
        row.write(self.lanes, ty.code, ty.storage, values, regs.n, regs.live, regs.waiting,
                  interval)

    def write_pred(self, pred: int, values) -> None:
        self.regs.write_pred(pred, self.lanes, values)

    # ------------------------------------------------------------------ control state
    def call_stack(self, min_depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The piece's ``(depth, stack)`` arrays, with room for ``min_depth`` levels."""
        return self.regs.call_stack(min_depth)

    def phases(self) -> np.ndarray:
        """The piece's phase counter per lane (uint32, writable)."""
        return self.regs.phases()
