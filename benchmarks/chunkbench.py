"""Measure the time per element of ``simt.ops`` for several chunk sizes.

``python benchmarks/chunkbench.py [n]`` prints, for each candidate chunk size, the best of
three runs of ``add`` and ``sum`` on ``n`` float32 elements (default 2**21), in
nanoseconds per element (the chunk of ``sum`` is :data:`simt.ops._launch.REDUCE_CHUNK`).
The chosen :data:`simt.ops._launch.CHUNK` and ``REDUCE_CHUNK`` are documented in
:mod:`simt.ops._launch`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from simt import Device  # noqa: E402
from simt.ops import _launch  # noqa: E402
from simt.ops.elementwise import add  # noqa: E402
from simt.ops.reductions import sum as ops_sum  # noqa: E402

CANDIDATES = (4096, 16384, 65536, 131072, 262144, 1 << 20)


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(n: int = 1 << 21) -> list[tuple[int, float, float]]:
    """``(chunk, add ns/element, sum ns/element)`` for each candidate chunk size."""
    a = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    dev = Device()
    saved = _launch.CHUNK, _launch.REDUCE_CHUNK
    rows = []
    try:
        for chunk in CANDIDATES:
            _launch.CHUNK = _launch.REDUCE_CHUNK = chunk
            rows.append((chunk, _best(lambda: add(a, a, device=dev)) / n * 1e9,
                         _best(lambda: ops_sum(a, device=dev)) / n * 1e9))
    finally:
        _launch.CHUNK, _launch.REDUCE_CHUNK = saved
    return rows


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 1 << 21
    print(f"n = {n} float32; ns per element, best of 3")
    print(f"{'CHUNK':>9} {'add':>8} {'sum':>8}")
    for chunk, t_add, t_sum in measure(n):
        print(f"{chunk:>9} {t_add:>8.1f} {t_sum:>8.1f}")


if __name__ == "__main__":
    main()
