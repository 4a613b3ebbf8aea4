"""The built-in gallery that ``simt demo`` runs: small kernels, each checked against NumPy.

Every entry is a real SIMT program (shown by ``simt demo --show NAME``), a check
that recomputes the expected result with NumPy from the same inputs, and a NumPy
baseline computing the same result, timed beside the kernel.  Times are warm: the
kernel is assembled and launched once before the timed launches, and each time is
the best of ``repeat`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .isa.program import Program
from .device import Device
from .observe.stats import Stats

__all__ = ["GALLERY", "Case", "Demo", "DemoResult", "run_gallery"]

VECTOR_ADD = """
; c[i] = a[i] + b[i] for i < n          args: r0=a r1=b r2=c (buffers), r3=n (u64)
    setge.u64 p0, r255, r3
    bra.p0 @done
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4            ; byte offset = lane id * 4
    ldg.f32 r6, [r0 + r5]
    ldg.f32 r7, [r1 + r5]
    add.f32 r8, r6, r7
    stg.f32 [r2 + r5], r8
done:
    exit
"""

IF_ELSE = """
; c[i] = 2 a[i] if a[i] > 0 else -a[i]  args: r0=a r1=c r2=n (u64)
    setge.u64 p0, r255, r2
    bra.p0 @done
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.f32 r5, [r0 + r4]
    mov_imm.f32 r6, 0.0
    setgt.f32 p1, r5, r6
    bra.p1 @positive
    neg.f32 r7, r5
    bra @store
positive:
    add.f32 r7, r5, r5
store:
    stg.f32 [r1 + r4], r7
done:
    exit
"""

LOOP_CALL = """
; out[i] = poly(x[i]) with (i & 7) + 1 Horner steps acc = 3 acc + x   args: r0=x r1=out r2=n
    setge.u64 p0, r255, r2
    bra.p0 @done
    cvt.u32.u64 r3, r255
    mov_imm.u32 r4, 7
    and.u32 r5, r3, r4              ; LOOP runs count + 1 times
    mov_imm.u32 r6, 2
    shl.u64 r7, r255, r6
    ldg.u32 r8, [r0 + r7]
    call @poly
    stg.u32 [r1 + r7], r9
done:
    exit
poly:
    mov_imm.u32 r9, 0
    mov_imm.u32 r10, 3
body:
    mul.u32 r9, r9, r10
    add.u32 r9, r9, r8
    loop r5, @body
    ret
"""

TREE_REDUCTION = """
; partials[block] = sum of the block's a[i] (0 past n), tree in shared memory
; args: r0=a r1=partials r2=n (u64); block size a power of two; shared = 4 * block
    mov_imm.u32 r3, 2
    mov_imm.u32 r9, 1
    mov_imm.f32 r5, 0.0
    setge.u64 p0, r255, r2
    bra.p0 @have
    shl.u64 r4, r255, r3
    ldg.f32 r5, [r0 + r4]
have:
    cvt.u64.u32 r6, r252
    shl.u64 r7, r6, r3              ; this lane's shared slot
    sts.f32 [shared + r7], r5
    bar.sync 0
    shr.u32 r8, r254, r9            ; stride = block / 2
level:
    setge.u32 p1, r252, r8
    bra.p1 @sync
    cvt.u64.u32 r10, r8
    shl.u64 r10, r10, r3
    add.u64 r11, r7, r10
    lds.f32 r12, [shared + r11]
    lds.f32 r13, [shared + r7]
    add.f32 r13, r13, r12
    sts.f32 [shared + r7], r13
sync:
    bar.sync 0
    shr.u32 r8, r8, r9
    mov_imm.u32 r14, 0
    setgt.u32 p2, r8, r14
    bra.p2 @level
    setne.u32 p3, r252, r14
    bra.p3 @done
    lds.f32 r15, [shared]
    cvt.u64.u32 r16, r253
    shl.u64 r16, r16, r3
    stg.f32 [r1 + r16], r15
done:
    exit
"""

RESONANCE = """
; resonance[x[i] mod 96] += w[i]       args: r0=x (u32) r1=w (f64) r2=n (u64)
    setge.u64 p0, r255, r2
    bra.p0 @done
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.u32 r5, [r0 + r4]
    mov_imm.u32 r6, 96
    div.u32 r7, r5, r6
    mul.u32 r7, r7, r6
    sub.u32 r7, r5, r7              ; x mod 96
    cvt.u8.u32 r8, r7
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    ldg.f64 r11, [r1 + r10]
    res.accum r8, r11
done:
    exit
"""


@dataclass(frozen=True)
class DemoResult:
    """One gallery kernel's run.

    Attributes
    ----------
    name : str
        The gallery entry.
    lanes : int
        Lanes launched (the grid rounded up to whole blocks).
    ok : bool
        Whether the result matched NumPy's.
    seconds : float
        Best warm launch time.
    stats : Stats
        The statistics of the last launch.
    numpy_seconds : float or None
        Best time of NumPy computing the same result (``None``: no baseline).
    """

    name: str
    lanes: int
    ok: bool
    seconds: float
    stats: Stats
    numpy_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        """``seconds / numpy_seconds``: how many times NumPy's time the kernel takes."""
        if self.numpy_seconds is None or self.numpy_seconds <= 0:
            return None
        return self.seconds / self.numpy_seconds


@dataclass(frozen=True)
class Case:
    """One gallery launch: buffers in argument order, then ``n`` as u64.

    ``inputs`` are uploaded, ``outputs`` (dtype, count) allocated zero-filled;
    ``check(outputs, resonance)`` recomputes the expected result with NumPy;
    ``baseline()`` computes the same result with NumPy directly (timed for the
    comparison, its value unused).
    """

    inputs: tuple[np.ndarray, ...]
    outputs: tuple[tuple[type, int], ...]
    check: Callable[[list[np.ndarray], np.ndarray], bool]
    shared_bytes: int = 0
    baseline: Callable[[], object] | None = None


def _best(run: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, after one untimed call."""
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class Demo:
    """A gallery entry: its kernel text, block size and how to build and check a case."""

    name: str
    source: str
    block: int
    case: Callable[[int, int, np.random.Generator], Case]

    def run(self, dev: Device, prog: Program, n: int, rng: np.random.Generator,
            repeat: int = 3) -> DemoResult:
        """Upload; launch once, then ``repeat`` timed launches; check against NumPy; free.

        The NumPy baseline is timed the same way (one untimed call, best of ``repeat``).
        """
        grid = max(1, -(-n // self.block))
        case = self.case(n, grid, rng)
        bufs = [dev.upload(a) for a in case.inputs]
        results = []

        def launch():
            results.append(dev.launch(prog, grid=grid, block=self.block,
                                      args=(*bufs, np.uint64(n)),
                                      shared_bytes=case.shared_bytes))
        try:
            bufs += [dev.alloc(np.dtype(dt).itemsize * count) for dt, count in case.outputs]
            seconds = _best(launch, repeat)
            outs = [dev.download(buf, dt, count) for buf, (dt, count)
                    in zip(bufs[len(case.inputs):], case.outputs)]
            ok = bool(case.check(outs, results[-1].resonance))
        finally:
            for buf in bufs:
                dev.free(buf)
        numpy_seconds = None if case.baseline is None else _best(case.baseline, repeat)
        return DemoResult(self.name, grid * self.block, ok, seconds, results[-1].stats,
                          numpy_seconds)


def _vector_add(n, grid, rng):
    a, b = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    c = np.empty_like(a)
    return Case((a, b), ((np.float32, n),), lambda out, _: np.array_equal(out[0], a + b),
                baseline=lambda: np.add(a, b, out=c))


def _if_else(n, grid, rng):
    a = rng.standard_normal(n, np.float32)
    return Case((a,), ((np.float32, n),),
                lambda out, _: np.array_equal(out[0], np.where(a > 0, a + a, -a)),
                baseline=lambda: np.where(a > 0, a + a, -a))


def _loop_call(n, grid, rng):
    x = rng.integers(0, 1 << 32, n, dtype=np.uint32)
    trips = (np.arange(n) & 7) + 1

    def horner():
        acc = np.zeros(n, np.uint32)
        for k in range(8):
            acc = np.where(trips > k, acc * np.uint32(3) + x, acc)
        return acc
    return Case((x,), ((np.uint32, n),), lambda out, _: np.array_equal(out[0], horner()),
                baseline=horner)


def _tree_reduction(n, grid, rng):
    a = rng.standard_normal(n, np.float32)
    starts = np.arange(0, n, 256)

    def check(out, _):
        padded = np.zeros(grid * 256, np.float64)
        padded[:n] = a
        return np.allclose(out[0], padded.reshape(grid, 256).sum(axis=1), rtol=1e-5, atol=1e-4)
    return Case((a,), ((np.float32, grid),), check, shared_bytes=4 * 256,
                baseline=lambda: np.add.reduceat(a, starts))


def _resonance(n, grid, rng):
    x = rng.integers(0, 1 << 32, n, dtype=np.uint32)
    w = rng.standard_normal(n)
    expected = np.bincount(x % 96, weights=w, minlength=96)
    return Case((x, w), (), lambda _, res: np.allclose(res, expected, rtol=1e-12, atol=1e-9),
                baseline=lambda: np.bincount(x % 96, weights=w, minlength=96))


GALLERY: tuple[Demo, ...] = (
    Demo("vector_add", VECTOR_ADD, 256, _vector_add),
    Demo("if_else", IF_ELSE, 256, _if_else),
    Demo("loop_call", LOOP_CALL, 128, _loop_call),
    Demo("tree_reduction", TREE_REDUCTION, 256, _tree_reduction),
    Demo("resonance", RESONANCE, 256, _resonance),
)


def run_gallery(size: int, device: Device | None = None, seed: int = 0,
                repeat: int = 3) -> list[DemoResult]:
    """Run every gallery kernel over ``size`` elements and check it against NumPy.

    Parameters
    ----------
    size : int
        Elements per kernel (lanes, rounded up to whole blocks).
    device : Device, optional
        Where to run (default: a new device).
    seed : int
        Seed of the random inputs.
    repeat : int
        Timed launches per kernel (after one untimed launch); the best is reported.

    Returns
    -------
    list of DemoResult
        One per gallery entry, in gallery order.
    """
    from . import assemble
    dev = device or Device()
    rng = np.random.default_rng(seed)
    return [demo.run(dev, assemble(demo.source), size, rng, repeat) for demo in GALLERY]
