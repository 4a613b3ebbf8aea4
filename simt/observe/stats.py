"""Launch statistics (docs/semantics.md), gathered by an observer beside the executor.

A warp is 32 consecutive lanes of one block by linear lane index (the last
warp of a block may be partial).  Counting is O(1) per step for converged
(range) lane sets and one pass over the lanes otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..isa.table import SPECS, Condition
from ..isa.program import Program
from ..machine.events import Event, LaunchInfo, Observer
from ..machine.lanes import LaneSet, Masked, Tiles
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


_ALL_SET = np.uint64(0x0101010101010101)      # eight True flag bytes


def _touched(lanes: LaneSet, lo: int, count: int, warp_ids) -> np.ndarray:
    """Which of the ``count`` warps from warp ``lo`` hold a lane of ``lanes`` (bool per warp)."""
    out = np.zeros(count, bool)
    if len(lanes) == 0:
        return out
    if lanes.is_range and warp_ids is None:
        out[(lanes.lo >> 5) - lo:((lanes.hi - 1) >> 5) + 1 - lo] = True
    elif type(lanes) is Masked and warp_ids is None and lanes.lo % WARP == 0 \
            and lanes.hi % WARP == 0:
        # each warp's 32 flag bytes as four 64-bit words: OR-ing them tells if any is set
        words = lanes.mask.view(np.uint64).reshape(-1, 4)
        some = (words[:, 0] | words[:, 1] | words[:, 2] | words[:, 3]) != 0
        out[(lanes.lo >> 5) - lo:(lanes.hi >> 5) - lo] = some
    else:
        out[(lanes.indices() >> 5 if warp_ids is None else warp_ids(lanes.indices())) - lo] = True
    return out


def _instruction_names(program: Program) -> tuple[list[str], list[int]]:
    """The table names in a program, and each pc's index into them."""
    names: dict[str, int] = {}
    index = [names.setdefault(ins.spec.name, len(names)) for ins in program]
    return list(names), index


class StatsObserver(Observer):
    """Accumulates :class:`Stats` over one launch."""

    def __init__(self) -> None:
        self.bpl = 1
        self.aligned = True
        self.lanes = self.warps = self.divergent = 0
        self.barriers = self.loaded = self.stored = 0
        self.per_pc: list[int] = []          # instructions issued at each pc
        self.program = None

    def on_launch(self, launch: LaunchInfo) -> None:
        geometry, program = launch.geometry, launch.program
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

    def _warps_of(self, lanes: LaneSet) -> int:
        """How many warps hold a lane of a non-range set (cached on the set)."""
        if lanes.memo is not None:
            return lanes.memo
        if type(lanes) is Tiles and self.aligned and lanes.period % WARP == 0:
            count = (lanes.b1 - lanes.b0) * (((lanes.t1 - 1) >> 5) - (lanes.t0 >> 5) + 1)
        elif type(lanes) is Masked and self.aligned and lanes.lo % WARP == 0 \
                and lanes.hi % WARP == 0:
            count = int(np.count_nonzero(_touched(lanes, lanes.lo >> 5,
                                                  (lanes.hi - lanes.lo) >> 5, None)))
        else:
            warp = self._warp_ids(lanes.indices())
            count = 1 + int(np.count_nonzero(warp[1:] != warp[:-1]))
        lanes.memo = count
        return count

    def after(self, ev: Event) -> None:
        lanes = ev.lanes
        count = ev.count
        if count == 1:
            self.per_pc[ev.pc] += 1
        else:
            per_pc = self.per_pc
            for pc in range(ev.pc, ev.pc + count):
                per_pc[pc] += 1
        if ev.bytes_loaded or ev.bytes_stored or ev.releases:
            self.loaded += ev.bytes_loaded
            self.stored += ev.bytes_stored
            self.barriers += ev.releases
        targets = ev.targets
        if lanes.is_range:
            lo, hi = lanes.lo, lanes.hi
            self.lanes += (hi - lo) * count
            if self.aligned:
                self.warps += (((hi - 1) >> 5) - (lo >> 5) + 1) * count
            else:
                self.warps += (self._warp_id(hi - 1) - self._warp_id(lo) + 1) * count
        else:
            self.lanes += len(lanes) * count
            self.warps += self._warps_of(lanes) * count
        if targets is None or type(targets) is int:
            return
        if isinstance(targets, Branch):
            self.divergent += self._split_warps(targets.taken, targets.rest)
        elif isinstance(targets, np.ndarray):
            warp = self._warp_ids(lanes.compact.indices())
            starts = np.flatnonzero(np.r_[True, warp[1:] != warp[:-1]])
            lo = np.minimum.reduceat(targets, starts)
            hi = np.maximum.reduceat(targets, starts)
            self.divergent += int(np.count_nonzero(lo != hi))

    def _split_warps(self, a: LaneSet, b: LaneSet) -> int:
        """How many warps hold lanes of both ``a`` and ``b`` (a branch's two sides)."""
        if a.is_range and b.is_range and (a.hi == b.lo or b.hi == a.lo):
            k = max(a.lo, b.lo)     # adjacent ranges: only the warp at the boundary can mix
            return int(self._warp_id(k - 1) == self._warp_id(k))
        if type(a) is Tiles and type(b) is Tiles and self.aligned and a.period % WARP == 0 \
                and (a.b0, a.b1) == (b.b0, b.b1) and (a.t1 == b.t0 or b.t1 == a.t0):
            k = max(a.t0, b.t0)     # adjacent windows: the warp at the boundary, per block
            return (a.b1 - a.b0) * int((k - 1) >> 5 == k >> 5)
        if type(a) is Masked and a.sibling(b) and a.parted[0].is_range and self.aligned \
                and a.lo % WARP == 0 and a.hi % WARP == 0:
            return self._sibling_warps(a, b)
        warp_ids = None if self.aligned else self._warp_ids
        lo = min(a.lo, b.lo)
        hi = max(a.hi, b.hi)
        first = (lo >> 5) if warp_ids is None else self._warp_id(lo)
        count = ((hi - 1) >> 5 if warp_ids is None else self._warp_id(hi - 1)) - first + 1
        both = _touched(a, first, count, warp_ids) & _touched(b, first, count, warp_ids)
        return int(np.count_nonzero(both))

    def _sibling_warps(self, a: Masked, b: Masked) -> int:
        """Mixed warps of a range split into two masks, and each side's warp count (cached),
        from one pass: a warp is mixed when its flags are neither all clear nor all set."""
        words = a.mask.view(np.uint64).reshape(-1, 4)
        w0, w1, w2, w3 = words[:, 0], words[:, 1], words[:, 2], words[:, 3]
        some = (w0 | w1 | w2 | w3) != 0
        every = (w0 & w1 & w2 & w3) == _ALL_SET
        a.memo = int(np.count_nonzero(some))
        b.memo = some.size - int(np.count_nonzero(every))
        return int(np.count_nonzero(some & ~every))

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
        self.per_pc = [a + b for a, b in zip(self.per_pc, per_pc)]

    def result(self) -> Stats:
        return Stats(
            steps=sum(self.per_pc), lane_instructions=self.lanes, warp_instructions=self.warps,
            simd_efficiency=self.lanes / (WARP * self.warps) if self.warps else 0.0,
            divergent_branches=self.divergent, barriers=self.barriers,
            bytes_loaded=self.loaded, bytes_stored=self.stored,
            opcode_counts=self._opcode_counts())

    def _opcode_counts(self) -> dict[str, int]:
        names, index = self.program.derived("stats.names", _instruction_names)
        totals = [0] * len(names)
        for k, count in zip(index, self.per_pc):
            totals[k] += count
        return OpcodeCounts({name: t for name, t in zip(names, totals) if t})

    def warp_count(self, lanes: LaneSet) -> int:
        """How many warps hold a lane of ``lanes`` (what one issue by them adds to
        ``warp_instructions``); call after :meth:`on_launch`."""
        if lanes.is_range:
            if lanes.hi <= lanes.lo:
                return 0
            return self._warp_id(lanes.hi - 1) - self._warp_id(lanes.lo) + 1
        return self._warps_of(lanes)
