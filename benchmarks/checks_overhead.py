"""How much ``check=`` costs: guarded vecadd and the shared-memory tree reduction.

Runs each workload unchecked and with ``check="race"``, ``"sync"``, ``"init"`` and
``"all"`` (best of ``--repeat`` launches each, after a warm-up launch) and prints the
time ratio to the unchecked launch.  The contract's bound is 10x for ``check="all"`` at
2^20 lanes.  Usage::

    python benchmarks/checks_overhead.py [--lanes 1048576] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):       # run as a script: import the benchmarks package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simt  # noqa: E402

from benchmarks import workloads as w  # noqa: E402

__all__ = ["CheckedDevice", "WORKLOADS", "measure"]

CHECKS = (None, "race", "sync", "init", "all")


class CheckedDevice(simt.Device):
    """A device whose launches run the checks in ``check`` (None: none)."""

    def __init__(self, check=None, **kw) -> None:
        super().__init__(**kw)
        self.check = check

    def launch(self, *args, **kw):
        kw.setdefault("check", self.check)
        return super().launch(*args, **kw)


WORKLOADS = {
    "vecadd": lambda dev, n: w.vector_add(dev, n),
    "tree_reduction": lambda dev, n: w.tree_reduction(dev, n),
}


def measure(name: str, lanes: int, repeat: int) -> dict:
    """Best times (seconds) of workload ``name`` for every entry of CHECKS."""
    dev = CheckedDevice()
    work = w.prepared(WORKLOADS[name](dev, lanes))
    times = {}
    try:
        for check in CHECKS:
            dev.check = check
            work.run()
            times[check] = w.best_of(work.run, repeat)
    finally:
        work.free()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=1 << 20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'workload':<16}{'check':<8}{'time (ms)':>12}{'ratio':>8}")
    for name in WORKLOADS:
        times = measure(name, args.lanes, args.repeat)
        base = times[None]
        for check, t in times.items():
            print(f"{name:<16}{str(check):<8}{t * 1e3:>12.2f}{t / base:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
