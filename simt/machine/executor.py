"""The step loop: run a program over a launch, piece by piece.

Each step issues the instruction the scheduler chooses (the minimum PC among
the runnable lanes of the deepest call depth) for every runnable lane at that
PC (docs/semantics.md).  Within a step the kernel checks
every lane, then commits; observers see the step afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import BarrierDeadlockError, SimtError, StepLimitError
from ..isa.flow import live_in, used
from ..isa.program import Program
from ..isa.types import DType
from .alu import silenced
from .events import Event, Observer
from .kernels import SPAN_FRAME, decoded
from .lanes import LaneSet, Masked
from .launch import Geometry, Piece
from .memory import DeviceMemory
from .scheduler import _Deadlock, scheduler_for
from .state import RegisterFile
from .step import Fault, Step

__all__ = ["DEFAULT_MAX_STEPS", "Launch", "run"]

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


def _working_bytes(program: Program, lanes: int, shared: int) -> int:
    """A generous estimate of a piece's register file and scratch, for the memory budget."""
    return lanes * (len(program.registers() | _SPECIAL) * 9 + 32) + shared


def run(launch: Launch, memory: DeviceMemory, observers: Sequence[Observer]) -> np.ndarray:
    """Run ``launch`` to completion; return the resonance accumulator (float64[96]).

    Raises the typed :class:`~simt.errors.SimtError` of the first fault, with
    its location filled in; effects of earlier steps and pieces remain.
    """
    program = launch.program
    geometry = launch.geometry
    resonance = np.zeros(96, np.float64)
    bpl = geometry.lanes_per_block
    blocks_per_piece = max(1, launch.piece_lanes // bpl)
    ops = decoded(program)
    spans = program.derived("machine.spans", lambda p: [i.spec.name in SPAN_FRAME for i in p])
    for o in observers:
        o.on_launch(geometry, program)
    with silenced():
        for block0 in range(0, geometry.blocks, blocks_per_piece):
            blocks = min(blocks_per_piece, geometry.blocks - block0)
            working = _working_bytes(program, blocks * bpl, blocks * launch.shared_bytes)
            memory.reserve(working, "launch working memory")
            try:
                piece = Piece(program, geometry, memory, resonance, block0, blocks,
                              launch.shared_bytes)
                _run_piece(piece, launch, ops, spans, observers)
            finally:
                memory.release(working)
    for o in observers:
        o.on_finish()
    return resonance


def _run_piece(piece: Piece, launch: Launch, ops: list, spans: list[bool],
               observers: Sequence[Observer]) -> None:
    program = piece.program
    instructions = program.instructions
    n = piece.lanes
    named_regs, named_preds = used(program)
    regs = RegisterFile(n, set(named_regs) | _SPECIAL, named_preds)
    everyone = LaneSet.range(0, n)
    for reg, value in piece.special_registers(program.registers() & _SPECIAL).items():
        regs.write(reg, DType.U64 if reg == 255 else DType.U32, everyone, value)
    for reg, (ty, value) in enumerate(launch.args):
        regs.write(reg, ty, everyone, value)
    scheduler = scheduler_for(program, n, piece.geometry.lanes_per_block, regs)
    live = live_in(program)
    groups, end, max_steps = scheduler.groups, scheduler.end, launch.max_steps
    afters = [o.after for o in observers]
    step = Step(regs, piece)
    event = Event(0, instructions[0] if instructions else None, everyone, piece, None, 0, 0, 0)
    steps = 0
    issue = scheduler.next()
    while issue is not None:
        first, lanes = issue
        pc = first
        if steps >= max_steps:
            raise _located(StepLimitError(f"step limit of {max_steps} instructions reached; "
                                          "next instruction not issued"),
                           piece, pc, lanes.first, len(lanes))
        # converged straight-line code: while no other lanes wait, the same lanes simply
        # run the next instruction, up to the end of the program or of the step budget
        last = pc if groups else min(end, pc + max_steps - steps) - 1
        masked = type(lanes) is Masked
        step.start(pc, lanes)
        try:
            while True:
                if masked:  # a kernel that cannot compute over a mask's span gets it compacted
                    step.use(lanes if spans[pc] else lanes.compact)
                flow = ops[pc](step)
                if flow is not None or pc >= last:
                    break
                pc += 1
                step.pc = pc
        except Fault as fault:
            if afters and pc > first:       # observers see the instructions that ran
                _notify(afters, event, first, pc - first, instructions, lanes, pc, step, 0)
            raise _located(fault.error, piece, pc, step.lanes.at(fault.pos), fault.count) from None
        steps += pc - first + 1
        targets = scheduler.targets(pc, flow)
        try:   # per-lane targets are in the step's frame
            releases = scheduler.advance(
                pc, step.lanes if isinstance(targets, np.ndarray) else lanes, flow, targets)
        except _Deadlock as dead:
            raise _located(BarrierDeadlockError(
                "barrier deadlock: a block's lanes wait at barriers that cannot release"),
                piece, dead.pc, dead.lane, dead.parked) from None
        regs.live = scheduler.live
        issue = scheduler.next()
        regs.waiting = scheduler.waiting(live)
        if afters:
            _notify(afters, event, first, pc - first + 1, instructions, lanes, targets, step,
                    releases)


def _notify(afters: list, event: Event, pc: int, count: int, instructions, lanes: LaneSet,
            targets, step: Step, releases: int) -> None:
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
    for after in afters:
        after(event)


def _located(error: SimtError, piece: Piece, pc: int, local_lane: int,
             count: int | None = None) -> SimtError:
    program = piece.program
    where = piece.geometry.locate(piece.lane0 + local_lane)
    return error.located(pc=pc, instruction=str(program[pc]), source_line=program.source_line(pc),
                         lanes_faulting=count, **where)
