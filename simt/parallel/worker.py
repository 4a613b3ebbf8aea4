"""What a worker runs: consecutive pieces of a launch on the launch's starting memory."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SimtError
from ..machine.events import LaunchInfo, Listeners
from ..machine.executor import Launch, run_piece
from ..machine.memory import DeviceMemory
from ..observe.stats import StatsObserver
from .record import Intervals, Recorder, gather_bytes, memory_keys
from .shm import attach

__all__ = ["MemorySpec", "Task", "PieceResult", "run_task", "ignore_interrupts"]


@dataclass
class MemorySpec:
    """How a worker finds the device memory a launch starts from.

    ``arrays`` maps a key (buffer handle; 0 the boundary pool) to either
    ``(shared-memory name, nbytes)`` or the bytes themselves (a uint8 array).
    ``used`` and ``limit`` are the device's budget, so a piece's working memory
    is accounted exactly as in the device process.
    """

    limit: int
    used: int
    arrays: dict


@dataclass
class Task:
    """Pieces ``(index, first block, blocks)`` of ``launch``, run one after the other."""

    launch: Launch
    pieces: list
    memory: MemorySpec


@dataclass
class PieceResult:
    """What one speculative piece did (see the package docstring)."""

    index: int
    reads: Intervals
    writes: Intervals
    data: dict                          # key -> the written bytes, interval after interval
    log: list = field(default_factory=list)     # ResAccum (classes, values) in issue order
    counters: tuple = ()                # StatsObserver.counters()
    error: SimtError | None = None
    seconds: float = 0.0                # how long the piece ran


def ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C is the device process's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _memory(spec: MemorySpec) -> DeviceMemory:
    memory = DeviceMemory(spec.limit)
    memory.used = spec.used
    for key, source in spec.arrays.items():
        if isinstance(source, tuple):
            data = attach(*source)
        else:
            data = np.asarray(source, np.uint8)
            if not data.flags.writeable:
                data = data.copy()
        memory.adopt(key, data)
    return memory


def run_task(task: Task) -> list[PieceResult]:
    """Run the task's pieces in order; stop after a piece that raised an error."""
    memory = _memory(task.memory)
    launch = task.launch
    keys = memory_keys(memory)
    info = LaunchInfo(launch.program, launch.geometry, launch.shared_bytes, launch.piece_lanes,
                      memory)
    resonance = np.zeros(96, np.float64)        # never read: ResAccum logs
    out = []
    for index, block0, blocks in task.pieces:
        recorder = Recorder(keys)
        stats = StatsObserver()
        stats.on_launch(info)
        log: list = []
        error = None
        start = time.perf_counter()
        try:
            run_piece(launch, memory, Listeners([stats, recorder]), block0, blocks, resonance,
                      log)
        except SimtError as exc:
            error = exc
        reads, writes = recorder.take()
        arrays = {k: (memory.boundary if k == 0 else memory.buffers[k]) for k in writes}
        data = {k: gather_bytes(arrays[k], s, e) for k, (s, e) in writes.items()}
        out.append(PieceResult(index, reads, writes, data, log, stats.counters(), error,
                               time.perf_counter() - start))
        if error is not None:
            break
    return out
