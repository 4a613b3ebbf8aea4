"""Per-instruction cost of the float instructions with cliffs: fma against mad, f64 against f32.

Each measured kernel loads three operands per lane and then issues ``--count`` copies of
one instruction (``fma.f32 r10, r7, r8, r9``, ``mad.f32 ...``, ``add.f32 r10, r7, r8``,
...), then stores the last result; the same kernel with no copies is the baseline, so the
cost of one instruction over all lanes is ``(t(op) - t(baseline)) / count``.  Everything
runs in one process, interleaved round by round (best of N), so that the ratios compare
like with like; the default clock is this process's CPU time, which leaves out the time
other processes hold the cores (``--clock wall`` for elapsed time: the same on an idle
machine, noisier on a shared one).  Every result is verified: add and mad against NumPy,
fma against the exact rational reference (:func:`simt.reference.scalar.fma`) on a sample
of lanes that includes every lane whose float64 sum lies on a float32 midpoint.

Two data sets: ``random`` (standard normal operands), on which the targets apply, and
``midpoints``, a stress case (small integers whose fused result is half-way between two
floats of the type in most lanes, the data on which a fused multiply-add has to decide
ties), reported without a target.

Targets: ``fma.f32 <= 4x mad.f32``, ``fma.f64 <= 10x mad.f64``, ``add.f64 <= 3x add.f32``.
The exit status is 1 when a target is missed or a result is wrong.

Usage::

    python benchmarks/float_cliffs.py              # 1e6 lanes, best of 21, ~20 s
    python benchmarks/float_cliffs.py --clock wall # elapsed time
    python benchmarks/float_cliffs.py --lanes 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import simt  # noqa: E402
from benchmarks import workloads as w  # noqa: E402
from simt.isa.types import DType  # noqa: E402
from simt.reference import scalar  # noqa: E402

BLOCK = 256

_KERNEL = """
; {count} x {op}.{ty}; args: r0=a r1=b r2=c r3=out ({ty}) r4=n (u64)
    setge.u64 p0, r255, r4
    bra.p0 @done
    mov_imm.u32 r5, {shift}
    shl.u64 r6, r255, r5
    ldg.{ty} r7, [r0 + r6]
    ldg.{ty} r8, [r1 + r6]
    ldg.{ty} r9, [r2 + r6]
    mov.{ty} r10, r9
{body}    stg.{ty} [r3 + r6], r10
done:
    exit
"""

_OPERANDS = {"add": "r10, r7, r8", "mad": "r10, r7, r8, r9", "fma": "r10, r7, r8, r9"}

#: (numerator, denominator, target): the ratios the script reports.
RATIOS = (
    (("fma", "f32"), ("mad", "f32"), 4.0),
    (("fma", "f64"), ("mad", "f64"), 10.0),
    (("add", "f64"), ("add", "f32"), 3.0),
)


def kernel(op: str | None, ty: str, count: int) -> str:
    """The measuring kernel: ``count`` copies of ``op.ty`` (``op=None``: the baseline)."""
    body = "" if op is None else f"    {op}.{ty} {_OPERANDS[op]}\n" * count
    return _KERNEL.format(op=op or "no", ty=ty, count=count if op else 0,
                          shift=2 if ty == "f32" else 3, body=body)


def operands(ty: str, data: str, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``(a, b, c)`` of ``n`` values of ``ty`` for the data set ``data``."""
    rng = np.random.default_rng(seed)
    dtype = np.float32 if ty == "f32" else np.float64
    if data == "random":
        return tuple(rng.standard_normal(n).astype(dtype) for _ in range(3))
    if data == "midpoints":
        # a*b + c is an integer of (precision + 1) or (precision + 2) bits: odd results
        # lie half-way between two floats of the type
        digits = 24 if ty == "f32" else 53
        half = (digits + 1) // 2
        a = rng.integers(1 << (half - 1), 1 << half, n)
        b = rng.integers(1 << (half - 1), 1 << half, n)
        c = rng.integers(1 << (digits - 2), 1 << (digits - 1), n) * 2 + 1   # odd, exact
        return a.astype(dtype), b.astype(dtype), c.astype(dtype)
    raise ValueError(f"data must be 'random' or 'midpoints', got {data!r}")


def expected_sample(op: str, ty: str, a, b, c, lanes: np.ndarray) -> np.ndarray:
    """The exact result of ``op`` at ``lanes``, from NumPy (add, mad) or the reference (fma)."""
    if op == "add":
        return (a + b)[lanes]
    if op == "mad":
        return (a * b + c)[lanes]
    dt = DType.F32 if ty == "f32" else DType.F64
    bits = np.uint32 if ty == "f32" else np.uint64
    ab, bb, cb = (x[lanes].view(bits) for x in (a, b, c))
    out = [scalar.fma(int(x), int(y), int(z), dt) for x, y, z in zip(ab, bb, cb)]
    return np.array(out, dtype=bits).view(a.dtype)


def check_lanes(ty: str, a, b, c, rng: np.random.Generator, sample: int = 400) -> np.ndarray:
    """A random sample of lanes plus (up to ``sample``) lanes whose float64 ``a*b + c``
    is a float32 midpoint, the lanes a fused multiply-add must round with care."""
    n = a.size
    lanes = rng.choice(n, min(n, sample), replace=False)
    if ty == "f32":
        s = a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)
        tie = np.flatnonzero((s.view(np.uint64) & ((1 << 29) - 1)) == 1 << 28)
        lanes = np.union1d(lanes, tie[:sample])
    return np.sort(lanes)


class Case:
    """One kernel ready to launch on prepared buffers, with its verification."""

    def __init__(self, dev: simt.Device, op: str | None, ty: str, data: str, n: int,
                 count: int) -> None:
        self.op, self.ty, self.data = op, ty, data
        self.a, self.b, self.c = operands(ty, data, n)
        self.dev = dev
        self.bufs = [dev.upload(x) for x in (self.a, self.b, self.c)]
        self.bufs.append(dev.alloc(self.a.nbytes))
        self.prog = simt.assemble(kernel(op, ty, count))
        self.grid = w.grid_for(n, BLOCK)
        self.args = (*self.bufs, np.uint64(n))

    def run(self) -> simt.LaunchResult:
        return self.dev.launch(self.prog, grid=self.grid, block=BLOCK, args=self.args)

    def verify(self) -> bool:
        got = self.dev.download(self.bufs[3], self.a.dtype)
        if self.op is None:
            return bool(np.array_equal(got.view(np.uint8), self.c.view(np.uint8)))
        lanes = check_lanes(self.ty, self.a, self.b, self.c, np.random.default_rng(1))
        want = expected_sample(self.op, self.ty, self.a, self.b, self.c, lanes)
        bits = np.uint32 if self.ty == "f32" else np.uint64
        return bool(np.array_equal(got[lanes].view(bits), want.view(bits)))

    def free(self) -> None:
        for buf in self.bufs:
            self.dev.free(buf)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(n: int, count: int, repeat: int, data_sets: tuple[str, ...],
            clock: str = "wall") -> dict:
    """Per-instruction seconds of every (op, ty, data) and whether each result verified.

    ``clock="cpu"`` times with this process's CPU time, which leaves out the time other
    processes hold the cores (a loaded machine); ``"wall"`` is elapsed time.
    """
    now = CLOCKS[clock]
    dev = simt.Device()
    cases = {}
    for data in data_sets:
        for ty in ("f32", "f64"):
            for op in (None, "add", "mad", "fma"):
                case = Case(dev, op, ty, data, n, count)
                case.run()
                cases[op, ty, data] = case
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):  # interleaved: every kernel once per round
        for key, case in cases.items():
            start = now()
            case.run()
            best[key] = min(best[key], now() - start)
    results = {}
    for (op, ty, data), case in cases.items():
        if op is not None:
            per = (best[op, ty, data] - best[None, ty, data]) / count
            results[op, ty, data] = (per, case.verify())
    ok_base = all(case.verify() for (op, _, _), case in cases.items() if op is None)
    for case in cases.values():
        case.free()
    return {"per_instruction": results, "baseline_ok": ok_base}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=lambda s: int(float(s)), default=1_000_000)
    parser.add_argument("--count", type=int, default=8, help="instructions per kernel")
    parser.add_argument("--repeat", type=int, default=21, help="best of N rounds")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                        help="elapsed time, or this process's CPU time (steadier on a "
                             "loaded machine)")
    parser.add_argument("--data", choices=("random", "midpoints", "both"), default="both")
    args = parser.parse_args(argv)
    data_sets = ("random", "midpoints") if args.data == "both" else (args.data,)
    got = measure(args.lanes, args.count, args.repeat, data_sets, args.clock)
    per = got["per_instruction"]
    print(f"Per-instruction time over {args.lanes:,} lanes ({args.count} instructions per "
          f"kernel, best of {args.repeat}, {args.clock} clock, one process)\n")
    print("| instruction | data | us per instruction | ns per lane | verified |")
    print("|---|---|---|---|---|")
    for (op, ty, data), (seconds, ok) in per.items():
        print(f"| {op}.{ty} | {data} | {seconds * 1e6:,.0f} | {seconds / args.lanes * 1e9:.2f} "
              f"| {'yes' if ok else 'WRONG RESULT'} |")
    print("\n| ratio | data | measured | target | result |")
    print("|---|---|---|---|---|")
    failed = not got["baseline_ok"] or not all(ok for _, ok in per.values())
    for (num, den, target) in RATIOS:
        for data in data_sets:
            ratio = per[(*num, data)][0] / per[(*den, data)][0]
            if data == "random":
                result, goal = ("pass" if ratio <= target else "FAIL"), f"<= {target:g}x"
                failed |= ratio > target
            else:
                result, goal = "stress case", "—"
            print(f"| {'.'.join(num)} / {'.'.join(den)} | {data} | {ratio:.2f} | {goal} "
                  f"| {result} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
