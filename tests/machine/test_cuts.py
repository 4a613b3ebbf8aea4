"""Window predicates (values.Cut), affine comparisons (affine.compare) and value grids.

* ``Cut.split(lanes)``, when it answers, must split the lanes exactly as
  ``Cut.at(lanes)`` says;
* ``affine.compare`` may decline (None) but a Cut (or, when every lane agrees, a
  Const) it returns must equal, on every lane, the comparison of the *wrapped,
  typed* values -- for affine values and for tiled ones, every integer type,
  every condition the type accepts;
* ``values.grid`` (the strided layout memory accesses use) must list exactly
  the values ``value.at(lanes)`` materializes, in lane order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simt.isa.table import Condition
from simt.isa.types import DType
from simt.machine import affine
from simt.machine.lanes import LaneSet, Masked, Tiles
from simt.machine.values import Affine, Const, Cut, Tiled, grid, grid_bounds, tiled

N = 192                       # lanes of the model piece
TYPES = [DType.U32, DType.I32, DType.U64, DType.I64, DType.U8, DType.I8]
SIGNED_CONDS = [Condition.EQ, Condition.NE, Condition.LT, Condition.LE, Condition.GT,
                Condition.GE]
ALL_CONDS = list(Condition)


def lanes_of(s: LaneSet) -> list[int]:
    return [int(v) for v in s.indices()]


def domain_lanes(s: LaneSet) -> list[int]:
    return lanes_of(s.domain)


def wrap(v: int, ty: DType) -> int:
    """``v`` wrapped to the integer type ``ty`` (two's complement for signed types)."""
    v %= 1 << ty.bits
    if ty.is_signed_int and v >= 1 << (ty.bits - 1):
        v -= 1 << ty.bits
    return v


def holds(cond: Condition, x: int, y: int) -> bool:
    name = cond.name.rstrip("U") if cond.unsigned_only else cond.name
    return {"EQ": x == y, "NE": x != y, "LT": x < y, "LE": x <= y, "GT": x > y,
            "GE": x >= y}[name]


def conds_for(ty: DType) -> list[Condition]:
    return ALL_CONDS if ty.is_unsigned else SIGNED_CONDS


def predicate(result, lanes: LaneSet) -> list[bool]:
    """A compare result (Cut or Const) at each lane of the lanes' domain, in order."""
    assert isinstance(result, (Cut, Const)), result
    if isinstance(result, Const):
        return [bool(result.value)] * len(lanes.domain)
    return result.at(lanes).tolist()


# --------------------------------------------------------------------------- lane sets

@st.composite
def ranges(draw, n: int = N):
    lo = draw(st.integers(0, n))
    return LaneSet.range(lo, draw(st.integers(lo, n)))


@st.composite
def block_ranges(draw, period: int, n: int = N):
    blocks = n // period
    b0 = draw(st.integers(0, blocks))
    return LaneSet.range(b0 * period, draw(st.integers(b0, blocks)) * period)


@st.composite
def tiles(draw, period: int, n: int = N):
    blocks = n // period
    b0 = draw(st.integers(0, blocks - 1))
    b1 = draw(st.integers(b0 + 1, blocks))
    t0 = draw(st.integers(0, period - 1))
    t1 = draw(st.integers(t0 + 1, period))
    if b1 - b0 >= 2 and not (t0 == 0 and t1 == period) and draw(st.booleans()):
        return Tiles(period, b0, b1, t0, t1)
    return Tiles.make(period, b0, b1, t0, t1)


@st.composite
def scattered(draw, n: int = N):
    """Index arrays and Masked sets (forms a Cut never splits cheaply)."""
    lo = draw(st.integers(0, n - 3))
    hi = draw(st.integers(lo + 3, min(n, lo + 64)))
    bits = draw(st.lists(st.booleans(), min_size=hi - lo, max_size=hi - lo))
    bits[0] = True
    bits[-1] = True
    if all(bits):
        bits[1] = False
    mask = np.array(bits, bool)
    if draw(st.booleans()):
        return Masked(lo, hi, mask, int(mask.sum()))
    return LaneSet.of(np.flatnonzero(mask) + lo)


@st.composite
def lane_sets(draw, period: int | None):
    p = period or draw(st.sampled_from([2, 3, 4, 8, 16]))
    return draw(st.one_of(ranges(), block_ranges(p), tiles(p), tiles(draw(st.sampled_from(
        [2, 3, 4, 8, 16]))), scattered()))


@st.composite
def cuts(draw):
    period = draw(st.one_of(st.none(), st.sampled_from([2, 3, 4, 5, 8, 16])))
    top = N + 4 if period is None else period + 3
    lo = draw(st.integers(-3, top))
    hi = draw(st.one_of(st.none(), st.integers(-3, top)))
    return Cut(lo, hi, draw(st.booleans()), period)


def cut_model(cut: Cut, lane: int) -> bool:
    key = lane if cut.period is None else lane % cut.period
    inside = key >= cut.lo and (cut.hi is None or key < cut.hi)
    return inside != cut.negate


# --------------------------------------------------------------------------- Cut

@settings(max_examples=500)
@given(st.data())
def test_cut_split_agrees_with_at(data) -> None:
    cut = data.draw(cuts())
    lanes = data.draw(lane_sets(cut.period))
    flags = cut.at(lanes)
    dom = domain_lanes(lanes)
    assert flags.dtype == bool and flags.shape == (len(dom),)
    assert flags.tolist() == [cut_model(cut, lane) for lane in dom]
    parts = cut.split(lanes)
    if parts is None:
        return
    yes, no = parts
    members = set(lanes_of(lanes))
    want_yes = [lane for lane, f in zip(dom, flags.tolist()) if f and lane in members]
    want_no = [lane for lane, f in zip(dom, flags.tolist()) if not f and lane in members]
    assert lanes_of(yes) == want_yes, (cut, lanes, yes)
    assert lanes_of(no) == want_no, (cut, lanes, no)
    assert len(yes) == len(want_yes) and len(no) == len(want_no)


@settings(max_examples=200)
@given(st.data())
def test_half_lines_always_split_ranges_and_matching_tiles(data) -> None:
    """One-sided cuts of a range, of whole blocks and of same-period tiles are cheap."""
    period = data.draw(st.one_of(st.none(), st.sampled_from([2, 4, 8, 16])))
    k = data.draw(st.integers(-2, N + 2 if period is None else period + 2))
    cut = Cut(k, None, data.draw(st.booleans()), period)
    if period is None:
        lanes = data.draw(ranges())
    else:
        lanes = data.draw(st.one_of(block_ranges(period), tiles(period)).filter(
            lambda s: type(s) is Tiles or (s.lo % period == 0 and s.hi % period == 0)))
    parts = cut.split(lanes)
    assert parts is not None, (cut, lanes)
    yes, no = parts
    flags = cut.at(lanes).tolist()
    assert lanes_of(yes) == [lane for lane, f in zip(domain_lanes(lanes), flags) if f]
    assert lanes_of(no) == [lane for lane, f in zip(domain_lanes(lanes), flags) if not f]


def test_cut_split_shapes() -> None:
    # periodic half-windows of whole blocks: tiles on both sides
    yes, no = Cut(0, 5, False, 8).split(LaneSet.range(16, 48))
    assert type(yes) is Tiles and (yes.b0, yes.b1, yes.t0, yes.t1) == (2, 6, 0, 5)
    assert type(no) is Tiles and (no.b0, no.b1, no.t0, no.t1) == (2, 6, 5, 8)
    yes, no = Cut(3, None, True, 8).split(Tiles(8, 1, 4, 1, 6))
    assert lanes_of(yes) == [9, 10, 17, 18, 25, 26]
    assert type(no) is Tiles and (no.t0, no.t1) == (3, 6)
    # the outside of an inner window is two pieces (per block): declined
    assert Cut(2, 5, False, 8).split(LaneSet.range(16, 48)) is None
    assert Cut(2, 5, False, None).split(LaneSet.range(0, 10)) is None
    assert Cut(2, 5, True, None).split(LaneSet.range(0, 10)) is None
    # a window at one end of a range splits into two ranges
    yes, no = Cut(0, 4, False, None).split(LaneSet.range(0, 10))
    assert (yes.lo, yes.hi, no.lo, no.hi) == (0, 4, 4, 10)
    # lane % period keys against a range that is not whole blocks: declined
    assert Cut(3, None, False, 8).split(LaneSet.range(4, 20)) is None
    # index arrays and masks: declined
    assert Cut(3, None).split(LaneSet.of(np.array([1, 5, 7]))) is None
    # never-true window (what EQ gives when no lane matches)
    yes, no = Cut(0, 0, False, None).split(LaneSet.range(5, 9))
    assert len(yes) == 0 and lanes_of(no) == [5, 6, 7, 8]
    yes, no = Cut(0, 0, True, 4).split(Tiles.make(4, 1, 3, 1, 3))
    assert lanes_of(yes) == [5, 6, 9, 10] and len(no) == 0


# --------------------------------------------------------------------------- compare

def typed_values(value, lanes: LaneSet, ty: DType) -> list[int]:
    """The value's wrapped typed integers over the lanes' domain, by brute force."""
    out = []
    for lane in domain_lanes(lanes):
        if isinstance(value, Affine):
            raw = value.base + value.stride * lane
        else:
            raw = value.base + value.inner * (lane % value.period) + \
                value.outer * (lane // value.period)
        out.append(wrap(raw, ty))
    return out


def interesting_ints(ty: DType):
    lo, hi = -(1 << (ty.bits - 1)) if ty.is_signed_int else 0, \
        (1 << (ty.bits - 1)) - 1 if ty.is_signed_int else (1 << ty.bits) - 1
    near = st.sampled_from([lo, lo + 1, lo + 7, hi, hi - 1, hi - 100, 0, -1, 1, 1 << ty.bits,
                            -(1 << ty.bits), hi + 1, lo - 1])
    small = st.integers(-300, 300)
    return st.one_of(small, small, near, st.integers(lo - 300, hi + 300))


def strides(ty: DType):
    return st.one_of(st.integers(-9, 9), st.sampled_from([1 << (ty.bits - 2), -(1 << (ty.bits - 1)),
                                                          (1 << ty.bits) + 1, 1000, -777]))


@st.composite
def compare_inputs(draw):
    ty = draw(st.sampled_from(TYPES))
    dtype = ty.storage
    period = draw(st.sampled_from([2, 3, 4, 8, 16]))
    kind = draw(st.sampled_from(["affine", "inner", "outer", "tiled"]))
    base = draw(interesting_ints(ty))
    if kind == "affine":
        a = Affine(base, draw(strides(ty)), dtype)
    elif kind == "inner":        # varies with the lane's index in its block only (r252)
        a = Tiled(base, draw(strides(ty)), 0, period, dtype)
    elif kind == "outer":        # varies with the block only (r253)
        a = Tiled(base, 0, draw(strides(ty)), period, dtype)
    else:
        a = tiled(base, draw(strides(ty)), draw(strides(ty)), period, dtype)
    c = Affine(draw(interesting_ints(ty)), 0, dtype)
    cond = draw(st.sampled_from(conds_for(ty)))
    lanes = draw(lane_sets(period))
    swap = draw(st.booleans())
    return ty, cond, a, c, lanes, swap


def _swapped(cond: Condition) -> Condition:
    return {Condition.LT: Condition.GT, Condition.LE: Condition.GE, Condition.GT: Condition.LT,
            Condition.GE: Condition.LE, Condition.LTU: Condition.GTU,
            Condition.LEU: Condition.GEU, Condition.GTU: Condition.LTU,
            Condition.GEU: Condition.LEU}.get(cond, cond)


@settings(max_examples=1500)
@given(compare_inputs())
def test_compare_cut_is_exact_on_wrapped_values(inputs) -> None:
    ty, cond, a, c, lanes, swap = inputs
    if len(lanes) == 0:
        assert affine.compare(ty, cond, a, c, lanes) is None
        return
    if swap:            # SETcc with the uniform operand first: c cond a
        cut = affine.compare(ty, cond, c, a, lanes)
    else:
        cut = affine.compare(ty, cond, a, c, lanes)
    if cut is None:
        return
    xs = typed_values(a, lanes, ty)
    y = wrap(c.base, ty)
    want = [holds(cond, y, x) if swap else holds(cond, x, y) for x in xs]
    got = predicate(cut, lanes)
    assert got == want, (ty, cond, a, c, lanes, swap, cut)


@pytest.mark.parametrize("ty,cond", [(ty, cond) for ty in TYPES for cond in conds_for(ty)])
def test_compare_returns_cuts_for_exact_inputs(ty, cond) -> None:
    """Exact affine / tiled values against a uniform in range: always a Cut, and right."""
    dtype = ty.storage
    lanes_all = [LaneSet.range(0, 96), LaneSet.range(5, 50), Tiles(8, 2, 9, 1, 6),
                 LaneSet.range(16, 64)]
    values = [Affine(3, 1, dtype), Affine(90, -1, dtype), Tiled(2, 1, 0, 8, dtype),
              Tiled(100, -3, 0, 8, dtype), Tiled(1, 0, 1, 8, dtype), Tiled(7, 0, 2, 8, dtype)]
    for value in values:
        for lanes in lanes_all:
            exact = value.exact_on(lanes.lo, lanes.hi)     # true for most of these
            for k in (0, 1, 4, 5, 7, 8, 20, 57, 200):
                if k > int(np.iinfo(dtype).max):
                    continue
                c = Affine(k, 0, dtype)
                cut = affine.compare(ty, cond, value, c, lanes)
                if exact:
                    assert cut is not None, (value, lanes, k)
                if cut is None:
                    continue
                want = [holds(cond, x, k) for x in typed_values(value, lanes, ty)]
                assert predicate(cut, lanes) == want, (value, lanes, k, cut)


def test_compare_declines_what_it_cannot_state() -> None:
    u32 = np.dtype(np.uint32)
    lanes = LaneSet.range(0, 64)
    # both sides vary, and one wraps over the lanes
    assert affine.compare(DType.U32, Condition.LT, Affine(0, 1, u32), Affine(2**32 - 9, 1, u32),
                          lanes) is None
    # (without wrapping their difference compares: lane < 5 + 2 lane everywhere)
    assert affine.compare(DType.U32, Condition.LT, Affine(0, 1, u32), Affine(5, 2, u32),
                          lanes).value
    # floats
    f32 = np.dtype(np.float32)
    assert affine.compare(DType.F32, Condition.LT, Affine(0, 1, f32), Affine(5, 0, f32),
                          lanes) is None
    # a uniform value on both sides (stride 0): no lane key
    assert affine.compare(DType.U32, Condition.LT, Affine(0, 0, u32), Affine(5, 0, u32),
                          lanes) is None
    # the value wraps inside the lanes: not monotone
    assert affine.compare(DType.U32, Condition.LT, Affine((1 << 32) - 10, 1, u32),
                          Affine(5, 0, u32), lanes) is None
    # a tiled value varying with both the block and the lane in it
    assert affine.compare(DType.U32, Condition.LT, Tiled(0, 1, 100, 8, u32), Affine(5, 0, u32),
                          lanes) is None
    # no lanes
    assert affine.compare(DType.U32, Condition.LT, Affine(0, 1, u32), Affine(5, 0, u32),
                          LaneSet.range(0, 0)) is None


@pytest.mark.parametrize("cond,k,expect", [
    (Condition.EQ, 5, [5]), (Condition.NE, 5, "all but 5"), (Condition.EQ, 70, []),
    (Condition.LT, 3, [0, 1, 2]), (Condition.GE, 6, "6.."), (Condition.LE, 0, [0]),
    (Condition.GT, 7, []),
])
def test_compare_on_r252_gives_periodic_cuts(cond, k, expect) -> None:
    """r252 of 8-lane blocks (Tiled(0, 1, 0, 8)) compared with k: the same window per block."""
    u32 = np.dtype(np.uint32)
    tid = Tiled(0, 1, 0, 8, u32)
    lanes = LaneSet.range(0, 32)
    cut = affine.compare(DType.U32, cond, tid, Affine(k, 0, u32), lanes)
    if expect == []:        # no lane in any block: one value for every lane
        assert isinstance(cut, Const) and not cut.value
        return
    assert isinstance(cut, Cut) and cut.period == 8
    if expect == "all but 5":
        window = [t for t in range(8) if t != 5]
    elif expect == "6..":
        window = [6, 7]
    else:
        window = expect
    assert lanes_of(LaneSet.of(np.flatnonzero(cut.at(lanes)))) == \
        [b * 8 + t for b in range(4) for t in window]
    parts = cut.split(lanes)
    # a window touching an end of the block splits whole blocks into two tiles; an
    # inner window (EQ/NE of a key inside the block) would leave three pieces: declined
    if not window or (window == list(range(window[0], window[-1] + 1))
                      and (window[0] == 0 or window[-1] == 7)):
        assert parts is not None
    if parts is not None:
        assert lanes_of(parts[0]) == [b * 8 + t for b in range(4) for t in window]


def test_compare_on_r253_cuts_at_block_boundaries() -> None:
    u32 = np.dtype(np.uint32)
    block = Tiled(0, 0, 1, 8, u32)            # r253 with 8-lane blocks
    lanes = LaneSet.range(0, 40)
    eq = affine.compare(DType.U32, Condition.EQ, block, Affine(2, 0, u32), lanes)
    assert eq.period is None and (eq.lo, eq.hi, eq.negate) == (16, 24, False)
    ge = affine.compare(DType.U32, Condition.GE, block, Affine(3, 0, u32), lanes)
    yes, no = ge.split(lanes)
    assert (yes.lo, yes.hi, no.lo, no.hi) == (24, 40, 0, 24)


# --------------------------------------------------------------------------- materialized values

@st.composite
def int_values(draw):
    ty = draw(st.sampled_from(TYPES))
    dtype = ty.storage
    period = draw(st.sampled_from([2, 3, 4, 8, 16]))
    base = draw(interesting_ints(ty))
    if draw(st.booleans()):
        value = Affine(base, draw(strides(ty)), dtype)
    else:
        value = Tiled(base, draw(strides(ty)), draw(strides(ty)), period, dtype)
    return ty, value, draw(lane_sets(period))


@settings(max_examples=500)
@given(int_values())
def test_at_is_the_wrapped_value_of_every_frame_lane(inputs) -> None:
    ty, value, lanes = inputs
    got = value.at(lanes)
    assert got.dtype == ty.storage and got.shape == (len(domain_lanes(lanes)),)
    assert [int(v) for v in got] == typed_values(value, lanes, ty)


@settings(max_examples=500)
@given(int_values())
def test_grid_lists_the_lanes_values_in_order(inputs) -> None:
    ty, value, lanes = inputs
    g = grid(value, lanes)
    if g is None:
        return
    assert not isinstance(lanes, Masked)
    start, rows, cols, row_step, col_step = g
    assert rows * cols == len(lanes)
    listed = [start + row_step * i + col_step * j for i in range(rows) for j in range(cols)]
    assert listed == [int(v) for v in value.at(lanes)], (value, lanes, g)
    assert listed == typed_values(value, lanes, ty)      # exact: nothing wrapped
    assert grid_bounds(g) == (min(listed), max(listed))


def test_grid_shapes() -> None:
    u64 = np.dtype(np.uint64)
    off = Affine(0, 8, u64)                                  # 8 * lane
    assert grid(off, LaneSet.range(4, 10)) == (32, 1, 6, 0, 8)
    assert grid(off, Tiles(16, 1, 3, 0, 4)) == (128, 2, 4, 128, 8)
    slot = Tiled(0, 4, 0, 16, u64)                           # 4 * tid, 16-lane blocks
    assert grid(slot, Tiles(16, 0, 3, 0, 8)) == (0, 3, 8, 0, 4)
    assert grid(slot, LaneSet.range(16, 48)) == (0, 2, 16, 0, 4)
    assert grid(slot, LaneSet.range(18, 22)) == (8, 1, 4, 0, 4)
    assert grid(slot, LaneSet.range(8, 24)) is None          # crosses a block, not whole
    assert grid(off, LaneSet.of(np.array([1, 3]))) is None
    assert grid(Affine(0, 1, np.dtype(np.uint8)), LaneSet.range(250, 260)) is None   # wraps
    assert grid(off, LaneSet.range(0, 0)) is None


# --------------------------------------------------------------------------- affine.split

SPLIT_TYPES = [DType.U32, DType.U64, DType.I32, DType.I64, DType.U16, DType.I8]


def _wrap(ty: DType, v: int) -> int:
    v %= 1 << ty.bits
    return v - (1 << ty.bits) if ty.is_signed_int and v >= 1 << (ty.bits - 1) else v


def _true_split(name: str, ty: DType, values: list[int], c: int) -> list[int]:
    """DIV / SHR / AND of the wrapped values by the (wrapped) uniform operand, as the
    instructions define them (arithmetic SHR for signed types, DIV truncates)."""
    values = [_wrap(ty, v) for v in values]
    if name == "SHR":
        count = (c % (1 << 32)) % ty.bits
        return [v >> count for v in values]
    c = _wrap(ty, c)
    if name == "AND":
        return [v & c for v in values]
    return [_wrap(ty, abs(v) // abs(c) * (1 if (v < 0) == (c < 0) else -1)) for v in values]


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["DIV", "SHR", "AND"]), ty=st.sampled_from(SPLIT_TYPES),
       base=st.integers(-600, 1 << 40), stride=st.sampled_from([1, 1, 2, 3, 4, 12, 16, -1]),
       c=st.integers(-5, 600), n=st.integers(1, 700))
def test_split_is_exact_whenever_it_answers(name, ty, base, stride, c, n) -> None:
    """Whenever ``split`` returns a compressed value, it equals the operation on every
    lane of the piece; it answers for base + lane with an aligned base."""
    a = Affine(base, stride, ty.storage)
    b = Affine(c, 0, (DType.U32 if name == "SHR" else ty).storage)
    got = affine.split(name, ty, a, b, n)
    lanes = LaneSet.range(0, n)
    if stride == 1 and base >= 0 and base % 64 == 0 and a.exact_on(0, n) \
            and (name, c) in (("DIV", 64), ("AND", 63)):
        assert got is not None
    if got is None:
        return
    want = np.array(_true_split(name, ty, [base + stride * k for k in range(n)], c)
                    ).astype(ty.storage)
    np.testing.assert_array_equal(got.at(lanes), want)


def test_split_turns_the_global_lane_id_into_block_and_lane_indices() -> None:
    gid = Affine(4 * 256, 1, np.dtype(np.uint64))       # a piece starting at block 4
    n = 3 * 256
    block = affine.split("SHR", DType.U64, gid, Affine(8, 0, np.dtype(np.uint32)), n)
    tid = affine.split("AND", DType.U64, gid, Affine(255, 0, np.dtype(np.uint64)), n)
    div = affine.split("DIV", DType.U64, gid, Affine(256, 0, np.dtype(np.uint64)), n)
    assert isinstance(block, Tiled) and (block.base, block.inner, block.outer, block.period) \
        == (4, 0, 1, 256)
    assert isinstance(tid, Tiled) and (tid.base, tid.inner, tid.outer, tid.period) \
        == (0, 1, 0, 256)
    assert isinstance(div, Tiled) and (div.base, div.period) == (4, 256)
    # unaligned bases, masks that are not low bits, negative or wrapping values: no answer
    assert affine.split("AND", DType.U64, Affine(3, 1, np.dtype(np.uint64)),
                        Affine(255, 0, np.dtype(np.uint64)), n) is None
    assert affine.split("AND", DType.U64, gid, Affine(254, 0, np.dtype(np.uint64)), n) is None
    assert affine.split("DIV", DType.I32, Affine(-256, 1, np.dtype(np.int32)),
                        Affine(256, 0, np.dtype(np.int32)), n) is None
    assert affine.split("DIV", DType.U8, Affine(0, 1, np.dtype(np.uint8)),
                        Affine(16, 0, np.dtype(np.uint8)), 300) is None


def test_split_by_a_mask_wider_than_the_piece_is_the_lane_itself() -> None:
    """Regression (asv's per-opcode suite): ``lane & 0xffffffff`` on 1e4 lanes was a tiled
    value of period 2**32, and materializing it allocated 32 GiB."""
    n = 10_000
    lane = Affine(0, 1, np.dtype(np.uint32))
    mask = Affine(0xFFFFFFFF, 0, np.dtype(np.uint32))
    got = affine.split("AND", DType.U32, lane, mask, n)
    assert isinstance(got, Affine) and (got.base, got.stride) == (0, 1)
    block = affine.split("DIV", DType.U32, lane, Affine(1 << 20, 0, np.dtype(np.uint32)), n)
    assert isinstance(block, Affine) and (block.base, block.stride) == (0, 0)
    big = Tiled(5, 2, 7, 1 << 40, np.dtype(np.int64))      # one tile holds every lane
    np.testing.assert_array_equal(big.at(LaneSet.range(3, 9)), 5 + 2 * np.arange(3, 9))


def test_lane_id_masked_by_all_ones_on_a_device() -> None:
    import simt
    dev = simt.Device()
    n = 10_000
    out = dev.alloc(4 * n)
    prog = simt.assemble("""
        cvt.u32.u64 r6, r255
        mov_imm.u32 r11, 0xffffffff
        and.u32 r11, r11, r6
        mov_imm.u32 r3, 2
        shl.u64 r4, r255, r3
        stg.u32 [r0 + r4], r11
    """)
    dev.launch(prog, grid=n // 100, block=100, args=(out,))
    np.testing.assert_array_equal(dev.download(out, np.uint32), np.arange(n))
