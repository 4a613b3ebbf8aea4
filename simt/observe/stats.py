"""Launch statistics (contract §6), gathered by an observer beside the executor.

A warp is 32 consecutive lanes of one block by linear lane index (the last
warp of a block may be partial).  Counting is O(1) per step for converged
(range) lane sets and one pass over the lanes otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from ..isa.table import BRANCHES, SPECS, Condition
from ..isa.program import Program
from ..machine.events import Event
from ..machine.launch import Geometry
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


_ALL_TAKEN = np.uint64(0x0101010101010101)      # eight True bytes


def _mixed_warps(mask: np.ndarray) -> int:
    """How many whole 32-lane warps of ``mask`` hold both True and False.

    Each warp's 32 flag bytes are read as four 64-bit words: OR-ing them tells
    whether any lane is set, AND-ing them whether all are.
    """
    words = np.ascontiguousarray(mask).view(np.uint64).reshape(-1, 4)
    w0, w1, w2, w3 = words[:, 0], words[:, 1], words[:, 2], words[:, 3]
    some = (w0 | w1 | w2 | w3) != 0
    every = (w0 & w1 & w2 & w3) == _ALL_TAKEN
    return int(np.count_nonzero(some & ~every))


class StatsObserver:
    """Accumulates :class:`Stats` over one launch."""

    def __init__(self) -> None:
        self.bpl = 1
        self.aligned = True
        self.lanes = self.warps = self.divergent = 0
        self.barriers = self.loaded = self.stored = 0
        self.per_pc: list[int] = []          # instructions issued at each pc
        self.program = None

    def on_launch(self, geometry: Geometry, program: Program) -> None:
        self.program = program
        self.per_pc = [0] * len(program)
        self.bpl = geometry.lanes_per_block
        self.aligned = self.bpl % WARP == 0     # warps never straddle blocks: lane // 32

    def _warp_id(self, lane: int) -> int:
        if self.aligned:
            return lane >> 5
        block, lane_in_block = divmod(lane, self.bpl)
        return block * -(-self.bpl // WARP) + lane_in_block // WARP

    def _warp_ids(self, lanes: np.ndarray) -> np.ndarray:
        if self.aligned:
            return lanes >> 5
        per_block = -(-self.bpl // WARP)
        return (lanes // self.bpl) * per_block + (lanes % self.bpl) // WARP

    def after(self, ev: Event) -> None:
        lanes = ev.lanes
        self.per_pc[ev.pc] += 1
        if ev.bytes_loaded or ev.bytes_stored or ev.releases:
            self.loaded += ev.bytes_loaded
            self.stored += ev.bytes_stored
            self.barriers += ev.releases
        targets = ev.targets
        if lanes.idx is None:
            lo, hi = lanes.lo, lanes.hi
            self.lanes += hi - lo
            if self.aligned:
                self.warps += ((hi - 1) >> 5) - (lo >> 5) + 1
                if targets is None or type(targets) is int:
                    return
            else:
                self.warps += self._warp_id(hi - 1) - self._warp_id(lo) + 1
            if isinstance(targets, Branch) and targets.mask is None:
                # two adjacent ranges: only the warp holding the boundary can straddle it
                k = max(targets.taken.lo, targets.rest.lo)
                self.divergent += int(self._warp_id(k - 1) == self._warp_id(k))
                return
            if not isinstance(targets, (np.ndarray, Branch)):
                return
            warp = None if isinstance(targets, Branch) and self.bpl % WARP == 0 and \
                lanes.lo % WARP == 0 and lanes.hi % WARP == 0 else self._warp_ids(lanes.indices())
        else:
            self.lanes += lanes.idx.size
            warp = self._warp_ids(lanes.idx)
            self.warps += 1 + int(np.count_nonzero(warp[1:] != warp[:-1]))
        if ev.instruction.spec.name not in BRANCHES:
            return
        if isinstance(targets, Branch) and lanes.is_range and self.bpl % WARP == 0 \
                and lanes.lo % WARP == 0 and lanes.hi % WARP == 0:
            self.divergent += _mixed_warps(targets.mask)
        elif isinstance(targets, Branch):
            starts = np.flatnonzero(np.r_[True, warp[1:] != warp[:-1]])
            both = np.logical_or.reduceat(targets.mask, starts) & np.logical_or.reduceat(
                ~targets.mask, starts)
            self.divergent += int(np.count_nonzero(both))
        elif isinstance(targets, np.ndarray):
            starts = np.flatnonzero(np.r_[True, warp[1:] != warp[:-1]])
            lo = np.minimum.reduceat(targets, starts)
            hi = np.maximum.reduceat(targets, starts)
            self.divergent += int(np.count_nonzero(lo != hi))

    def on_finish(self) -> None:
        pass

    def result(self) -> Stats:
        return Stats(
            steps=sum(self.per_pc), lane_instructions=self.lanes, warp_instructions=self.warps,
            simd_efficiency=self.lanes / (WARP * self.warps) if self.warps else 0.0,
            divergent_branches=self.divergent, barriers=self.barriers,
            bytes_loaded=self.loaded, bytes_stored=self.stored,
            opcode_counts=self._opcode_counts())

    def _opcode_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for pc, count in enumerate(self.per_pc):
            if count:
                counts[self.program[pc].spec.name] += count
        return OpcodeCounts(counts)
