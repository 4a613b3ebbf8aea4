"""Static facts about a program's control and data flow, and the liveness rule.

* :func:`successors`: where each instruction can send a lane next (the PC rule
  applied: a branch to itself falls through; RET returns after any CALL).
* :func:`reads` / :func:`writes`: the registers and predicates an instruction
  reads, and those it writes for every lane that executes it, derived from the
  operand kinds of :data:`simt.isa.table.SPECS` (fields named ``dst`` are
  written; every other register or predicate operand, address register and
  reduction range is read).
* :func:`live_in`: the registers and predicates that are *live* at each pc --
  some path from there reads them before writing them.
* :func:`kept`: per pc, what a write must keep for a lane waiting there.

Register ``r`` is bit ``r`` of a bit set (a Python int), predicate ``p`` bit
``256 + p``.  Everything here over-approximates reads and under-approximates
writes, so "not live" is always safe to rely on.

The liveness rule
-----------------
A write into a register (or predicate) by the lanes that issue may drop the
values the *other* lanes hold in it when its bit is clear in ``kept[pc]`` for
every pc where a non-exited lane that does not issue waits (runnable at that
pc, or parked at a barrier there).  The executor ORs those sets after every
issue (``RegisterFile.waiting``); :meth:`simt.machine.state.Row.write` drops by
restarting the row on the written lanes.  A stepping session turns the rule
off (``waiting = -1``): every written value stays visible to an inspector.

Why dropping is exact: a lane reads its registers only through the
instructions it executes.  A lane waiting at ``p`` runs, from then on, some
path of :func:`successors` from ``p`` (a RET's successors are every return
point, so a lane inside a call is covered too).  If the register is not live
at ``p``, every such path writes it before reading it, so the lane never
observes the value it holds now; the value may be anything, including unset.
Lanes that issue overwrite their own values with this very write; exited
lanes run nothing again.

The argument needs "a lane reads only its own registers".  An instruction
flagged :attr:`~simt.isa.table.Flag.CROSS_LANE` reads registers of other lanes
(of lanes that have not exited), so a lane's value may be observed although
its own paths never read it: every register such an instruction reads is in
``kept`` at every pc of the program, and its values are never dropped for any
lane.  (Which lane reaches that instruction when is a scheduling fact this
analysis does not see, hence the whole program.)
"""

from __future__ import annotations

from .program import Instruction, Program
from .table import Flag, Kind

__all__ = ["PRED_BIT", "successors", "reads", "writes", "live_in", "kept", "shared",
           "used"]

PRED_BIT = 256


def _bit(kind: Kind, value: int) -> int:
    return 1 << (value + PRED_BIT if kind in (Kind.PRED, Kind.OPT_PRED) else value)


def reads(ins: Instruction) -> int:
    """The bit set of registers and predicates ``ins`` may read."""
    bits = 0
    for field in ins.spec.fields:
        value = getattr(ins, field.name)
        if field.kind in (Kind.REG, Kind.PRED, Kind.OPT_PRED):
            if field.name != "dst" and value is not None:
                bits |= _bit(field.kind, value)
        elif field.kind is Kind.ADDR:
            for reg in type(value).registers:
                bits |= 1 << getattr(value, reg)
    run = ins.spec.register_run
    if run is not None:
        base = getattr(ins, run[0])
        for reg in range(base, base + getattr(ins, run[1])):
            bits |= 1 << reg
    return bits


def writes(ins: Instruction) -> int:
    """The bit set written by ``ins`` for every lane that executes it (LOOP's count only
    sometimes, so it is left out)."""
    for field in ins.spec.fields:
        if field.name == "dst":
            return _bit(field.kind, getattr(ins, "dst"))
    return 0


def used(program: Program) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The registers and the predicates the program names, ascending (cached)."""
    return program.derived("flow.used", _used)


def _used(program: Program) -> tuple[tuple[int, ...], tuple[int, ...]]:
    bits = 0
    for ins in program:
        bits |= reads(ins) | writes(ins)
    named = [k for k in range(PRED_BIT + 16) if bits >> k & 1]
    return (tuple(k for k in named if k < PRED_BIT),
            tuple(k - PRED_BIT for k in named if k >= PRED_BIT))


def successors(program: Program) -> list[tuple[int, ...]]:
    """The next pcs of each instruction (``len(program)``, the end, is left out)."""
    n = len(program)
    labels = program.labels
    returns = tuple(pc + 1 for pc, ins in enumerate(program) if ins.spec.name == "CALL")
    out: list[tuple[int, ...]] = []
    for pc, ins in enumerate(program):
        name = ins.spec.name
        if name == "EXIT":
            nxt: tuple[int, ...] = ()
        elif name == "RET":
            nxt = returns
        elif name == "CALL":
            nxt = (labels[ins.target],)
        elif name == "BRA":
            nxt = (labels[ins.target],) + ((pc + 1,) if ins.pred is not None else ())
        elif name == "LOOP":
            nxt = (labels[ins.body], pc + 1)
        else:
            nxt = (pc + 1,)
        out.append(tuple(sorted({pc + 1 if t == pc else t for t in nxt} - {n})))
    return out


def live_in(program: Program) -> list[int]:
    """The bit set live on entry to each pc (cached on the program)."""
    return program.derived("flow.live_in", _live_in)


def _live_in(program: Program) -> list[int]:
    n = len(program)
    succ = successors(program)
    preds: list[list[int]] = [[] for _ in range(n)]
    for pc, targets in enumerate(succ):
        for t in targets:
            preds[t].append(pc)
    gen = [reads(ins) for ins in program]
    keep = [~writes(ins) for ins in program]
    live = [0] * n
    work = list(range(n))
    queued = [True] * n
    while work:
        pc = work.pop()
        queued[pc] = False
        out = 0
        for t in succ[pc]:
            out |= live[t]
        new = gen[pc] | (out & keep[pc])
        if new != live[pc]:
            live[pc] = new
            for p in preds[pc]:
                if not queued[p]:
                    queued[p] = True
                    work.append(p)
    return live


def shared(program: Program) -> int:
    """The bit set read by the program's cross-lane instructions (0 when it has none)."""
    bits = 0
    for ins in program:
        if ins.spec.flags & Flag.CROSS_LANE:
            bits |= reads(ins)
    return bits


def kept(program: Program) -> list[int]:
    """Per pc, the bit set a write must keep for a lane waiting there (cached on the
    program): :func:`live_in` plus whatever cross-lane instructions read (the liveness
    rule above)."""
    return program.derived("flow.kept", _kept)


def _kept(program: Program) -> list[int]:
    cross = shared(program)
    live = live_in(program)
    return [bits | cross for bits in live] if cross else live
