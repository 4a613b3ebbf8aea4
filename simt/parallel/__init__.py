"""Parallel launches: a launch's pieces on worker processes, bit for bit as serially.

``simt.Device(workers=N)`` runs the pieces of a launch (consecutive whole
blocks, see docs/semantics.md, "Pieces") on N local worker processes;
``simt.Device(executor=ex)`` on any ``concurrent.futures.Executor``.  The
serial launch with the same ``piece_lanes`` is the definition of the result:
memory, resonance, statistics and the error raised are the same bit for bit,
for every program.  How (docs/howto/parallel.md has the picture):

1. **Speculate.**  Workers run pieces on the device memory *as it was when the
   launch started* (M0).  A :class:`~simt.parallel.record.Recorder` observer
   notes every byte of global memory (buffers, boundary pool) each piece loads
   and stores.  A piece's ResAccum contributions are logged as ordered
   ``(classes, values)`` arrays instead of being added; its statistics are
   counted by its own statistics observer.  A worker reports, per piece, the
   bytes read, the bytes written with their final values, the log, the
   counts and the error the piece raised, if any (then it stops its task).
2. **Commit in serial order.**  The device process takes the pieces in
   ascending order.  A piece whose speculation is *valid* (below) is
   committed: its written bytes are copied into device memory, its error (if
   any) is raised, else its log is replayed (:func:`simt.machine.launch.add_in_order`,
   as the serial launch adds) into the one running resonance and its counts are added.  A piece that is not valid, or
   has no speculative result, is re-run in-process on the committed memory,
   exactly as a serial launch runs it.

**Why this is exact.**  Blocks of different pieces share nothing but global
memory: registers, lanes, barriers and shared memory belong to one piece,
and the piece's instruction budget and working-memory reservation (the
worker accounts the device's ``used`` and ``limit``) are the same in either
place.  A piece is a deterministic function of the bytes it loads, so if
every byte it loaded had the same value in the speculative run as in the
serial run, it did exactly what the serial run does: the same stores of the
same values to the same bytes, the same ResAccum arrays in the same order,
the same counts, the same error at the same lane.  A worker task runs pieces
``s, s+1, ...`` one after the other on its own copy of M0, so before piece
``j`` of the task its memory is M0 plus the task's earlier pieces' writes,
while the serial memory is M0 plus the writes of pieces ``0 .. j-1``.  They
can differ only at bytes written by a piece before ``s`` or by a piece of the
task that was re-run (its speculative and its real writes); the commit keeps
exactly that *dirty* set, and a piece is valid when it loaded no dirty byte.  (A
per-lane gather's loads are recorded as their hull, a superset: it can only make a
valid piece re-run, which changes the time taken, never the result.)
Bytes the piece stored are committed as the piece left them, so later pieces
overwrite earlier ones as serially.  A piece that faults left its earlier
steps' stores in memory (faults are precise) and those are committed before
the error is raised; later pieces are never committed, so they leave no
trace.  Resonance is one float sum continued piece by piece in the serial
order, and the same function over the same arrays in the same order gives
the same bits (it defines which NaN a NaN sum keeps instead of leaving it to
NumPy's loop).  Statistics are sums over pieces.  Which pieces were re-run only
changes the time taken.

**What runs in-process** (the results are the same either way): launches of
one piece; launches with observers, checks or progress; programs with pool
instructions (PoolAlloc and PoolFree read and write the device's pool table
in serial order; PoolLoad/PoolStore reach pools: running these in-process is
the simple exact rule); launches whose pieces in flight would not fit
``memory_limit`` twice; and programs the cost rule says cannot pay
(:func:`worth_parallel`: without a backward branch a program is bound by
memory traffic and NumPy call overhead, and moving write sets costs more than
the second core saves).

**Memory.**  Local workers map device memory from POSIX shared memory
(:mod:`simt.parallel.shm`): a buffer is copied there once, the first time a
parallel launch runs, and stays there; workers map it copy-on-write, so
only write sets travel back.  The device process writes nothing while
workers run, and commits once all speculative results are in.  A user's
executor may be remote (Dask): every live buffer and the boundary pool are
pickled with each task, and a launch is cut into at most ``workers`` tasks of
consecutive pieces, so a launch ships device memory ``workers`` times.
"""

from .runner import Parallel, worth_parallel

__all__ = ["Parallel", "worth_parallel"]
