"""Conformance of every lane-set form to :class:`simt.machine.lanes.LaneForm`.

The same lanes are built in every form that can hold them (a range, an index
array, :class:`Tiles`, :class:`Masked` over different spans); every member of
the protocol must give the same answer in each form, and that answer must be
the one computed from the plain list of lanes.
"""

from __future__ import annotations

import numpy as np
import pytest

from simt.machine.lanes import LaneSet, Masked, Tiles

N = 256         # lanes of the model piece
WARP = 32


def _masked(lo: int, hi: int, lanes: np.ndarray) -> Masked:
    mask = np.zeros(hi - lo, bool)
    mask[lanes - lo] = True
    return Masked(lo, hi, mask, int(mask.sum()))


def forms(lanes: np.ndarray, tiles: tuple | None = None) -> list[LaneSet]:
    """``lanes`` (sorted, distinct) in every form that can hold them."""
    lo, hi = int(lanes[0]), int(lanes[-1]) + 1
    out: list[LaneSet] = [LaneSet(lo, hi, lanes.copy())]          # an index array
    if hi - lo == lanes.size:
        out.append(LaneSet.range(lo, hi))
    if tiles is not None:
        out.append(Tiles(*tiles))
    out.append(_masked(lo, hi, lanes))                           # the tightest span
    out.append(_masked(0, N, lanes))                             # a warp-aligned span
    return out


SHAPES = {
    "contiguous": (np.arange(32, 160), (32, 1, 5, 0, 32)),
    "unaligned run": (np.arange(5, 77), None),
    "windows of blocks": ((np.arange(4)[:, None] * 64 + np.arange(16, 48)).ravel(),
                          (64, 0, 4, 16, 48)),
    "every other lane": (np.arange(0, N, 2), (2, 0, N // 2, 0, 1)),
    "odd windows": ((np.arange(1, 9)[:, None] * 24 + np.arange(3, 11)).ravel(),
                    (24, 1, 9, 3, 11)),
    "sparse": (np.array([3, 4, 40, 41, 99, 130, 131, 132, 255]), None),
    "one lane": (np.array([77]), None),
}
GEOMETRIES = [(32, WARP), (64, WARP), (256, WARP), (48, WARP), (24, WARP), (64, 8)]


def warp_of(lane: int, bpl: int, warp: int) -> int:
    return (lane // bpl) * -(-bpl // warp) + (lane % bpl) // warp


def frame_of(s: LaneSet) -> np.ndarray:
    """The lane of each frame position."""
    return np.arange(s.lo, s.hi) if type(s) is Masked else s.indices()


@pytest.fixture(params=list(SHAPES), ids=list(SHAPES))
def shape(request):
    lanes, tiles = SHAPES[request.param]
    return lanes.astype(np.int64), forms(lanes.astype(np.int64), tiles)


def test_every_form_holds_the_lanes(shape) -> None:
    lanes, sets = shape
    assert len(sets) >= 3
    for s in sets:
        np.testing.assert_array_equal(s.indices(), lanes)
        np.testing.assert_array_equal(s.compact.indices(), lanes)
        assert len(s) == lanes.size == len(s.compact)
        assert s.first == lanes[0] and s.last == lanes[-1]
        assert s.frame == frame_of(s).size
        for pos in (0, s.frame - 1):
            assert s.at(pos) == frame_of(s)[pos]
        assert s.lo <= s.first and s.last < s.hi
        assert s.covers(s)


def test_reading_and_writing_agree(shape) -> None:
    lanes, sets = shape
    arr = np.arange(N, dtype=np.int64) * 7 + 1000
    for s in sets:
        np.testing.assert_array_equal(s.pick(arr), arr[lanes])
        np.testing.assert_array_equal(s.read(arr), arr[frame_of(s)])
        out = np.zeros(N, np.int64)
        s.write(out, s.read(arr))
        expect = np.zeros(N, np.int64)
        expect[lanes] = arr[lanes]
        np.testing.assert_array_equal(out, expect)
        for dtype, value in ((np.int64, -5), (np.bool_, True)):
            out = np.zeros(N, dtype)
            s.fill(out, value)
            expect = np.zeros(N, dtype)
            expect[lanes] = value
            np.testing.assert_array_equal(out, expect)


@pytest.mark.parametrize("bpl,warp", GEOMETRIES)
def test_counts_agree(shape, bpl, warp) -> None:
    lanes, sets = shape
    nblocks = -(-N // bpl)
    blocks = np.bincount(lanes // bpl, minlength=nblocks)
    warps = {warp_of(int(v), bpl, warp) for v in lanes}
    nwarps = warp_of(N - 1, bpl, warp) + 1
    flags = np.zeros(nwarps, bool)
    flags[list(warps)] = True
    for s in sets:
        for _ in range(2):          # the second answer may come from the set's cache
            np.testing.assert_array_equal(s.block_counts(bpl, nblocks), blocks)
            assert s.warp_count(bpl, warp) == len(warps), s
        np.testing.assert_array_equal(s.warp_flags(0, nwarps, bpl, warp), flags)
        first = min(warps)
        np.testing.assert_array_equal(s.warp_flags(first, nwarps - first, bpl, warp),
                                      flags[first:])


def _complements(lanes: np.ndarray) -> list[tuple[np.ndarray, list[LaneSet]]]:
    """Sets disjoint from ``lanes`` in every form: the complement in [0, N) and within the
    span of ``lanes``."""
    out = []
    rest = np.setdiff1d(np.arange(N), lanes)
    if rest.size:
        out.append((rest, forms(rest)))
    lo, hi = int(lanes[0]), int(lanes[-1]) + 1
    inner = np.setdiff1d(np.arange(lo, hi), lanes)
    if inner.size:
        out.append((inner, forms(inner)))
    return out


@pytest.mark.parametrize("bpl,warp", GEOMETRIES)
def test_mixed_warps_agree(shape, bpl, warp) -> None:
    lanes, sets = shape
    mine = {warp_of(int(v), bpl, warp) for v in lanes}
    for other, others in _complements(lanes):
        theirs = {warp_of(int(v), bpl, warp) for v in other}
        expect = len(mine & theirs)
        for a in sets:
            for b in others:
                assert a.mixed_warps(b, bpl, warp) == expect, (a, b)
                assert b.mixed_warps(a, bpl, warp) == expect, (b, a)


@pytest.mark.parametrize("bpl", [32, 64, 48])
def test_mixed_warps_of_a_split_also_count_each_side(bpl) -> None:
    rng = np.random.default_rng(5)
    mask = rng.random(N) < 0.5
    mask[:32] = True                # a warp all on one side
    mask[32:64] = False             # and one all on the other
    whole = LaneSet.range(0, N)
    yes, no = Masked(0, N, mask.copy(), int(mask.sum())), Masked(0, N, ~mask, int((~mask).sum()))
    yes.parted = no.parted = (whole,)
    warp = np.array([warp_of(v, bpl, WARP) for v in range(N)])
    a, b = set(warp[mask]), set(warp[~mask])
    assert yes.mixed_warps(no, bpl, WARP) == len(a & b)
    assert yes.warp_count(bpl, WARP) == len(a)
    assert no.warp_count(bpl, WARP) == len(b)


def test_set_algebra_agrees(shape) -> None:
    lanes, sets = shape
    rng = np.random.default_rng(lanes.size)
    chosen = rng.random(N) < 0.5            # per lane of the piece
    keep, drop = lanes[chosen[lanes]], lanes[~chosen[lanes]]
    for s in sets:
        cond = chosen[frame_of(s)]
        np.testing.assert_array_equal(s.take(cond).indices(), keep)
        yes, no = s.split(cond)
        np.testing.assert_array_equal(yes.indices(), keep)
        np.testing.assert_array_equal(no.indices(), drop)
        np.testing.assert_array_equal(yes.union(no).indices(), lanes)
        assert not (yes.covers(s) and len(no))      # never claims a lane it lacks
        for other, others in _complements(lanes):
            joined = np.union1d(lanes, other)
            for b in others:
                np.testing.assert_array_equal(s.union(b).indices(), joined)
                assert not s.covers(b)
