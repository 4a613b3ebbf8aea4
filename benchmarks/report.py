"""Measure the performance targets of docs/performance.md; print them as a markdown table.

Methodology (the page's): every workload is set up with its buffers on the device and
run once before timing; only ``dev.launch`` is timed, best of N; the NumPy baseline
computes the same result on the same data in the same process, best of N; memory is the
RSS increase during the launch, measured by ``rss_probe.py``.  Each item runs in a fresh
Python process, so that no item inherits another's state.  Every workload's result is
also checked against NumPy (a wrong result prints WRONG RESULT).

Usage::

    python benchmarks/report.py            # about 10 s on a 2-core machine
    python benchmarks/report.py --quick    # fewer repetitions (labelled in the header)

The output (markdown) is what ``docs/performance.md`` quotes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import simt  # noqa: E402
from benchmarks import rss_probe  # noqa: E402
from benchmarks import workloads as w  # noqa: E402

MILLION = 1_000_000


@dataclass
class Row:
    """One line of the report: a measured value against its target."""

    workload: str
    simt: str
    baseline: str
    ratio: float
    target: str
    limit: float
    ok: bool = True

    @property
    def passed(self) -> bool:
        return self.ok and self.ratio <= self.limit

    def cells(self) -> list[str]:
        result = "WRONG RESULT" if not self.ok else ("pass" if self.passed else "FAIL")
        return [self.workload, self.simt, self.baseline, f"{self.ratio:.2f}", self.target, result]


def _sci(n: int) -> str:
    """``100000000`` -> ``"1e8"`` (powers of ten), else digits with separators."""
    digits = str(n)
    if digits.startswith("1") and set(digits[1:]) <= {"0"} and n >= 10:
        return f"1e{len(digits) - 1}"
    return f"{n:,}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _measure(work: w.Workload, repeat: int) -> tuple[float, float | None, bool]:
    """Best-of-``repeat`` launch time and baseline time of a prepared workload, and its check."""
    w.prepared(work)
    launch = w.best_of(work.run, repeat)
    baseline = w.best_of(work.baseline, repeat) if work.baseline else None
    ok = work.check()
    work.free()
    return launch, baseline, ok


def vector_add_rows(repeat: int, repeat_large: int) -> list[Row]:
    """Guarded f32 vector add, 1e6 lanes, in each offset variant, vs ``np.add(a, b, out=c)``."""
    rows = []
    for variant in ("shl", "mul", "cvt"):
        t, base, ok = _measure(w.vector_add(simt.Device(), MILLION, variant), repeat)
        rows.append(Row(f"guarded f32 vector add, 1e6 lanes, block 256 (offset by `{variant}`)",
                        _ms(t), f"{_ms(base)} `np.add(a, b, out=c)`", t / base, "<= 25x", 25,
                        ok=ok))
    return rows


def if_else_rows(repeat: int, repeat_large: int) -> list[Row]:
    """If/else on random-sign data vs the same kernel on all-positive data, per variant."""
    rows = []
    for variant, how in (("join", ""), ("stores", ", a store in each path")):
        dev = simt.Device()
        t_random, _, ok_random = _measure(w.if_else(dev, MILLION, "random", variant=variant),
                                          repeat)
        t_positive, _, ok_positive = _measure(w.if_else(dev, MILLION, "positive",
                                                        variant=variant), repeat)
        rows.append(Row(f"if/else kernel, 1e6 lanes, random-sign data{how}", _ms(t_random),
                        f"{_ms(t_positive)} same kernel, all-positive data",
                        t_random / t_positive, "<= 3x", 3, ok=ok_random and ok_positive))
    return rows


def tree_reduction_rows(repeat: int, repeat_large: int) -> list[Row]:
    """Shared-memory tree reduction of 1e6 f32 vs ``a.sum()``, per variant."""
    rows = []
    for variant, how in (("gallery", ""), ("cuda", ", written CUDA-style")):
        t, base, ok = _measure(w.tree_reduction(simt.Device(), MILLION, variant=variant), repeat)
        rows.append(Row(f"shared-memory tree reduction of 1e6 f32, block 256, partials per "
                        f"block{how}", _ms(t), f"{_ms(base)} `a.sum()`", t / base, "<= 250x",
                        250, ok=ok))
    return rows


def straight_line_rows(repeat: int, repeat_large: int) -> list[Row]:
    """Straight-line ALU kernel of 1,000 instructions on 32 lanes: time per instruction."""
    rows = []
    for operands, how in (("uniform", "uniform operands"), ("lanes", "operands per lane")):
        t, _, ok = _measure(w.straight_line(simt.Device(), lanes=32, length=1000,
                                            operands=operands), repeat)
        rows.append(Row(f"straight-line ALU kernel, 1,000 instructions, 32 lanes, {how} "
                        "(ratio = us per instruction)", _ms(t), "—", t / 1000 * 1e6,
                        "<= 3 us per instruction", 3, ok=ok))
    return rows


def scaling_rows(repeat: int, repeat_large: int) -> list[Row]:
    """Time per lane-instruction of the vector add at 1e7 lanes vs 1e5 lanes.

    Linear scaling means a large launch costs no more per lane-instruction than a small
    one (at most 1.5x); a large launch that amortizes fixed costs better passes too.

    1e5 lanes run first: a process that has run a larger launch runs later small ones
    faster (the allocator keeps memory it would otherwise return to the OS).
    """
    dev = simt.Device()
    per_lane_instruction = {}
    ok = True
    for lanes, reps in ((100_000, repeat), (10_000_000, repeat_large)):
        work = w.prepared(w.vector_add(dev, lanes))
        count = work.run().stats.lane_instructions
        per_lane_instruction[lanes] = w.best_of(work.run, reps) / count
        ok = ok and work.check()
        work.free()
    small, large = per_lane_instruction[100_000], per_lane_instruction[10_000_000]
    return [Row(f"time per lane-instruction, vector add, 1e7 lanes (best of {repeat_large}) "
                "vs 1e5 lanes", f"{large * 1e9:.3f} ns", f"{small * 1e9:.3f} ns at 1e5 lanes",
                large / small, "1e7 within 1.5x of 1e5", 1.5, ok=ok)]


def memory_row(lanes: int) -> Row:
    """RSS increase during the guarded vector add over ``lanes`` (fresh subprocess)."""
    result = rss_probe.probe(lanes)
    mib = 1 << 20
    return Row(f"guarded vector add over {_sci(lanes)} lanes (buffers "
               f"{result['buffer_bytes'] / 1e9:.1f} GB): RSS increase during the launch "
               "(ratio = GiB)", f"{result['increase'] / mib:,.1f} MiB",
               f"{result['rss_before'] / mib:,.0f} MiB RSS before", result["increase"] / (1 << 30),
               "<= 1 GiB", 1.0, ok=result["ok"])


#: The measured rows, each produced in its own fresh process (see ``_rows_in_subprocess``).
ROWS = {
    "vector_add": vector_add_rows,
    "if_else": if_else_rows,
    "tree_reduction": tree_reduction_rows,
    "straight_line": straight_line_rows,
    "scaling": scaling_rows,
}


def _rows_in_subprocess(name: str, repeat: int, repeat_large: int) -> list[Row]:
    """Run ``ROWS[name]`` in a fresh Python process and return its rows.

    A fresh process per item keeps the items independent: a process that has run a
    large launch runs later small ones faster (glibc keeps memory it would otherwise
    return to the OS), so measuring everything in one process would depend on order.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--row", name,
           "--repeat", str(repeat), "--repeat-large", str(repeat_large)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"report item {name} failed: {done.stderr.strip()}")
    return [Row(**fields) for fields in json.loads(done.stdout.strip().splitlines()[-1])]


def machine() -> str:
    """A one-line description of this machine and software."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        ram = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30):.0f} GiB"
    except (ValueError, OSError, AttributeError):
        ram = "? GiB"
    return (f"{cpu}, {os.cpu_count()} cores, {ram} RAM, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, NumPy {np.__version__}, "
            f"simt {simt.__version__}")


def render(rows: list[Row], header: str) -> str:
    """Return the rows as a markdown table under ``header``."""
    titles = ["workload", "simt", "baseline", "ratio", "target", "result"]
    lines = [header, "", "| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    passed = sum(row.passed for row in rows)
    lines += ["", f"{passed} of {len(rows)} targets met."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="best of 5 (1e7 lanes: best of 2) instead of 20 (5)")
    parser.add_argument("--repeat", type=int, default=None, help="best of N for fast items")
    parser.add_argument("--memory-lanes", type=lambda s: int(float(s)), default=100_000_000,
                        help="lanes of the memory item (default 1e8)")
    parser.add_argument("--repeat-large", type=int, default=None,
                        help="best of N for the 1e7-lane item")
    parser.add_argument("--row", choices=list(ROWS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 20)
    repeat_large = args.repeat_large or (2 if args.quick else 5)
    if args.row:  # a child of _rows_in_subprocess
        rows = ROWS[args.row](repeat, repeat_large)
        print(json.dumps([dataclasses.asdict(row) for row in rows]))
        return 0
    rows = []
    for name in ROWS:
        rows += _rows_in_subprocess(name, repeat, repeat_large)
    rows.append(memory_row(args.memory_lanes))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "--quick, " if args.quick else ""
    header = (f"Measured {now} ({mode}best of {repeat}; 1e7 lanes best of {repeat_large}; "
              f"memory: the larger of two launches, fresh process)\n\n"
              f"Machine: {machine()}")
    print(render(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
