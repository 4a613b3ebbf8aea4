"""Cost per active lane of ALU steps and shared-memory accesses on fragmented lanes.

Each lane loads a selector from a buffer; lanes whose selector is non-zero branch
past a body of ``--count`` copies of one instruction, the others run it, so every
copy is one step over the active lanes only.  The same kernel with an empty body
is the baseline, and the cost of one step per active lane is
``(t(body) - t(empty)) / (count * active lanes)``.

The selectors choose the lane-set form the steps run in (see
docs/architecture.md):

* ``masked``: a random half of the lanes (a mask over the span);
* ``index``: a random tenth of the lanes (an index array);
* ``periodic``: lanes whose index has bit 0, 1 or 3 clear (``(i & k) == 0``
  over the whole launch: one window repeating with period ``2k``, the shape the
  exchange steps of a bitonic sort run on).

The bodies: ``alu`` (``add.u32 r3, r3, r2``), ``lds`` (``lds.u32 r3, [shared +
r8]``, the lane's own slot) and ``sts`` (``sts.u32 [shared + r8], r3``).  Every
run is checked against NumPy.  Targets: ALU <= 2 ns and shared accesses <= 5 ns
per active lane.  The default clock is this process's CPU time (``--clock wall``
for elapsed time; the same on an idle machine, noisier on a shared one).

Usage::

    python benchmarks/fragmented.py                  # 1e6 lanes, best of 7
    python benchmarks/fragmented.py --lanes 262144 --repeat 3
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

BLOCK = 256
SHAPES = ("masked", "index", "periodic1", "periodic2", "periodic8")
BODIES = {"alu": "    add.u32 r3, r3, r10\n",
          "lds": "    lds.u32 r3, [shared + r8]\n",
          "sts": "    sts.u32 [shared + r8], r3\n"}
TARGETS = {"alu": 2.0, "lds": 5.0, "sts": 5.0}

_KERNEL = """
; args: r0=selectors r1=values r2=out (u32); shared = 4 * blockDim
    mov_imm.u32 r5, 2
    shl.u64 r6, r255, r5
    shl.u32 r8, r252, r5
    ldg.u32 r10, [r1 + r6]
    ldg.u32 r11, [r0 + r6]
    mov_imm.u32 r3, 7
    sts.u32 [shared + r8], r3
    mov_imm.u32 r9, 0
    setne.u32 p0, r11, r9
    bra.p0 @skip
{body}skip:
    stg.u32 [r2 + r6], r3
    exit
"""


def selectors(shape: str, n: int, seed: int = 0) -> np.ndarray:
    """The per-lane selectors (0: the lane runs the body)."""
    rng = np.random.default_rng(seed)
    if shape == "masked":
        return (rng.random(n) < 0.5).astype(np.uint32)
    if shape == "index":
        return (rng.random(n) >= 0.1).astype(np.uint32)
    k = int(shape.removeprefix("periodic"))
    return (np.arange(n) & k).astype(np.uint32)


def expected(body: str, sel: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """What the kernel stores, computed with NumPy."""
    out = np.full(sel.size, 7, np.uint32)
    if body == "alu":
        out += np.where(sel == 0, values * np.uint32(count), np.uint32(0))
    return out


def measure(dev: simt.Device, body: str, shape: str, n: int, count: int, repeat: int,
            clock) -> tuple[float, int]:
    """Seconds per body step per active lane, and the active lanes."""
    sel = selectors(shape, n)
    active = int(np.count_nonzero(sel == 0))
    values = np.random.default_rng(1).integers(0, 1 << 20, n, dtype=np.uint32)
    bufs = [dev.upload(sel), dev.upload(values), dev.alloc(4 * n)]
    launches = []
    for k in (0, count):
        prog = simt.assemble(_KERNEL.format(body=BODIES[body] * k))
        launches.append(lambda prog=prog: dev.launch(
            prog, grid=n // BLOCK, block=BLOCK, args=tuple(bufs),
            shared_bytes=4 * BLOCK))
    best = [float("inf")] * 2
    for _ in range(repeat):
        for i, run in enumerate(launches):
            t = clock()
            run()
            best[i] = min(best[i], clock() - t)
            if not np.array_equal(dev.download(bufs[2], np.uint32),
                                  expected(body, sel, values, count if i else 0)):
                raise SystemExit(f"wrong result: {body} on {shape} lanes")
    for buf in bufs:
        dev.free(buf)
    return (best[1] - best[0]) / (count * active), active


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=1 << 20)
    parser.add_argument("--count", type=int, default=32, help="body instructions")
    parser.add_argument("--repeat", type=int, default=7, help="best of N")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    n = args.lanes // BLOCK * BLOCK
    dev = simt.Device()
    print(f"{n:,} lanes, {args.count} steps per body, best of {args.repeat} ({args.clock} time)\n")
    print("| body | lanes | active | ns per active lane | target | result |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for body in BODIES:
        for shape in SHAPES:
            t, active = measure(dev, body, shape, n, args.count, args.repeat, clock)
            ok = t * 1e9 <= TARGETS[body]
            failed += not ok
            print(f"| {body} | {shape} | {active:,} | {t * 1e9:.2f} | <= {TARGETS[body]:g} | "
                  f"{'pass' if ok else 'FAIL'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
