"""The built-in gallery that ``simt demo`` runs: small kernels, each checked against NumPy.

Every entry is a real SIMT program (shown by ``simt demo --show NAME``) and a
check that recomputes the expected result with NumPy from the same inputs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .isa.program import Program
from .machine.device import Device
from .observe.stats import Stats

__all__ = ["GALLERY", "Demo", "DemoResult", "run_gallery"]

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
    name: str
    lanes: int
    ok: bool
    seconds: float
    stats: Stats


@dataclass(frozen=True)
class Demo:
    """A gallery entry: its kernel text and a function running and checking it."""

    name: str
    source: str
    run: Callable[[Device, Program, int, np.random.Generator], tuple[int, bool, float, Stats]]


def _timed(dev: Device, prog: Program, **launch) -> tuple[float, object]:
    start = time.perf_counter()
    res = dev.launch(prog, **launch)
    return time.perf_counter() - start, res


def _grid(n: int, block: int) -> int:
    return max(1, -(-n // block))


def _vector_add(dev, prog, n, rng):
    a, b = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * n)]
    try:
        t, res = _timed(dev, prog, grid=_grid(n, 256), block=256, args=(*bufs, np.uint64(n)))
        ok = np.array_equal(dev.download(bufs[2], np.float32), a + b)
        return _grid(n, 256) * 256, ok, t, res.stats
    finally:
        for buf in bufs:
            dev.free(buf)


def _if_else(dev, prog, n, rng):
    a = rng.standard_normal(n, np.float32)
    bufs = [dev.upload(a), dev.alloc(4 * n)]
    try:
        t, res = _timed(dev, prog, grid=_grid(n, 256), block=256, args=(*bufs, np.uint64(n)))
        ok = np.array_equal(dev.download(bufs[1], np.float32), np.where(a > 0, a + a, -a))
        return _grid(n, 256) * 256, ok, t, res.stats
    finally:
        for buf in bufs:
            dev.free(buf)


def _loop_call(dev, prog, n, rng):
    x = rng.integers(0, 1 << 32, n, dtype=np.uint32)
    bufs = [dev.upload(x), dev.alloc(4 * n)]
    try:
        t, res = _timed(dev, prog, grid=_grid(n, 128), block=128, args=(*bufs, np.uint64(n)))
        trips = (np.arange(n) & 7) + 1
        acc = np.zeros(n, np.uint32)
        for k in range(8):
            acc = np.where(trips > k, acc * np.uint32(3) + x, acc)
        ok = np.array_equal(dev.download(bufs[1], np.uint32), acc)
        return _grid(n, 128) * 128, ok, t, res.stats
    finally:
        for buf in bufs:
            dev.free(buf)


def _tree_reduction(dev, prog, n, rng):
    block = 256
    blocks = _grid(n, block)
    a = rng.standard_normal(n, np.float32)
    bufs = [dev.upload(a), dev.alloc(4 * blocks)]
    try:
        t, res = _timed(dev, prog, grid=blocks, block=block, args=(*bufs, np.uint64(n)),
                        shared_bytes=4 * block)
        padded = np.zeros(blocks * block, np.float64)
        padded[:n] = a
        expected = padded.reshape(blocks, block).sum(axis=1)
        got = dev.download(bufs[1], np.float32)
        ok = np.allclose(got, expected, rtol=1e-5, atol=1e-4)
        return blocks * block, ok, t, res.stats
    finally:
        for buf in bufs:
            dev.free(buf)


def _resonance(dev, prog, n, rng):
    x = rng.integers(0, 1 << 32, n, dtype=np.uint32)
    w = rng.standard_normal(n)
    bufs = [dev.upload(x), dev.upload(w)]
    try:
        t, res = _timed(dev, prog, grid=_grid(n, 256), block=256, args=(*bufs, np.uint64(n)))
        expected = np.bincount(x % 96, weights=w, minlength=96)
        ok = np.allclose(res.resonance, expected, rtol=1e-12, atol=1e-9)
        return _grid(n, 256) * 256, ok, t, res.stats
    finally:
        for buf in bufs:
            dev.free(buf)


GALLERY: tuple[Demo, ...] = (
    Demo("vector_add", VECTOR_ADD, _vector_add),
    Demo("if_else", IF_ELSE, _if_else),
    Demo("loop_call", LOOP_CALL, _loop_call),
    Demo("tree_reduction", TREE_REDUCTION, _tree_reduction),
    Demo("resonance", RESONANCE, _resonance),
)


def run_gallery(size: int, device: Device | None = None, seed: int = 0) -> list[DemoResult]:
    """Run every gallery kernel over ``size`` elements and check it against NumPy."""
    from . import assemble
    dev = device or Device()
    rng = np.random.default_rng(seed)
    out = []
    for demo in GALLERY:
        prog = assemble(demo.source)
        lanes, ok, seconds, stats = demo.run(dev, prog, size, rng)
        out.append(DemoResult(demo.name, lanes, bool(ok), seconds, stats))
    return out
