"""The device side of parallel launches: workers, the speculative run and the ordered commit."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
import threading
import time
import weakref
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from ..errors import WorkerError
from ..isa.flow import successors
from ..isa.program import Program
from ..machine.alu import silenced
from ..machine.events import LaunchInfo, Listeners
from ..machine.executor import Launch, piece_plan, run, run_piece, working_bytes
from ..machine.launch import add_in_order
from ..machine.memory import DeviceMemory
from ..observe.stats import StatsObserver
from . import shm
from .record import Intervals, Recorder, memory_keys, overlaps, scatter_bytes, union
from .worker import MemorySpec, PieceResult, Task, ignore_interrupts, run_task

__all__ = ["Parallel", "worth_parallel"]

_POOL_OPS = frozenset({"PoolAlloc", "PoolFree", "PoolLoad", "PoolStore"})


#: the time a piece must take (as last measured, per lane) to be sent to a worker
from ..machine.thresholds import MIN_PIECE_SECONDS  # noqa: E402


def _has_loop(program: Program) -> bool:
    """Whether a BRA or LOOP can jump backwards."""
    return any(t <= pc for pc, (ins, nxt) in enumerate(zip(program, successors(program)))
               if ins.spec.name in ("BRA", "LOOP") for t in nxt)


def worth_parallel(program: Program) -> bool:
    """Whether a launch of ``program`` with several pieces goes to the workers.

    Exactness rule: programs with pool instructions run in-process (PoolAlloc
    and PoolFree read and write the device's pool table in serial order).
    Cost rule (:func:`pays`): programs without a backward branch run in-process.
    A launch of a program that passes both also runs in-process while its pieces,
    at the program's cost per lane last measured, would take less than
    :data:`MIN_PIECE_SECONDS` each (waking workers and moving write sets would
    cost more than they save); a program's first such launch runs in-process and
    measures that cost, later ones use it (and launches on workers update it).
    """
    return program.derived("parallel.pool_free", _pool_free) and pays(program)


def _pool_free(program: Program) -> bool:
    return not any(ins.spec.name in _POOL_OPS for ins in program)


def pays(program: Program) -> bool:
    """The cost rule: whether splitting a program's pieces over processes can pay.

    A program without a backward branch (BRA or LOOP to an earlier pc) issues
    each instruction once per lane: it is bound by memory traffic and NumPy's
    per-call overhead, and moving its write sets between processes costs about
    what the second core saves, so it runs in-process.
    """
    return program.derived("parallel.pays", _has_loop)


def _context():
    """How local workers start: forked when that is safe (Linux, no other thread in this
    process: fast, and scripts need no ``__main__`` guard), else spawned."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _kill(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a local pool's processes now, busy or not, and wait for them to be gone."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        try:
            p.kill()
        except (OSError, ValueError, AttributeError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        try:
            p.join(5)
        except (OSError, ValueError, AssertionError):
            pass


def _stop(pool: cf.ProcessPoolExecutor | None) -> None:
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


class Parallel:
    """Runs launches of one device over worker processes or a user's executor.

    Parameters
    ----------
    workers
        Local worker processes (``executor`` None), or pieces in flight at once.
    executor
        A user's ``concurrent.futures.Executor``; it stays the user's (never shut down).
    """

    def __init__(self, workers: int, executor: cf.Executor | None) -> None:
        self.workers = workers
        self.executor = executor
        self._pool: cf.ProcessPoolExecutor | None = None
        self._shared = shm.SharedArrays() if executor is None and shm.AVAILABLE else None
        if self._shared is not None:
            weakref.finalize(self, self._shared.release)
        self._finalizer: weakref.finalize | None = None
        #: pieces of the last launch run on workers: (committed, re-run in-process)
        self.last: tuple[int, int] | None = None

    # ------------------------------------------------------------------ workers
    def _executor(self) -> cf.Executor:
        if self.executor is not None:
            return self.executor
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=_context(),
                                                initializer=ignore_interrupts)
            self._finalizer = weakref.finalize(self, _stop, self._pool)
        return self._pool

    @property
    def processes(self) -> list[int]:
        """Process ids of the running local workers (empty for a user's executor)."""
        if self._pool is None:
            return []
        return [p.pid for p in (getattr(self._pool, "_processes", None) or {}).values()]

    def close(self) -> None:
        """Stop the local workers (a user's executor is left alone); memory stays valid."""
        pool, self._pool = self._pool, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        _stop(pool)

    def _abandon(self) -> None:
        """After Ctrl-C or a dead worker: no local worker may stay busy."""
        pool, self._pool = self._pool, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if pool is not None:
            _kill(pool)

    # ------------------------------------------------------------------ launches
    def in_flight(self, launch: Launch, memory: DeviceMemory, pieces: int) -> int:
        """Pieces that may run at once: the workers, within the memory budget."""
        largest = working_bytes(launch, max(1, launch.piece_lanes
                                            // launch.geometry.lanes_per_block))
        room = (memory.limit - memory.used) // max(1, largest)
        return max(0, min(self.workers, pieces, room))

    def _spec(self, memory: DeviceMemory) -> MemorySpec:
        arrays: dict = {}
        if self._shared is not None:
            arrays.update(self._shared.share(memory))
        everything = dict(memory.buffers)
        everything[0] = memory.boundary
        for key, arr in everything.items():
            if key not in arrays:
                arrays[key] = arr
        return MemorySpec(memory.limit, memory.used, arrays)

    def launch(self, launch: Launch, memory: DeviceMemory, stats: StatsObserver
               ) -> np.ndarray | None:
        """Run ``launch`` with workers; None when it should run in-process instead."""
        self.last = None
        plan = piece_plan(launch)
        if len(plan) < 2 or not worth_parallel(launch.program):
            return None
        flight = self.in_flight(launch, memory, len(plan))
        if flight < 2:
            return None
        cost = _cost_of(launch.program)
        lanes = launch.geometry.lanes
        per_piece = cost.get("per_lane", 0.0) * lanes / len(plan)
        if per_piece < MIN_PIECE_SECONDS:
            return _measured(launch, memory, stats, cost)
        spec = self._spec(memory)
        if self.executor is None:       # local: one piece per task, mapped memory
            tasks = [[(i, *plan[i])] for i in range(len(plan))]
        else:                           # remote: memory travels with each task
            per = -(-len(plan) // flight)
            tasks = [[(i, *plan[i]) for i in range(s, min(s + per, len(plan)))]
                     for s in range(0, len(plan), per)]
        results = self._speculate(launch, spec, tasks, flight)
        stats.on_launch(LaunchInfo(launch.program, launch.geometry, launch.shared_bytes,
                                   launch.piece_lanes, memory))
        cost["per_lane"] = sum(r.seconds for r in results.values()) / lanes
        starts = {task[0][0] for task in tasks}
        self.last = (0, 0)
        with silenced():        # NumPy floating-point warnings never escape a launch
            return _commit(launch, memory, plan, starts, results, stats, self)

    def _speculate(self, launch: Launch, spec: MemorySpec, tasks: list, flight: int
                   ) -> dict[int, PieceResult]:
        """Run every task (at most ``flight`` at once); results by piece index."""
        executor = self._executor()
        results: dict[int, PieceResult] = {}
        pending: set = set()
        queue = list(reversed(tasks))
        failed_at = None            # lowest piece whose speculative run raised
        try:
            while queue or pending:
                while queue and len(pending) < flight:
                    task = queue.pop()
                    if failed_at is not None and task[0][0] > failed_at:
                        continue        # pieces after a fault: only if it proves stale
                    pending.add(executor.submit(run_task, Task(launch, task, spec)))
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    for r in self._result(future):
                        results[r.index] = r
                        if r.error is not None and (failed_at is None or r.index < failed_at):
                            failed_at = r.index
        except BaseException:
            for future in pending:
                future.cancel()
            if self.executor is None:
                self._abandon()
            raise
        return results

    def _result(self, future: cf.Future) -> list[PieceResult]:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise WorkerError(f"a worker process died during the launch ({exc})") from None
        except cf.CancelledError:
            raise WorkerError("the executor cancelled a piece of the launch") from None
        except Exception as exc:    # anything the executor or transport raised
            raise WorkerError(f"a worker task failed: {type(exc).__name__}: {exc}") from exc


_COSTS: dict = {}      # program (equal programs share) -> {"per_lane": seconds}


def _cost_of(program: Program) -> dict:
    """The measured cost record of ``program`` (kept for the last 256 programs)."""
    cost = _COSTS.pop(program, None)
    if cost is None:
        cost = {}
        if len(_COSTS) >= 256:
            del _COSTS[next(iter(_COSTS))]
    _COSTS[program] = cost
    return cost


def _measured(launch: Launch, memory: DeviceMemory, stats: StatsObserver, cost: dict
              ) -> np.ndarray:
    """Run in-process, learning the program's cost per lane for the next launch."""
    start = time.perf_counter()
    resonance = run(launch, memory, [stats])
    cost["per_lane"] = (time.perf_counter() - start) / launch.geometry.lanes
    return resonance


def _commit(launch: Launch, memory: DeviceMemory, plan: list, starts: set,
            results: dict[int, PieceResult], stats: StatsObserver, owner: Parallel
            ) -> np.ndarray:
    """Apply the pieces in serial order; re-run in-process any whose speculation is stale.

    ``dirty`` holds every byte at which the committed memory may differ from what
    the current task's speculative run saw (see the package docstring).
    """
    resonance = np.zeros(96, np.float64)
    keys = memory_keys(memory)
    committed: Intervals = {}
    dirty: Intervals = {}
    for index, (block0, blocks) in enumerate(plan):
        if index in starts:
            dirty = committed
        r = results.get(index)
        if r is not None and not overlaps(r.reads, dirty):
            for key, (s, e) in r.writes.items():
                scatter_bytes(memory.boundary if key == 0 else memory.buffers[key], s, e,
                              r.data[key])
            committed = union(committed, r.writes)
            owner.last = (owner.last[0] + 1, owner.last[1])
            if r.error is not None:
                raise r.error
            for classes, values in r.log:
                add_in_order(resonance, classes, values)
            stats.add(r.counters)
            continue
        owner.last = (owner.last[0], owner.last[1] + 1)
        recorder = Recorder(keys, reads=False)
        try:
            run_piece(launch, memory, Listeners([stats, recorder]), block0, blocks, resonance)
        finally:
            written = recorder.take()[1]
        committed = union(committed, written)
        dirty = union(dirty, written)
        if r is not None:
            dirty = union(dirty, r.writes)
    return resonance
