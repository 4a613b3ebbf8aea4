"""The tuned constants: every size or ratio at which a faster way of computing the same
result takes over, each with the measurement that set it.

Every threshold here is behaviour-neutral: both sides compute the same bits (the tests
force each side), only the cost differs.  Constants that define behaviour (the contract's
limits, bit patterns, the default piece size) are not here.  The owning modules import
their constant under the name they always had (``from .thresholds import
MASK_MIN_SPAN``), so tests may still patch it there, e.g.
``simt.machine.lanes.MASK_MIN_SPAN``.

Figures are from the development machine (a shared 2-core AMD EPYC VM, Python 3.11,
NumPy 2.4) and are best-of-N times; rerun the script named to check them on another
machine.  ``benchmarks/thresholds.py`` measures the crossovers of the machine's
primitives (``python benchmarks/thresholds.py mask nan marks compress``).
"""

from __future__ import annotations

__all__ = ["LEND_MIN_BYTES", "MASK_MIN_SPAN", "MASK_MIN_DENSITY", "COMPACT_LOAD_DENSITY",
           "PERIODIC_MIN_SPAN",
           "COMPRESS_MIN_LANES", "NAN_COUNT_MAX", "FMA_CHUNK", "FMA_DENSE", "MARK_SPAN",
           "RAMP_CACHE_LIMIT", "SHARED_GRID_MEMO", "MMAP_THRESHOLD",
           "TRIM_THRESHOLD", "MIN_PIECE_SECONDS", "OPS_CHUNK",
           "OPS_REDUCE_CHUNK", "OPS_GEMM_CHUNK"]

# ---------------------------------------------------------------- lane sets (lanes.py)
#: Divergent lanes become a ``Masked`` set (computed over their span and blended in)
#: when the span has at least this many lanes, else an index array.  ``thresholds.py
#: mask``, density 1/4: span 512, blend 2.22 us vs gather+scatter 1.98 us; span 1,024,
#: 2.29 vs 2.64 us; span 4,096, 3.65 vs 5.34 us.
MASK_MIN_SPAN = 1024
#: ... and at least this fraction of the span is active.  ``thresholds.py mask`` at a
#: span of 2^20: blend 0.76-1.07 ns per span lane, gather+scatter 1.10-1.63 ns per span
#: lane at densities 0.2-0.5 (1.9 at 0.1); when first set, a kernel's blend cost ~0.35 ns
#: per span lane against ~1.1 ns per active lane for gather plus scatter (break-even near
#: 0.3).  A quarter keeps the kernels' extra passes over the span on the winning side.
MASK_MIN_DENSITY = 0.25
#: A global load of a Masked step with fewer active lanes than this fraction of its span
#: resolves and gathers only the active lanes (``kernels/memory.py``); denser ones read
#: the whole span, where scattering the values back costs more than the positions saved.
#: CSR SpMV of the gallery at 2^20 rows, CPU time of its loads a launch (best of 2 runs
#: of 3): 0 (never) 229 ms, 0.4 208, 0.5 199, 0.6 206, 0.7 217.
COMPACT_LOAD_DENSITY = 0.5
#: A split's true lanes are recognized as one window repeating with a period (Tiles)
#: only over spans of at least this many lanes; below, a mask or an index array is
#: cheaper.  Bitonic sort of the gallery (``benchmarks/realworld.py``, blocks of 1,024,
#: best of 25, 2 cores) at 1,024 / 4,096 / 16,384 lanes: windows from spans of 1,024
#: 12.0 / 13.4 / 18.0 ms, from spans of 4,096 10.2 / 13.3 / 18.0 ms (before periodic
#: windows: 11.7 / 13.6 / 22.0 ms).
PERIODIC_MIN_SPAN = 4096

# ---------------------------------------------------------------- values (affine.py)
#: Pieces with fewer lanes compute affine values as arrays: on a few dozen lanes one
#: NumPy call cost less than the Python arithmetic on a compressed value and its later
#: materialization (when set: 1.5 us per instruction saved on the 32-lane straight-line
#: kernel of ``python -m benchmarks.report``).  ``thresholds.py compress`` (a chain of
#: 200 dependent integer instructions on the lane id) now shows the two within 10% of
#: each other at 16 to 1,024 lanes (about 2.5 us per instruction): the choice matters
#: little today.
COMPRESS_MIN_LANES = 64

# ---------------------------------------------------------------- ALU (alu/_common.py)
#: Up to this many elements, "is there a NaN" counts ``isnan``; above, one minimum
#: reduction (NaN exactly when an element is).  ``thresholds.py nan`` (float32):
#: 2,048 elements, count 1.10 us vs minimum 1.13 us; 4,096, 1.31 vs 1.22 us; 2^20,
#: 95 vs 50 us.
NAN_COUNT_MAX = 2048

# ---------------------------------------------------------------- fma (alu/fused.py)
#: fma.f32 computes its float64 route chunk by chunk, this many lanes at a time, with
#: its float64 temporaries (1 MiB each) allocated once and reused; a chunk whose cheap
#: screen finds a flagged lane (midpoint, tiny result, NaN) settles it at once.  Set with
#: ``python benchmarks/float_cliffs.py`` (10^6 lanes, 2 loaded cores): fma.f32 3.6-4.0x
#: mad.f32, 1.52 ms against 1.67 ms with chunks of 2^16 lanes (each chunk has a fixed
#: cost of ~6 us); chunks of 2^14, 2^15 and 2^18 lanes were slower.
FMA_CHUNK = 1 << 17
#: When more than one lane in this many is flagged, fma recomputes every lane and
#: selects instead of patching the flagged lanes.  Set with ``benchmarks/float_cliffs.py``
#: (random data against the ``midpoints`` stress data, where most lanes are flagged).
FMA_DENSE = 8

# ---------------------------------------------------------------- scatter (memory.py)
#: A store's duplicate-address test marks the keys in a scratch boolean array over their
#: range when the range is at most this many times the number of keys; sparser keys are
#: sorted.  ``thresholds.py marks`` (65,536 keys): marks 118 us at ratio 1, 150 us at 8,
#: 240 us at 32, sorting 2.3 ms throughout.  At 32 a tiled transpose's stores (keys over
#: a range ~16x their count) are marked: 8 ms -> 3 ms per 262,144 lanes
#: (``benchmarks/transpose_scatter.py``); the scratch stays at 32 bytes per key.
MARK_SPAN = 32

# ---------------------------------------------------------------- loads (kernels/memory.py)
#: A load of consecutive elements leaves its register viewing device memory (instead of
#: a copy) when the register's row spans at least this many bytes; below, the copy costs
#: less than tracking the view (about 1 us per load and 0.3 us per later store).
#: ``benchmarks/report.py``'s vector add (the two loads' copies were 2 x 23-57 us per
#: piece of 262,144 lanes) against the straight-line and small-launch rows.
LEND_MIN_BYTES = 1 << 16

# ---------------------------------------------------------------- ramps (values.py)
#: ``0, 1, ..., n - 1`` arrays up to this length are cached per dtype.  A memory bound,
#: not a measured crossover: the cached ramp of a 64-bit dtype stays within 8 MiB.
RAMP_CACHE_LIMIT = 1 << 20

# ---------------------------------------------------------------- shared grids (kernels/memory.py)
#: Shared-memory position grids remembered by value (across pieces and launches) before
#: the memo starts over.  A bound, not a measured crossover: a grid is a few integers,
#: and a launch meets a few dozen (the 1e6-lane tree reduction: 18 per piece, the same
#: in each of its first three pieces, 36 in all).
SHARED_GRID_MEMO = 512

# ---------------------------------------------------------------- allocator (allocator.py)
#: glibc's mmap and trim thresholds, raised once per process so that a piece's working
#: arrays reuse freed heap instead of faulting their pages in again (about 0.5 us per
#: 4 KiB page, more than the arithmetic on it).  With them a launch after the first takes
#: no page faults (check with ``resource.getrusage().ru_minflt``) and a process that ran
#: a large launch runs small ones as fast as a fresh one (``python -m benchmarks.report``
#: runs every item in a fresh process; ``benchmarks/rss_probe.py`` bounds the memory).
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20

# ---------------------------------------------------------------- parallel (parallel/runner.py)
#: A launch's pieces go to worker processes only when each takes at least this long (as
#: last measured, per lane).  ``python -m benchmarks.parallel_speedup`` on 2 cores,
#: 2026-12-04: Mandelbrot (2^20 lanes, 256 iterations, 4 pieces of ~0.23 s since the
#: speed rounds) runs 1.6-1.7x faster on 2 workers; with every workload sent to the
#: workers (threshold 0.01 s) CSR SpMV (pieces of ~0.06 s) runs at 0.47x, bitonic sort
#: and the neighbour exchange at 1.1-1.3x.  At the earlier 0.3 s Mandelbrot stayed
#: in-process (1.0x); 0.15 s sends it to the workers and keeps SpMV 2.5x below the bound.
MIN_PIECE_SECONDS = 0.15

# ---------------------------------------------------------------- simt.ops (ops/_launch.py)
#: Elements per chunk of a ``simt.ops`` operation (a multiple of 2,048, the elements
#: one reduction block folds).  ``python benchmarks/chunkbench.py``, float32, ns per
#: element at 4,096 / 65,536 / 131,072 / 262,144 / 2^20: add 46.5 / 6.2 / 4.8 / 5.2 /
#: 8.5, sum 581 / 52 / 34 / 25.5 / 25.3 (n = 2^21): element-wise ops are fastest at
#: 131,072, where a reduction is within 1.4x of its best.
OPS_CHUNK = 131072

#: Elements per chunk of a ``simt.ops`` reduction's first pass (a multiple of
#: ``OPS_CHUNK``).  A reduction launch issues its block tree (about 80 steps) whatever
#: its size, so few large launches win: ``sum`` of 2^20 float32 took 48.6, 30.0, 18.2
#: and 16.6 ms with chunks of 131,072, 262,144, 524,288 and 1,048,576 elements
#: (``python benchmarks/chunkbench.py``, 2 cores).  Staging stays at 4 MiB of float32.
OPS_REDUCE_CHUNK = 1 << 20

#: Elements of ``a`` (and of the result) per ``simt.ops.gemm`` launch, in whole tile rows.
#: A launch walks ``K`` (about 8 steps per ``k``) whatever its size: 512 x 512 float32
#: took 0.51 s in two launches of 131,072 lanes and 0.43 s in one of 262,144 (best of 3,
#: 2 cores).
OPS_GEMM_CHUNK = 1 << 20
