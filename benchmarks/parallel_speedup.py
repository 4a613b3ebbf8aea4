"""Speed of parallel launches: ``Device(workers=2)`` against ``workers=1``.

Run ``python -m benchmarks.parallel_speedup`` from the repository root.  Reports,
best of ``--repeat`` runs each (workers started by a warm-up launch first; their
start-up is reported separately):

* Mandelbrot at 2^20 lanes (1024 x 1024, at most 256 iterations), end to end:
  alloc, launch, download;
* the guarded f32 vector add at 10^7 lanes (memory-bound: the cost rule keeps it
  in-process, so it must not be slower);
* the benchmark kernels of ``benchmarks.workloads`` at 2^20 lanes, launch only;
* every kernel of the real-world gallery (``benchmarks.realworld``) at its large size,
  launch only, checked against NumPy (``--no-gallery`` skips them).

The machine's load matters: on a 2-core machine shared with other work the
speedup of compute-bound kernels drops toward 1.  CPU time of the device process
is reported too.  Results are checked against ``workers=1`` bit for bit.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

if __package__ in (None, ""):       # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import simt  # noqa: E402
from benchmarks import realworld, workloads  # noqa: E402

MANDELBROT = """
; out[y * W + x] = escape count of c = (-2 + 3x/W, -1.5 + 3y/H), at most 256 iterations
; r0 = out (u32 per pixel); one block per row: x = r252, y = r253; W = H = 1024
    cvt.f32.u32 r6, r252
    cvt.f32.u32 r7, r253
    mov_imm.f32 r8, 0.0029296875
    mul.f32 r6, r6, r8
    mov_imm.f32 r9, -2.0
    add.f32 r6, r6, r9
    mul.f32 r7, r7, r8
    mov_imm.f32 r9, -1.5
    add.f32 r7, r7, r9
    mov_imm.f32 r10, 0.0
    mov_imm.f32 r11, 0.0
    mov_imm.u32 r12, 0
    mov_imm.u32 r13, 255
    mov_imm.f32 r14, 4.0
    mov_imm.u32 r20, 1
body:
    mul.f32 r15, r10, r10
    mul.f32 r16, r11, r11
    add.f32 r17, r15, r16
    setgt.f32 p0, r17, r14
    bra.p0 @out
    mul.f32 r18, r10, r11
    add.f32 r18, r18, r18
    add.f32 r11, r18, r7
    sub.f32 r19, r15, r16
    add.f32 r10, r19, r6
    add.u32 r12, r12, r20
    loop r13, @body
out:
    mov_imm.u32 r21, 2
    shl.u64 r22, r255, r21
    stg.u32 [r0 + r22], r12
    exit
"""
SIDE = 1024


def mandelbrot(dev: simt.Device) -> tuple[np.ndarray, simt.LaunchResult]:
    """End to end: alloc, launch, download, free."""
    prog = simt.assemble(MANDELBROT)
    out = dev.alloc(4 * SIDE * SIDE)
    res = dev.launch(prog, grid=SIDE, block=SIDE, args=(out,))
    image = dev.download(out, np.uint32)
    dev.free(out)
    return image, res


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(best wall time, its CPU time in this process, last result)."""
    best, cpu, result = float("inf"), 0.0, None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if t < best:
            best, cpu = t, c
    return best, cpu, result


KERNELS = {
    "if_else": lambda dev: workloads.if_else(dev, 1 << 20),
    "tree_reduction": lambda dev: workloads.tree_reduction(dev, 1 << 20),
    "divergence": lambda dev: workloads.divergence(dev, 1 << 20),
    "neighbour_exchange": lambda dev: workloads.neighbour_exchange(dev, 1 << 20),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the 10^7-lane vector add")
    parser.add_argument("--no-gallery", action="store_true",
                        help="skip the real-world gallery kernels")
    opts = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    serial = simt.Device()
    with simt.Device(workers=2) as par:
        mandelbrot(par)             # in-process: measures the program's cost per lane
        t0 = time.perf_counter()
        mandelbrot(par)             # the first launch on workers starts them
        first = time.perf_counter() - t0
        t1, c1, (img1, res1) = timed(lambda: mandelbrot(serial), opts.repeat)
        t2, c2, (img2, res2) = timed(lambda: mandelbrot(par), opts.repeat)
        assert (img1 == img2).all() and res1.stats == res2.stats and \
            res1.resonance.tobytes() == res2.resonance.tobytes(), "results differ"
        print(f"mandelbrot 2^20 lanes end to end: workers=1 {t1:.2f} s, workers=2 {t2:.2f} s "
              f"(device process CPU {c2:.2f} s): {t1 / t2:.2f}x; first launch with worker "
              f"start-up {first:.2f} s")
        if not opts.quick:
            for dev in (serial, par):
                w = workloads.prepared(workloads.vector_add(dev, 10_000_000))
                t, _, _ = timed(w.run, opts.repeat)
                w.free()
                if dev is serial:
                    tv1 = t
            print(f"guarded vecadd 10^7 lanes: workers=1 {tv1:.3f} s, workers=2 {t:.3f} s: "
                  f"{tv1 / t:.2f}x (no loop: in-process by the cost rule)")
        for name, make in KERNELS.items():
            times = []
            for dev in (serial, par):
                w = workloads.prepared(make(dev))
                w.run()             # the cost rule learns from a first launch
                t, _, _ = timed(w.run, opts.repeat)
                w.free()
                times.append(t)
            used = "workers" if par._parallel is not None and par._parallel.last else \
                "in-process"
            print(f"{name} 2^20 lanes: workers=1 {times[0]:.3f} s, workers=2 {times[1]:.3f} s: "
                  f"{times[0] / times[1]:.2f}x ({used})")
        if not opts.no_gallery:
            for entry in realworld.KERNELS.values():
                times = []
                for dev in (serial, par):
                    w = entry.setup(dev, entry.large)
                    w.run()         # the cost rule learns from a first launch
                    t, _, _ = timed(w.run, 1)
                    assert w.check(), f"{entry.name}: wrong result"
                    w.free()
                    times.append(t)
                used = "workers" if par._parallel is not None and par._parallel.last else \
                    "in-process"
                print(f"{entry.name} at {entry.large:,}: workers=1 {times[0]:.3f} s, "
                      f"workers=2 {times[1]:.3f} s: {times[0] / times[1]:.2f}x ({used})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
