"""Time the same kernels on simt, NumPy, Numba's CUDA simulator and the Triton interpreter.

Two groups of kernels, written for each system from the same description, on the same data
(seed 0).  The ``micro`` group, float32 data from :func:`benchmarks.workloads.inputs`,
256 threads per block:

- ``vecadd``: guarded ``c[i] = a[i] + b[i]``;
- ``reduce``: per-block partial sums, a shared-memory tree with barriers (simt, Numba);
  the Triton language has no shared memory or barrier, so Triton uses ``tl.sum`` over
  the block, as in ``shared/reference/peers.md``;
- ``branch``: ``c = 2a if a > 0 else -a`` on random-sign data (``tl.where`` in Triton).

The ``gallery`` group: every kernel of the real-world gallery
(:data:`benchmarks.realworld.KERNELS`), the Numba versions in
:mod:`benchmarks.numba_gallery` (no Triton versions: their cells read "no version").  For a
gallery kernel, a size of N lanes runs the problem at the gallery's small size times N /
1000 (the small size is about 1e3 lanes; ``1e3`` is exactly it), and the lanes column
shows what was launched.

Method (as in ``peers.md`` §C.1): only the launch is timed, with the data already on the
device; best of ``--repeat`` when a run takes under two seconds, else one run.  Every
(system, kernel, size) runs in its own fresh subprocess under ``--timeout`` seconds.
simt and NumPy are timed in the same subprocess on the same data (simt after one
warm-up launch; NumPy computes the same result directly: ``np.add(a, b, out=c)``,
``a.sum()``, ``np.where(a > 0, a + a, -a)``; for the gallery, each entry's ``baseline``,
several calls a try when they are fast).  The peers' subprocesses get
``NUMBA_ENABLE_CUDASIM=1`` or ``TRITON_INTERPRET=1`` before the import; the Triton
interpreter gets one untimed warm-up launch, the Numba simulator (no compile step) a
warm-up launch of one block (micro group; a gallery launch's first run is timed with the
others, best of).  Every result is checked against NumPy.

The peers are optional and not part of simt's dependencies.  Install them with::

    pip install -e '.[peers]'          # Numba (its CUDA simulator), from pyproject.toml
    pip install triton torch           # the Triton interpreter, a CPU-only torch build

A peer that is not installed is skipped with a printed line.  The defaults are small
(1e3 and 1e4 lanes) because the Numba simulator needs about 108 us per thread and about
180 us more per thread and barrier; ``--sizes 1e3,1e4,1e5`` measures more.

Usage::

    python benchmarks/compare_peers.py [--sizes 1e3,1e4] [--kernels micro,gallery]
                                       [--peers numba,triton] [--repeat 3] [--timeout 120]
                                       [--clock wall|cpu]

``--kernels`` takes kernel names and the group names ``micro``, ``gallery`` and ``all``
(the default).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import realworld  # noqa: E402

MICRO = ("vecadd", "reduce", "branch")
GALLERY = tuple(realworld.names())
KERNELS = MICRO + GALLERY
GROUPS = {"micro": MICRO, "gallery": GALLERY, "all": KERNELS}
BLOCK = 256

#: peer -> (environment switch, modules it needs, column title).
PEERS = {
    "numba": ({"NUMBA_ENABLE_CUDASIM": "1"}, ("numba",), "Numba CUDA simulator"),
    "triton": ({"TRITON_INTERPRET": "1"}, ("triton", "torch"), "Triton interpreter, BLOCK=256"),
}

SLOW_RUN = 2.0  # seconds: slower runs are not repeated

#: ``--clock``: elapsed time, or the measuring process's CPU time (every thread of it:
#: the simulator runs a block's threads as Python threads) -- steadier than elapsed time
#: on a machine whose other processes compete for its cores.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_CLOCK_ENV = "SIMT_COMPARE_CLOCK"


def _clock():
    return CLOCKS[os.environ.get(_CLOCK_ENV, "wall")]


def _timed(launch, repeat: int) -> float:
    """Best time of ``launch()``; a first run slower than SLOW_RUN is not repeated."""
    clock = _clock()
    start = clock()
    launch()
    best = clock() - start
    if best < SLOW_RUN:
        for _ in range(repeat - 1):
            start = clock()
            launch()
            best = min(best, clock() - start)
    return best


def _baseline_time(fn, repeat: int, floor: float = 0.005) -> float:
    """Best time of a NumPy baseline, several calls a try when one is under ``floor``."""
    clock = _clock()
    start = clock()
    fn()
    number = max(1, min(1000, int(floor / max(clock() - start, 1e-7))))
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return best


def _expected(kernel: str, data: tuple) -> np.ndarray:
    """The exact NumPy result a kernel must produce (block partials for ``reduce``)."""
    a = data[0]
    if kernel == "vecadd":
        return a + data[1]
    if kernel == "branch":
        return np.where(a > 0, a + a, -a)
    from benchmarks.workloads import block_partials
    return block_partials(a, BLOCK)


def _close(kernel: str, got, data: tuple) -> bool:
    want = _expected(kernel, data)
    if kernel == "reduce":
        return bool(np.allclose(got, want, rtol=1e-5, atol=1e-4))
    return bool(np.array_equal(got, want))


# ---------------------------------------------------------------------------------------
# Peers: each function runs inside the peer's own subprocess.
# ---------------------------------------------------------------------------------------

def _numba(kernel: str, data: tuple, repeat: int) -> tuple[float, bool]:
    # The simulator runs a kernel by swapping a fake ``cuda`` module into the kernel's
    # *module globals*, so ``cuda`` must be a global name here, not a local one.
    global cuda, float32
    from numba import cuda, float32

    @cuda.jit
    def vecadd(a, b, c, n):
        i = cuda.grid(1)
        if i < n:
            c[i] = a[i] + b[i]

    @cuda.jit
    def branch(a, c, n):
        i = cuda.grid(1)
        if i < n:
            x = a[i]
            if x > 0:
                c[i] = x + x
            else:
                c[i] = -x

    @cuda.jit
    def reduce(a, partials, n):
        s = cuda.shared.array(256, float32)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        s[t] = a[i] if i < n else float32(0)
        cuda.syncthreads()
        stride = cuda.blockDim.x // 2
        while stride > 0:
            if t < stride:
                s[t] += s[t + stride]
            cuda.syncthreads()
            stride //= 2
        if t == 0:
            partials[cuda.blockIdx.x] = s[0]

    n = data[0].size
    grid = -(-n // BLOCK)
    ins = [cuda.to_device(x) for x in data]
    out = cuda.to_device(np.zeros(grid if kernel == "reduce" else n, np.float32))
    fn = {"vecadd": vecadd, "branch": branch, "reduce": reduce}[kernel]
    fn[1, BLOCK](*ins, out, min(n, BLOCK))  # warm-up: one block
    seconds = _timed(lambda: fn[grid, BLOCK](*ins, out, n), repeat)
    return seconds, _close(kernel, out.copy_to_host(), data)


def _triton(kernel: str, data: tuple, repeat: int) -> tuple[float, bool]:
    import torch
    import triton
    import triton.language as tl

    @triton.jit
    def vecadd(a_ptr, b_ptr, c_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        a = tl.load(a_ptr + offs, mask=mask)
        b = tl.load(b_ptr + offs, mask=mask)
        tl.store(c_ptr + offs, a + b, mask=mask)

    @triton.jit
    def branch(a_ptr, c_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(a_ptr + offs, mask=mask, other=0.0)
        tl.store(c_ptr + offs, tl.where(x > 0, x + x, -x), mask=mask)

    @triton.jit
    def reduce(a_ptr, p_ptr, n, BLOCK: tl.constexpr):
        pid = tl.program_id(0)
        offs = pid * BLOCK + tl.arange(0, BLOCK)
        x = tl.load(a_ptr + offs, mask=offs < n, other=0.0)
        tl.store(p_ptr + pid, tl.sum(x, axis=0))

    n = data[0].size
    grid = -(-n // BLOCK)
    ins = [torch.from_numpy(x) for x in data]
    out = torch.zeros(grid if kernel == "reduce" else n, dtype=torch.float32)
    fn = {"vecadd": vecadd, "branch": branch, "reduce": reduce}[kernel]

    def launch():
        fn[(grid,)](*ins, out, n, BLOCK=BLOCK)

    launch()  # warm-up: AST rewriting and interpreter set-up
    seconds = _timed(launch, repeat)
    return seconds, _close(kernel, out.numpy(), data)


def gallery_size(kernel: str, n: int) -> int:
    """The problem size at which gallery ``kernel`` runs for a size class of ``n`` lanes:
    its small size (about 1e3 lanes) times ``n / 1000``."""
    return max(1, round(realworld.get(kernel).small * n / 1000))


def _simt(kernel: str, n: int, repeat: int) -> dict:
    """Time simt (after one warm-up launch) and the NumPy baseline on the same data."""
    import simt
    from benchmarks import workloads as w

    if kernel in GALLERY:
        work = w.prepared(realworld.get(kernel).setup(simt.Device(), gallery_size(kernel, n)))
        try:
            seconds = _timed(work.run, repeat)
            numpy_seconds = _baseline_time(work.baseline, max(repeat, 5))
            return {"seconds": seconds, "numpy": numpy_seconds, "ok": work.check(),
                    "lanes": work.lanes}
        finally:
            work.free()
    make = {"vecadd": w.vector_add, "reduce": w.tree_reduction,
            "branch": lambda dev, size: w.if_else(dev, size, "random")}[kernel]
    work = w.prepared(make(simt.Device(), n))
    seconds = _timed(work.run, repeat)
    numpy_seconds = _baseline_time(work.baseline, max(repeat, 5))
    return {"seconds": seconds, "numpy": numpy_seconds, "ok": work.check(), "lanes": n}


def _child(system: str, kernel: str, n: int, repeat: int) -> None:
    """Entry point of a measuring subprocess: print one JSON line with the result."""
    if system == "simt":
        print(json.dumps(_simt(kernel, n, repeat)))
        return
    if kernel in GALLERY:       # Numba only: ``measure`` runs no Triton gallery child
        from benchmarks import numba_gallery

        result = numba_gallery.run(kernel, gallery_size(kernel, n),
                                   lambda launch: _timed(launch, repeat))
        print(json.dumps(result))
        return
    from benchmarks.workloads import inputs

    seconds, ok = {"numba": _numba, "triton": _triton}[system](kernel, inputs(kernel, n), repeat)
    print(json.dumps({"seconds": seconds, "ok": ok}))


def has_version(system: str, kernel: str) -> bool:
    """Whether ``kernel`` is written for ``system`` (Triton has no gallery versions)."""
    return not (system == "triton" and kernel in GALLERY)


def measure(system: str, kernel: str, n: int, repeat: int, timeout: float,
            clock: str = "wall") -> dict:
    """Measure ``kernel`` over ``n`` lanes (a gallery kernel: see :func:`gallery_size`) on
    ``system`` in a fresh subprocess.

    Every measurement gets a new process so that none inherits another's state (the
    allocator's, for one: a process that has run a large launch runs later small ones
    faster).

    Parameters
    ----------
    system : {"simt", "numba", "triton"}
    clock : {"wall", "cpu"}
        What the times are (see :data:`CLOCKS`).

    Returns
    -------
    dict
        ``{"seconds": s, "ok": bool}`` (simt also ``"numpy"``: the NumPy baseline's
        seconds, and ``"lanes"``), or ``{"error": text}`` (including timeouts).
    """
    env = dict(os.environ, **PEERS.get(system, ({},))[0])
    env[_CLOCK_ENV] = clock
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")      # GEMM's NumPy baseline on one thread, as in the gallery
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", system, kernel, str(n),
           str(repeat)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"killed at {timeout:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def installed(peer: str) -> bool:
    """Whether every module a peer needs can be imported (checked without importing)."""
    return all(importlib.util.find_spec(name) is not None for name in PEERS[peer][1])


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us" if seconds >= 1e-5 else f"{seconds * 1e6:.1f} us"


def _cell(result: dict | None, simt_seconds: float) -> tuple[str, str]:
    """Time and peer/simt ratio cells of a peer result (``{}``: no version written)."""
    if result is None:
        return "not installed", "—"
    if not result:
        return "no version", "—"
    if "error" in result:
        return result["error"], "—"
    mark = "" if result["ok"] else " (WRONG)"
    ratio = result["seconds"] / simt_seconds
    return _time(result["seconds"]) + mark, f"{ratio:,.1f}x" if ratio < 100 else f"{ratio:,.0f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e3,1e4",
                        help="comma-separated lane counts (default 1e3,1e4)")
    parser.add_argument("--kernels", default="all",
                        help="comma-separated names or groups: micro, gallery, all (default)")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds per measurement (default 120)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="elapsed (default) or process CPU time")
    parser.add_argument("--child", nargs=4, metavar=("SYSTEM", "KERNEL", "N", "REPEAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        system, kernel, n, repeat = args.child
        _child(system, kernel, int(n), int(repeat))
        return 0

    sizes = [int(float(s)) for s in args.sizes.split(",")]
    kernels = []
    for name in (k for k in args.kernels.split(",") if k):
        if name not in KERNELS and name not in GROUPS:
            parser.error(f"unknown kernel {name!r}; choose from {', '.join(GROUPS)}, "
                         f"{', '.join(KERNELS)}")
        kernels += [k for k in GROUPS.get(name, (name,)) if k not in kernels]
    peers = [p for p in args.peers.split(",") if p]
    for peer in peers:
        if peer not in PEERS:
            parser.error(f"unknown peer {peer!r}; choose from {', '.join(PEERS)}")
    available = []
    for peer in peers:
        if installed(peer):
            available.append(peer)
        else:
            print(f"{PEERS[peer][2]}: skipped, not installed "
                  f"(needs {', '.join(PEERS[peer][1])}; see the module docstring)")

    titles = ["kernel", "lanes", "NumPy", "simt", "simt / NumPy"]
    for peer in peers:
        titles += [PEERS[peer][2], f"{peer} / simt"]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for kernel in kernels:
        for n in sizes:
            mine = measure("simt", kernel, n, args.repeat, args.timeout, args.clock)
            if "error" in mine:
                row = [kernel, f"{n:,}", "—", f"simt {mine['error']}", "—"]
                row += ["—", "—"] * len(peers)
                lines.append("| " + " | ".join(row) + " |")
                continue
            row = [kernel, f"{mine['lanes']:,}", _time(mine["numpy"]),
                   _time(mine["seconds"]) + ("" if mine["ok"] else " (WRONG)"),
                   f"{mine['seconds'] / mine['numpy']:,.0f}x"]
            for peer in peers:
                if peer not in available:
                    result = None
                elif not has_version(peer, kernel):
                    result = {}
                else:
                    result = measure(peer, kernel, n, args.repeat, args.timeout, args.clock)
                row += list(_cell(result, mine["seconds"]))
            lines.append("| " + " | ".join(row) + " |")
            print(f"measured {kernel} at {n:,} lanes", file=sys.stderr)
    print(f"Times: best of {args.repeat}, {args.clock} clock.\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
