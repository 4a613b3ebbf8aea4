"""The scheduling policy, barrier parking and deadlock detection.

At each step the scheduler chooses the PC: the minimum PC among the runnable
lanes of the deepest call depth; the instruction there then runs for every
runnable lane at that PC, whatever its depth (docs/semantics.md).  A program
without CALL keeps every lane at depth 0, where this is the minimum PC among
all runnable lanes: :func:`scheduler_for` gives such programs :class:`MinPC`,
which never looks at depths, and programs with CALL :class:`DeepestMinPC`.

Runnable lanes are kept grouped by PC (``groups``), so choosing the next step
is a ``min`` over the few distinct PCs rather than over every lane.  Lanes
parked at ``bar.sync`` leave the groups; a block's barrier releases when every
non-exited lane of the block is parked at a ``bar.sync`` with the same id
(exited lanes count as arrived), and a block with no runnable lane that cannot
release is a :class:`~simt.errors.BarrierDeadlockError`.
"""

from __future__ import annotations

import numpy as np

from ..isa.program import Program
from .events import Release, first_hazard
from .lanes import LaneSet, per_block
from .state import RegisterFile
from .step import EXIT, Branch, Jump, Park

__all__ = ["MinPC", "DeepestMinPC", "scheduler_for"]

_NOT_PARKED = -1


def scheduler_for(program: Program, n: int, lanes_per_block: int,
                  regs: RegisterFile) -> "MinPC":
    """The scheduler of one piece running ``program``: depth-aware only if it has a CALL."""
    if program.derived("machine.calls", _calls):
        return DeepestMinPC(n, lanes_per_block, program, regs)
    return MinPC(n, lanes_per_block, len(program))


def _calls(program: Program) -> bool:
    return any(ins.spec.name == "CALL" for ins in program)


class MinPC:
    """Min-PC scheduler for the ``n`` lanes of one piece (``lanes_per_block`` per block).

    Exact for programs without CALL, whose lanes all stay at call depth 0.
    """

    def __init__(self, n: int, lanes_per_block: int, program_len: int) -> None:
        self.n = n
        self.bpl = lanes_per_block
        self.end = program_len
        self.groups: dict[int, LaneSet] = {}
        self.live = n
        self.waited = False     # a lane has reached a barrier (exits are counted per block)
        self.park_id: np.ndarray | None = None     # allocated when a lane first stays parked
        self.park_pc: np.ndarray | None = None
        self.exited: np.ndarray | None = None     # per lane; see _exit for when it is kept
        self.sites: set[tuple[int, int]] = set()    # (barrier id, pc) where lanes wait
        blocks = n // lanes_per_block
        self.parked_per_block = np.zeros(blocks, np.int64)
        self.exited_per_block = np.zeros(blocks, np.int64)  # kept from the first barrier on
        self.released: np.ndarray | None = None     # blocks released by the last advance
        self._watchers: list = []
        self._piece = None
        self._add(0, LaneSet.range(0, n))

    def watch(self, watchers: list, piece) -> None:
        """Ask ``watchers`` (observers' ``release`` methods) before any barrier releases."""
        self._watchers = watchers
        self._piece = piece

    # ------------------------------------------------------------------ choosing
    def next(self) -> tuple[int, LaneSet] | None:
        """The lowest PC with runnable lanes, and those lanes (removed from the groups)."""
        if not self.groups:
            return None
        pc = min(self.groups)
        return pc, self.groups.pop(pc)

    def joins(self, pc: int) -> LaneSet | None:
        """The lanes waiting at ``pc + 1`` if they are all the lanes left to run besides
        those issuing ``pc`` (none at another pc, none parked); else None.

        The lanes issuing ``pc`` are out of the groups while they issue; when they fall
        through, ``pc + 1`` is the only pc with runnable lanes, so it is chosen next,
        whatever the call depths (:class:`DeepestMinPC` too), and every lane that has
        not exited issues it.
        """
        groups = self.groups
        if self.sites or len(groups) != 1:
            return None
        return groups.get(pc + 1)

    def waiting(self, live_in: list[int]) -> int:
        """The liveness bit set of every pc where lanes wait (runnable or parked)."""
        bits = 0
        for pc in self.groups:
            bits |= live_in[pc]
        for _, pc in self.sites:
            bits |= live_in[pc]
        return bits

    # ------------------------------------------------------------------ advancing
    def targets(self, pc: int, flow) -> int | np.ndarray | None:
        """Next PC of each lane after ``flow`` (PC rule applied), or None for EXIT/Park."""
        if flow is None:
            return pc + 1
        if isinstance(flow, Branch):       # a target of pc or pc + 1 sends every lane on
            return pc + 1 if flow.target in (pc, pc + 1) else flow
        if isinstance(flow, Jump):
            t = flow.target
            if isinstance(t, np.ndarray):
                return np.where(t == pc, pc + 1, t)
            return pc + 1 if t == pc else t
        return None

    def advance(self, pc: int, lanes: LaneSet, flow, targets) -> int:
        """Move ``lanes`` on after executing ``pc``; return the number of barrier releases."""
        self.released = None
        kind = type(targets)
        if kind is int:
            return self._add(targets, lanes)
        if kind is Branch:
            return self._add(targets.target, targets.taken) + self._add(pc + 1, targets.rest)
        if flow is EXIT:
            return self._exit(lanes, pc)
        if isinstance(flow, Park):
            return self._park(pc, lanes, flow.barrier)
        if isinstance(targets, np.ndarray):
            return self._scatter(lanes, targets)
        return self._add(int(targets), lanes)

    def fall(self, pc: int, lanes: LaneSet) -> int:
        """:meth:`advance` for lanes that fall through ``pc`` together (no flow); an
        instruction that falls through is never CALL or RET (those always jump), so no
        call depth changes."""
        self.released = None
        return self._add(pc + 1, lanes)

    def _scatter(self, lanes: LaneSet, targets: np.ndarray) -> int:
        first = targets[0]
        same = targets == first
        if same.all():
            return self._add(int(first), lanes)
        other = targets[~same]
        if (other == other[0]).all():      # the usual two-way branch
            taken, rest = lanes.split(same)
            return self._add(int(first), taken) + self._add(int(other[0]), rest)
        released = 0
        for t in np.unique(targets):
            released += self._add(int(t), lanes.take(targets == t))
        return released

    def _add(self, pc: int, lanes: LaneSet) -> int:
        # a set is empty exactly when hi <= lo (a non-empty one spans its first to last lane)
        if lanes.hi <= lanes.lo:
            return 0
        if pc >= self.end:      # running off the end ends the lane like EXIT
            return self._exit(lanes)
        groups = self.groups
        have = groups.get(pc)
        groups[pc] = lanes if have is None else have.union(lanes)
        return 0

    def _exit(self, lanes: LaneSet, pc: int = -1) -> int:
        if len(lanes) == self.live and not self.sites and not self._watchers:
            # the last lanes of the piece leave (none runs or waits): nothing reads which
            # lanes exited any more, so they are not marked
            self.live = 0
            return 0
        blocks = None if not self.waited else self._count_blocks(lanes)
        if self._watchers and blocks is not None:
            self._ask(pc, "exit", lanes, blocks)
        if blocks is None or self._watchers:
            # the per-lane marks are read at the first barrier (to count exits per block)
            # and by watchers; from the first barrier on, without watchers, the counts
            # per block are all that is read
            if self.exited is None:
                self.exited = np.zeros(self.n, bool)
            lanes.fill(self.exited, True)
        self.live -= len(lanes)
        if blocks is None:          # no lane has waited at a barrier yet: count exits then
            return 0
        self.exited_per_block += blocks
        if not self.sites:          # nobody waits: no block can release
            return 0
        return self._release(np.flatnonzero(blocks))

    def _park(self, pc: int, lanes: LaneSet, barrier: int) -> int:
        if not self.waited:
            self.waited = True
            if self.exited is not None:
                self.exited_per_block = per_block(self.exited, self.bpl)
        lanes = lanes.compact
        bpl = self.bpl
        if not self.sites and not self._watchers and lanes.is_range and lanes.hi > lanes.lo \
                and lanes.lo % bpl == 0 and lanes.hi % bpl == 0:
            # whole blocks arrive while nobody waits: they release at once (see below),
            # known from the bounds alone when none of their lanes has exited
            b0, b1 = lanes.lo // bpl, lanes.hi // bpl
            if self.live == self.n or not self.exited_per_block[b0:b1].any():
                self.released = np.arange(b0, b1)
                self._add(pc + 1, lanes)
                return b1 - b0
        blocks = self._count_blocks(lanes)
        if self._watchers:
            self._ask(pc, "park", lanes, blocks)
        if not self.sites:
            # nobody waits yet: if these lanes (with the exited ones) fill every block they
            # touch, those blocks release at once, and the released lanes are exactly these,
            # so they move on without being written to the parking arrays and read back
            touched = np.flatnonzero(blocks)
            if (blocks[touched] + self.exited_per_block[touched] == self.bpl).all():
                self.released = touched
                self._add(pc + 1, lanes)
                return int(touched.size)
        self._parking_arrays()
        lanes.write(self.park_id, barrier)
        lanes.write(self.park_pc, pc)
        self.sites.add((barrier, pc))
        self.parked_per_block += blocks
        return self._release(np.flatnonzero(blocks))

    def _parking_arrays(self) -> None:
        if self.park_id is None:
            self.park_id = np.full(self.n, _NOT_PARKED, np.int16)
            self.park_pc = np.zeros(self.n, np.int64)

    def _ask(self, pc: int, kind: str, lanes: LaneSet, arriving: np.ndarray) -> None:
        """Let the watchers see the releases ``lanes`` would complete, before any change."""
        touched = np.flatnonzero(arriving)
        waiting = self.parked_per_block[touched] + (arriving[touched] if kind == "park" else 0)
        done = waiting + self.exited_per_block[touched] + (
            arriving[touched] if kind == "exit" else 0)
        blocks = touched[(waiting > 0) & (done == self.bpl)]
        if blocks.size == 0:
            return
        self._parking_arrays()      # the watchers read them
        hazard = first_hazard(w(Release(pc, kind, lanes, blocks, self._piece, self))
                              for w in self._watchers)
        if hazard is not None:
            raise _Hazard(hazard.pos, hazard.error, hazard.count)

    def _count_blocks(self, lanes: LaneSet) -> np.ndarray:
        return lanes.block_counts(self.bpl, self.parked_per_block.size)

    def _release(self, touched: np.ndarray) -> int:
        """Release (or report deadlock of) every touched block with no runnable lane."""
        if self.park_id is None or touched.size == 0:
            return 0
        parked = self.parked_per_block[touched]
        stuck = touched[(parked > 0) & (parked + self.exited_per_block[touched] == self.bpl)]
        if stuck.size == 0:
            return 0
        if len({barrier for barrier, _ in self.sites}) > 1:
            ids = self.park_id.reshape(-1, self.bpl)[stuck]
            lowest = np.where(ids == _NOT_PARKED, np.iinfo(np.int16).max, ids).min(axis=1)
            uniform = lowest == ids.max(axis=1)
            if not uniform.all():
                self._deadlock(int(stuck[~uniform][0]))
        if not self.exited_per_block[stuck].any():    # whole blocks wait: no per-lane filter
            if stuck[-1] - stuck[0] + 1 == stuck.size:
                lanes = LaneSet.range(int(stuck[0]) * self.bpl, (int(stuck[-1]) + 1) * self.bpl)
            else:
                lanes = LaneSet.of((stuck[:, None] * self.bpl + np.arange(self.bpl)).ravel())
        else:
            idx = (stuck[:, None] * self.bpl + np.arange(self.bpl)).ravel()
            lanes = LaneSet.of(idx[self.park_id[idx] != _NOT_PARKED])
        self.released = stuck if self.released is None else np.concatenate(
            (self.released, stuck))
        pcs = {pc for _, pc in self.sites}
        nxt = pcs.pop() + 1 if len(pcs) == 1 else self.park_pc[lanes.sel] + 1
        self.park_id[lanes.sel] = _NOT_PARKED
        self.parked_per_block[stuck] = 0
        if not self.parked_per_block.any():
            self.sites.clear()
        if isinstance(nxt, np.ndarray):
            self._scatter(lanes, nxt)
        else:
            self._add(nxt, lanes)
        return int(stuck.size)

    def _deadlock(self, block: int) -> None:
        waiting = self.park_id[block * self.bpl: (block + 1) * self.bpl] != _NOT_PARKED
        local = block * self.bpl + int(np.argmax(waiting))
        raise _Deadlock(local, int(self.park_pc[local]), int(np.count_nonzero(waiting)))


class DeepestMinPC(MinPC):
    """The scheduler of programs with CALL: the deepest call depth first, then the minimum PC.

    Beside each group of lanes at one PC it keeps bounds ``(lo, hi, exact)`` on
    the call depths of those lanes (``depths``): every depth lies in
    ``[lo, hi]``, and ``exact`` says that some lane is at depth ``hi``.  The
    bounds follow the lanes without looking at them: a step keeps its lanes'
    depths, except CALL (+1) and RET (-1); lanes that part ways keep the bounds
    of the group they left (only ``exact`` may be lost), lanes that meet merge
    them.  Only when a group whose ``hi`` is not known to be reached could be
    the deepest are its lanes' depths read (:meth:`_measure`).  ``by_depth``
    indexes the groups by ``hi`` and ``vague`` holds those whose ``hi`` is not
    exact, so in the common case -- every lane of a group at one depth --
    choosing is a ``max`` over the few depths and a ``min`` over one set of PCs.
    """

    def __init__(self, n: int, lanes_per_block: int, program: Program,
                 regs: RegisterFile) -> None:
        self.regs = regs
        self.shift = [1 if ins.spec.name == "CALL" else -1 if ins.spec.name == "RET" else 0
                      for ins in program]
        self.depths: dict[int, tuple[int, int, bool]] = {}
        self.by_depth: dict[int, set[int]] = {}
        self.vague: set[int] = set()
        self._carry: tuple[int, int, bool] | None = (0, 0, True)   # bounds of lanes being added
        self._issued = 0                    # how many lanes the current step issued
        super().__init__(n, lanes_per_block, len(program))

    def next(self) -> tuple[int, LaneSet] | None:
        """The lowest PC with runnable lanes of the deepest call depth, and every runnable
        lane at that PC (removed from the groups)."""
        if not self.groups:
            return None
        by_depth, vague = self.by_depth, self.vague
        top = max(by_depth)
        while vague and not vague.isdisjoint(by_depth[top]):
            for pc in vague & by_depth[top]:
                self._set(pc, self._measure(self.groups[pc]))
            top = max(by_depth)
        pcs = by_depth[top]
        pc = min(pcs)
        pcs.discard(pc)
        if not pcs:
            del by_depth[top]
        if vague:
            vague.discard(pc)
        lanes = self.groups.pop(pc)
        self._carry = self.depths.pop(pc)
        self._issued = len(lanes)
        return pc, lanes

    def advance(self, pc: int, lanes: LaneSet, flow, targets) -> int:
        shift = self.shift[pc]      # the last instruction a step ran may be a CALL or RET
        if shift:
            lo, hi, exact = self._carry
            self._carry = (lo + shift, hi + shift, exact)
        return super().advance(pc, lanes, flow, targets)

    def _add(self, pc: int, lanes: LaneSet) -> int:
        count = len(lanes)
        if count == 0:
            return 0
        if pc >= self.end:      # running off the end ends the lane like EXIT
            return self._exit(lanes)
        carry = self._carry
        if carry is None:
            lo, hi, exact = self._measure(lanes)
        else:
            lo, hi, exact = carry
            exact = lo == hi or (exact and count == self._issued)
        have = self.groups.get(pc)
        if have is None:
            self.groups[pc] = lanes
        else:
            self.groups[pc] = have.union(lanes)
            was_lo, was_hi, was_exact = self.depths[pc]
            if was_hi > hi:
                hi, exact = was_hi, was_exact
            elif was_hi == hi:
                exact = exact or was_exact
            lo = min(lo, was_lo)
        self._set(pc, (lo, hi, exact))
        return 0

    def _set(self, pc: int, bounds: tuple[int, int, bool]) -> None:
        """Record the depth bounds of the group at ``pc`` (new or changed)."""
        old = self.depths.get(pc)
        hi = bounds[1]
        if old is None or old[1] != hi:
            if old is not None:
                pcs = self.by_depth[old[1]]
                pcs.discard(pc)
                if not pcs:
                    del self.by_depth[old[1]]
            pcs = self.by_depth.get(hi)
            if pcs is None:
                self.by_depth[hi] = {pc}
            else:
                pcs.add(pc)
        if bounds[2]:
            if self.vague:
                self.vague.discard(pc)
        else:
            self.vague.add(pc)
        self.depths[pc] = bounds

    def _release(self, touched: np.ndarray) -> int:
        carry, self._carry = self._carry, None    # released lanes: read their depths
        try:
            return super()._release(touched)
        finally:
            self._carry = carry

    def _measure(self, lanes: LaneSet) -> tuple[int, int, bool]:
        """Exact bounds of the call depths of ``lanes``."""
        depth = self.regs.depth
        if depth is None:           # no CALL has run yet
            return 0, 0, True
        d = lanes.pick(depth)
        return int(d.min()), int(d.max()), True


class _Hazard(Exception):
    """Internal: a watcher found a hazard at a barrier release, for the piece-local ``lane``."""

    def __init__(self, lane: int, error, count: int) -> None:
        super().__init__(lane)
        self.lane = lane
        self.error = error
        self.count = count


class _Deadlock(Exception):
    """Internal: a block deadlocked; its lowest parked lane and pc, and how many wait."""

    def __init__(self, lane: int, pc: int, parked: int) -> None:
        super().__init__(lane, pc)
        self.lane = lane
        self.pc = pc
        self.parked = parked
