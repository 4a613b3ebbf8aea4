"""asv suites for the workloads of the performance targets (docs/performance.md), with
their NumPy baselines.

Methodology (the page's): buffers are on the device and the program has run once in
``setup``; only ``dev.launch`` is timed.  The NumPy baselines live in the same module
and see the same data, so ``asv`` results give the ratios directly; ``report.py`` prints
them against the targets.

=========================================  ==========================================
issue-5 workload                           benchmark
=========================================  ==========================================
guarded f32 vector add, 1e6 lanes          ``VectorAdd.time_launch`` (shl, mul, cvt)
                                           vs ``VectorAddNumPy.time_np_add``
if/else, random-sign vs all-positive data  ``IfElse.time_launch`` (random, positive;
                                           join, stores)
tree reduction of 1e6 f32, block 256       ``TreeReduction.time_launch`` (gallery,
                                           cuda) vs ``TreeReduction.time_np_sum``
straight-line ALU, 1,000 instr., 32 lanes  ``StraightLine.time_launch`` (uniform,
                                           lanes); per instruction = time / 1000
time per lane-instruction, 1e5 vs 1e7      ``Scaling.track_ns_per_lane_instruction``
guarded vector add over 1e8 lanes, memory  ``LargeVectorAdd.peakmem_launch`` (whole
                                           process; ``rss_probe.py`` measures the
                                           increase during the launch)
=========================================  ==========================================
"""

from __future__ import annotations

import simt

from . import workloads as w

MILLION = 1_000_000


class VectorAdd:
    """Guarded f32 vector add, 1e6 lanes, block 256, byte offsets computed three ways."""

    params = ["shl", "mul", "cvt"]
    param_names = ["offset"]

    def setup(self, variant):
        self.work = w.prepared(w.vector_add(simt.Device(), MILLION, variant))

    def teardown(self, variant):
        self.work.free()

    def time_launch(self, variant):
        self.work.run()

    def peakmem_launch(self, variant):
        self.work.run()


class VectorAddNumPy:
    """The NumPy baseline of :class:`VectorAdd`: ``np.add(a, b, out=c)`` on the same data."""

    def setup(self):
        self.work = w.prepared(w.vector_add(simt.Device(), MILLION))

    def teardown(self):
        self.work.free()

    def time_np_add(self):
        self.work.baseline()


class IfElse:
    """The if/else kernel on 1e6 lanes: random-sign data vs all-positive data, as in the
    gallery (paths join, one store) and with a store in each path."""

    params = (["random", "positive"], ["join", "stores"])
    param_names = ["data", "variant"]

    def setup(self, data, variant):
        self.work = w.prepared(w.if_else(simt.Device(), MILLION, data, variant=variant))

    def teardown(self, data, variant):
        self.work.free()

    def time_launch(self, data, variant):
        self.work.run()

    def time_np_where(self, data, variant):
        self.work.baseline()


class TreeReduction:
    """Shared-memory tree reduction of 1e6 f32, block 256, one partial per block (the
    gallery kernel and the same written CUDA-style)."""

    params = ["gallery", "cuda"]
    param_names = ["variant"]

    def setup(self, variant):
        self.work = w.prepared(w.tree_reduction(simt.Device(), MILLION, variant=variant))

    def teardown(self, variant):
        self.work.free()

    def time_launch(self, variant):
        self.work.run()

    def peakmem_launch(self, variant):
        self.work.run()

    def time_np_sum(self, variant):
        self.work.baseline()


class StraightLine:
    """A straight-line ALU kernel of 1,000 instructions on one 32-lane block, with operands
    equal in every lane or different per lane.

    The time per launch divided by 1000 is the dispatch cost per instruction (issue-5
    target: <= 3 us).
    """

    params = ["uniform", "lanes"]
    param_names = ["operands"]

    def setup(self, operands):
        self.work = w.prepared(w.straight_line(simt.Device(), lanes=32, length=1000,
                                               operands=operands))

    def time_launch(self, operands):
        self.work.run()


class Scaling:
    """The guarded vector add at 1e5 and 1e7 lanes: does time grow linearly with lanes?"""

    params = [100_000, 10_000_000]
    param_names = ["lanes"]
    timeout = 300

    def setup(self, lanes):
        self.work = w.prepared(w.vector_add(simt.Device(), lanes))
        self.lane_instructions = self.work.run().stats.lane_instructions

    def teardown(self, lanes):
        self.work.free()

    def time_launch(self, lanes):
        self.work.run()

    def track_ns_per_lane_instruction(self, lanes):
        return 1e9 * w.best_of(self.work.run, repeat=3) / self.lane_instructions

    track_ns_per_lane_instruction.unit = "ns"


class LargeVectorAdd:
    """Peak memory of the guarded vector add over 1e8 lanes (three 400 MB f32 buffers).

    asv's ``peakmem`` is the peak RSS of the whole benchmark process (interpreter,
    buffers and launch); ``benchmarks/rss_probe.py`` measures the increase during the
    launch alone, which is what the target bounds (<= 1 GiB).  The inputs are written in
    chunks, so no host copy of the 1.2 GB inputs is held.
    """

    params = [100_000_000]
    param_names = ["lanes"]
    timeout = 600

    def setup(self, lanes):
        self.work = w.prepared(w.vector_add(simt.Device(), lanes, host_copy=False))

    def teardown(self, lanes):
        self.work.free()

    def peakmem_launch(self, lanes):
        self.work.run()
