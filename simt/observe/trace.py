"""Instruction traces: :class:`Trace`, an observer recording every issued instruction.

Pass a ``Trace()`` to :meth:`simt.Device.launch` (``observers=[trace]``) or to
:meth:`simt.Device.session`; it keeps one :class:`TraceRecord` per instruction
issued without error, over every launch it sees, until :meth:`Trace.reset`.
:meth:`Trace.to_chrome` writes the Chrome trace-event JSON that Perfetto
(https://ui.perfetto.dev) and ``chrome://tracing`` open: one process per
launch, one track per block, one slice per instruction a block issued (one
step is drawn as one microsecond), so divergence shows as a block running the
two sides of a branch one after the other with part of its lanes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..isa.program import Program
from ..machine.events import Event, LaunchInfo, Observer

__all__ = ["Trace", "TraceRecord"]


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One issued instruction.

    Attributes
    ----------
    step
        Instructions the launch issued before this one (0-based, all pieces).
    pc, instruction, source_line
        Where: the pc, the instruction's text, its 1-based source line (or None).
    lanes, lane_min, lane_max
        How many lanes ran it, and the lowest and highest of their global ids.
    bytes_loaded, bytes_stored
        Its memory traffic.
    launch
        Which of the launches the trace saw (0-based).
    """

    step: int
    pc: int
    instruction: str
    source_line: int | None
    lanes: int
    lane_min: int
    lane_max: int
    bytes_loaded: int
    bytes_stored: int
    launch: int = 0


def _texts(program: Program) -> list[str]:
    return [str(ins) for ins in program]


@dataclass
class _Launch:
    program: Program
    lanes_per_block: int
    blocks: int
    title: str


class Trace(Observer):
    """Records every instruction issued, in issue order (see the module docstring).

    Iterate it, index it or take its ``len``; each item is a :class:`TraceRecord`.
    """

    per_instruction = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded."""
        self._records: list[TraceRecord] = []
        # per record: the global blocks its lanes touch and how many lanes in each
        self._blocks: list[tuple[np.ndarray, np.ndarray] | tuple[int, int, int]] = []
        self._launches: list[_Launch] = []
        self._texts: list[str] = []
        self._lines: tuple = ()
        self._lane0 = 0

    # ------------------------------------------------------------------ observer
    def on_launch(self, launch: LaunchInfo) -> None:
        g = launch.geometry
        program = launch.program
        self._launches.append(_Launch(
            program, g.lanes_per_block, g.blocks,
            f"launch {len(self._launches)}: grid {g.grid.as_tuple()}, "
            f"block {g.block.as_tuple()}"))
        self._texts = program.derived("observe.texts", _texts)
        self._lines = program.source_lines or ()

    def on_piece(self, piece) -> None:
        self._lane0 = piece.lane0

    def after(self, event: Event) -> None:
        lanes = event.lanes
        lane0 = self._lane0
        lo, hi = lane0 + lanes.first, lane0 + lanes.last
        n = len(lanes)
        bpl = self._launches[-1].lanes_per_block
        if hi - lo + 1 == n:     # contiguous lanes: their blocks follow from the bounds
            where = (lo, hi + 1, bpl)
        else:                    # pieces hold whole blocks: lane0 is a block boundary
            counts = lanes.block_counts(bpl, lanes.last // bpl + 1)
            blocks = np.flatnonzero(counts)
            where = (blocks + lane0 // bpl, counts[blocks])
        launch = len(self._launches) - 1
        for k in range(event.count):
            pc = event.pc + k
            last = k == event.count - 1
            self._records.append(TraceRecord(
                event.step + k, pc, self._texts[pc],
                self._lines[pc] if pc < len(self._lines) else None, n, lo, hi,
                event.bytes_loaded if last else 0, event.bytes_stored if last else 0, launch))
            self._blocks.append(where)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __getitem__(self, index):
        return self._records[index]

    def __repr__(self) -> str:
        return f"<simt.Trace: {len(self._records)} instructions, {len(self._launches)} launches>"

    # ------------------------------------------------------------------ Chrome trace events
    def chrome_events(self) -> dict:
        """The trace as a Chrome trace-event document (what :meth:`to_chrome` writes)."""
        events: list[dict] = []
        named: set[tuple[int, int]] = set()
        for pid, launch in enumerate(self._launches):
            events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                           "args": {"name": launch.title}})
            events.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
                           "args": {"sort_index": pid}})
        for record, where in zip(self._records, self._blocks):
            pid = record.launch
            bpl = self._launches[pid].lanes_per_block
            if len(where) == 3:         # a range of global lanes [lo, hi)
                lo, hi, _ = where
                blocks = np.arange(lo // bpl, (hi - 1) // bpl + 1)
                counts = np.minimum(hi, (blocks + 1) * bpl) - np.maximum(lo, blocks * bpl)
            else:
                blocks, counts = where
            args = {"pc": record.pc, "line": record.source_line, "lanes": record.lanes,
                    "bytes_loaded": record.bytes_loaded, "bytes_stored": record.bytes_stored}
            for block, count in zip(blocks.tolist(), counts.tolist()):
                if (pid, block) not in named:
                    named.add((pid, block))
                    events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": block,
                                   "args": {"name": f"block {block}"}})
                    events.append({"name": "thread_sort_index", "ph": "M", "pid": pid,
                                   "tid": block, "args": {"sort_index": block}})
                events.append({"name": record.instruction, "cat": "instruction", "ph": "X",
                               "ts": record.step, "dur": 1, "pid": pid, "tid": block,
                               "args": {**args, "block_lanes": count, "of": bpl}})
            events.append({"name": "active lanes", "ph": "C", "ts": record.step, "pid": pid,
                           "tid": 0, "args": {"lanes": record.lanes}})
        return {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"generator": "simt.Trace", "time_unit": "1 us = 1 step"}}

    def to_chrome(self, path: str | Path) -> None:
        """Write the trace as Chrome trace-event JSON to ``path`` (Perfetto opens it)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.chrome_events(), f, separators=(",", ":"))
