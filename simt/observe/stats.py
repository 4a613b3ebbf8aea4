"""Launch statistics (docs/semantics.md), gathered by an observer beside the executor.

A warp is 32 consecutive lanes of one block by linear lane index (the last
warp of a block may be partial).  The lane set of a step counts its own warps
(:class:`~simt.machine.lanes.LaneForm`): O(1) for converged (range) sets, at
most one pass, cached on the set, otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..isa.table import SPECS, Condition
from ..isa.program import Program
from ..machine.events import Event, LaunchInfo, Observer
from ..machine.lanes import LaneSet, warp_ids
from ..machine.step import Branch

__all__ = ["Stats", "StatsObserver", "WARP"]

WARP = 32


@dataclass(frozen=True)
class Stats:
    """What a launch did.

    Attributes
    ----------
    steps
        Instructions issued.
    lane_instructions
        Sum over steps of the lanes that executed.
    warp_instructions
        Sum over steps of the warps with at least one executing lane.
    simd_efficiency
        ``lane_instructions / (32 * warp_instructions)``; 0.0 when nothing ran.
    divergent_branches
        Warp-steps where a BRA, LOOP or RET sent the warp's lanes to more than one PC.
    barriers
        Block-level barrier releases.
    bytes_loaded, bytes_stored
        Memory traffic over all spaces.
    opcode_counts
        Instructions issued per instruction, keyed by the table's names (``"ADD"``,
        ``"SETcc"``, ``"MOV_IMM"``); lookups also accept the text mnemonic
        (``counts["add"]``, ``counts["setlt"]``, ``counts["mov_imm"]``).
    """

    steps: int = 0
    lane_instructions: int = 0
    warp_instructions: int = 0
    simd_efficiency: float = 0.0
    divergent_branches: int = 0
    barriers: int = 0
    bytes_loaded: int = 0
    bytes_stored: int = 0
    opcode_counts: dict[str, int] = field(default_factory=lambda: OpcodeCounts())

    def __hash__(self) -> int:
        return hash((self.steps, self.lane_instructions, self.warp_instructions,
                     self.simd_efficiency, self.divergent_branches, self.barriers,
                     self.bytes_loaded, self.bytes_stored,
                     frozenset(self.opcode_counts.items())))

    def as_dict(self) -> dict:
        """A plain dict (``opcode_counts`` as a plain dict of table names)."""
        out = asdict(self)
        out["opcode_counts"] = dict(self.opcode_counts)
        return out


def _spellings() -> dict[str, str]:
    """Every way to name an instruction -> its table name."""
    names: dict[str, str] = {}
    for spec in SPECS:
        for spelling in (spec.name, spec.name.lower(), spec.mnemonic):
            names.setdefault(spelling, spec.name)
    for cond in Condition:
        names.setdefault(f"set{cond.text}", "SETcc")
    return names


_SPELLINGS = _spellings()


class OpcodeCounts(dict):
    """Counts keyed by table name that also answer to text mnemonics (missing: 0 on ``get``)."""

    def _key(self, key):
        return key if dict.__contains__(self, key) else _SPELLINGS.get(key, key)

    def __getitem__(self, key):
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, self._key(key))

    def get(self, key, default=None):
        return dict.get(self, self._key(key), default)


def _instruction_names(program: Program) -> tuple[list[str], list[int]]:
    """The table names in a program, and each pc's index into them."""
    names: dict[str, int] = {}
    index = [names.setdefault(ins.spec.name, len(names)) for ins in program]
    return list(names), index


class StatsObserver(Observer):
    """Accumulates :class:`Stats` over one launch.

    Issues per pc are kept as single issues (``_once``) plus fused runs in a
    difference array (``_runs``: +1 at a run's first pc, -1 past its last), so a
    run costs two updates whatever its length; :attr:`per_pc` adds them up.
    """

    def __init__(self) -> None:
        self.bpl = 1
        self.lanes = self.warps = self.divergent = 0
        self.barriers = self.loaded = self.stored = 0
        self._once: list[int] = []           # single issues at each pc
        self._runs: list[int] = [0]          # fused runs, as differences (one entry more)
        self._aligned = True                 # warps never straddle a block boundary
        self.program = None

    @property
    def per_pc(self) -> list[int]:
        """Instructions issued at each pc."""
        out = []
        running = 0
        for once, step in zip(self._once, self._runs):
            running += step
            out.append(once + running)
        return out

    def on_launch(self, launch: LaunchInfo) -> None:
        geometry, program = launch.geometry, launch.program
        self.program = program
        self._once = [0] * len(program)
        self._runs = [0] * (len(program) + 1)
        self.bpl = geometry.lanes_per_block
        self._aligned = self.bpl % WARP == 0

    def after(self, ev: Event) -> None:
        lanes = ev.lanes
        count = ev.count
        if count == 1:
            self._once[ev.pc] += 1
        else:
            runs = self._runs
            runs[ev.pc] += 1
            runs[ev.pc + count] -= 1
        if ev.bytes_loaded or ev.bytes_stored or ev.releases:
            self.loaded += ev.bytes_loaded
            self.stored += ev.bytes_stored
            self.barriers += ev.releases
        if lanes.is_range and self._aligned:    # LaneSet.tally of a range, written out
            lo, hi = lanes.lo, lanes.hi
            if hi > lo:
                self.lanes += (hi - lo) * count
                self.warps += ((hi - 1) // WARP - lo // WARP + 1) * count
        else:
            n, warps = lanes.tally(self.bpl, WARP)
            self.lanes += n * count
            self.warps += warps * count
        targets = ev.targets
        if targets is None or type(targets) is int:
            return
        if isinstance(targets, Branch):
            self.divergent += targets.taken.mixed_warps(targets.rest, self.bpl, WARP)
        elif isinstance(targets, np.ndarray):
            warp = warp_ids(lanes.compact.indices(), self.bpl, WARP)
            starts = np.flatnonzero(np.r_[True, warp[1:] != warp[:-1]])
            lo = np.minimum.reduceat(targets, starts)
            hi = np.maximum.reduceat(targets, starts)
            self.divergent += int(np.count_nonzero(lo != hi))

    def counters(self) -> tuple:
        """What this observer counted, as plain values (see :meth:`add`)."""
        return (self.lanes, self.warps, self.divergent, self.barriers, self.loaded,
                self.stored, list(self.per_pc))

    def add(self, counters: tuple) -> None:
        """Add another observer's :meth:`counters` of the same program (every count is a sum)."""
        lanes, warps, divergent, barriers, loaded, stored, per_pc = counters
        self.lanes += lanes
        self.warps += warps
        self.divergent += divergent
        self.barriers += barriers
        self.loaded += loaded
        self.stored += stored
        self._once = [a + b for a, b in zip(self._once, per_pc)]

    def result(self) -> Stats:
        per_pc = self.per_pc
        return Stats(
            steps=sum(per_pc), lane_instructions=self.lanes, warp_instructions=self.warps,
            simd_efficiency=self.lanes / (WARP * self.warps) if self.warps else 0.0,
            divergent_branches=self.divergent, barriers=self.barriers,
            bytes_loaded=self.loaded, bytes_stored=self.stored,
            opcode_counts=self._opcode_counts(per_pc))

    def _opcode_counts(self, per_pc: list[int]) -> dict[str, int]:
        names, index = self.program.derived("stats.names", _instruction_names)
        totals = [0] * len(names)
        for k, count in zip(index, per_pc):
            totals[k] += count
        return OpcodeCounts({name: t for name, t in zip(names, totals) if t})

    def warp_count(self, lanes: LaneSet) -> int:
        """How many warps hold a lane of ``lanes`` (what one issue by them adds to
        ``warp_instructions``); call after :meth:`on_launch`."""
        return lanes.warp_count(self.bpl, WARP)
