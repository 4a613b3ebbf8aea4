"""The sync check: barrier releases a GPU would not make.

The scheduler releases a block's barrier when every lane of the block is parked
at a ``bar.sync`` or has exited (exited lanes count as arrived, see
docs/semantics.md).  That is what lockstep execution can afford; on a GPU the
same program hangs or misbehaves when

* the block's parked lanes wait at ``bar.sync`` instructions at different pcs
  (barriers in both arms of an if/else), or
* a lane of the block has exited while others wait (a barrier after an early
  exit, a loop whose trip count differs by lane), the lanes exiting in the very
  instruction that completes the release included.

The check sees every release before it takes effect (the scheduler's
``release`` hook, given the lanes parked and exited just before the issue), so
it is exact: a release is reported if and only if, over the lanes of the block
that will be released, the pcs (parked lanes plus the ones arriving now) are
not all equal, or some lane of the block has exited or exits now.  The error
names the issuing instruction and its lowest lane among the blocks at fault,
and, as the other side, a parked lane at another pc, else the lowest exited
lane (then ``other_pc`` is ``None``: an exited lane waits nowhere).  The work
is proportional to the lanes of the released blocks, vectorized over them.
"""

from __future__ import annotations

import numpy as np

from ..errors import BarrierDivergenceError
from ..machine.events import Hazard, LaunchInfo, Observer, Release

__all__ = ["SyncCheck"]

_NOT_PARKED = -1


class SyncCheck(Observer):
    """Raise :class:`~simt.errors.BarrierDivergenceError` at a divergent barrier release."""

    def on_launch(self, launch: LaunchInfo) -> None:
        self._program = launch.program
        self._geometry = launch.geometry

    def release(self, barrier: Release) -> Hazard | None:
        sched = barrier.scheduler
        bpl = sched.bpl
        blocks = np.asarray(barrier.blocks, np.int64)
        if barrier.kind == "park" and all(pc == barrier.pc for _, pc in sched.sites) and (
                sched.exited is None or not sched.exited_per_block[blocks].any()):
            return None     # every parked lane of the piece waits at this very pc
        issuing = barrier.lanes.indices()
        in_block = issuing // bpl
        mine = np.isin(in_block, blocks)
        issuing = issuing[mine]
        # the lanes of the blocks, as a (blocks, bpl) grid
        lanes = blocks[:, None] * bpl + np.arange(bpl, dtype=np.int64)
        parked = sched.park_id[lanes] != _NOT_PARKED
        pcs = np.where(parked, sched.park_pc[lanes], -1)
        arriving = np.zeros(lanes.shape, bool)
        rows = np.searchsorted(blocks, issuing // bpl)
        arriving[rows, issuing - blocks[rows] * bpl] = True
        exited = (np.zeros(lanes.shape, bool) if sched.exited is None
                  else sched.exited[lanes].copy())
        if barrier.kind == "park":
            pcs = np.where(arriving, barrier.pc, pcs)
            waiting = parked | arriving
        else:
            exited |= arriving
            waiting = parked
        low = np.where(waiting, pcs, np.iinfo(np.int64).max).min(axis=1)
        high = np.where(waiting, pcs, -1).max(axis=1)
        bad = (low != high) | exited.any(axis=1)
        if not bad.any():
            return None
        bad_blocks = np.flatnonzero(bad)
        row = int(bad_blocks[0])
        first = int(lanes[row][arriving[row]].min())
        lane0 = barrier.piece.lane0
        other_pc = None
        elsewhere = parked[row] & (pcs[row] != barrier.pc)
        if elsewhere.any():
            k = int(np.argmax(elsewhere))
            other = int(lanes[row, k])
            other_pc = int(pcs[row, k])
            why = f"lane {other + lane0} waits at pc {other_pc}{self._line(other_pc)}"
        else:
            other = int(lanes[row][exited[row]].min())
            why = f"lane {other + lane0} has exited" if sched.exited is not None and \
                sched.exited[other] else f"lane {other + lane0} exits in this instruction"
        what = "exits" if barrier.kind == "exit" else "arrives at the barrier"
        geo = self._geometry
        other_global = other + lane0
        block = other_global // bpl
        error = BarrierDivergenceError(
            f"barrier divergence in block {block}: lane {first + lane0} {what} and releases "
            f"the barrier while {why}",
            other_pc=other_pc, other_lane=other_global,
            other_block=geo.grid.unravel(block),
            other_instruction=None if other_pc is None else str(self._program[other_pc]))
        count = int(np.count_nonzero(arriving[bad_blocks]))
        return Hazard(first, 0, error, count)

    def _line(self, pc: int) -> str:
        line = self._program.source_line(pc)
        return "" if line is None else f" (line {line})"
