"""The NumPy floors under two performance targets, beside the simt launches themselves.

An exact emulation of a kernel must make certain passes over each piece's lanes whatever
its bookkeeping costs.  This script times those passes alone, as plain NumPy calls on
arrays of the same sizes and in the same pieces (262,144 lanes), and the simt launch in
the same process, so that a target can be compared with what the passes already cost:

* guarded vector add, 1e6 lanes, target <= 3x ``np.add(a, b, out=c)``: per piece the add,
  computed straight into the output (as simt's forwarding does, ``kernels/forward.py``),
  and the exact NaN check (one minimum over the result: which NaN NumPy's add keeps for
  two NaN operands depends on its loop, so two NaNs are resolved separately);
* if/else (``c = 2a if a > 0 else -a``), 1e6 lanes, target random-sign data <= 1.5x
  all-positive data: with all-positive data the compare, the split's count and the add
  into the output (``a + a`` adds a register to itself: two NaNs of one payload need no
  check); with random signs the compare and the count, the mask widened to the value's
  width, both paths over the span (a masked step computes over its span) and their select
  straight into the output (three integer passes: ``np.where``, ``np.copyto(where=)`` and
  ufuncs with ``where=`` run several times slower on a random mask, see ``--selects``).

Each floor is the fewest passes known to give the result exactly, fewer than simt itself
makes for the random if/else (it blends into the register, then stores it).

The targets are in docs/performance.md ("The performance targets").

Usage::

    python benchmarks/floors.py                # best of 30
    python benchmarks/floors.py --repeat 100 --selects

It prints each floor as a ratio to its baseline beside simt's ratio; the gap between the
two is what the step loop, the pieces' set-up and the bookkeeping of lane sets cost.
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

from benchmarks import workloads  # noqa: E402

N = 1_000_000
PIECE = 262_144


def best(fn, repeat: int) -> float:
    """The best wall time of ``fn()`` over ``repeat`` calls after two warm-up calls, in ms."""
    fn()
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def pieces(n: int = N) -> list[slice]:
    return [slice(i, min(i + PIECE, n)) for i in range(0, n, PIECE)]


def vector_add_floor(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    """Per piece: the add into the output, then its NaN check."""
    for s in pieces(a.size):
        np.minimum.reduce(np.add(a[s], b[s], out=c[s]))


def _blend(dst: np.ndarray, values: np.ndarray, mask: np.ndarray,
           out: np.ndarray | None = None) -> None:
    """``out = where(mask, values, dst)`` by widening the mask and three integer passes
    (simt's blend); ``out`` None: into ``dst``."""
    flags = mask.view(np.uint8).astype(np.uint32)
    d, v = dst.view(np.uint32), values.view(np.uint32)
    into = d if out is None else out.view(np.uint32)
    diff = np.bitwise_xor(d, v, out=None if out is None else into)
    np.multiply(diff, flags, out=diff)
    np.bitwise_xor(d, diff, out=into)


def if_else_floor(a: np.ndarray, c: np.ndarray, random: bool) -> None:
    """Per piece, the passes the if/else kernel needs (see the module docstring)."""
    zero = np.float32(0.0)
    for s in pieces(a.size):
        x = a[s]
        taken = x > zero
        count = np.count_nonzero(taken)
        if random and 0 < count < taken.size:
            _blend(np.negative(x), np.add(x, x), taken, out=c[s])
        else:
            np.add(x, x, out=c[s])


def selects(repeat: int) -> list[tuple[str, float]]:
    """The blend against NumPy's own selects on one piece with a random mask, in us."""
    rng = np.random.default_rng(0)
    mask = rng.random(PIECE) < 0.5
    x = rng.random(PIECE, np.float32)
    y = rng.random(PIECE, np.float32)
    dst = y.copy()
    rows = [("blend (widen + 3 integer passes)", lambda: _blend(dst, x, mask)),
            ("np.where(mask, x, y)", lambda: np.where(mask, x, y)),
            ("np.copyto(dst, x, where=mask)", lambda: np.copyto(dst, x, where=mask)),
            ("np.putmask(dst, mask, x)", lambda: np.putmask(dst, mask, x)),
            ("np.add(x, x, out=dst, where=mask)", lambda: np.add(x, x, out=dst, where=mask))]
    return [(name, best(fn, repeat) * 1e3) for name, fn in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--selects", action="store_true",
                        help="also time NumPy's selects against the blend on one piece")
    args = parser.parse_args(argv)
    dev = simt.Device()
    rng = np.random.default_rng(1)
    a = rng.standard_normal(N).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    c = np.empty_like(a)
    positive = np.abs(a) + np.float32(1e-3)

    t_numpy = best(lambda: np.add(a, b, out=c), args.repeat)
    t_floor = best(lambda: vector_add_floor(a, b, c), args.repeat)
    vecadd = workloads.vector_add(dev, N)
    t_simt = best(vecadd.run, args.repeat)
    assert vecadd.check(), "vector add: wrong result"
    print(f"guarded vector add, 1e6 lanes: np.add {t_numpy:.3f} ms; NumPy floor "
          f"{t_floor:.3f} ms ({t_floor / t_numpy:.2f}x); simt {t_simt:.3f} ms "
          f"({t_simt / t_numpy:.2f}x); target 3x")

    f_random = best(lambda: if_else_floor(a, c, True), args.repeat)
    f_positive = best(lambda: if_else_floor(positive, c, False), args.repeat)
    random_run = workloads.if_else(dev, N, "random")
    positive_run = workloads.if_else(dev, N, "positive")
    s_random = best(random_run.run, args.repeat)
    s_positive = best(positive_run.run, args.repeat)
    assert random_run.check() and positive_run.check(), "if/else: wrong result"
    print(f"if/else, 1e6 lanes, random vs all-positive: NumPy floor {f_random:.3f} / "
          f"{f_positive:.3f} ms ({f_random / f_positive:.2f}x); simt {s_random:.3f} / "
          f"{s_positive:.3f} ms ({s_random / s_positive:.2f}x); target 1.5x")
    if args.selects:
        for name, us in selects(args.repeat):
            print(f"  one piece, random mask: {name:<36} {us:8.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
