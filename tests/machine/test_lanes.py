"""Lane sets (simt.machine.lanes) against a brute-force model of sorted lane lists.

Every form -- range, index array, :class:`Tiles`, :class:`Masked` -- is compared
method by method with expectations computed from plain Python lists and sets
of lane indices.  ``covers`` is only checked for soundness (it may answer False
when it cannot decide cheaply, never True when the answer is False), plus a few
cases its documentation promises to decide.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simt.machine import lanes as lanes_mod
from simt.machine.lanes import LaneSet, Masked, Tiles, blend

N = 64          # lanes of the model piece


# --------------------------------------------------------------------------- the model

def lanes_of(s: LaneSet) -> list[int]:
    """The lanes of ``s`` as a sorted list, from :meth:`LaneSet.indices`."""
    idx = s.indices()
    assert idx.dtype == np.int64
    out = [int(v) for v in idx]
    assert out == sorted(set(out)), f"{s!r}: indices not sorted and distinct: {out}"
    return out


def tiles_model(period: int, b0: int, b1: int, t0: int, t1: int) -> list[int]:
    return [b * period + t for b in range(b0, b1) for t in range(t0, t1)]


def masked_model(lo: int, mask: np.ndarray) -> list[int]:
    return [lo + i for i, m in enumerate(mask.tolist()) if m]


def frame_lanes(s: LaneSet) -> list[int]:
    """The lane each frame position stands for (the span for Masked, else the lanes)."""
    if type(s) is Masked:
        return list(range(s.lo, s.hi))
    return lanes_of(s)


def piece_array(dtype=np.int64, seed: int = 0) -> np.ndarray:
    """A per-lane array of the piece with distinct, recognizable entries."""
    return (np.arange(N, dtype=np.int64) * 7 + 1000 + seed).astype(dtype)


# --------------------------------------------------------------------------- strategies

@st.composite
def range_sets(draw, n: int = N):
    lo = draw(st.integers(0, n))
    hi = draw(st.integers(lo, n))
    return LaneSet.range(lo, hi), list(range(lo, hi))


@st.composite
def index_sets(draw, n: int = N):
    chosen = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n)))
    return LaneSet.of(np.array(chosen, np.int64)), chosen


@st.composite
def tile_sets(draw, n: int = N):
    period = draw(st.integers(2, 8))
    blocks = n // period
    b0 = draw(st.integers(0, blocks - 2))
    b1 = draw(st.integers(b0 + 2, blocks))
    t0 = draw(st.integers(0, period - 1))
    t1 = draw(st.integers(t0 + 1, period))
    if t0 == 0 and t1 == period:            # whole blocks: make() gives a range
        t1 -= 1
    return Tiles(period, b0, b1, t0, t1), tiles_model(period, b0, b1, t0, t1)


@st.composite
def masked_sets(draw, n: int = N):
    lo = draw(st.integers(0, n - 2))
    hi = draw(st.integers(lo + 2, n))
    bits = draw(st.lists(st.booleans(), min_size=hi - lo, max_size=hi - lo))
    if not any(bits):
        bits[draw(st.integers(0, hi - lo - 1))] = True
    mask = np.array(bits, bool)
    return Masked(lo, hi, mask, int(mask.sum())), masked_model(lo, mask)


def any_sets(n: int = N):
    return st.one_of(range_sets(n), index_sets(n), tile_sets(n), masked_sets(n))


# --------------------------------------------------------------------------- per-form methods

def check_against_model(s: LaneSet, model: list[int]) -> None:
    """Every query method of ``s`` against the model's sorted lanes."""
    assert lanes_of(s) == model
    assert len(s) == len(model)
    frame = frame_lanes(s)
    assert s.frame == len(frame)
    # compact: the same lanes in the compact frame
    c = s.compact
    assert lanes_of(c) == model and c.frame == len(model) == len(c)
    assert type(c) is not Masked
    # domain: the lanes a step's arrays have entries for
    assert lanes_of(s.domain) == frame
    arr = piece_array()
    np.testing.assert_array_equal(arr[s.sel], arr[model])
    if model:
        assert s.first == model[0]
        for pos in range(len(frame)):
            assert s.at(pos) == frame[pos]
    np.testing.assert_array_equal(s.read(arr), arr[frame])
    assert s.lo <= (model[0] if model else s.lo) and (not model or model[-1] < s.hi)


@settings(max_examples=150)
@given(st.one_of(range_sets(), index_sets(), tile_sets(), masked_sets()))
def test_every_form_agrees_with_the_model(form) -> None:
    s, model = form
    check_against_model(s, model)


@pytest.mark.parametrize("s,model", [
    (LaneSet.range(3, 9), list(range(3, 9))),
    (LaneSet.range(0, 0), []),
    (LaneSet.of(np.array([1, 4, 5, 30])), [1, 4, 5, 30]),
    (Tiles(8, 1, 4, 2, 5), [10, 11, 12, 18, 19, 20, 26, 27, 28]),
    (Masked(4, 10, np.array([1, 0, 0, 1, 1, 0], bool), 3), [4, 7, 8]),
])
def test_hand_written_forms(s, model) -> None:
    check_against_model(s, model)


def test_of_normalizes_contiguous_and_empty_indices() -> None:
    s = LaneSet.of(np.array([5, 6, 7, 8]))
    assert s.is_range and (s.lo, s.hi) == (5, 9)
    e = LaneSet.of(np.array([], np.int64))
    assert len(e) == 0 and e.is_range
    g = LaneSet.of([2, 9])
    assert not g.is_range and lanes_of(g) == [2, 9]


def test_masked_frame_and_positions_are_the_span() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1], bool)
    s = Masked(10, 18, mask, 4)
    assert (len(s), s.frame) == (4, 8)
    assert s.first == 11
    assert [s.at(i) for i in range(8)] == list(range(10, 18))
    assert s.sliced and not s.is_range
    assert lanes_of(s.domain) == list(range(10, 18)) and s.domain.is_range
    assert lanes_of(s.compact) == [11, 12, 15, 17] and s.compact.frame == 4


# --------------------------------------------------------------------------- Tiles

@pytest.mark.parametrize("args,expect", [
    ((8, 2, 3, 1, 6), ("range", 17, 22)),          # one block
    ((8, 1, 4, 0, 8), ("range", 8, 32)),           # whole blocks
    ((1, 0, 5, 0, 1), ("range", 0, 5)),            # period 1: every window is full
    ((8, 3, 3, 0, 4), ("empty",)),                 # no blocks
    ((8, 4, 2, 0, 4), ("empty",)),                 # reversed blocks
    ((8, 0, 3, 5, 5), ("empty",)),                 # empty window
    ((8, 0, 3, 6, 2), ("empty",)),                 # reversed window
    ((8, 0, 3, 0, 7), ("tiles",)),
    ((8, 0, 3, 1, 8), ("tiles",)),
])
def test_tiles_make_normalizes(args, expect) -> None:
    s = Tiles.make(*args)
    period, b0, b1, t0, t1 = args
    model = tiles_model(period, b0, b1, t0, t1)
    assert lanes_of(s) == model and len(s) == len(model)
    if expect[0] == "range":
        assert type(s) is LaneSet and s.is_range and (s.lo, s.hi) == expect[1:]
    elif expect[0] == "empty":
        assert len(s) == 0 and s.is_range
    else:
        assert type(s) is Tiles and not s.is_range and s.shape == (b1 - b0, t1 - t0)


@settings(max_examples=80)
@given(tile_sets(), st.integers(0, 2 ** 31))
def test_tiles_read_write_are_strided_copies_in_lane_order(form, seed) -> None:
    s, model = form
    arr = np.random.default_rng(seed).integers(0, 1 << 30, N)
    got = s.read(arr)
    np.testing.assert_array_equal(got, arr[model])           # lane order, not any other
    np.testing.assert_array_equal(s.view(arr).ravel(), arr[model])
    values = np.arange(len(model)) + 5000
    out = arr.copy()
    s.write(out, values)
    expect = arr.copy()
    expect[model] = values
    np.testing.assert_array_equal(out, expect)
    out = arr.copy()
    s.write(out, np.int64(-1))                               # a scalar
    expect = arr.copy()
    expect[model] = -1
    np.testing.assert_array_equal(out, expect)


def test_tiles_idx_is_cached_and_sorted() -> None:
    s = Tiles(5, 1, 4, 1, 3)
    assert s.idx is s.idx
    assert lanes_of(s) == [6, 7, 11, 12, 16, 17]
    assert (s.lo, s.hi) == (6, 18)


# --------------------------------------------------------------------------- read / write

@settings(max_examples=150)
@given(any_sets(), st.integers(0, 2 ** 31))
def test_write_touches_exactly_the_lanes(form, seed) -> None:
    s, model = form
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 1 << 40, N)
    frame = frame_lanes(s)
    values = rng.integers(0, 1 << 40, len(frame))
    out = arr.copy()
    s.write(out, values)
    expect = arr.copy()
    for pos, lane in enumerate(frame):
        if lane in set(model):
            expect[lane] = values[pos]
    np.testing.assert_array_equal(out, expect)
    out = arr.copy()
    s.write(out, np.int64(-3))
    expect = arr.copy()
    expect[model] = -3
    np.testing.assert_array_equal(out, expect)


def test_masked_write_keeps_inactive_positions_of_the_span() -> None:
    arr = np.arange(20, dtype=np.int32)
    mask = np.array([1, 0, 1, 1, 0], bool)
    s = Masked(6, 11, mask, 3)
    s.write(arr, np.array([-1, -2, -3, -4, -5], np.int32))
    np.testing.assert_array_equal(arr[6:11], [-1, 7, -3, -4, 10])
    np.testing.assert_array_equal(arr[:6], np.arange(6))
    np.testing.assert_array_equal(arr[11:], np.arange(11, 20))


# --------------------------------------------------------------------------- take / split

@settings(max_examples=200)
@given(any_sets(), st.data())
def test_take_and_split_against_the_model(form, data) -> None:
    s, model = form
    frame = frame_lanes(s)
    bits = data.draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
    cond = np.array(bits, bool)
    members = set(model)
    want_yes = [lane for lane, c in zip(frame, bits) if c and lane in members]
    want_no = [lane for lane, c in zip(frame, bits) if not c and lane in members]
    taken = s.take(cond)
    assert lanes_of(taken) == want_yes and len(taken) == len(want_yes)
    yes, no = s.split(cond)
    assert lanes_of(yes) == want_yes and lanes_of(no) == want_no
    assert len(yes) + len(no) == len(s)
    for part in (taken, yes, no):       # a valid set: its own model holds too
        check_against_model(part, lanes_of(part))
    # the input is not consumed
    np.testing.assert_array_equal(cond, np.array(bits, bool))
    assert lanes_of(s) == model


def test_masked_take_cond_is_over_the_span_frame() -> None:
    mask = np.array([1, 1, 0, 1, 0, 1, 1, 0], bool)
    s = Masked(8, 16, mask, 5)                     # lanes 8 9 11 13 14
    cond = np.array([0, 1, 1, 1, 1, 0, 1, 1], bool)
    assert lanes_of(s.take(cond)) == [9, 11, 14]
    yes, no = s.split(cond)
    assert lanes_of(yes) == [9, 11, 14] and lanes_of(no) == [8, 13]


def test_tiles_take_keeps_dense_subsets_dense() -> None:
    """A loop whose trip count is ``(lane & 7) + 1`` leaves periodic lanes at each trip:
    a subset of Tiles is Tiles again, or a mask, not an index array (which gathered and
    scattered every lane: the demo's loop_call ran 30% slower)."""
    n = 1 << 16
    lanes = np.arange(n)
    tiles = LaneSet.where(0, (lanes & 7) >= 1)                # window [1, 8) of period 8
    assert type(tiles) is Tiles and (tiles.period, tiles.t0, tiles.t1) == (8, 1, 8)
    frame = tiles.idx
    again = tiles.take((frame & 7) >= 2)
    assert type(again) is Tiles and (again.period, again.t0, again.t1) == (8, 2, 8)
    assert lanes_of(again) == [int(x) for x in frame[(frame & 7) >= 2]]
    cond = np.random.default_rng(5).random(len(tiles)) < 0.6
    masked = tiles.take(cond)
    assert type(masked) is Masked and lanes_of(masked) == [int(x) for x in frame[cond]]
    few = frame % 97 == 0
    sparse = tiles.take(few)
    assert type(sparse) is LaneSet and lanes_of(sparse) == [int(x) for x in frame[few]]
    firsts = Tiles(256, 0, n // 256, 0, 2)          # sparse tiles: their subsets are indices
    cond = np.arange(len(firsts)) % 3 != 0
    assert lanes_of(firsts.take(cond)) == [int(x) for x in firsts.idx[cond]]


# --------------------------------------------------------------------------- covers / union

@settings(max_examples=400)
@given(any_sets(), any_sets())
def test_covers_is_never_wrong_when_it_says_true(a, b) -> None:
    (sa, ma), (sb, mb) = a, b
    if sa.covers(sb):
        assert set(mb) <= set(ma), f"{sa!r} claims to cover {sb!r}"
    if sb.covers(sa):
        assert set(ma) <= set(mb), f"{sb!r} claims to cover {sa!r}"
    assert sa.covers(sa) and sb.covers(sb)         # itself: always decided


@settings(max_examples=150)
@given(any_sets(), st.data())
def test_covers_subsets_taken_from_a_set(form, data) -> None:
    """Subsets of ``s`` (by take) are covered or reported unknown; supersets never are."""
    s, model = form
    frame = frame_lanes(s)
    bits = data.draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
    sub = s.take(np.array(bits, bool))
    if s.covers(sub):
        assert set(lanes_of(sub)) <= set(model)
    if sub.covers(s):
        assert set(model) <= set(lanes_of(sub))


def test_covers_decides_the_cheap_cases() -> None:
    r = LaneSet.range(4, 40)
    assert r.covers(LaneSet.range(4, 40)) and r.covers(LaneSet.range(10, 12))
    assert not r.covers(LaneSet.range(3, 12)) and not r.covers(LaneSet.range(30, 41))
    assert r.covers(Tiles(8, 1, 4, 2, 5))              # lanes 10..28
    assert not r.covers(Tiles(8, 0, 4, 2, 5))          # lane 2 is outside
    t = Tiles(8, 1, 5, 2, 6)
    assert t.covers(Tiles(8, 2, 4, 3, 5))
    assert not t.covers(Tiles(8, 0, 4, 3, 5))
    assert not t.covers(Tiles(8, 2, 4, 1, 5))
    assert not t.covers(Tiles(4, 2, 4, 3, 4))          # another period: unknown
    assert t.covers(LaneSet.range(19, 22))             # a range in one block's window
    assert not t.covers(LaneSet.range(13, 19))         # crosses a block
    assert not t.covers(LaneSet.range(17, 20))         # lane 17 is outside the window
    m = Masked(0, 8, np.array([1, 1, 0, 1, 1, 0, 1, 1], bool), 6)
    assert m.covers(Masked(1, 5, np.array([1, 0, 1, 0], bool), 2))
    assert not m.covers(Masked(1, 5, np.array([1, 1, 0, 0], bool), 2))
    assert not m.covers(Masked(4, 10, np.array([1, 0, 0, 0, 0, 1], bool), 2))


@st.composite
def disjoint_pairs(draw):
    """Two disjoint sets of any forms (the second built on lanes the first lacks)."""
    a, ma = draw(any_sets())
    rest = [lane for lane in range(N) if lane not in set(ma)]
    kind = draw(st.sampled_from(["range", "index", "tiles", "masked", "complement-tiles"]))
    if not rest:
        return (a, ma), (LaneSet.range(0, 0), [])
    if kind == "range":             # a run of lanes a lacks
        start = draw(st.integers(0, len(rest) - 1))
        run = [rest[start]]
        while start + len(run) < len(rest) and rest[start + len(run)] == run[-1] + 1 \
                and draw(st.booleans()):
            run.append(rest[start + len(run)])
        return (a, ma), (LaneSet.range(run[0], run[-1] + 1), run)
    if kind == "index":
        chosen = sorted(draw(st.sets(st.sampled_from(rest), min_size=1)))
        return (a, ma), (LaneSet.of(np.array(chosen)), chosen)
    if kind == "masked":
        lo = draw(st.sampled_from(rest))
        hi = draw(st.integers(lo + 1, N))
        cand = [lane for lane in rest if lo <= lane < hi]
        chosen = set(draw(st.sets(st.sampled_from(cand), min_size=1)))
        mask = np.array([lane in chosen for lane in range(lo, hi)], bool)
        return (a, ma), (Masked(lo, hi, mask, int(mask.sum())), sorted(chosen))
    if kind == "complement-tiles" and type(a) is Tiles:
        # the other windows of the same blocks (what a tree level's split gives)
        p, b0, b1 = a.period, a.b0, a.b1
        if a.t1 < p:
            b = Tiles.make(p, b0, b1, a.t1, draw(st.integers(a.t1 + 1, p)))
        elif a.t0 > 0:
            b = Tiles.make(p, b0, b1, draw(st.integers(0, a.t0 - 1)), a.t0)
        else:
            b = LaneSet.range(0, 0)
        return (a, ma), (b, lanes_of(b))
    if kind == "complement-tiles" and type(a) is Masked:
        # the other lanes of the same span (what a dense split gives)
        other = ~a.mask
        if other.any():
            b = Masked(a.lo, a.hi, other, int(other.sum()))
            return (a, ma), (b, masked_model(a.lo, other))
    # tiles: a window of blocks whose lanes a lacks, if any; else single lanes
    p = draw(st.integers(2, 8))
    taken = set(ma)
    options = list(itertools.islice(
        ((b0, b1, t0, t1) for b0 in range(N // p) for b1 in range(b0 + 2, N // p + 1)
         for t0 in range(p) for t1 in range(t0 + 1, p + 1)
         if not set(tiles_model(p, b0, b1, t0, t1)) & taken), 50))
    if options:
        b = Tiles.make(p, *draw(st.sampled_from(options)))
        return (a, ma), (b, lanes_of(b))
    return (a, ma), (LaneSet.of(np.array(rest[:1])), rest[:1])


@settings(max_examples=300)
@given(disjoint_pairs())
def test_union_of_disjoint_sets_is_the_set_union(pair) -> None:
    (a, ma), (b, mb) = pair
    assert not set(ma) & set(mb)
    want = sorted(set(ma) | set(mb))
    for u in (a.union(b), b.union(a)):
        assert lanes_of(u) == want and len(u) == len(want)
        check_against_model(u, want)


def test_union_special_shapes() -> None:
    # adjacent windows of the same tiles join into tiles, and then into a range
    left, right = Tiles(8, 1, 4, 0, 3), Tiles(8, 1, 4, 3, 6)
    u = left.union(right)
    assert type(u) is Tiles and (u.t0, u.t1) == (0, 6) and lanes_of(u) == tiles_model(8, 1, 4, 0, 6)
    whole = u.union(Tiles(8, 1, 4, 6, 8))
    assert whole.is_range and (whole.lo, whole.hi) == (8, 32)
    # the two sides of a dense split reconverge into the span
    mask = np.array([1, 0, 1, 1, 0, 0, 1, 0], bool)
    m1, m2 = Masked(3, 11, mask, 4), Masked(3, 11, ~mask, 4)
    r = m1.union(m2)
    assert r.is_range and (r.lo, r.hi) == (3, 11)
    # interleaved index sets are merged in order
    i = LaneSet.of(np.array([1, 5, 9])).union(LaneSet.of(np.array([2, 6, 30])))
    assert lanes_of(i) == [1, 2, 5, 6, 9, 30]
    # empty sides
    e = LaneSet.range(0, 0)
    assert lanes_of(e.union(m1)) == lanes_of(m1) and lanes_of(m1.union(e)) == lanes_of(m1)


# --------------------------------------------------------------------------- where

def test_where_chooses_forms(monkeypatch) -> None:
    monkeypatch.setattr(lanes_mod, "MASK_MIN_SPAN", 8)
    monkeypatch.setattr(lanes_mod, "MASK_MIN_DENSITY", 0.5)
    W = LaneSet.where
    s = W(10, np.ones(6, bool))
    assert s.is_range and (s.lo, s.hi) == (10, 16)
    s = W(10, np.zeros(6, bool))
    assert len(s) == 0
    s = W(10, np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], bool))          # a prefix
    assert s.is_range and (s.lo, s.hi) == (10, 13)
    s = W(10, np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1], bool))          # a suffix
    assert s.is_range and (s.lo, s.hi) == (17, 20)
    s = W(10, np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 0], bool))          # inner run: contiguous
    assert s.is_range and lanes_of(s) == [12, 13, 14]
    dense = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 0], bool)               # 6 of 10 >= 0.5
    s = W(10, dense)
    assert type(s) is Masked and (s.lo, s.hi, len(s)) == (10, 20, 6)
    assert lanes_of(s) == masked_model(10, dense)
    sparse = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], bool)              # 3 of 10 < 0.5
    s = W(10, sparse)
    assert type(s) is LaneSet and not s.is_range and lanes_of(s) == [10, 13, 18]
    small = np.array([1, 0, 1, 0, 1, 0, 1], bool)                        # span 7 < 8
    s = W(0, small)
    assert type(s) is LaneSet and lanes_of(s) == [0, 2, 4, 6]
    # an explicit count is trusted (callers that know it skip the count)
    s = W(0, dense, count=6)
    assert type(s) is Masked and len(s) == 6


def test_where_defaults_use_masks_only_for_large_dense_spans() -> None:
    rng = np.random.default_rng(3)
    big = rng.random(lanes_mod.MASK_MIN_SPAN) < 0.5
    big[0], big[-1] = False, False                    # neither prefix nor suffix
    s = LaneSet.where(0, big)
    assert type(s) is Masked and lanes_of(s) == masked_model(0, big)
    small = big[: lanes_mod.MASK_MIN_SPAN - 1]
    assert type(LaneSet.where(0, small)) is LaneSet
    thin = np.zeros(lanes_mod.MASK_MIN_SPAN * 2, bool)
    thin[1::8] = True                                  # density 1/8 < 0.25
    thin[4] = True                                     # and not one repeating window
    assert type(LaneSet.where(0, thin)) is LaneSet


@settings(max_examples=150)
@given(st.integers(0, 20), st.lists(st.booleans(), min_size=1, max_size=40),
       st.integers(0, 48), st.sampled_from([0.0, 0.25, 0.5, 1.0]))
def test_where_is_the_model_whatever_the_thresholds(lo, bits, span, density) -> None:
    saved = lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY
    try:
        lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY = span, density
        cond = np.array(bits, bool)
        s = LaneSet.where(lo, cond)
        model = masked_model(lo, cond)
        assert lanes_of(s) == model
        if type(s) is Masked:
            assert len(bits) >= span and sum(bits) >= density * len(bits)
            assert s.frame == len(bits) and (s.lo, s.hi) == (lo, lo + len(bits))
        check_against_model(s, model)
    finally:
        lanes_mod.MASK_MIN_SPAN, lanes_mod.MASK_MIN_DENSITY = saved


@pytest.mark.parametrize("k", [1, 2, 4, 32, 128])
@pytest.mark.parametrize("lo", [0, 256, 5])
def test_where_finds_a_window_repeating_with_a_period(k, lo) -> None:
    """``(i & k) == 0`` and ``!= 0`` over a span are windows of period ``2k``: Tiles."""
    i = np.arange(lanes_mod.PERIODIC_MIN_SPAN)
    for cond in ((i & k) == 0, (i & k) != 0):
        s = LaneSet.where(lo, cond)
        assert lanes_of(s) == (np.flatnonzero(cond) + lo).tolist()
        a, rows = lo + int(np.argmax(cond)), np.count_nonzero(cond) // k
        if a % (2 * k) + k <= 2 * k and (a // (2 * k) + rows) * 2 * k <= lo + i.size:
            # no window wraps a row end, the last row ends inside the span
            assert type(s) is Tiles and s.period == 2 * k and s.shape[1] == k
        yes, no = LaneSet.range(lo, lo + i.size).split(cond)
        assert lanes_of(yes) == (np.flatnonzero(cond) + lo).tolist()
        assert lanes_of(no) == (np.flatnonzero(~cond) + lo).tolist()
        assert lanes_of(yes.union(no)) == list(range(lo, lo + i.size))


def test_where_rejects_what_is_not_one_repeating_window() -> None:
    n = lanes_mod.PERIODIC_MIN_SPAN
    i = np.arange(n)
    cases = [(i % 4 == 0) | (i == 6),                  # one lane more
             (i % 4 == 0) & (i != 8),                  # one lane less
             (i % 8 < 2) | (i % 8 == 4),               # two windows per period
             ((i - 3) % 4 < 2) & (i >= 3)]             # the window passes the row's end
    for cond in cases:
        s = LaneSet.where(0, cond)
        assert type(s) is not Tiles or s.t1 <= s.period
        assert lanes_of(s) == np.flatnonzero(cond).tolist()
    short = (i % 16 < 4) & (i < n - 8)                 # last row would pass the span's end
    short[n - 8:n - 4] = True
    s = LaneSet.where(0, short[:n - 4])
    assert lanes_of(s) == np.flatnonzero(short[:n - 4]).tolist()


SPAN = lanes_mod.PERIODIC_MIN_SPAN      # spans where periodic windows are looked for


@settings(max_examples=150)
@given(st.integers(1, 40), st.integers(0, 39), st.integers(1, 40), st.integers(0, 50),
       st.integers(0, 30), st.lists(st.integers(0, SPAN - 1), max_size=2))
def test_where_of_near_periodic_masks_is_the_model(period, t0, width, lo, skip, flips) -> None:
    t0 %= period
    width = min(width, period - t0)
    i = np.arange(SPAN)
    cond = ((i % period) >= t0) & ((i % period) < t0 + width) & (i >= skip)
    for f in flips:
        cond[f] = not cond[f]
    s = LaneSet.where(lo, cond)
    assert lanes_of(s) == (np.flatnonzero(cond) + lo).tolist()
    arr = np.arange(lo + SPAN, dtype=np.int64)
    np.testing.assert_array_equal(s.compact.read(arr), np.flatnonzero(cond) + lo)


def test_masked_owns_a_mask_given_as_a_view(monkeypatch) -> None:
    monkeypatch.setattr(lanes_mod, "MASK_MIN_SPAN", 4)
    row = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1, 1], bool)        # a predicate row, say
    s = LaneSet.where(2, row[2:8])
    assert type(s) is Masked
    before = lanes_of(s)
    row[:] = ~row                                               # the row is rewritten later
    assert lanes_of(s) == before == [3, 4, 6]
    assert len(s) == 3 and s.first == 3


def test_masked_owns_a_mask_given_as_an_owned_array(monkeypatch) -> None:
    """Regression: at c9df7bc ``where`` kept an owned (``base is None``) ``cond`` as the
    mask itself, so the caller mutating it changed the set (fixed by copying always)."""
    monkeypatch.setattr(lanes_mod, "MASK_MIN_SPAN", 4)
    cond = np.array([0, 1, 1, 0, 1, 0, 1, 0], bool)       # not one repeating window
    s = LaneSet.where(0, cond)
    assert type(s) is Masked
    cond[:] = True
    assert lanes_of(s) == [1, 2, 4, 6]


def test_masked_union_owns_its_mask(monkeypatch) -> None:
    monkeypatch.setattr(lanes_mod, "MASK_MIN_SPAN", 4)
    m1 = Masked(0, 8, np.array([1, 0, 0, 1, 0, 0, 0, 0], bool), 2)
    m2 = Masked(0, 8, np.array([0, 0, 1, 0, 0, 1, 0, 0], bool), 2)
    u = m1.union(m2)
    assert lanes_of(u) == [0, 2, 3, 5]
    m1.mask[:] = True
    assert lanes_of(u) == [0, 2, 3, 5]


# --------------------------------------------------------------------------- blend

def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}")


NAN_PATTERNS = {
    np.dtype(np.float16): [0x7C01, 0x7E00, 0xFC3F, 0x7D55],
    np.dtype(np.float32): [0x7F800001, 0x7FC00000, 0xFFA5A5A5, 0x7FBFFFFF],
    np.dtype(np.float64): [0x7FF0000000000001, 0x7FF8000000000000, 0xFFF4D5BA96820DC8,
                           0x7FF7FFFFFFFFFFFF],
}


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.float16,
                                   np.int32, np.uint32, np.float32, np.int64, np.uint64,
                                   np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blend_is_bit_exact(dtype, seed) -> None:
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    size, lo, hi = 300, 17, 283
    span = hi - lo
    bits = f"u{dtype.itemsize}"
    dst = rng.integers(0, 256, size * dtype.itemsize, dtype=np.uint8).view(bits).copy()
    values = rng.integers(0, 256, span * dtype.itemsize, dtype=np.uint8).view(bits).copy()
    if dtype == np.bool_:
        dst &= 1
        values &= 1
    if dtype in NAN_PATTERNS:
        pats = np.array(NAN_PATTERNS[dtype], bits)
        dst[::7] = pats[np.arange(dst[::7].size) % pats.size]
        values[::5] = pats[::-1][np.arange(values[::5].size) % pats.size]
    dst, values = dst.view(dtype), values.view(dtype)
    mask = rng.random(span) < 0.5
    lanes = Masked(lo, hi, mask, int(mask.sum()))
    expect = _bits(dst).copy()
    expect[lo:hi] = np.where(mask, _bits(values), expect[lo:hi])
    out = dst.copy()
    blend(out[lo:hi], values, lanes)
    np.testing.assert_array_equal(_bits(out), expect)
    out = dst.copy()
    lanes.write(out, values)                                # the same through write
    np.testing.assert_array_equal(_bits(out), expect)
    np.testing.assert_array_equal(_bits(values), _bits(values.copy()))   # input untouched


@pytest.mark.parametrize("dtype,pattern", [
    (np.float16, 0x7C01), (np.float32, 0x7F800001), (np.float64, 0x7FF4D5BA96820DC8),
    (np.int8, 0x80), (np.uint16, 0xBEEF), (np.int32, 0x80000001), (np.uint64, (1 << 64) - 2),
])
def test_blend_scalar_value_is_bit_exact(dtype, pattern) -> None:
    dtype = np.dtype(dtype)
    bits = f"u{dtype.itemsize}"
    scalar = np.array([pattern], bits).view(dtype)[0]
    dst = np.arange(40, dtype=bits).view(dtype)
    mask = np.zeros(30, bool)
    mask[[0, 3, 4, 29]] = True
    lanes = Masked(5, 35, mask, 4)
    out = dst.copy()
    blend(out[5:35], scalar, lanes)
    expect = np.arange(40, dtype=bits)
    expect[[5, 8, 9, 34]] = pattern
    np.testing.assert_array_equal(_bits(out), expect)


@pytest.mark.parametrize("dtype", [np.uint8, np.float16, np.float32, np.int64, np.float64])
@pytest.mark.parametrize("first", ["yes", "no"])
def test_blend_with_the_other_parts_flags_is_bit_exact(dtype, first) -> None:
    """The second part of a range's split to blend selects with the first part's widened
    mask (complementary over the span), array or scalar values, bit for bit."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(7)
    bits = f"u{dtype.itemsize}"
    lo, hi = 3, 4099
    cond = rng.random(hi - lo) < 0.5
    yes, no = LaneSet.range(lo, hi).split(cond)
    assert type(yes) is Masked and type(no) is Masked
    order = (yes, no) if first == "yes" else (no, yes)
    dst = rng.integers(0, 256, 4200 * dtype.itemsize, dtype=np.uint8).view(dtype).copy()
    expect = _bits(dst).copy()
    for k, part in enumerate(order):
        values = rng.integers(0, 256, (hi - lo) * dtype.itemsize, dtype=np.uint8).view(dtype)
        values = values if k == 0 else values[0]            # the second: a scalar
        flags, mine = part.flags(dtype.itemsize)
        assert mine == (k == 0)
        blend(dst[lo:hi], values, part)
        where = cond if part is yes else ~cond
        expect[lo:hi] = np.where(where, _bits(np.asarray(values)), expect[lo:hi])
    np.testing.assert_array_equal(_bits(dst), expect)


def test_blend_mask_words_are_cached_per_size() -> None:
    """The mask widened to each element size: cached, nonzero exactly where the mask is."""
    mask = np.array([1, 0, 1, 1, 0], bool)
    m = Masked(0, 5, mask, 3)
    for size in (1, 2, 4, 8):
        w = m.wide(size)
        assert w.dtype.itemsize == size and w.shape == mask.shape and m.wide(size) is w
        np.testing.assert_array_equal(w != 0, mask)


def test_a_launch_leaves_no_lane_set_cycles_behind() -> None:
    """Regression: the two parts of a Masked split referred to each other, so their masks
    (and every array they held) lived until the garbage collector ran; launches then kept
    growing the heap and faulting fresh pages in (an if/else ran 3x slower)."""
    import gc

    import simt
    from simt.demo import IF_ELSE
    dev = simt.Device()
    n = 4096
    data = dev.upload(np.random.default_rng(0).standard_normal(n).astype(np.float32))
    out = dev.alloc(4 * n)
    prog = simt.assemble(IF_ELSE)          # the gallery if/else: r0=a r1=c r2=n
    gc.collect()
    gc.disable()
    try:
        before = {id(o) for o in gc.get_objects() if type(o) is Masked}
        dev.launch(prog, grid=n // 256, block=256, args=(data, out, np.uint64(n)))
        alive = [o for o in gc.get_objects() if type(o) is Masked and id(o) not in before]
    finally:
        gc.enable()
    assert alive == []
