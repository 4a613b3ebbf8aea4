"""asv suites for ``check=``: guarded vecadd and the shared-memory tree reduction, checked.

Compare with the unchecked ``check=None`` rows: the contract bounds ``check="all"`` at
10x the unchecked time at 2^20 lanes (``checks_overhead.py`` prints the ratios).
"""

from __future__ import annotations

from . import workloads as w
from .checks_overhead import WORKLOADS, CheckedDevice


class Checks:
    """One launch with each check, at 2^16 and 2^20 lanes."""

    params = [list(WORKLOADS), [None, "race", "sync", "init", "all"], [1 << 16, 1 << 20]]
    param_names = ["workload", "check", "lanes"]

    def setup(self, workload, check, lanes):
        self.work = w.prepared(WORKLOADS[workload](CheckedDevice(check), lanes))

    def teardown(self, workload, check, lanes):
        self.work.free()

    def time_launch(self, workload, check, lanes):
        self.work.run()
