"""Measure the crossovers behind the tuned constants of ``simt/machine/thresholds.py``.

Each item times the two ways a threshold chooses between, on the sizes around it, in
this process (best of ``--repeat``, interleaved), and prints where the cheaper one
changes:

* ``mask``: divergent lanes over a span, blended (``dst ^= (dst ^ new) * mask`` over
  the span, what a :class:`~simt.machine.lanes.Masked` step costs) against compacted
  (index array, gather, scatter) -- per density at a large span, then per span at
  density 1/4 (``MASK_MIN_DENSITY``, ``MASK_MIN_SPAN``);
* ``nan``: whether a float array holds a NaN, by counting ``isnan`` against one
  minimum reduction, per size (``NAN_COUNT_MAX``);
* ``marks``: whether keys are distinct, by marking a boolean array over their range
  against sorting them, per range/keys ratio (``MARK_SPAN``);
* ``compress``: a straight-line chain of integer arithmetic on the lane id (each result
  feeding the next), stored at the end, with values kept compressed against computed as
  arrays, per piece size (``COMPRESS_MIN_LANES``).

Usage::

    python benchmarks/thresholds.py              # all items, ~30 s on 2 cores
    python benchmarks/thresholds.py nan marks    # some items
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
from simt.machine import affine  # noqa: E402


def _best(fns, repeat: int) -> list[float]:
    """Best time of each function, measured round by round (interleaved)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def _blend_and_compact(span: int, density: float, repeat: int, rng) -> tuple[float, float]:
    dst = rng.integers(0, 1 << 31, span).astype(np.uint32)
    new = rng.integers(0, 1 << 31, span).astype(np.uint32)
    mask = rng.random(span) < density

    def blend():
        m = mask.view(np.uint8).astype(np.uint32)
        np.bitwise_xor(dst, np.multiply(np.bitwise_xor(dst, new), m), out=dst)

    def compact():
        idx = np.flatnonzero(mask)
        dst[idx] = new[idx]
    return tuple(_best([blend, compact], repeat))


def mask(repeat: int) -> None:
    rng = np.random.default_rng(0)
    print("mask: blend over the span vs compact (index, gather, scatter)")
    span = 1 << 20
    for density in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        b, c = _blend_and_compact(span, density, repeat, rng)
        print(f"  span {span:>8,}  density {density:4.2f}: blend {b * 1e9 / span:6.3f} ns/span lane,"
              f" compact {c * 1e9 / span:6.3f} ns/span lane  -> {'blend' if b < c else 'compact'}")
    for span in (64, 128, 256, 512, 1024, 2048, 4096, 16384):
        b, c = _blend_and_compact(span, 0.25, repeat * 20, rng)
        print(f"  span {span:>8,}  density 0.25: blend {b * 1e6:7.2f} us, compact {c * 1e6:7.2f} us"
              f"  -> {'blend' if b < c else 'compact'}")


def nan(repeat: int) -> None:
    rng = np.random.default_rng(1)
    print("nan: count isnan vs one minimum reduction")
    for size in (256, 512, 1024, 2048, 4096, 8192, 32768, 1 << 20):
        x = rng.standard_normal(size).astype(np.float32)
        count = lambda: np.count_nonzero(np.isnan(x))       # noqa: E731
        least = lambda: np.minimum.reduce(x, axis=None)      # noqa: E731
        a, b = _best([count, least], repeat * (50 if size < 1 << 16 else 2))
        print(f"  {size:>9,} elements: count {a * 1e6:8.2f} us, minimum {b * 1e6:8.2f} us"
              f"  -> {'count' if a < b else 'minimum'}")


def marks(repeat: int) -> None:
    rng = np.random.default_rng(2)
    n = 1 << 16
    print(f"marks: {n:,} distinct keys over a range of ratio x keys, marks vs sort")
    for ratio in (1, 2, 4, 8, 16, 32):
        keys = rng.choice(n * ratio, n, replace=False).astype(np.int64)

        def mark():
            lo = int(keys.min())
            m = np.zeros(int(keys.max()) - lo + 1, bool)
            m[keys - lo] = True
            return np.count_nonzero(m) == n

        def sort():
            s = np.sort(keys)
            return bool((s[1:] != s[:-1]).all())
        a, b = _best([mark, sort], repeat * 4)
        print(f"  ratio {ratio:>3}: marks {a * 1e6:8.1f} us, sort {b * 1e6:8.1f} us"
              f"  -> {'marks' if a < b else 'sort'}")


_CHAIN = """
    mov_imm.u64 r1, 3
    mov_imm.u64 r2, 7
    add.u64 r3, r255, r2
""" + "\n".join(f"    {op}.u64 r{4 + (k + 1) % 4}, r{4 + k % 4 if k else 3}, r{1 + k % 2}"
                for k, op in enumerate(["add", "mul", "sub", "add"] * 50)) + """
    mov_imm.u32 r8, 3
    shl.u64 r9, r255, r8
    stg.u64 [r0 + r9], r4
    exit
"""


def compress(repeat: int) -> None:
    print("compress: 200 affine instructions, compressed vs arrays (us per instruction)")
    program = simt.assemble(_CHAIN)
    dev = simt.Device()
    out = dev.alloc(8 * 8 * 1024)
    saved = affine.COMPRESS_MIN_LANES
    try:
        for lanes in (16, 32, 64, 128, 256, 1024):
            times = []
            for limit in (0, 1 << 40):
                affine.COMPRESS_MIN_LANES = limit
                dev.launch(program, block=lanes, args=(out,))
                times.append(_best([lambda: dev.launch(program, block=lanes, args=(out,))],
                                   repeat * 4)[0])
            on, off = (t * 1e6 / 202 for t in times)
            print(f"  {lanes:>5} lanes: compressed {on:6.2f}, arrays {off:6.2f}"
                  f"  -> {'compressed' if on < off else 'arrays'}")
    finally:
        affine.COMPRESS_MIN_LANES = saved


ITEMS = {"mask": mask, "nan": nan, "marks": marks, "compress": compress}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="*", choices=[[], *ITEMS], default=[])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name in args.items or ITEMS:
        ITEMS[name](args.repeat)


if __name__ == "__main__":
    main()
