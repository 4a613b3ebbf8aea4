"""The scalar reference interpreter: one lane at a time, in plain Python.

This is the second, independent semantics of the Atlas ISA (docs/testing.md).  It runs the same schedule as the vectorized executor
but computes every lane with Python ints, ``struct``, ``math`` and
``fractions``; it shares only program decoding (:mod:`simt.isa`) and the one
documented math routine (:mod:`simt.isa.transcendental`) with the executor.
It never imports :mod:`simt.machine`.  Slow is fine, obvious is required.

How a launch runs (docs/semantics.md):

* The grid is cut into *pieces* of whole blocks, at most ``piece_lanes``
  lanes each (at least one block), run one after another in ascending block
  order, each to completion.  ``max_steps`` applies per piece; stats add up;
  the launch's resonance is one running sum of 96 floats that each piece
  continues in its own step order (never a sum of per-piece partial sums).
* Inside a piece, each *step* chooses the PC: the minimum PC among the
  runnable lanes (not exited, not parked at a barrier) of the deepest call
  depth (the longest call stack); then it runs the instruction at that PC for
  every runnable lane at that PC, whatever its depth.
* A step first lets every executing lane, in ascending global lane id,
  compute its effects without applying them (:class:`LaneStep`).  If any
  lane fails a check, nothing is applied and the error names the lowest
  faulting lane.  Otherwise effects are applied lane by lane in ascending
  global lane id (the highest lane wins conflicting stores; ResAccum adds in
  lane order).
* After a step, the blocks of the lanes that ran settle their barriers: a
  block whose non-exited lanes are all parked at ``bar.sync`` with one id is
  released (each lane continues after its own ``bar.sync``); all parked with
  different ids is a :class:`~simt.errors.BarrierDeadlockError`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import (BarrierDeadlockError, OutOfBoundsError, SimtError, StepLimitError,
                      TypeMismatchError, UninitializedRegisterError)
from ..isa.program import (BufferOffset, Instruction, PhiCoordinate, Program, RegisterIndirect,
                           RegisterIndirectComputed, Shared, SharedIndirect)
from ..isa.table import BRANCHES
from ..isa.transcendental import transcendental
from ..isa.types import DType
from . import atlas
from . import scalar as num
from .scalar import resonance_sum
from .memory import Memory
from .semantics import REFERENCE

__all__ = ["ReferenceDevice", "ReferenceResult", "DEFAULT_MAX_STEPS", "DEFAULT_PIECE_LANES",
           "REFERENCE", "LaneStep", "parse_dim"]

DEFAULT_MAX_STEPS = 1_000_000
DEFAULT_PIECE_LANES = 65_536
MAX_ARGS = 252
WARP = 32

Dim3 = tuple[int, int, int]


def parse_dim(value: int | Sequence[int], what: str) -> Dim3:
    """Normalize a grid or block shape (an int or 1-3 ints, each >= 1) to ``(x, y, z)``."""
    items = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{what} must be an int or a tuple of 1-3 ints, got {value!r}") from None
    if not 1 <= len(items) <= 3 or any(
            not isinstance(v, int) or isinstance(v, bool) for v in items):
        raise TypeError(f"{what} must be an int or a tuple of 1-3 ints, got {value!r}")
    if any(v < 1 for v in items):
        raise ValueError(f"{what} dimensions must be >= 1, got {value!r}")
    return tuple(items) + (1,) * (3 - len(items))  # type: ignore[return-value]


# --------------------------------------------------------------------------- lanes

@dataclass(eq=False)
class Lane:
    """Everything private to one lane."""

    gid: int                       # global lane id (r255)
    block_linear: int
    linear: int                    # lane index inside its block
    block: Dim3                    # (bx, by, bz)
    thread: Dim3                   # (tx, ty, tz)
    regs: list = field(default_factory=lambda: [None] * 256)   # (DType, bits) or None
    preds: list = field(default_factory=lambda: [None] * 16)   # bool or None
    pc: int = 0
    call_stack: list = field(default_factory=list)
    phase: int = 0
    exited: bool = False
    parked: int | None = None      # barrier id while waiting at bar.sync

    @property
    def runnable(self) -> bool:
        return not self.exited and self.parked is None


@dataclass(frozen=True)
class Where:
    """A resolved address: ``space`` is ``"global"`` or ``"shared"``."""

    space: str
    handle: int
    offset: int


class Scratch:
    """What lanes of one step see of each other before anything is applied."""

    def __init__(self, next_pool: int) -> None:
        self.next_pool = next_pool     # pool handles are handed out in ascending lane order
        self.freed: set[int] = set()   # pools freed by lower lanes of this step


class LaneStep:
    """One lane executing one instruction: reads the current state, records effects.

    Semantic functions (:mod:`simt.reference.semantics`) call the methods
    below.  Reads raise at the first failing check; effects are only recorded
    here and applied by :meth:`commit`, after every lane of the step passed.
    """

    def __init__(self, lane: Lane, piece: "Piece", scratch: Scratch, pc: int) -> None:
        self.lane = lane
        self.piece = piece
        self.scratch = scratch
        self.pc = pc
        self.reg_writes: list[tuple[int, DType, int]] = []
        self.pred_writes: list[tuple[int, bool]] = []
        self.target: int | None = None
        self.stores: list[tuple[bytearray, int, bytes]] = []
        self.accumulated: list[tuple[int, float]] = []
        self.allocated: list[tuple[int, int]] = []
        self.freed: list[int] = []
        self.pushed: int | None = None
        self.popped = False
        self.new_phase: int | None = None
        self.exits = False
        self.parks: int | None = None
        self.loaded = 0
        self.stored = 0

    # ------------------------------------------------------------------ registers

    def read_tagged(self, reg: int) -> tuple[DType, int]:
        """``(tag, bits)`` of a register; uninitialized -> error."""
        tagged = self.lane.regs[reg]
        if tagged is None:
            raise UninitializedRegisterError(f"uninitialized register: r{reg}")
        return tagged

    def read(self, reg: int, ty: DType) -> int:
        """The raw bits of ``reg``, which must be tagged ``ty``."""
        tag, bits = self.read_tagged(reg)
        if tag is not ty:
            raise TypeMismatchError(f"type mismatch: expected {ty.text}, got {tag.text} (r{reg})")
        return bits

    def value(self, reg: int, ty: DType) -> int | float:
        """The value of ``reg`` as a Python int or float (see :mod:`scalar`)."""
        return num.decode(self.read(reg, ty), ty)

    def pred(self, p: int) -> bool:
        value = self.lane.preds[p]
        if value is None:
            raise UninitializedRegisterError(f"uninitialized predicate: p{p}")
        return value

    def write(self, reg: int, ty: DType, bits: int) -> None:
        self.reg_writes.append((reg, ty, bits))

    def set_value(self, reg: int, ty: DType, value: int | float) -> None:
        """Write a value, wrapped (integers) or rounded once (floats) to ``ty``."""
        self.write(reg, ty, num.encode(value, ty))

    def set_pred(self, p: int, value: bool) -> None:
        self.pred_writes.append((p, bool(value)))

    # ------------------------------------------------------------------ control

    def label(self, name: str) -> int:
        return self.piece.program.labels[name]

    def jump(self, pc: int) -> None:
        self.target = pc

    def call_depth(self) -> int:
        return len(self.lane.call_stack)

    def push_return(self, pc: int) -> None:
        self.pushed = pc

    def pop_return(self) -> int:
        self.popped = True
        return self.lane.call_stack[-1]

    def exit(self) -> None:
        self.exits = True

    def park(self, barrier: int) -> None:
        self.parks = barrier

    # ------------------------------------------------------------------ lane facts

    def block_x(self) -> int:
        return self.lane.block[0]

    def phase(self) -> int:
        return self.lane.phase if self.new_phase is None else self.new_phase

    def set_phase(self, value: int) -> None:
        self.new_phase = value

    def accumulate(self, c: int, value: float) -> None:
        self.accumulated.append((c, value))

    def shared_math(self, name: str, ty: DType, bits: int) -> int:
        """The shared transcendental routine on one value, bits in, bits out."""
        x = np.frombuffer(bits.to_bytes(ty.size, "little"), dtype=ty.storage)
        return int.from_bytes(transcendental(name, ty, x).tobytes(), "little")

    # ------------------------------------------------------------------ memory

    def resolve(self, addr) -> Where:
        """Address resolution (the address forms of docs/isa.md, shared ones included)."""
        if isinstance(addr, BufferOffset):
            return Where("global", addr.handle, addr.offset)
        if isinstance(addr, PhiCoordinate):
            if addr.page >= atlas.PAGES:
                raise OutOfBoundsError(f"invalid Φ-coordinate: page {addr.page} >= 48")
            return Where("global", 0, addr.class_ * atlas.CLASS_BYTES
                         + addr.page * atlas.BYTES_PER_PAGE + addr.byte)
        if isinstance(addr, RegisterIndirect):
            handle = self.read(addr.base, DType.U64)
            if addr.offset < 0:
                raise OutOfBoundsError(f"RegisterIndirect negative offset {addr.offset}")
            return Where("global", handle, addr.offset)
        if isinstance(addr, RegisterIndirectComputed):
            handle = self.read(addr.handle_reg, DType.U64)
            return Where("global", handle, self.read(addr.offset_reg, DType.U64))
        if isinstance(addr, Shared):
            return Where("shared", 0, addr.offset)
        if isinstance(addr, SharedIndirect):
            tag, bits = self.read_tagged(addr.offset_reg)
            if tag not in (DType.U32, DType.U64):
                raise TypeMismatchError(f"type mismatch: expected u32 or u64, got {tag.text} "
                                        f"(r{addr.offset_reg})")
            return Where("shared", 0, bits)
        raise TypeError(f"not an address: {addr!r}")

    def _checked(self, where: Where, size: int) -> tuple[bytearray, int]:
        if where.space == "shared":
            scratch = self.piece.shared[self.lane.block_linear]
            if where.offset + size > len(scratch):
                raise OutOfBoundsError(f"shared access of {size} bytes at offset {where.offset} "
                                       f"is outside the block's {len(scratch)} bytes")
            return scratch, where.offset
        return self.piece.memory.global_access(where.handle, where.offset, size)

    def load(self, where: Where, size: int) -> int:
        storage, start = self._checked(where, size)
        self.loaded += size
        return int.from_bytes(storage[start:start + size], "little")

    def store(self, where: Where, size: int, bits: int) -> None:
        storage, start = self._checked(where, size)
        self.stored += size
        self.stores.append((storage, start, bits.to_bytes(size, "little")))

    def pool_load(self, handle: int, offset: int, size: int) -> int:
        storage, start = self.piece.memory.pool_access(handle, offset, size)
        self.loaded += size
        return int.from_bytes(storage[start:start + size], "little")

    def pool_store(self, handle: int, offset: int, size: int, bits: int) -> None:
        storage, start = self.piece.memory.pool_access(handle, offset, size)
        self.stored += size
        self.stores.append((storage, start, bits.to_bytes(size, "little")))

    def pool_alloc(self, size: int) -> int:
        handle = self.scratch.next_pool
        self.scratch.next_pool += 1
        self.allocated.append((handle, size))
        return handle

    def pool_free(self, handle: int) -> None:
        self.piece.memory.pool(handle, self.scratch.freed)  # raises for 0, unknown, freed
        self.scratch.freed.add(handle)
        self.freed.append(handle)

    # ------------------------------------------------------------------ commit

    def commit(self) -> None:
        """Apply the recorded effects to the lane and the device."""
        lane, piece = self.lane, self.piece
        for reg, ty, bits in self.reg_writes:
            lane.regs[reg] = (ty, bits)
        for p, value in self.pred_writes:
            lane.preds[p] = value
        for storage, start, data in self.stores:
            storage[start:start + len(data)] = data
        for c, value in self.accumulated:
            piece.resonance[c] = resonance_sum(piece.resonance[c], value)
        for handle, size in self.allocated:
            piece.memory.pools[handle] = bytearray(size)
        for handle in self.freed:
            del piece.memory.pools[handle]
        if self.popped:
            lane.call_stack.pop()
        if self.pushed is not None:
            lane.call_stack.append(self.pushed)
        if self.new_phase is not None:
            lane.phase = self.new_phase
        if self.parks is not None:
            lane.parked = self.parks    # the PC stays at the bar.sync until release
            return
        lane.pc = self.pc + 1 if self.target is None or self.target == self.pc else self.target
        if self.exits or lane.pc >= len(piece.program):
            lane.exited = True


# --------------------------------------------------------------------------- statistics

@dataclass
class Counters:
    """The statistics of docs/semantics.md, summed over steps and pieces."""

    steps: int = 0
    lane_instructions: int = 0
    warp_instructions: int = 0
    divergent_branches: int = 0
    barriers: int = 0
    bytes_loaded: int = 0
    bytes_stored: int = 0
    opcode_counts: Counter = field(default_factory=Counter)

    def add(self, other: "Counters") -> None:
        for name in ("steps", "lane_instructions", "warp_instructions", "divergent_branches",
                     "barriers", "bytes_loaded", "bytes_stored"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.opcode_counts.update(other.opcode_counts)

    def as_dict(self) -> dict:
        efficiency = (self.lane_instructions / (WARP * self.warp_instructions)
                      if self.warp_instructions else 0.0)
        return {"steps": self.steps, "lane_instructions": self.lane_instructions,
                "warp_instructions": self.warp_instructions, "simd_efficiency": efficiency,
                "divergent_branches": self.divergent_branches, "barriers": self.barriers,
                "bytes_loaded": self.bytes_loaded, "bytes_stored": self.bytes_stored,
                "opcode_counts": dict(self.opcode_counts)}


# --------------------------------------------------------------------------- one piece

def _instruction_text(ins: Instruction) -> str:
    try:
        return str(ins)
    except Exception:  # simt.isa.text may not be there (yet)
        return repr(ins)


class Piece:
    """Whole blocks run together under one schedule, to completion."""

    def __init__(self, memory: Memory, program: Program, lanes: list[Lane],
                 blocks: dict[int, list[Lane]], shared_bytes: int, max_steps: int,
                 resonance: list[float] | None = None) -> None:
        self.memory = memory
        self.program = program
        self.lanes = lanes
        self.blocks = blocks
        self.shared = {b: bytearray(shared_bytes) for b in blocks}
        self.max_steps = max_steps
        # the launch's running sum, continued by this piece (a new one if None)
        self.resonance = [0.0] * atlas.CLASSES if resonance is None else resonance
        self.counters = Counters()

    def run(self) -> None:
        """Step until no lane can run; raise the first fault."""
        for lane in self.lanes:
            if lane.pc >= len(self.program):
                lane.exited = True  # an empty program: every lane runs off the end at once
        while True:
            runnable = [lane for lane in self.lanes if lane.runnable]
            if not runnable:
                return
            deepest = max(len(lane.call_stack) for lane in runnable)
            pc = min(lane.pc for lane in runnable if len(lane.call_stack) == deepest)
            executing = [lane for lane in runnable if lane.pc == pc]
            if self.counters.steps == self.max_steps:
                raise self._locate(StepLimitError(
                    f"step limit of {self.max_steps} instructions reached before the next one"),
                    pc, executing[0], len(executing))
            self.step(pc, executing)
            self.settle_barriers({lane.block_linear for lane in executing})

    def step(self, pc: int, executing: list[Lane]) -> None:
        """Run ``program[pc]`` for the executing lanes: check all, then apply in lane order."""
        ins = self.program[pc]
        semantics = REFERENCE[ins.spec.name]
        scratch = Scratch(self.memory.next_pool)
        done: list[LaneStep] = []
        faults: list[tuple[Lane, SimtError]] = []
        for lane in executing:
            x = LaneStep(lane, self, scratch, pc)
            try:
                semantics(x, ins)
            except SimtError as error:
                faults.append((lane, error))
            else:
                done.append(x)
        if faults:
            lane, error = faults[0]
            raise self._locate(error, pc, lane, len(faults))
        for x in done:
            x.commit()
        self.memory.next_pool = scratch.next_pool
        self._count(ins, executing, done)

    def _count(self, ins: Instruction, executing: list[Lane], done: list[LaneStep]) -> None:
        c = self.counters
        c.steps += 1
        c.lane_instructions += len(executing)
        c.warp_instructions += len({(lane.block_linear, lane.linear // WARP) for lane in executing})
        c.opcode_counts[ins.spec.name] += 1
        c.bytes_loaded += sum(x.loaded for x in done)
        c.bytes_stored += sum(x.stored for x in done)
        if ins.spec.name in BRANCHES:
            next_pcs: dict[tuple[int, int], set[int]] = {}
            for lane in executing:
                next_pcs.setdefault((lane.block_linear, lane.linear // WARP), set()).add(lane.pc)
            c.divergent_branches += sum(1 for pcs in next_pcs.values() if len(pcs) > 1)

    def settle_barriers(self, blocks: Iterable[int]) -> None:
        """Release blocks whose live lanes all wait at one barrier id; detect deadlock."""
        for b in sorted(blocks):
            live = [lane for lane in self.blocks[b] if not lane.exited]
            parked = [lane for lane in live if lane.parked is not None]
            if not parked or len(parked) < len(live):
                continue
            if len({lane.parked for lane in parked}) > 1:
                first = parked[0]
                ids = sorted({lane.parked for lane in parked})
                raise self._locate(BarrierDeadlockError(
                    f"barrier deadlock in block {first.block}: lanes wait at bar.sync ids {ids}"),
                    first.pc, first, len(parked))
            for lane in parked:
                lane.parked = None
                lane.pc += 1
                if lane.pc >= len(self.program):
                    lane.exited = True
            self.counters.barriers += 1

    def _locate(self, error: SimtError, pc: int, lane: Lane, count: int) -> SimtError:
        return error.located(pc=pc, instruction=_instruction_text(self.program[pc]),
                             source_line=self.program.source_line(pc), lane=lane.gid,
                             block=lane.block, thread=lane.thread, lanes_faulting=count)


# --------------------------------------------------------------------------- the device

@dataclass(frozen=True)
class ReferenceResult:
    """What a reference launch returns.

    Attributes
    ----------
    resonance
        96 Python floats: the launch's resonance accumulator.
    stats
        The statistics of :class:`simt.Stats`: ``steps``, ``lane_instructions``,
        ``warp_instructions``, ``simd_efficiency``, ``divergent_branches``,
        ``barriers``, ``bytes_loaded``, ``bytes_stored`` and
        ``opcode_counts`` (serde name -> instructions issued).
    """

    resonance: list[float]
    stats: dict


class ReferenceDevice:
    """A device run by the scalar reference interpreter.

    Parameters
    ----------
    piece_lanes
        Largest number of lanes run under one schedule; a launch is cut into
        pieces of whole blocks of at most this many lanes (at least one block).

    Notes
    -----
    Handles are plain ints.  Buffer handles count from 1 and are never
    reused; handle 0 is the boundary pool (1,179,648 bytes, host access spans
    all of it) and ``2**64 - 96 + c`` is its class ``c`` (12,288 bytes).
    Pools (created by PoolAlloc) have their own counter from 1 and persist
    across launches.  No memory limit is modelled.

    Examples
    --------
    >>> from simt.isa import DType, Program, RegisterIndirect, make
    >>> dev = ReferenceDevice()
    >>> h = dev.alloc(8)
    >>> prog = Program([make("MOV_IMM", DType.U32, 1, 7),
    ...                 make("STG", DType.U32, 1, RegisterIndirect(0, 4))])
    >>> res = dev.launch(prog, args=[(DType.U64, h)])
    >>> dev.read(h)
    b'\\x00\\x00\\x00\\x00\\x07\\x00\\x00\\x00'
    """

    def __init__(self, piece_lanes: int = DEFAULT_PIECE_LANES) -> None:
        if not isinstance(piece_lanes, int) or isinstance(piece_lanes, bool) or piece_lanes < 1:
            raise ValueError(f"piece_lanes must be an int >= 1, got {piece_lanes!r}")
        self.piece_lanes = piece_lanes
        self.memory = Memory()

    # ------------------------------------------------------------------ host memory

    def alloc(self, nbytes: int) -> int:
        """Allocate a zero-filled buffer of ``nbytes``; return its handle."""
        if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes < 0:
            raise ValueError(f"nbytes must be an int >= 0, got {nbytes!r}")
        return self.memory.alloc(nbytes)

    def free(self, handle: int) -> None:
        """Free a buffer; the boundary pool and its classes cannot be freed."""
        self.memory.free(handle)

    def write(self, handle: int, data: bytes, offset: int = 0) -> None:
        """Copy ``data`` into a buffer (0 and class handles included) at ``offset``."""
        data = bytes(data)
        storage, start, length = self.memory.host_span(handle, offset, len(data))
        storage[start:start + length] = data

    def read(self, handle: int, offset: int = 0, nbytes: int | None = None) -> bytes:
        """Copy ``nbytes`` (default: to the end) out of a buffer at ``offset``."""
        storage, start, length = self.memory.host_span(handle, offset, nbytes)
        return bytes(storage[start:start + length])

    def read_pool(self, handle: int) -> bytes:
        """The contents of a live pool (for tests and debugging)."""
        return bytes(self.memory.pool(handle))

    # ------------------------------------------------------------------ launch

    def launch(self, program: Program, grid: int | Sequence[int] = 1,
               block: int | Sequence[int] = 1, args: Sequence[tuple[DType, int]] = (),
               shared_bytes: int = 0, max_steps: int | None = None) -> ReferenceResult:
        """Run ``program`` over a grid of blocks of lanes.

        Parameters
        ----------
        program
            A :class:`~simt.isa.Program`; validated first (``ProgramError``).
        grid, block
            An int or 1-3 ints, each >= 1.
        args
            ``(DType, raw bits)`` pairs written into r0, r1, ... of every lane.
        shared_bytes
            Size of every block's zero-filled shared memory.
        max_steps
            Instructions one piece may issue (``None``: 1,000,000).

        Returns
        -------
        ReferenceResult

        Raises
        ------
        SimtError
            The first fault, located at the lowest faulting lane; the effects
            of earlier steps and pieces remain.
        """
        if not isinstance(program, Program):
            raise TypeError(f"program must be a simt.isa.Program, got {type(program).__name__}")
        program.validate()
        grid3, block3 = parse_dim(grid, "grid"), parse_dim(block, "block")
        arguments = _check_args(args)
        if not isinstance(shared_bytes, int) or isinstance(shared_bytes, bool) or shared_bytes < 0:
            raise ValueError(f"shared_bytes must be an int >= 0, got {shared_bytes!r}")
        if max_steps is None:
            max_steps = DEFAULT_MAX_STEPS
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 0:
            raise ValueError(f"max_steps must be an int >= 0 or None, got {max_steps!r}")

        lanes_per_block = block3[0] * block3[1] * block3[2]
        n_blocks = grid3[0] * grid3[1] * grid3[2]
        blocks_per_piece = max(1, self.piece_lanes // lanes_per_block)
        resonance = [0.0] * atlas.CLASSES
        counters = Counters()
        for first in range(0, n_blocks, blocks_per_piece):
            block_ids = range(first, min(first + blocks_per_piece, n_blocks))
            piece = self._piece(program, grid3, block3, block_ids, arguments, shared_bytes,
                                max_steps, resonance)
            piece.run()
            counters.add(piece.counters)
        return ReferenceResult(resonance, counters.as_dict())

    def _piece(self, program: Program, grid: Dim3, block: Dim3, block_ids: range,
               args: list[tuple[DType, int]], shared_bytes: int, max_steps: int,
               resonance: list[float]) -> Piece:
        gx, gy, _ = grid
        bx, by, _ = block
        lanes_per_block = block[0] * block[1] * block[2]
        lanes: list[Lane] = []
        blocks: dict[int, list[Lane]] = {}
        for b in block_ids:
            block_index = (b % gx, (b % (gx * gy)) // gx, b // (gx * gy))
            blocks[b] = []
            for j in range(lanes_per_block):
                thread = (j % bx, (j // bx) % by, j // (bx * by))
                lane = Lane(gid=b * lanes_per_block + j, block_linear=b, linear=j,
                            block=block_index, thread=thread)
                for r, (ty, bits) in enumerate(args):
                    lane.regs[r] = (ty, bits)
                lane.regs[252] = (DType.U32, thread[0])
                lane.regs[253] = (DType.U32, block_index[0])
                lane.regs[254] = (DType.U32, bx)
                lane.regs[255] = (DType.U64, lane.gid)
                lanes.append(lane)
                blocks[b].append(lane)
        return Piece(self.memory, program, lanes, blocks, shared_bytes, max_steps, resonance)


def _check_args(args: Sequence[tuple[DType, int]]) -> list[tuple[DType, int]]:
    out = []
    for n, item in enumerate(args):
        try:
            ty, bits = item
        except (TypeError, ValueError):
            raise TypeError(f"argument {n} must be a (DType, raw bits) pair, got {item!r}") from None
        if not isinstance(ty, DType) or not isinstance(bits, int) or isinstance(bits, bool):
            raise TypeError(f"argument {n} must be a (DType, raw bits) pair, got {item!r}")
        if not 0 <= bits < 1 << ty.bits:
            raise ValueError(f"argument {n}: raw bits {bits} do not fit {ty.text}")
        out.append((ty, bits))
    if len(out) > MAX_ARGS:
        raise ValueError(f"at most {MAX_ARGS} arguments, got {len(out)}")
    return out
