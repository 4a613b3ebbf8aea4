"""Differential tests of the lane-set shapes the random generator rarely produces.

Hand-written kernels, run on ``simt.Device`` and on the scalar reference
(:func:`simt.testing.programs.run_reference`), must agree bit for bit (memory,
statistics, errors with class, pc and lane), over multi-block grids:

1. shared-memory tree reductions (tiles: the same window of every block);
2. the same with lanes past ``n`` exiting first (partial last block);
3. ``tid == k``, ``!=``, ``<``, ``>=`` windows on r252, on its u64 and affine
   forms, on a signed form, on r253 (block-boundary cuts) and on r255;
4. registers written by a window and read by every lane after the join
   (liveness must keep the other lanes' values), or rewritten first;
5. strided, overlapping and reversed shared/global accesses, out of bounds
   inside a window, uninitialized reads inside a window, a barrier only a
   window reaches;
6. dense data-dependent divergence at >= 2048 lanes (Masked sets with the
   default thresholds): if/else with stores, nested ifs, per-lane loops,
   DIV-by-zero and SEL faults inside a masked path;
7. sparse data-dependent divergence (index-array lanes, whose rows may be kept
   packed in the set's compact frame until other lanes need them): long
   straight-line bodies rewriting registers, a register changing type, a
   nested split and a per-lane loop inside the sparse path, then every lane
   reading the held registers at the join;

plus the random-program generator with every divergent split made a Masked set.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import simt
from simt.isa import DType
from simt.machine import lanes as lanes_mod
from simt.machine import scheduler as scheduler_mod
from simt.demo import TREE_REDUCTION
from simt.testing.engines import assert_agree
from simt.testing.programs import OUT_STRIDE, UNIFORM_BYTES, ArgSpec, Case, Outcome, cases
from test_differential import run_device


# --------------------------------------------------------------------------- helpers

def make_case(text: str, grid, block, *, data: bytes | None = None,
              shared_bytes: int = 0, n: int | None = None, max_steps: int | None = None
              ) -> Case:
    """A launch (``grid``/``block``: ints for 1-D, or 3-tuples): r0 = data buffer, r1 =
    output buffer (OUT_STRIDE bytes per lane), r2 = ``n`` (u64, default: the lane count)."""
    grid = (grid, 1, 1) if isinstance(grid, int) else tuple(grid)
    block = (block, 1, 1) if isinstance(block, int) else tuple(block)
    lanes = int(np.prod(grid)) * int(np.prod(block))
    if data is None:
        data = (bytes(range(256)) * (8 * lanes // 256 + 1))[: 8 * lanes + 8]
    args = (ArgSpec(buffer=0), ArgSpec(buffer=1),
            ArgSpec(ty=DType.U64, bits=lanes if n is None else n))
    return Case(simt.assemble(text), grid, block, shared_bytes, args,
                (data, bytes(OUT_STRIDE * lanes), bytes(UNIFORM_BYTES)), max_steps=max_steps)


def agree(case: Case) -> Outcome:
    """Run both engines, assert agreement, return the reference's outcome."""
    return assert_agree(case)


def out_words(outcome: Outcome, dtype, count: int, stride: int = 8, offset: int = 0
              ) -> np.ndarray:
    """``count`` values of ``dtype`` at ``offset + stride * i`` of the output buffer."""
    raw = np.frombuffer(outcome.buffers[1], np.uint8)
    size = np.dtype(dtype).itemsize
    idx = offset + stride * np.arange(count)
    return np.stack([raw[i:i + size] for i in idx]).copy().view(dtype).ravel() if count else \
        np.empty(0, dtype)


def random_words(seed: int, lanes: int, low: int = 0, high: int = 1 << 32) -> bytes:
    """Data buffer bytes: lane i's u32 at byte 8 i drawn from [low, high); 8 lanes + 8 bytes."""
    rng = np.random.default_rng(seed)
    words = np.zeros(2 * lanes + 2, np.uint32)
    words[0:2 * lanes:2] = rng.integers(low, high, lanes, dtype=np.uint64).astype(np.uint32)
    words[1::2] = rng.integers(0, 1 << 32, lanes + 1, dtype=np.uint64).astype(np.uint32)
    return words.tobytes()


@pytest.fixture
def issued(monkeypatch):
    """The types of the lane sets the scheduler issues (recorded while the fixture lives)."""
    seen: list[str] = []
    original = scheduler_mod.MinPC.next

    def next_(self):
        got = original(self)
        if got is not None:
            seen.append(type(got[1]).__name__)
        return got

    monkeypatch.setattr(scheduler_mod.MinPC, "next", next_)
    return seen


PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
THOROUGH = PROFILE == "thorough"


def examples(n: int) -> int:
    """``n`` examples under the ``ci`` profile, ten times as many under ``thorough``."""
    return 10 * n if THOROUGH else n


FAST = settings(max_examples=examples(25))


# --------------------------------------------------------------------------- 1, 2: tree reductions

TREE = TREE_REDUCTION        # the gallery kernel: partials[block] = the block's sum


def _variant(text: str, *changes: tuple[str, str]) -> str:
    """``text`` with each (old, new) replaced; every ``old`` must occur."""
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


# lanes past n exit before the tree; the survivors of the last block are a prefix
TREE_EXIT = _variant(TREE, ("""    mov_imm.f32 r5, 0.0
    setge.u64 p0, r255, r2
    bra.p0 @have
    shl.u64 r4, r255, r3
    ldg.f32 r5, [r0 + r4]
have:
""", """    setge.u64 p0, r255, r2
    bra.p0 @done
    shl.u64 r4, r255, r3
    ldg.f32 r5, [r0 + r4]
"""))

# any block size: s lanes left, the top floor(s/2) fold onto the bottom, s = ceil(s/2)
TREE_ANY = """
    mov_imm.u32 r3, 2
    mov_imm.u32 r9, 1
    setge.u64 p0, r255, r2
    bra.p0 @done
    shl.u64 r4, r255, r3
    ldg.i32 r5, [r0 + r4]
    cvt.u64.u32 r6, r252
    shl.u64 r7, r6, r3
    sts.i32 [shared + r7], r5
    mov.u32 r8, r254                ; s = block
    setle.u32 p2, r8, r9
    bra.p2 @last
level:
    bar.sync 0
    add.u32 r17, r8, r9
    shr.u32 r17, r17, r9            ; half = ceil(s / 2)
    sub.u32 r18, r8, r17            ; lanes tid < s - half fold tid + half in
    setlt.u32 p1, r252, r18
    bra.p1 @fold
    bra @next
fold:
    add.u32 r19, r252, r17
    cvt.u64.u32 r10, r19
    shl.u64 r10, r10, r3
    lds.i32 r12, [shared + r10]
    lds.i32 r13, [shared + r7]
    add.i32 r13, r13, r12
    sts.i32 [shared + r7], r13
next:
    mov.u32 r8, r17
    setgt.u32 p2, r8, r9
    bra.p2 @level
last:
    bar.sync 0
    mov_imm.u32 r14, 0
    setne.u32 p3, r252, r14
    bra.p3 @done
    lds.i32 r15, [shared]
    cvt.u64.u32 r16, r253
    shl.u64 r16, r16, r3
    stg.i32 [r1 + r16], r15
done:
    exit
"""


# the lane index in its block and the block index derived from the global lane id
# (gid & (block - 1), gid / block): tiled values again, so the levels still run as tiles
TREE_GID = _variant(TREE, ("""have:
    cvt.u64.u32 r6, r252
""", """have:
    cvt.u64.u32 r20, r254
    mov_imm.u64 r21, 1
    sub.u64 r22, r20, r21
    and.u64 r6, r255, r22           ; tid from the global id
"""), ("""    setge.u32 p1, r252, r8
    bra.p1 @sync""", """    cvt.u64.u32 r23, r8
    setge.u64 p1, r6, r23
    bra.p1 @sync"""), ("""    setne.u32 p3, r252, r14
    bra.p3 @done
    lds.f32 r15, [shared]
    cvt.u64.u32 r16, r253
""", """    mov_imm.u64 r24, 0
    setne.u64 p3, r6, r24
    bra.p3 @done
    lds.f32 r15, [shared]
    div.u64 r16, r255, r20          ; the block from the global id
"""))


def _small_floats(seed: int, lanes: int) -> bytes:
    """f32 data: small integers (sums stay exact), 8 lanes + 8 bytes."""
    vals = np.random.default_rng(seed).integers(-100, 100, 2 * lanes + 2).astype(np.float32)
    return vals.tobytes()


def _block_sums(data: bytes, dtype, grid: int, block: int, n: int) -> np.ndarray:
    a = np.frombuffer(data, dtype)[: grid * block].astype(np.float64)
    a = np.where(np.arange(grid * block) < n, a, 0)
    return a.reshape(grid, block).sum(axis=1)


@FAST
@given(block=st.sampled_from([2, 8, 32, 64]), grid=st.integers(1, 5), seed=st.integers(0, 99))
def test_tree_reduction_full_blocks(block, grid, seed) -> None:
    data = _small_floats(seed, grid * block)
    ref = agree(make_case(TREE, grid, block, data=data, shared_bytes=4 * block))
    assert ref.error is None
    np.testing.assert_array_equal(out_words(ref, np.float32, grid, stride=4),
                                  _block_sums(data, np.float32, grid, block, grid * block))


@FAST
@given(block=st.sampled_from([2, 8, 32, 64]), grid=st.integers(1, 5), seed=st.integers(0, 99),
       exit_first=st.booleans(), data_n=st.data())
def test_tree_reduction_partial_last_block(block, grid, seed, exit_first, data_n) -> None:
    lanes = grid * block
    n = data_n.draw(st.one_of(st.integers(0, lanes), st.integers(max(0, lanes - block), lanes)))
    data = _small_floats(seed, lanes)
    ref = agree(make_case(TREE_EXIT if exit_first else TREE, grid, block, data=data,
                          shared_bytes=4 * block, n=n))
    assert ref.error is None
    got = out_words(ref, np.float32, grid, stride=4)
    want = _block_sums(data, np.float32, grid, block, n)
    if exit_first:          # blocks whose every lane exited store nothing
        live = np.arange(grid) * block < n
        np.testing.assert_array_equal(got[live], want[live])
        np.testing.assert_array_equal(got[~live], 0)
    else:
        np.testing.assert_array_equal(got, want)


@FAST
@given(block=st.sampled_from([1, 3, 5, 6, 12, 24, 40, 48]), grid=st.integers(1, 5),
       seed=st.integers(0, 99), partial=st.booleans())
def test_tree_reduction_any_block_size(block, grid, seed, partial) -> None:
    lanes = grid * block
    n = lanes - block // 2 - 1 if partial and lanes > block // 2 + 1 else lanes
    rng = np.random.default_rng(seed)
    data = rng.integers(-1000, 1000, 2 * lanes + 2).astype(np.int32).tobytes()
    ref = agree(make_case(TREE_ANY, grid, block, data=data, shared_bytes=4 * block, n=n))
    assert ref.error is None
    got = out_words(ref, np.int32, grid, stride=4)
    want = _block_sums(data, np.int32, grid, block, n)
    live = np.arange(grid) * block < n
    np.testing.assert_array_equal(got[live], want[live])


@FAST
@given(block=st.sampled_from([2, 8, 32, 64]), grid=st.integers(1, 5), seed=st.integers(0, 99))
def test_tree_reduction_from_the_global_lane_id(block, grid, seed) -> None:
    data = _small_floats(seed, grid * block)
    ref = agree(make_case(TREE_GID, grid, block, data=data, shared_bytes=4 * block))
    assert ref.error is None
    np.testing.assert_array_equal(out_words(ref, np.float32, grid, stride=4),
                                  _block_sums(data, np.float32, grid, block, grid * block))


def test_tree_reduction_from_the_global_lane_id_issues_tiles(issued) -> None:
    grid, block = 4, 32
    dev = run_device(make_case(TREE_GID, grid, block, data=_small_floats(2, grid * block),
                               shared_bytes=4 * block))
    assert dev.error is None
    assert "Tiles" in issued


def test_tree_reduction_issues_tiles(issued) -> None:
    """The tree's levels over several blocks run as Tiles (the shape these tests target)."""
    grid, block = 4, 32
    dev = run_device(make_case(TREE, grid, block, data=_small_floats(1, grid * block),
                               shared_bytes=4 * block))
    assert dev.error is None
    assert "Tiles" in issued


def test_tree_reduction_across_executor_pieces() -> None:
    """More blocks than one executor piece holds (pieces start at block 1024: r253 and the
    tiles' block numbers are offset): NumPy sums, and the same memory as one big piece."""
    block, grid = 64, 1030
    lanes = block * grid
    n = lanes - 40
    data = _small_floats(7, lanes)
    case = make_case(TREE_EXIT, grid, block, data=data, shared_bytes=4 * block, n=n)
    split = run_device(case, piece_lanes=65_536)
    whole = run_device(case, piece_lanes=4 * 65_536)
    assert split.error is None and whole.error is None
    assert split.buffers == whole.buffers
    np.testing.assert_array_equal(out_words(split, np.float32, grid, stride=4),
                                  _block_sums(data, np.float32, grid, block, n))


# --------------------------------------------------------------------------- 3: windows

WINDOW = """
    mov_imm.u32 r9, 4
    shl.u64 r10, r255, r9              ; 16 * gid: this lane's output slot
    mov_imm.u64 r13, 4
    add.u64 r13, r10, r13
    mov_imm.u64 r24, 8
    add.u64 r24, r10, r24
{key}
    set{cond}.{ty} p0, {lhs}, {rhs}
    bra.p0 @yes
    mov_imm.u32 r11, 1000
    add.u32 r11, r11, r252
    stg.u32 [r1 + r10], r11
    bra @join
yes:
    mul.u32 r11, r252, r253
    mov_imm.u32 r12, 7
    add.u32 r11, r11, r12
    stg.u32 [r1 + r10], r11
    mov.u32 r25, r252
    stg.u32 [r1 + r24], r25
join:
    sel.u32 r14, p0, r253, r252
    stg.u32 [r1 + r13], r14
    exit
"""

KEYS = {
    # name: (setup text, type, key register); the setup puts the uniform in r21
    "tid": ("    mov_imm.u32 r21, {k}", "u32", "r252"),
    "tid64": ("    cvt.u64.u32 r20, r252\n    mov_imm.u64 r21, {k}", "u64", "r20"),
    "affine": ("    mov_imm.u32 r22, 3\n    add.u32 r20, r252, r22\n    mov_imm.u32 r23, 2\n"
               "    shl.u32 r20, r20, r23\n    mov_imm.u32 r21, {k4}", "u32", "r20"),
    "affine64": ("    cvt.u64.u32 r20, r252\n    mov_imm.u64 r22, 5\n    add.u64 r20, r20, r22\n"
                 "    mov_imm.u32 r23, 3\n    shl.u64 r20, r20, r23\n    mov_imm.u64 r21, {k8}",
                 "u64", "r20"),
    "signed": ("    cvt.i32.u32 r20, r252\n    mov_imm.i32 r22, 5\n    sub.i32 r20, r20, r22\n"
               "    mov_imm.i32 r21, {ks}", "i32", "r20"),
    "block": ("    mov_imm.u32 r21, {b}", "u32", "r253"),
    "gid": ("    mov_imm.u64 r21, {g}", "u64", "r255"),
}
CONDS = ["eq", "ne", "lt", "ge", "le", "gt"]


def window_text(key: str, cond: str, k: int, b: int, g: int, delta: int, swap: bool) -> str:
    setup, ty, reg = KEYS[key]
    setup = setup.format(k=k, k4=4 * (k + 3) + delta, k8=8 * (k + 5) + delta, ks=k - 5,
                         b=b, g=g)
    if ty == "u32" and cond in ("lt", "ge") and swap:
        cond += "u"                     # an unsigned-only condition too
    lhs, rhs = ("r21", reg) if swap else (reg, "r21")
    return WINDOW.format(key=setup, cond=cond, ty=ty, lhs=lhs, rhs=rhs)


@settings(max_examples=examples(80))
@given(key=st.sampled_from(sorted(KEYS)), cond=st.sampled_from(CONDS),
       block=st.sampled_from([1, 2, 5, 8, 32]), grid=st.integers(1, 5),
       where=st.sampled_from(["zero", "middle", "last", "block", "beyond"]),
       delta=st.sampled_from([0, 0, 1]), swap=st.booleans())
def test_windows(key, cond, block, grid, where, delta, swap) -> None:
    k = {"zero": 0, "middle": block // 2, "last": block - 1, "block": block,
         "beyond": block + 3}[where]
    b = {"zero": 0, "middle": grid // 2, "last": grid - 1, "block": grid,
         "beyond": grid + 3}[where]
    g = {"zero": 0, "middle": grid * block // 2, "last": grid * block - 1,
         "block": block, "beyond": grid * block + 3}[where]
    case = make_case(window_text(key, cond, k, b, g, delta, swap), grid, block)
    ref = agree(case)
    assert ref.error is None
    gid = np.arange(grid * block)
    tid, blk = gid % block, gid // block
    value, uniform = {"tid": (tid, k), "tid64": (tid, k),
                      "affine": (4 * (tid + 3), 4 * (k + 3) + delta),
                      "affine64": (8 * (tid + 5), 8 * (k + 5) + delta),
                      "signed": (tid - 5, k - 5), "block": (blk, b), "gid": (gid, g)}[key]
    lhs, rhs = (uniform, value) if swap else (value, uniform)
    taken = {"eq": lhs == rhs, "ne": lhs != rhs, "lt": lhs < rhs, "ge": lhs >= rhs,
             "le": lhs <= rhs, "gt": lhs > rhs}[cond] & np.ones(gid.size, bool)
    marks = out_words(ref, np.uint32, grid * block, stride=16)
    np.testing.assert_array_equal(marks, np.where(taken, tid * blk + 7, 1000 + tid))
    np.testing.assert_array_equal(out_words(ref, np.uint32, grid * block, 16, 4),
                                  np.where(taken, blk, tid))
    np.testing.assert_array_equal(out_words(ref, np.uint32, grid * block, 16, 8),
                                  np.where(taken, tid, 0))


@settings(max_examples=examples(40))
@given(key=st.sampled_from(["tid", "tid64", "affine", "signed", "gid"]),
       cond=st.sampled_from(CONDS), shape=st.sampled_from([((2, 1, 1), (4, 2, 1)),
                                                           ((3, 1, 1), (2, 3, 2)),
                                                           ((2, 2, 1), (4, 1, 1)),
                                                           ((1, 2, 2), (3, 2, 1))]),
       where=st.sampled_from(["zero", "middle", "last", "block"]), swap=st.booleans())
def test_windows_in_multi_dimensional_launches(key, cond, shape, where, swap) -> None:
    """r252 is threadIdx.x: its period is block.x, not the lanes per block."""
    grid, block = shape
    bx = block[0]
    k = {"zero": 0, "middle": bx // 2, "last": bx - 1, "block": bx}[where]
    lanes = int(np.prod(grid)) * int(np.prod(block))
    text = window_text(key, cond, k, 0, {"zero": 0, "middle": lanes // 2, "last": lanes - 1,
                                         "block": bx}[where], 0, swap)
    assert agree(make_case(text, grid, block)).error is None


def test_nested_windows_make_inner_tiles(issued) -> None:
    """tid >= k1, then tid < k2 inside: the window [k1, k2) of every block."""
    text = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r21, 3
    mov_imm.u32 r22, 6
    mov_imm.u32 r30, 1
    setge.u32 p0, r252, r21
    bra.p0 @a
    bra @out
a:
    setlt.u32 p1, r252, r22
    bra.p1 @b
    mov_imm.u32 r30, 2
    bra @out
b:
    mul.u32 r30, r252, r252
    add.u32 r30, r30, r253
out:
    stg.u32 [r1 + r10], r30
    """
    ref = agree(make_case(text, 4, 8))
    got = out_words(ref, np.uint32, 32)
    tid, blk = np.arange(32) % 8, np.arange(32) // 8
    np.testing.assert_array_equal(got, np.where(tid < 3, 1, np.where(tid < 6, tid * tid + blk, 2)))
    assert "Tiles" in issued


# --------------------------------------------------------------------------- 4: liveness

LIVE_KEEP = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r20, 7
    add.u32 r20, r20, r253
    mov_imm.u32 r5, {k}
    setlt.u32 p0, r252, r5
    bra.p0 @skip
    add.u32 r20, r252, r252      ; only lanes tid >= k: the others wait at @skip, r20 live
skip:
    stg.u32 [r1 + r10], r20      ; every lane reads r20
"""

# the written value and the other lanes' own values, of different types, through a barrier
LIVE_KEEP_PARKED = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    cvt.u32.u64 r20, r255
    mov_imm.u32 r5, {k}
    setge.u32 p0, r252, r5
    bra.p0 @late
    bar.sync 0                   ; tid < k park here first, holding r20
    bra @join
late:
    mov_imm.u32 r6, 100
    mul.u32 r20, r252, r6        ; written while the others are parked (r20 live there)
    bar.sync 0
join:
    stg.u32 [r1 + r10], r20
"""

LIVE_REWRITE = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r20, 7
    mov_imm.u32 r5, {k}
    setlt.u32 p0, r252, r5
    bra.p0 @other
    add.u32 r20, r252, r252      ; tid >= k; the others wait at @other where r20 is dead
    bra @join
other:
    mov_imm.f32 r20, 2.5         ; rewritten (with another type) before any read
    cvt.u32.f32 r20, r20
    add.u32 r20, r20, r252
join:
    stg.u32 [r1 + r10], r20
"""

# the other lanes wait at a barrier; after it they rewrite the register
LIVE_REWRITE_PARKED = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u64 r20, 5
    mov_imm.u32 r5, {k}
    setge.u32 p0, r252, r5
    bra.p0 @late
    bar.sync 0                   ; tid < k park first; r20 is dead for them
    mov_imm.u32 r20, 9
    add.u32 r20, r20, r253
    bra @join
late:
    cvt.u32.u64 r21, r20
    add.u32 r20, r252, r21       ; retyped u64 -> u32 for tid >= k only
    bar.sync 0
join:
    stg.u32 [r1 + r10], r20
"""

# predicates: p1 set by all, rewritten by a window, branched on by all after the join
LIVE_PRED = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r5, {k}
    mov_imm.u32 r6, 1
    and.u32 r7, r252, r6
    seteq.u32 p1, r7, r6         ; odd lanes
    setlt.u32 p0, r252, r5
    bra.p0 @skip
    setgt.u32 p1, r252, r5       ; lanes tid >= k: tid > k
skip:
    mov_imm.u32 r20, 11
    bra.p1 @yes
    mov_imm.u32 r20, 22
yes:
    stg.u32 [r1 + r10], r20
"""

# a loop whose count and accumulator are live across iterations while a window diverges
LIVE_LOOP = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r5, {k}
    mov_imm.u32 r6, 3
    and.u32 r21, r252, r6        ; per-lane trip count
    mov_imm.u32 r20, 0
body:
    setlt.u32 p0, r252, r5
    bra.p0 @skip
    add.u32 r20, r20, r252       ; only tid >= k, inside the loop
skip:
    add.u32 r20, r20, r6
    loop r21, @body
    stg.u32 [r1 + r10], r20
"""

# window write, then a second window (another k) writes the same register, then all read
LIVE_TWO_WINDOWS = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov.u32 r20, r253
    mov_imm.u32 r5, {k}
    mov_imm.u32 r6, {k2}
    setlt.u32 p0, r252, r5
    bra.p0 @s1
    add.u32 r20, r252, r5        ; tid >= k
s1:
    setge.u32 p2, r252, r6
    bra.p2 @s2
    mul.u32 r20, r20, r6         ; tid < k2
s2:
    stg.u32 [r1 + r10], r20
"""

LIVENESS = {"keep": LIVE_KEEP, "keep_parked": LIVE_KEEP_PARKED,
            "rewrite": LIVE_REWRITE, "rewrite_parked": LIVE_REWRITE_PARKED, "pred": LIVE_PRED,
            "loop": LIVE_LOOP, "two_windows": LIVE_TWO_WINDOWS}


def _liveness_expected(name: str, k: int, k2: int, grid: int, block: int) -> np.ndarray:
    gid = np.arange(grid * block, dtype=np.int64)
    tid, blk = gid % block, gid // block
    if name == "keep":
        return np.where(tid < k, 7 + blk, 2 * tid)
    if name == "keep_parked":
        return np.where(tid < k, gid, 100 * tid)
    if name == "rewrite":
        return np.where(tid < k, 2 + tid, 2 * tid)
    if name == "rewrite_parked":
        return np.where(tid < k, 9 + blk, tid + 5)
    if name == "pred":
        odd = tid % 2 == 1
        return np.where(np.where(tid < k, odd, tid > k), 11, 22)
    if name == "loop":
        trips = (tid & 3) + 1
        return trips * 3 + np.where(tid >= k, trips * tid, 0)
    if name == "two_windows":
        v = np.where(tid >= k, tid + k, blk)
        return np.where(tid < k2, v * k2, v)
    raise KeyError(name)


@settings(max_examples=examples(60))
@given(name=st.sampled_from(sorted(LIVENESS)), block=st.sampled_from([1, 4, 8, 32]),
       grid=st.integers(1, 4), data=st.data())
def test_liveness_keeps_or_drops_values_correctly(name, block, grid, data) -> None:
    k = data.draw(st.integers(0, block + 1), label="k")
    k2 = data.draw(st.integers(0, block + 1), label="k2")
    text = LIVENESS[name].format(k=k, k2=k2)
    ref = agree(make_case(text, grid, block))
    assert ref.error is None, ref.exception
    got = out_words(ref, np.uint32, grid * block)
    np.testing.assert_array_equal(got, _liveness_expected(name, k, k2, grid, block)
                                  .astype(np.uint32))


# --------------------------------------------------------------------------- 5: memory shapes

SHARED_STRIDED = """
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.u32 r5, [r0 + r4]
    mov_imm.u32 r6, {s}
    mul.u32 r7, r252, r6
    mov_imm.u32 r8, {off}
    add.u32 r7, r7, r8              ; s * tid + off
    mov_imm.u32 r20, {k}
    setlt.u32 p0, r252, r20
    bra.p0 @store
    bra @sync
store:
    sts.u32 [shared + r7], r5       ; a window of every block stores, strided
sync:
    bar.sync 0
    mov_imm.u32 r9, 1
    sub.u32 r10, r254, r9
    sub.u32 r10, r10, r252          ; block - 1 - tid
    mul.u32 r10, r10, r6
    add.u32 r10, r10, r8
    lds.u32 r11, [shared + r10]     ; reversed
    lds.u32 r12, [shared + r7]
    mov_imm.u32 r13, 4
    shl.u64 r14, r255, r13
    stg.u32 [r1 + r14], r11
    mov_imm.u64 r15, 4
    add.u64 r14, r14, r15
    stg.u32 [r1 + r14], r12
"""

GLOBAL_STRIDED = """
    mov_imm.u64 r6, {s}
    mul.u64 r7, r255, r6
    mov_imm.u64 r8, {off}
    add.u64 r7, r7, r8              ; s * gid + off
    ldg.{ty} r5, [r0 + r7]
    mov_imm.u64 r9, 1
    sub.u64 r10, r2, r9
    sub.u64 r10, r10, r255          ; n - 1 - gid: reversed
    mov_imm.u64 r11, {s2}
    mul.u64 r10, r10, r11
    mov_imm.u32 r20, {k}
    setge.u32 p0, r252, r20
    bra.p0 @skip
    stg.{ty} [r1 + r10], r5         ; a window of every block stores, reversed and strided
skip:
    exit
"""


@settings(max_examples=examples(60))
@given(s=st.sampled_from([4, 8, 12, 2, 0]), off=st.sampled_from([0, 4, 6]),
       block=st.sampled_from([1, 4, 8, 32, (4, 2, 1), (2, 2, 2)]), grid=st.integers(1, 4),
       data=st.data())
def test_shared_strided_and_reversed(s, off, block, grid, data) -> None:
    """Strides past, at and below the element size (overlapping stores: lane order wins),
    misaligned offsets, and shared memory sized to fit or to be just too small.  In 2-D
    and 3-D blocks the offsets follow threadIdx.x, so rows of a block share words."""
    bx = block if isinstance(block, int) else block[0]
    lanes = grid * (block if isinstance(block, int) else int(np.prod(block)))
    k = data.draw(st.integers(0, bx + 1), label="k")
    fit = s * (bx - 1) + off + 4
    shared = data.draw(st.sampled_from([fit, fit + 8, max(0, fit - 1), max(0, fit - s)]),
                       label="shared_bytes")
    text = SHARED_STRIDED.format(s=s, off=off, k=k)
    seed = data.draw(st.integers(0, 99), label="seed")
    ref = agree(make_case(text, grid, block, shared_bytes=shared,
                          data=random_words(seed, lanes)))
    if shared >= fit:
        assert ref.error is None
    else:
        assert ref.error is not None and ref.error[0] == "OutOfBoundsError"


@settings(max_examples=examples(50))
@given(s=st.sampled_from([4, 8, 12, 16, 1]), off=st.sampled_from([0, 3, 8]),
       s2=st.sampled_from([4, 8, 16]), ty=st.sampled_from(["u8", "u16", "u32", "f64", "i64"]),
       block=st.sampled_from([1, 4, 8, 32]), grid=st.integers(1, 4), data=st.data())
def test_global_strided_and_reversed(s, off, s2, ty, block, grid, data) -> None:
    k = data.draw(st.integers(0, block + 1), label="k")
    case = make_case(GLOBAL_STRIDED.format(s=s, off=off, s2=s2, ty=ty, k=k), grid, block,
                     data=random_words(data.draw(st.integers(0, 99)), grid * block))
    ref = agree(case)
    size = {"u8": 1, "u16": 2, "u32": 4, "f64": 8, "i64": 8}[ty]
    lanes = grid * block
    if s * (lanes - 1) + off + size > 8 * lanes + 8:      # the data buffer is 8 n + 8 bytes
        assert ref.error is not None and ref.error[0] == "OutOfBoundsError"


def test_lattice_store_in_tiles_lands_in_every_block() -> None:
    """A Tiles window storing with stride 8 into shared, read back by every lane."""
    text = SHARED_STRIDED.format(s=8, off=0, k=3)
    grid, block = 3, 8
    data = random_words(5, grid * block)
    ref = agree(make_case(text, grid, block, shared_bytes=64, data=data))
    x = np.frombuffer(data, np.uint32)[: grid * block].reshape(grid, block)   # at 4 gid
    own = out_words(ref, np.uint32, grid * block, stride=16, offset=4).reshape(grid, block)
    np.testing.assert_array_equal(own[:, :3], x[:, :3])
    np.testing.assert_array_equal(own[:, 3:], 0)


GLOBAL_TILED = """
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.u32 r5, [r0 + r4]
    mov_imm.u32 r9, 1
    sub.u32 r6, r254, r9
    sub.u32 r6, r6, r252            ; block.x - 1 - tid: reversed in the block
    {outer}
    cvt.u64.u32 r7, r6
    shl.u64 r7, r7, r3
    mov_imm.u32 r20, {k}
    set{cond}.u32 p0, r252, r20
    bra.p0 @skip
    stg.u32 [r1 + r7], r5           ; a window stores at offsets tiled in the lane
skip:
    exit
"""

OUTERS = {
    "per_block": "mul.u32 r8, r253, r254\n    add.u32 r6, r6, r8     ; + block * block.x",
    "shared_by_blocks": "",         # every block stores to the same words: the last one wins
    "spread": "mov_imm.u32 r8, 3\n    mul.u32 r8, r253, r8\n    add.u32 r8, r8, r254\n"
              "    mul.u32 r8, r8, r253\n    add.u32 r6, r6, r8",
}


@settings(max_examples=examples(40))
@given(outer=st.sampled_from(sorted(OUTERS)), cond=st.sampled_from(["lt", "ge", "ne", "eq"]),
       block=st.sampled_from([1, 4, 8, 32]), grid=st.integers(1, 4), data=st.data())
def test_global_stores_at_tiled_offsets(outer, cond, block, grid, data) -> None:
    """Offsets built from r252 and r253 (tiled values, reversed inside the block) stored by
    a window: strided lattices with rows going one way and columns the other, and
    overlapping rows when blocks share addresses (ascending lane order decides)."""
    k = data.draw(st.integers(0, block), label="k")
    text = GLOBAL_TILED.format(outer=OUTERS[outer], k=k, cond=cond)
    ref = agree(make_case(text, grid, block, data=random_words(data.draw(st.integers(0, 99)),
                                                               grid * block)))
    assert ref.error is None


OOB_WINDOW = """
    mov_imm.u32 r20, {k}
    setge.u32 p0, r252, r20
    bra.p0 @win
    exit
win:
    mov_imm.u32 r6, {s}
    mul.u32 r7, r252, r6
    lds.u32 r5, [shared + r7]       ; lanes tid >= k; the top ones past the end
    mov_imm.u64 r8, {gs}
    mul.u64 r9, r255, r8
    ldg.u32 r10, [r0 + r9]          ; global: lanes past the buffer fault
    add.u32 r5, r5, r10
    mov_imm.u32 r13, 3
    shl.u64 r14, r255, r13
    stg.u32 [r1 + r14], r5
"""


@settings(max_examples=examples(40))
@given(block=st.sampled_from([4, 8, 32]), grid=st.integers(1, 4), s=st.sampled_from([4, 8]),
       gs=st.sampled_from([8, 12, 16]), data=st.data())
def test_out_of_bounds_inside_a_window(block, grid, s, gs, data) -> None:
    k = data.draw(st.integers(0, block), label="k")
    shared = data.draw(st.integers(0, s * block), label="shared_bytes")
    ref = agree(make_case(OOB_WINDOW.format(k=k, s=s, gs=gs), grid, block,
                          shared_bytes=shared))
    lanes = grid * block
    oob = k < block and (s * (block - 1) + 4 > shared or gs * (lanes - 1) + 4 > 8 * lanes + 8)
    assert (ref.error is not None and ref.error[0] == "OutOfBoundsError") == oob, ref.error


UNINIT_WINDOW = """
    mov_imm.u32 r5, {k1}
    setge.u32 p0, r252, r5
    bra.p0 @skip
    mov_imm.u32 r30, 5              ; r30 written by tid < k1 only
skip:
    mov_imm.u32 r6, {k2}
    setlt.u32 p1, r252, r6
    bra.p1 @use
    exit
use:
    add.u32 r31, r30, r30           ; tid < k2 read it: k1 <= tid < k2 fault
    mov_imm.u32 r13, 3
    shl.u64 r14, r255, r13
    stg.u32 [r1 + r14], r31
"""


@settings(max_examples=examples(40))
@given(block=st.sampled_from([2, 8, 32]), grid=st.integers(1, 4), data=st.data())
def test_uninitialized_read_inside_a_window(block, grid, data) -> None:
    k1 = data.draw(st.integers(0, block + 1), label="k1")
    k2 = data.draw(st.integers(0, block + 1), label="k2")
    ref = agree(make_case(UNINIT_WINDOW.format(k1=k1, k2=k2), grid, block))
    if k1 < min(k2, block):
        assert ref.error is not None and ref.error[0] == "UninitializedRegisterError"
        assert ref.error[2] == k1          # the lowest faulting lane, in block 0
    else:
        assert ref.error is None


DEADLOCK_WINDOW = """
    mov_imm.u32 r5, {k}
    set{cond}.u32 p0, r252, r5
    bra.p0 @a
    bar.sync {other}
    exit
a:
    bar.sync 0                      ; only the window reaches this barrier
    mov_imm.u32 r13, 3
    shl.u64 r14, r255, r13
    stg.u32 [r1 + r14], r252
    exit
"""


@settings(max_examples=examples(40))
@given(block=st.sampled_from([2, 8, 32]), grid=st.integers(1, 4),
       cond=st.sampled_from(["lt", "ge", "eq", "ne"]), other=st.sampled_from([0, 1]),
       data=st.data())
def test_barrier_reached_by_a_window_only(block, grid, cond, other, data) -> None:
    k = data.draw(st.integers(0, block), label="k")
    ref = agree(make_case(DEADLOCK_WINDOW.format(k=k, cond=cond, other=other), grid, block))
    tid = np.arange(block)
    inside = {"lt": tid < k, "ge": tid >= k, "eq": tid == k, "ne": tid != k}[cond]
    if other == 1 and inside.any() and not inside.all():
        assert ref.error is not None and ref.error[0] == "BarrierDeadlockError"
    else:
        assert ref.error is None


# --------------------------------------------------------------------------- 6: dense divergence

DENSE_SHAPES = [(256, 8), (1024, 2), (64, 40), (2048, 1), (512, 5)]

DENSE_IF_ELSE = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9           ; 8 gid: data
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8           ; 16 gid: output
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r12, {t}
    setlt.u32 p0, r11, r12
    bra.p0 @then
    mov_imm.u32 r13, 5
    mul.u32 r14, r11, r13
    xor.u32 r14, r14, r252
    cvt.f32.u32 r15, r14
    stg.u32 [r1 + r18], r14
    bra @join
then:
    shr.u32 r14, r11, r9
    add.u32 r14, r14, r253
    mov_imm.f32 r15, 0.5
    mov_imm.u64 r16, 4
    add.u64 r16, r18, r16
    stg.u32 [r1 + r16], r14
join:
    add.u32 r17, r14, r11           ; written on both paths: two masked writes merged
    mov_imm.u64 r16, 8
    add.u64 r16, r18, r16
    stg.u32 [r1 + r16], r17
    mov_imm.u64 r16, 12
    add.u64 r16, r18, r16
    stg.f32 [r1 + r16], r15
"""

DENSE_NESTED = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r12, {t}
    mov_imm.u32 r20, 1
    mov_imm.u32 r21, 0
    mov.u32 r30, r252
    setlt.u32 p0, r11, r12
    bra.p0 @a
    and.u32 r22, r11, r20
    seteq.u32 p1, r22, r21          ; x even
    bra.p1 @b
    mov_imm.u32 r23, 6
    shr.u32 r24, r11, r23
    and.u32 r24, r24, r20
    seteq.u32 p2, r24, r21
    bra.p2 @c
    mov_imm.u32 r30, 1
    bra @join
c:
    add.u32 r30, r11, r11
    bra @join
b:
    mov_imm.u32 r25, 7
    mul.u32 r30, r11, r25
    bra @join
a:
    mov_imm.u32 r23, 2
    shr.u32 r24, r11, r23
    and.u32 r24, r24, r20
    seteq.u32 p3, r24, r21
    bra.p3 @join                    ; p3 lanes keep r30 = tid
    sub.u32 r30, r21, r11
join:
    stg.u32 [r1 + r18], r30
"""

DENSE_LOOP = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r12, {t}
    mov_imm.u32 r20, 0
    setlt.u32 p0, r11, r12
    bra.p0 @skip
    mov_imm.u32 r6, 7
    and.u32 r21, r11, r6            ; per-lane trip count 1..8
    mov_imm.u32 r22, 3
    shr.u32 r23, r11, r22
body:
    add.u32 r20, r20, r23
    mov_imm.u32 r24, 1
    and.u32 r25, r23, r24
    seteq.u32 p1, r25, r24
    bra.p1 @odd                     ; divergence inside the loop, inside the masked path
    shr.u32 r23, r23, r24
    bra @next
odd:
    mov_imm.u32 r26, 3
    mul.u32 r23, r23, r26
    add.u32 r23, r23, r24
next:
    loop r21, @body
    stg.u32 [r1 + r18], r21         ; the count after the loop: 0 for every lane
skip:
    mov_imm.u64 r16, 4
    add.u64 r16, r18, r16
    stg.u32 [r1 + r16], r20
"""


@settings(max_examples=examples(6))
@given(shape=st.sampled_from(DENSE_SHAPES), seed=st.integers(0, 999),
       t=st.sampled_from([1 << 31, 3 << 30, 1 << 30, 0x9E3779B9]))
def test_dense_if_else_with_stores(shape, seed, t) -> None:
    block, grid = shape
    lanes = block * grid
    ref = agree(make_case(DENSE_IF_ELSE.format(t=t), grid, block,
                          data=random_words(seed, lanes)))
    assert ref.error is None
    x = np.frombuffer(random_words(seed, lanes), np.uint32)[0:2 * lanes:2].astype(np.uint64)
    gid = np.arange(lanes, dtype=np.uint64)
    r14 = np.where(x < t, (x >> 3) + gid // block, ((x * 5) & 0xFFFFFFFF) ^ (gid % block))
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, 16, 8),
                                  ((r14 + x) & 0xFFFFFFFF).astype(np.uint32))


@settings(max_examples=examples(6))
@given(shape=st.sampled_from(DENSE_SHAPES), seed=st.integers(0, 999),
       t=st.sampled_from([1 << 31, 3 << 30, 1 << 30]))
def test_dense_nested_ifs(shape, seed, t) -> None:
    block, grid = shape
    lanes = block * grid
    ref = agree(make_case(DENSE_NESTED.format(t=t), grid, block, data=random_words(seed, lanes)))
    assert ref.error is None
    x = np.frombuffer(random_words(seed, lanes), np.uint32)[0:2 * lanes:2].astype(np.uint64)
    tid = np.arange(lanes, dtype=np.uint64) % block
    m = 0xFFFFFFFF
    want = np.where(x < t, np.where((x >> 2) & 1 == 0, tid, (0 - x) & m),
                    np.where(x & 1 == 0, (7 * x) & m, np.where((x >> 6) & 1 == 0, (2 * x) & m, 1)))
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, 16), want.astype(np.uint32))


@settings(max_examples=examples(6))
@given(shape=st.sampled_from(DENSE_SHAPES), seed=st.integers(0, 999),
       t=st.sampled_from([1 << 31, 1 << 30, 3 << 30]))
def test_dense_loop_with_per_lane_counts(shape, seed, t) -> None:
    block, grid = shape
    lanes = block * grid
    ref = agree(make_case(DENSE_LOOP.format(t=t), grid, block, data=random_words(seed, lanes)))
    assert ref.error is None
    x = np.frombuffer(random_words(seed, lanes), np.uint32)[0:2 * lanes:2].astype(np.uint64)
    trips, y, acc = (x & 7) + 1, x >> 3, np.zeros(lanes, np.uint64)
    for i in range(8):
        run = i < trips
        acc = np.where(run, (acc + y) & 0xFFFFFFFF, acc)
        y = np.where(run, np.where(y & 1 == 1, (3 * y + 1) & 0xFFFFFFFF, y >> 1), y)
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, 16, 4),
                                  np.where(x < t, 0, acc).astype(np.uint32))


DENSE_DIV = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r20, 1
    and.u32 r21, r11, r20
    seteq.u32 p0, r21, r20          ; x odd: the masked path
    bra.p0 @odd
    exit
odd:
    shr.u32 r22, r11, r20
    mov_imm.u32 r23, {dmask}
    and.u32 r22, r22, r23           ; divisor (x >> 1) & dmask: 0 for some lanes
    {div}
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8
    stg.{ty} [r1 + r18], r24
"""

DIVS = {
    "u32": "div.u32 r24, r11, r22",
    "i32": "cvt.i32.u32 r25, r11\n    cvt.i32.u32 r26, r22\n    div.i32 r24, r25, r26",
    "u64": "cvt.u64.u32 r25, r11\n    cvt.u64.u32 r26, r22\n    div.u64 r24, r25, r26",
}


def _div_data(seed: int, lanes: int, zeros_below: int) -> bytes:
    """Random words; the lanes below ``zeros_below`` are even (inactive) with divisor 0."""
    words = np.frombuffer(random_words(seed, lanes), np.uint32).copy()
    x = words[0:2 * lanes:2]
    x[:zeros_below] &= ~np.uint32(0b111)
    words[0:2 * lanes:2] = x
    return words.tobytes()


@settings(max_examples=examples(8))
@given(shape=st.sampled_from(DENSE_SHAPES), seed=st.integers(0, 999),
       ty=st.sampled_from(sorted(DIVS)), dmask=st.sampled_from([3, 0xFFFF, 1]),
       zeros_below=st.sampled_from([0, 1, 37, 700]))
def test_dense_div_by_zero_reports_lowest_active_lane(shape, seed, ty, dmask, zeros_below) -> None:
    block, grid = shape
    lanes = block * grid
    data = _div_data(seed, lanes, zeros_below)
    ref = agree(make_case(DENSE_DIV.format(div=DIVS[ty], ty=ty, dmask=dmask), grid, block,
                          data=data))
    x = np.frombuffer(data, np.uint32)[0:2 * lanes:2]
    faulting = np.flatnonzero((x & 1 == 1) & ((x >> 1) & dmask == 0))
    if faulting.size:
        assert ref.error is not None and ref.error[0] == "DivisionByZeroError", ref.error
        assert ref.error[2] == faulting[0]
    else:
        assert ref.error is None


DENSE_SEL = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r20, 1
    mov_imm.u32 r27, 0
    mov_imm.u32 r23, 2
    shr.u32 r22, r11, r23
    and.u32 r22, r22, r20
    seteq.u32 p1, r22, r20          ; bit 2 set
    bra.p1 @has
    bra @rest
has:
    mov.u32 r30, r11                ; r30 written where bit 2 is set only
rest:
    mov_imm.u32 r23, 3
    shr.u32 r22, r11, r23
    and.u32 r22, r22, r20
    seteq.u32 p2, r22, r20          ; bit 3 set
    and.u32 r21, r11, r20
    seteq.u32 p0, r21, r20          ; x odd: the masked path
    bra.p0 @odd
    exit
odd:
    mov_imm.u32 r31, 77
    {sel}
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8
    stg.u32 [r1 + r18], r24
"""

SELS = {
    # selects r30 where bit 3 is set: lanes with bit 3 but not bit 2 read it uninitialized
    "uninit_source": "sel.u32 r24, p2, r30, r31",
    # the other source is the uninitialized one where bit 3 is clear
    "uninit_other": "sel.u32 r24, p2, r31, r30",
    # a predicate set only in some lanes (p1 is; p5 only where bit 2 is set below)
    "uninit_pred": "sel.u32 r24, p5, r31, r31",
    # a source of another type where bit 2 is set
    "mistyped": "cvt.u64.u32 r32, r11\n    sel.u32 r24, p1, r32, r31",
}


@settings(max_examples=examples(8))
@given(shape=st.sampled_from(DENSE_SHAPES), seed=st.integers(0, 999),
       which=st.sampled_from(sorted(SELS)), clear_below=st.sampled_from([0, 3, 300]))
def test_dense_sel_faults_at_lowest_active_lane(shape, seed, which, clear_below) -> None:
    block, grid = shape
    lanes = block * grid
    words = np.frombuffer(random_words(seed, lanes), np.uint32).copy()
    x = words[0:2 * lanes:2]
    x[:clear_below] = (x[:clear_below] & ~np.uint32(0b1111)) | np.uint32(0b1000)  # even, bit 3
    words[0:2 * lanes:2] = x
    text = DENSE_SEL.format(sel=SELS[which])
    if which == "uninit_pred":
        text = text.replace("    mov.u32 r30, r11",
                            "    mov.u32 r30, r11\n    setlt.u32 p5, r20, r11")
    ref = agree(make_case(text, grid, block, data=words.tobytes()))
    assert ref.error is not None or which == "mistyped"
    if ref.error is not None:
        odd = x & 1 == 1
        bit2 = (x >> 2) & 1 == 1
        bit3 = (x >> 3) & 1 == 1
        bad = {"uninit_source": odd & bit3 & ~bit2, "uninit_other": odd & ~bit3 & ~bit2,
               "uninit_pred": odd & ~bit2, "mistyped": odd & bit2}[which]
        assert ref.error[2] == np.flatnonzero(bad)[0], (ref.error, which)


def test_dense_divergence_issues_masked_sets(issued) -> None:
    """With the default thresholds the dense kernels here really run Masked sets."""
    block, grid = 256, 8
    dev = run_device(make_case(DENSE_IF_ELSE.format(t=1 << 31), grid, block,
                               data=random_words(3, block * grid)))
    assert dev.error is None
    assert "Masked" in issued


# --------------------------------------------------------------------------- random, all masked

@settings(max_examples=examples(150))
@given(cases(max_lanes=256, max_statements=20))
def test_random_programs_with_every_split_masked(case) -> None:
    saved = lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY, lanes_mod.PERIODIC_MIN_SPAN
    lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY, lanes_mod.PERIODIC_MIN_SPAN = 0, 0, 0
    try:
        assert_agree(case)
    finally:
        lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY, lanes_mod.PERIODIC_MIN_SPAN = saved


# --------------------------------------------------------------------------- 2-D blocks and grids

def tile_2d_text(bx: int, by: int, lanes: int) -> str:
    """threadIdx.y from the global lane id (``and``/``shr``), blockIdx.x from r253 and
    blockIdx.y by DIV, a tile through shared memory read transposed, a store and a load at
    permuted global offsets.  Lane ``g`` writes u32s ``ty, r253, s[tx * by + ty], by`` at
    ``16 g`` and ``g`` at ``16 * lanes + 4 * (P * block + tx * by + ty)``."""
    p = bx * by
    return f"""
    mov_imm.u32 r9, 4
    shl.u64 r10, r255, r9                   ; 16 * gid: this lane's output slot
    mov_imm.u64 r4, {p - 1}
    and.u64 r5, r255, r4                    ; lane in block
    mov_imm.u32 r6, {bx.bit_length() - 1}
    shr.u64 r7, r5, r6                      ; ty
    cvt.u64.u32 r8, r252                    ; tx
    cvt.u64.u32 r11, r253                   ; blockIdx.x
    mov_imm.u32 r12, {p.bit_length() - 1}
    shr.u64 r13, r255, r12                  ; the block's linear index
    cvt.u64.u32 r14, r254
    mov_imm.u64 r15, {by}
    mul.u64 r16, r7, r14
    add.u64 r16, r16, r8                    ; ty * bx + tx
    mov_imm.u32 r17, 2
    shl.u64 r16, r16, r17
    mov_imm.u64 r18, 1000
    mul.u64 r19, r11, r18
    add.u64 r19, r19, r5
    cvt.u32.u64 r19, r19                    ; 1000 * blockIdx.x + lane in block
    sts.u32 [shared + r16], r19
    bar.sync 0
    mul.u64 r20, r8, r15
    add.u64 r20, r20, r7                    ; tx * by + ty
    shl.u64 r21, r20, r17
    lds.u32 r22, [shared + r21]
    cvt.u32.u64 r23, r7
    stg.u32 [r1 + r10], r23
    mov_imm.u64 r24, 4
    add.u64 r25, r10, r24
    stg.u32 [r1 + r25], r253
    add.u64 r25, r25, r24
    stg.u32 [r1 + r25], r22
    cvt.u64.u32 r26, r253
    mov_imm.u64 r27, {p}
    mul.u64 r28, r13, r27
    add.u64 r28, r28, r20                   ; P * block + tx * by + ty
    shl.u64 r28, r28, r17
    ldg.u32 r29, [r0 + r28]
    mov_imm.u64 r30, {16 * lanes}
    add.u64 r31, r28, r30
    cvt.u32.u64 r32, r255
    add.u32 r32, r32, r29
    stg.u32 [r1 + r31], r32
    cvt.u64.u32 r33, r253
    sub.u64 r33, r13, r33                   ; block - blockIdx.x = blockIdx.y * grid.x
    cvt.u32.u64 r33, r33
    add.u64 r25, r25, r24
    stg.u32 [r1 + r25], r33
    exit
"""


def tile_2d_expected(bx: int, by: int, grid: tuple[int, int], data: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The per-lane words (lanes x 4) and the permuted words of :func:`tile_2d_text`."""
    p = bx * by
    lanes = grid[0] * grid[1] * p
    g = np.arange(lanes, dtype=np.int64)
    t, block = g % p, g // p
    tx, ty = t % bx, t // bx
    bid_x = block % grid[0]
    read = tx * by + ty                         # s[read] was written by the lane t' = read
    words = np.stack([ty, bid_x, 1000 * bid_x + (read // bx) * bx + read % bx,
                      block - bid_x], axis=1)
    perm = p * block + read
    permuted = np.empty(lanes, np.int64)
    permuted[perm] = g + data[perm].astype(np.int64)
    return words.astype(np.uint32), permuted.astype(np.uint32)


@settings(max_examples=examples(12))
@given(shape=st.sampled_from([((16, 16), (2, 3)), ((8, 32), (3, 2)), ((16, 16), (1, 1)),
                              ((8, 32), (5, 1)), ((16, 4), (2, 4)), ((4, 8), (3, 3))]),
       seed=st.integers(0, 99))
def test_two_dimensional_tiles(shape, seed) -> None:
    """2-D blocks (16 x 16, 8 x 32, ...) on 2-D grids: threadIdx.y, r253 and addresses
    derived from them (digits of the lane index) agree with the reference and NumPy."""
    (bx, by), grid = shape
    lanes = bx * by * grid[0] * grid[1]
    data = random_words(seed, lanes, 0, 1 << 20)
    case = make_case(tile_2d_text(bx, by, lanes), (grid[0], grid[1], 1), (bx, by, 1),
                     data=data, shared_bytes=4 * bx * by)
    ref = agree(case)
    assert ref.error is None
    words, permuted = tile_2d_expected(bx, by, grid, np.frombuffer(data, np.uint32))
    np.testing.assert_array_equal(_lane_words(ref, lanes), words)
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, stride=4, offset=16 * lanes),
                                  permuted)


def _lane_words(outcome: Outcome, lanes: int) -> np.ndarray:
    return out_words(outcome, np.uint32, 4 * lanes, stride=4).reshape(lanes, 4)


@pytest.mark.parametrize("grid_x", [64, 300])
def test_two_dimensional_grid_across_executor_pieces(grid_x) -> None:
    """More blocks than one piece: r253 of a 2-D grid is a tile index (rows within one
    piece), digits (pieces starting a row) or an array (elsewhere); the same memory as
    one big piece, and NumPy's values."""
    bx, by = 16, 16
    grid = (grid_x, 600 // grid_x + 1)
    lanes = bx * by * grid[0] * grid[1]
    data = random_words(3, lanes, 0, 1 << 20)
    case = make_case(tile_2d_text(bx, by, lanes), (grid[0], grid[1], 1), (bx, by, 1),
                     data=data, shared_bytes=4 * bx * by)
    split = run_device(case, piece_lanes=65_536)
    whole = run_device(case, piece_lanes=4 * 65_536)
    assert split.error is None and whole.error is None
    assert split.buffers == whole.buffers
    words, permuted = tile_2d_expected(bx, by, grid, np.frombuffer(data, np.uint32))
    np.testing.assert_array_equal(_lane_words(split, lanes), words)
    np.testing.assert_array_equal(out_words(split, np.uint32, lanes, stride=4,
                                            offset=16 * lanes), permuted)


@pytest.mark.parametrize("bx, by", [(16, 16), (8, 32)])
def test_two_dimensional_tiles_out_of_bounds(bx, by) -> None:
    """The transposed (digits) read one word past the tile: the lane reading past the
    end faults at the same pc and lane as in the reference."""
    grid = (2, 2)
    lanes = bx * by * grid[0] * grid[1]
    text = tile_2d_text(bx, by, lanes).replace(
        "    lds.u32 r22,", "    mov_imm.u64 r40, 4\n    add.u64 r21, r21, r40\n    lds.u32 r22,")
    case = make_case(text, (grid[0], grid[1], 1), (bx, by, 1),
                     data=random_words(5, lanes, 0, 1 << 20), shared_bytes=4 * bx * by)
    error = agree(case).error
    assert error[0] == "OutOfBoundsError" and error[2] == bx * by - 1


# --------------------------------------------------------------------------- 7: sparse divergence

SPARSE_BODY = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9           ; 8 gid: data
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8           ; 16 gid: output
    ldg.u32 r11, [r0 + r10]
    mov.u32 r14, r252               ; every lane: tid
    mov_imm.u32 r15, 1
    mov_imm.u32 r23, 2
    shl.u32 r24, r252, r23          ; 4 tid: the lane's shared word
    mov_imm.u32 r12, {t}
    setge.u32 p0, r11, r12
    bra.p0 @join                    ; a sparse set of lanes runs the body
    add.u32 r14, r14, r11           ; held: read and rewritten by the same lanes
    xor.u32 r14, r14, r253
    mul.u32 r15, r14, r11
    add.u32 r14, r14, r15
    mov_imm.u32 r20, 1
    and.u32 r21, r11, r20
    seteq.u32 p1, r21, r20
    bra.p1 @odd                     ; a split of the held lanes
    shr.u32 r15, r15, r20
    bra @inner
odd:
    add.u32 r15, r15, r14
inner:
    mov_imm.u32 r6, 3
    and.u32 r22, r11, r6            ; per-lane trip count 1..4
body:
    add.u32 r14, r14, r15
    loop r22, @body
    {tail}
join:
    add.u32 r17, r14, r15           ; every lane reads the held registers
    stg.u32 [r1 + r18], r17
    mov_imm.u64 r16, 4
    add.u64 r16, r18, r16
    stg.u32 [r1 + r16], r14
"""

SPARSE_TAILS = {
    "plain": "xor.u32 r15, r15, r252",
    "retype": "cvt.f32.u32 r19, r15\n    cvt.u32.f32 r15, r19",
    "exit": "setlt.u32 p2, r14, r12\n    bra.p2 @join\n    exit",
    "shared": "sts.u32 [shared + r24], r14\n    lds.u32 r15, [shared + r24]\n"
              "    xor.u32 r15, r15, r252\n    sts.u32 [shared + r24], r15\n"
              "    lds.u32 r19, [shared + r24]\n    add.u32 r15, r15, r19",
}


@settings(max_examples=examples(12))
@given(shape=st.sampled_from([(256, 8), (64, 3), (32, 1), (1024, 2)]), seed=st.integers(0, 999),
       t=st.sampled_from([1 << 28, 1 << 29, 3 << 29, 1 << 31]),
       tail=st.sampled_from(sorted(SPARSE_TAILS)))
@example(shape=(256, 8), seed=1, t=1 << 29, tail="plain")
@example(shape=(256, 8), seed=2, t=1 << 29, tail="retype")
@example(shape=(64, 3), seed=3, t=1 << 30, tail="exit")
@example(shape=(256, 8), seed=4, t=1 << 29, tail="shared")
def test_sparse_bodies_agree_at_the_join(shape, seed, t, tail) -> None:
    block, grid = shape
    lanes = block * grid
    ref = agree(make_case(SPARSE_BODY.format(t=t, tail=SPARSE_TAILS[tail]), grid, block,
                          data=random_words(seed, lanes), shared_bytes=4 * block))
    assert ref.error is None
    x = np.frombuffer(random_words(seed, lanes), np.uint32)[0:2 * lanes:2].astype(np.uint64)
    gid = np.arange(lanes, dtype=np.uint64)
    m = 0xFFFFFFFF
    r14 = ((gid % block + x) & m) ^ (gid // block)
    r15 = (r14 * x) & m
    r14 = (r14 + r15) & m
    r15 = np.where(x & 1 == 1, (r15 + r14) & m, r15 >> 1)
    for i in range(4):
        r14 = np.where(i <= (x & 3), (r14 + r15) & m, r14)
    if tail == "plain":
        r15 = r15 ^ (gid % block)
    elif tail == "retype":
        r15 = r15.astype(np.float32).astype(np.uint64)
    elif tail == "shared":
        r15 = (2 * (r14 ^ (gid % block))) & m
    sparse = x < t
    r14 = np.where(sparse, r14, gid % block)
    r15 = np.where(sparse, r15, 1)
    keep = np.ones(lanes, bool) if tail != "exit" else ~sparse | (r14 < t)
    got = out_words(ref, np.uint32, lanes, 16)
    np.testing.assert_array_equal(got[keep], ((r14 + r15) & m).astype(np.uint32)[keep])
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, 16, 4)[keep],
                                  r14.astype(np.uint32)[keep])


# ------------------------------------------------- per-lane walks: compact loads, exit sets
WALK = """
    mov_imm.u32 r9, 3
    shl.u64 r10, r255, r9
    mov_imm.u32 r8, 4
    shl.u64 r18, r255, r8
    ldg.u32 r11, [r0 + r10]
    mov_imm.u32 r6, 15
    and.u32 r12, r11, r6            ; per-lane trip count 0..15
    mov_imm.u32 r13, 0
    mov_imm.u32 r20, 0
    mov_imm.u64 r14, {stale}        ; the offset lanes without a trip keep
    mov_imm.u32 r7, 1
    mov_imm.u32 r5, 2
    mov_imm.u64 r4, {mask}
walk:
    setge.u32 p0, r13, r12
    bra.p0 @done                    ; lanes leave one trip count at a time
    shl.u64 r16, r255, r7
    cvt.u64.u32 r17, r13
    add.u64 r16, r16, r17
    and.u64 r16, r16, r4
    shl.u64 r14, r16, r5
    ldg.u32 r19, [r0 + r14]
    add.u32 r20, r20, r19
    add.u32 r13, r13, r7
    bra @walk
done:
    stg.u32 [r1 + r18], r20
    mov_imm.u64 r21, 8
    add.u64 r21, r18, r21
    stg.u64 [r1 + r21], r14
"""


@settings(max_examples=examples(6))
@given(shape=st.sampled_from([(2048, 1), (256, 8), (1024, 2)]), seed=st.integers(0, 999),
       stale=st.sampled_from([0, 0xFFFFFFF0]))
def test_per_lane_walk_loads_only_active_lanes(shape, seed, stale) -> None:
    """A loop whose lanes leave at different trips: its later iterations are Masked sets
    under half their span (loads resolved at the active lanes only; lanes without a trip
    hold an out-of-bounds offset that must not fault) and the lanes waiting at the store
    gather into a mask."""
    from simt.machine.kernels import memory as kmem
    calls = []
    real = kmem._compact_load
    block, grid = shape
    lanes = block * grid
    data = random_words(seed, lanes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kmem, "_compact_load", lambda *a: calls.append(1) or real(*a))
        ref = agree(make_case(WALK.format(stale=stale, mask=2 * lanes - 1), grid, block,
                              data=data))
    assert ref.error is None
    assert calls
    words = np.frombuffer(data, np.uint32)[:2 * lanes].astype(np.uint64)
    trips = words[0::2] & 15
    gid = np.arange(lanes, dtype=np.uint64)
    want = np.zeros(lanes, np.uint64)
    for k in range(15):
        want = np.where(k < trips, (want + words[(2 * gid + k) & (2 * lanes - 1)]) & 0xFFFFFFFF,
                        want)
    np.testing.assert_array_equal(out_words(ref, np.uint32, lanes, 16), want.astype(np.uint32))


@settings(max_examples=examples(6))
@given(seed=st.integers(0, 999))
def test_per_lane_walk_fault_in_a_compact_load(seed) -> None:
    """Offsets past the buffer at late trips: the lowest active faulting lane is reported,
    as by the reference."""
    lanes = 2048
    data = bytearray(random_words(seed, lanes))
    data[8 * (lanes - 1)] |= 15         # the last lane's 15 trips walk past the buffer
    ref = agree(make_case(WALK.format(stale=0xFFFFFFF0, mask=8 * lanes - 1), 8, 256,
                          data=bytes(data)))
    assert ref.error is not None
