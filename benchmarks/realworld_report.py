"""Time every kernel of the real-world gallery against NumPy, in one process, and verify it.

For each kernel of :data:`benchmarks.realworld.KERNELS`, at its small size (about 1e3
lanes) and at its largest size: the inputs are put on the device, the kernel and its
NumPy equivalent each run once (warm-up), then the launch is timed (best of N) and so is
the NumPy equivalent on the same data (best of N, several calls a try for fast ones);
the device's result is then checked against the NumPy reference (a wrong result prints
WRONG and the script exits with status 1).  The table gives the ratio simt / NumPy, the
steps issued and the SIMD efficiency; the last lines give the geometric mean of the
ratios at each size.

NumPy's BLAS (used by the GEMM baseline ``a @ b`` only) runs on one thread unless
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` are set: simt itself never calls BLAS, and
one thread is the comparison the gallery's targets use.

The CALL/RET branch tree in its natural layout (subroutine after its caller) issues
far more steps than the callee-first layout under the minimum-PC schedule; both are
sized to finish within their step budget.

Usage::

    python benchmarks/realworld_report.py            # about 1-2 minutes on 2 cores
    python benchmarks/realworld_report.py --repeat 5 --kernels scan,gemm_tiled
"""

from __future__ import annotations

import os

if __name__ == "__main__":   # before NumPy loads its BLAS; importing the module changes nothing
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simt  # noqa: E402
from benchmarks import realworld  # noqa: E402
from benchmarks import workloads as w  # noqa: E402


@dataclass
class Measured:
    """One kernel at one size."""

    kernel: str
    size: int
    lanes: int
    simt_s: float
    numpy_s: float
    steps: int
    efficiency: float
    ok: bool

    @property
    def ratio(self) -> float:
        return self.simt_s / self.numpy_s


def _numpy_time(fn, repeat: int, floor: float = 0.005) -> float:
    """Best time of ``fn`` over ``repeat`` tries, each try long enough to time (>= ``floor``)."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, min(1000, int(floor / max(once, 1e-7))))
    return w.best_of(fn, repeat, number)


def measure(name: str, size: int, repeat: int, dev: simt.Device) -> Measured:
    """Set up ``name`` at ``size``, warm it up, time simt and NumPy, verify."""
    work = realworld.get(name).setup(dev, size)
    try:
        result = work.run()
        work.baseline()
        simt_s = w.best_of(work.run, repeat)
        numpy_s = _numpy_time(work.baseline, repeat)
        ok = work.check()
    finally:
        work.free()
    return Measured(name, size, work.lanes, simt_s, numpy_s, result.stats.steps,
                    result.stats.simd_efficiency, ok)


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def render(rows: list[Measured]) -> str:
    """A markdown table of ``rows`` and the geometric means of the ratios by size class."""
    head = ["kernel", "size", "lanes", "simt", "NumPy", "simt / NumPy", "steps",
            "SIMD eff.", "verified"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r.kernel} | {r.size:,} | {r.lanes:,} | {_time(r.simt_s)} | "
                     f"{_time(r.numpy_s)} | {r.ratio:,.1f} | {r.steps:,} | "
                     f"{r.efficiency:.2f} | {'yes' if r.ok else 'WRONG'} |")
    lines.append("")
    for label, pick in (("small", 0), ("largest", 1)):
        ratios = [r.ratio for i, r in enumerate(rows) if i % 2 == pick]
        if ratios:
            geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
            lines.append(f"Geometric mean of simt / NumPy at the {label} sizes: "
                         f"{geomean:,.1f} ({len(ratios)} kernels)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--kernels", default="",
                        help="comma-separated names (default: the whole gallery)")
    args = parser.parse_args(argv)
    selected = [k for k in args.kernels.split(",") if k] or realworld.names()
    for name in selected:
        realworld.get(name)
    dev = simt.Device()
    rows = []
    started = time.perf_counter()
    for name in selected:
        entry = realworld.get(name)
        for size in (entry.small, entry.large):
            rows.append(measure(name, size, args.repeat, dev))
            print(f"  {name} at {size:,}: {rows[-1].ratio:,.1f}x NumPy", file=sys.stderr)
    print(f"Real-world gallery, best of {args.repeat}, one process "
          f"({time.perf_counter() - started:.0f} s)\n")
    print(render(rows))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
