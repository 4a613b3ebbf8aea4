"""asv suite for the real-world gallery (:mod:`benchmarks.realworld`).

Every kernel at its small size (about 1e3 lanes) and its largest size: ``time_launch``
times one ``dev.launch`` (two for the shared-memory histogram: counts, then merge),
``time_numpy`` the NumPy equivalent on the same data, ``track_steps`` the instructions
issued (the CALL/RET branch tree's natural layout against its callee-first layout shows
reconvergence).  ``setup`` runs the kernel once and verifies its result against NumPy
(a wrong result fails the benchmark instead of publishing a number).
"""

from __future__ import annotations

import simt

from . import realworld
from . import workloads as w


class RealWorld:
    """One gallery kernel at one size, with its NumPy equivalent."""

    params = [realworld.names(), ["small", "large"]]
    param_names = ["kernel", "size"]
    timeout = 600
    repeat = (1, 5, 30.0)

    def setup(self, kernel, size):
        entry = realworld.get(kernel)
        lanes = entry.small if size == "small" else entry.large
        self.work = w.prepared(entry.setup(simt.Device(), lanes))

    def teardown(self, kernel, size):
        self.work.free()

    def time_launch(self, kernel, size):
        self.work.run()

    def time_numpy(self, kernel, size):
        self.work.baseline()

    def track_steps(self, kernel, size):
        return self.work.run().stats.steps

    track_steps.unit = "steps"
