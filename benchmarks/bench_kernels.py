"""asv suites for the executor: per-opcode throughput, divergence patterns, barriers.

Per-opcode kernels run a short guarded prologue and then 32 instructions of one kind;
``op="none"`` is the prologue alone, so the cost of one instruction over all lanes is
about ``(t(op) - t("none")) / 32``.  One representative type per instruction category:
arithmetic ``add.f32``, logic ``and.u32``, compare and select ``setlt.f32`` + ``sel``,
conversion ``cvt.f32.i32``, transcendental ``exp.f32``, memory ``ldg`` + ``stg``,
reduction ``reduce.add.f32`` and Atlas-specific ``res.accum``.  Control flow and
synchronization are measured by the divergence and barrier suites.
"""

from __future__ import annotations

import simt

from . import kernels
from . import workloads as w


class OpcodeThroughput:
    """32 instructions of one kind at 32, 1e4 and 1e6 lanes."""

    params = [list(kernels.OPCODES), [32, 10_000, 1_000_000]]
    param_names = ["op", "lanes"]

    def setup(self, op, lanes):
        self.work = w.prepared(w.opcode(simt.Device(), op, lanes))

    def teardown(self, op, lanes):
        self.work.free()

    def time_launch(self, op, lanes):
        self.work.run()


class Divergence:
    """Two 8-instruction paths chosen per lane by data: no divergence, parity, random."""

    params = [["none", "parity", "random"], [10_000, 1_000_000]]
    param_names = ["pattern", "lanes"]

    def setup(self, pattern, lanes):
        self.work = w.prepared(w.divergence(simt.Device(), lanes, pattern))

    def teardown(self, pattern, lanes):
        self.work.free()

    def time_launch(self, pattern, lanes):
        self.work.run()


class Barriers:
    """Neighbour exchange through shared memory: 16 rounds, 32 barriers per block."""

    params = [[10_240, 1_048_576], [32, 256, 1024]]
    param_names = ["lanes", "block"]

    def setup(self, lanes, block):
        self.work = w.prepared(w.neighbour_exchange(simt.Device(), lanes, block))

    def teardown(self, lanes, block):
        self.work.free()

    def time_launch(self, lanes, block):
        self.work.run()
