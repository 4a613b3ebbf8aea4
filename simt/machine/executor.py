"""The step loop: run a program over a launch, piece by piece.

Each step issues the instruction the scheduler chooses (the minimum PC among
the runnable lanes of the deepest call depth) for every runnable lane at that
PC (docs/semantics.md).  Within a step the kernel checks
every lane, then commits; observers see the step afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import (BarrierDeadlockError, DeviceMemoryError, SimtError, StepLimitError,
                      TypeMismatchError)
from ..isa.flow import kept, used, writes
from ..isa.program import Program
from ..isa.types import DType
from . import debug
from .alu import silenced
from .events import Event, LaunchInfo, Listeners, Observer
from .kernels import SPAN_FRAME, decoded
from .kernels.control import MAX_CALL_DEPTH
from .lanes import LaneSet, Masked
from .launch import Geometry, Piece
from .memory import DeviceMemory
from .scheduler import _Deadlock, _Hazard, scheduler_for
from .state import RegisterFile
from .step import Fault, Step

__all__ = ["DEFAULT_MAX_STEPS", "Launch", "Paused", "run", "steps", "piece_plan", "run_piece",
           "working_bytes"]

DEFAULT_MAX_STEPS = 1_000_000
_SPECIAL = frozenset({252, 253, 254, 255})


@dataclass
class Launch:
    """Everything one launch needs besides device memory."""

    program: Program
    geometry: Geometry
    args: Sequence[tuple[DType, np.generic]]
    shared_bytes: int
    max_steps: int
    piece_lanes: int


# A lane's return addresses: int32 rows, doubling up to MAX_CALL_DEPTH (old and new
# rows held at once while growing), and its int16 depth.
_STACK_BYTES = MAX_CALL_DEPTH * 4 * 3 // 2 + 2


def _working_bytes(program: Program, lanes: int) -> int:
    """A generous estimate of a piece's register file, call stacks and scratch."""
    return lanes * program.derived("machine.lane_bytes", _lane_bytes)


def _lane_bytes(program: Program) -> int:
    calls = program.derived("machine.calls", lambda p: any(i.spec.name == "CALL" for i in p))
    return len(program.registers() | _SPECIAL) * 9 + 32 + (_STACK_BYTES if calls else 0)


def _piece_setup(program: Program) -> tuple:
    """What every piece of ``program`` starts from (cached on the program): which
    instructions compute over a mask's span, the rows of its register file and the
    special registers it reads."""
    named_regs, named_preds = used(program)
    specials = program.registers() & _SPECIAL
    return ([i.spec.name in SPAN_FRAME for i in program], frozenset(named_regs) | specials,
            named_preds, specials)


def _reserve_working(memory: DeviceMemory, launch: Launch, blocks: int) -> int:
    """Reserve a piece's working memory; the error says what to change."""
    bpl = launch.geometry.lanes_per_block
    lanes = _working_bytes(launch.program, blocks * bpl)
    shared = blocks * launch.shared_bytes
    try:
        memory.reserve(lanes + shared, "launch working memory")
    except DeviceMemoryError:
        change = ["fewer lanes per block"] if blocks == 1 else [
            f"a smaller Device(piece_lanes=...) (now {launch.piece_lanes})"]
        if shared:
            change.append(f"a smaller shared_bytes (now {launch.shared_bytes} for each block)")
        change.append("a larger memory_limit")
        raise DeviceMemoryError(
            f"launch working memory of {lanes + shared} bytes for a piece of {blocks} "
            f"block(s) of {bpl} lanes ({lanes} for registers and call stacks, {shared} for "
            f"shared memory) exceeds the device memory limit ({memory.used} of "
            f"{memory.limit} bytes in use); use {', '.join(change[:-1])} or {change[-1]}") \
            from None
    return lanes + shared


def run(launch: Launch, memory: DeviceMemory, observers: Sequence[Observer]) -> np.ndarray:
    """Run ``launch`` to completion; return the resonance accumulator (float64[96]).

    Raises the typed :class:`~simt.errors.SimtError` of the first fault, with
    its location filled in; effects of earlier steps and pieces remain.
    """
    issues = steps(launch, memory, observers)
    try:
        while True:
            next(issues)
    except StopIteration as done:
        return done.value


class Paused:
    """Where a stepped launch stands: the next issue (``pc``, ``lanes``) of a piece.

    ``regs``, ``scheduler`` and ``piece`` are the piece's live state; read them only
    while the launch is paused here.
    """

    __slots__ = ("pc", "lanes", "regs", "scheduler", "piece", "issued")

    def __init__(self, regs: RegisterFile, scheduler: MinPC, piece: Piece) -> None:
        self.regs, self.scheduler, self.piece = regs, scheduler, piece
        self.pc: int | None = None
        self.lanes: LaneSet | None = None
        self.issued = 0


def steps(launch: Launch, memory: DeviceMemory, observers: Sequence[Observer],
          stepping: bool = False):
    """The step loop as a generator; returns the resonance accumulator.

    With ``stepping`` it yields a :class:`Paused` before every instruction it
    issues (instructions are then never fused into runs) and keeps every value
    written, even those no waiting lane can read again; otherwise it yields
    nothing and simply runs.
    """
    program = launch.program
    geometry = launch.geometry
    resonance = np.zeros(96, np.float64)
    listen = Listeners(observers)
    listen.per_instruction |= stepping
    info = LaunchInfo(program, geometry, launch.shared_bytes, launch.piece_lanes, memory)
    for on_launch in listen.on_launch:
        on_launch(info)
    issued = 0
    with silenced():
        for block0, blocks in piece_plan(launch):
            working = _reserve_working(memory, launch, blocks)
            try:
                piece = Piece(program, geometry, memory, resonance, block0, blocks,
                              launch.shared_bytes)
                for on_piece in listen.on_piece:
                    on_piece(piece)
                issued = yield from _piece_steps(piece, launch, listen, issued, stepping)
            finally:
                memory.release(working)
    for on_finish in listen.on_finish:
        on_finish()
    return resonance


def _piece_steps(piece: Piece, launch: Launch, listen: Listeners, issued: int, stepping: bool):
    """Run one piece (a generator, see :func:`steps`); return the launch's issue count."""
    program = piece.program
    instructions = program.instructions
    n = piece.lanes
    ops = decoded(program)
    spans, named_regs, named_preds, specials = program.derived("machine.piece", _piece_setup)
    regs = RegisterFile(n, named_regs, named_preds)
    everyone = LaneSet.range(0, n)
    rows = regs.regs
    for reg, value in piece.special_registers(specials).items():
        ty = DType.U64 if reg == 255 else DType.U32
        if not rows[reg].write_all(ty.code, ty.storage, value):
            regs.write(reg, ty, everyone, value)
    for reg, (ty, value) in enumerate(launch.args):
        row = rows[reg]     # None: the program never names it (the value is dropped)
        if row is not None and not row.write_all(ty.code, ty.storage, value):
            regs.write(reg, ty, everyone, value)
    scheduler = scheduler_for(program, n, piece.geometry.lanes_per_block, regs)
    if listen.release:
        scheduler.watch(listen.release, piece)
    live = kept(program)
    if debug.enabled:
        debug.watch(regs, scheduler, live)
    groups, sites, end, max_steps = scheduler.groups, scheduler.sites, scheduler.end, \
        launch.max_steps
    choose, fall = scheduler.next, scheduler.fall
    afters, befores = listen.after, listen.before
    fuse = not listen.per_instruction
    step = Step(regs, piece)
    if listen.memory:
        step.listen = listen
    if fuse:
        step.join = scheduler.joins
    event = Event(0, instructions[0] if instructions else None, everyone, piece, None, 0, 0, 0)
    paused = Paused(regs, scheduler, piece) if stepping else None
    done = 0            # instructions this piece issued
    issue = choose()
    while issue is not None:
        first, lanes = issue
        pc = first
        if paused is not None:
            paused.pc, paused.lanes, paused.issued = pc, lanes, issued + done
            yield paused
        if done >= max_steps:
            raise _located(StepLimitError(
                f"step limit of {max_steps} instructions reached; next instruction not issued "
                "(raise the budget with launch(..., max_steps=N))"),
                piece, pc, lanes.first, len(lanes))
        if befores:
            _before(befores, event, pc, instructions, lanes, issued + done)
        if fuse:
            # straight-line code: while every other runnable group waits at a higher pc,
            # the scheduler would choose these same lanes again at the next pc (they fall
            # through at their call depth, the deepest), so they simply run on -- up to the
            # lowest waiting pc, the end of the program or of the step budget
            last = (min(groups) if groups else end) - 1
            if pc + max_steps - done <= last:
                last = pc + max_steps - done - 1
        else:
            last = pc
        step.start(pc, lanes)
        step.last = last
        step.room = pc + max_steps - done
        try:
            if type(lanes) is Masked:
                while True:
                    # a kernel that cannot compute over a mask's span gets it compacted
                    step.use(lanes if spans[pc] else lanes.compact)
                    flow = ops[pc](step)
                    if flow is not None or pc >= last:
                        break
                    pc += 1
                    step.pc = pc
            else:
                for pc in range(pc, max(pc, last) + 1):     # at least the one issued
                    step.pc = pc
                    flow = ops[pc](step)
                    if flow is not None:
                        break
        except Fault as fault:
            if afters and pc > first:       # observers see the instructions that ran
                _notify(afters, event, first, pc - first, instructions, lanes, pc, step, 0,
                        issued + done, None)
            raise _located(_argument_hint(fault.error, launch), piece, pc,
                           step.lanes.at(fault.pos), fault.count) from None
        count = pc - first + 1
        try:
            if flow is None:        # the lanes fall through together
                targets = pc + 1
                releases = fall(pc, lanes)
            else:
                targets = scheduler.targets(pc, flow)
                # per-lane targets are in the step's frame
                releases = scheduler.advance(
                    pc, step.lanes if isinstance(targets, np.ndarray) else lanes, flow,
                    targets)
        except _Deadlock as dead:
            raise _located(BarrierDeadlockError(
                "barrier deadlock: a block's lanes wait at barriers that cannot release"),
                piece, dead.pc, dead.lane, dead.parked) from None
        except _Hazard as found:
            raise _located(found.error, piece, pc, found.lane, found.count) from None
        if paused is None:
            regs.live = scheduler.live
            issue = choose()
            regs.waiting = scheduler.waiting(live) if groups or sites else 0
        else:
            issue = choose()
            regs.waiting = -1
        if afters:
            _notify(afters, event, first, count, instructions, lanes, targets, step,
                    releases, issued + done, scheduler.released)
        done += count
    return issued + done


def _before(befores: list, event: Event, pc: int, instructions, lanes: LaneSet,
            issued: int) -> None:
    """Tell the observers that ``lanes`` are about to issue the instruction at ``pc``."""
    event.pc = pc
    event.count = 1
    event.instruction = instructions[pc]
    event.lanes = lanes
    event.targets = None
    event.bytes_loaded = event.bytes_stored = event.releases = 0
    event.released = None
    event.step = issued
    for before in befores:
        before(event)


def _notify(afters: list, event: Event, pc: int, count: int, instructions, lanes: LaneSet,
            targets, step: Step, releases: int, issued: int,
            released: np.ndarray | None) -> None:
    """Tell the observers that ``lanes`` ran ``count`` instructions from ``pc`` on.

    One Event per piece, refilled: observers copy what they keep.
    """
    event.pc = pc
    event.count = count
    event.instruction = instructions[pc + count - 1]
    event.lanes = lanes
    event.targets = targets
    event.bytes_loaded = step.bytes_loaded
    event.bytes_stored = step.bytes_stored
    event.releases = releases
    event.released = released if releases else None
    event.step = issued
    for after in afters:
        after(event)


def piece_plan(launch: Launch) -> list[tuple[int, int]]:
    """``(first block, blocks)`` of each piece of ``launch``, in the order they run."""
    total = launch.geometry.blocks
    per = max(1, launch.piece_lanes // launch.geometry.lanes_per_block)
    return [(b, min(per, total - b)) for b in range(0, total, per)]


def working_bytes(launch: Launch, blocks: int) -> int:
    """The working memory a piece of ``blocks`` blocks reserves while it runs."""
    return _working_bytes(launch.program, blocks * launch.geometry.lanes_per_block) \
        + blocks * launch.shared_bytes


def run_piece(launch: Launch, memory: DeviceMemory, listen: Listeners, block0: int,
              blocks: int, resonance: np.ndarray, log: list | None = None) -> None:
    """Run one piece of ``launch`` exactly as :func:`steps` does (``on_launch`` and
    ``on_finish`` are the caller's); with ``log``, ResAccum logs instead of adding."""
    working = _reserve_working(memory, launch, blocks)
    try:
        piece = Piece(launch.program, launch.geometry, memory, resonance, block0, blocks,
                      launch.shared_bytes, log=log)
        for on_piece in listen.on_piece:
            on_piece(piece)
        with silenced():
            for _ in _piece_steps(piece, launch, listen, 0, False):
                pass
    finally:
        memory.release(working)


_MISMATCH = re.compile(r"type mismatch: expected (\w+), got (\w+) in r(\d+)$")


def _argument_hint(error: SimtError, launch: Launch) -> SimtError:
    """A type mismatch on a kernel-argument register that no instruction writes says
    which argument it is and what to pass instead (a Python int arrives as i64)."""
    found = _MISMATCH.match(error.reason) if type(error) is TypeMismatchError else None
    if found is None:
        return error
    want, got, reg = found.group(1), found.group(2), int(found.group(3))
    if reg >= len(launch.args) or launch.args[reg][0].text != got or any(
            writes(ins) >> reg & 1 or (ins.spec.name == "LOOP" and ins.count == reg)
            for ins in launch.program):
        return error
    wanted = next(t for t in DType if t.text == want)
    scalar = "ml_dtypes.bfloat16" if wanted is DType.BF16 else f"np.{np.dtype(wanted.numpy).name}"
    error.reason += (f" (r{reg} is kernel argument {reg}, passed as {got}; pass {scalar}(...) "
                     f"to give it type {want})")
    return error


def _located(error: SimtError, piece: Piece, pc: int, local_lane: int,
             count: int | None = None) -> SimtError:
    program = piece.program
    where = piece.geometry.locate(piece.lane0 + local_lane)
    return error.located(pc=pc, instruction=str(program[pc]), source_line=program.source_line(pc),
                         lanes_faulting=count, **where)
