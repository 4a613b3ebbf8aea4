"""Digits values (nested tiles of the lane index) against a lane-by-lane model.

A value is drawn as ``base + sum(c_k * ((lane // unit_k) % r_k))`` (or an
affine or tiled value in that form); the model evaluates it per lane in Python
ints and wraps to the type.  Checked: materialization on ranges, tiles and
index arrays; ADD/SUB/MUL/SHL of two values (whenever the rules answer) and
SHR/DIV/AND by a uniform (whenever they answer, with the answers the 2-D
block and 2-D grid indices need asserted to exist); comparisons with a uniform
(whenever they answer, and always for a value varying with one digit); bounds;
the normal forms; the form protocol (``uniform``, ``parts``, ``retyped``); XOR
and AND by a uniform power of two (whenever they answer, and always for the lane
index in a block, whose partner ``tid ^ j`` then compares and addresses shared
memory compressed).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simt.isa import DType
from simt.isa.table import Condition
from simt.machine import affine
from simt.machine.lanes import LaneSet, Tiles
from simt.machine.memory import shared_grid, shared_tiles
from simt.machine.values import Affine, Const, Cut, Digits, Tiled, digits

TYPES = [DType.U32, DType.U64, DType.I32, DType.I64, DType.U16, DType.I8]


def wrap(ty: DType, v: int) -> int:
    v %= 1 << ty.bits
    return v - (1 << ty.bits) if ty.is_signed_int and v >= 1 << (ty.bits - 1) else v


def parts_of(x) -> tuple[int, tuple[int, ...], tuple]:
    return x.parts()


def model(x, lanes) -> list[int]:
    """Unwrapped values of ``x`` at each lane."""
    base, coefs, radices = parts_of(x)
    out = []
    for lane in lanes:
        v, u = base, 1
        for c, r in zip(coefs, radices):
            d = lane // u
            v += c * (d % r if r is not None else d)
            u = u * r if r is not None else u
        out.append(v)
    return out


def expect(ty: DType, values: list[int]) -> np.ndarray:
    """The values wrapped to ``ty`` (through their unsigned bit patterns)."""
    bits = np.array([v % (1 << ty.bits) for v in values], dtype=np.uint64)
    return bits.astype(np.dtype(f"u{ty.size}")).view(ty.storage)


@st.composite
def values(draw, ty: DType | None = None, radices=None):
    """An Affine, Tiled or Digits value of power-of-two radices (or given ones)."""
    ty = ty or draw(st.sampled_from(TYPES))
    if radices is None:
        radices = tuple(draw(st.lists(st.sampled_from([2, 4, 8, 16]), max_size=3))) + (None,)
    coefs = tuple(draw(st.integers(-40, 300)) for _ in radices)
    base = draw(st.integers(-1000, 1 << 33))
    return digits(base, coefs, radices, ty.storage), ty


@settings(max_examples=200)
@given(values(), st.integers(0, 600), st.integers(0, 300), st.integers(0, 2**32 - 1))
def test_at_matches_the_model(xt, lo, count, seed):
    x, ty = xt
    hi = lo + count
    want = expect(ty, model(x, range(lo, hi)))
    np.testing.assert_array_equal(x.at(LaneSet.range(lo, hi)), want)
    np.testing.assert_array_equal(x.at(LaneSet.range(lo, hi)), want)     # cached
    idx = np.sort(np.random.default_rng(seed).choice(hi + 5, min(count, hi + 5), replace=False))
    np.testing.assert_array_equal(x.at(LaneSet.of(idx.astype(np.int64))),
                                  expect(ty, model(x, idx.tolist())))
    tiles = Tiles.make(16, 1, 4, 3, 9)
    np.testing.assert_array_equal(x.at(tiles), expect(ty, model(x, tiles.indices().tolist())))


@settings(max_examples=300)
@given(st.data(), st.sampled_from(["ADD", "SUB", "MUL", "SHL"]), st.sampled_from(TYPES),
       st.integers(1, 700))
def test_arith_is_exact_whenever_it_answers(data, name, ty, n):
    a, _ = data.draw(values(ty))
    if name in ("MUL", "SHL") and data.draw(st.booleans()):
        b = Affine(data.draw(st.integers(-3, 40)), 0,
                   (DType.U32 if name == "SHL" else ty).storage)
    else:
        b, _ = data.draw(values(ty))
    got = affine.arith(name, ty, a, b)
    if name in ("ADD", "SUB") and isinstance(a, Digits) and type(b) is Affine:
        assert got is not None          # an affine value nests in any digits
    if got is None:
        return
    lanes = range(n)
    va, vb = model(a, lanes), model(b, lanes)
    if name == "ADD":
        want = [x + y for x, y in zip(va, vb)]
    elif name == "SUB":
        want = [x - y for x, y in zip(va, vb)]
    elif name == "MUL":
        want = [x * y for x, y in zip(va, vb)]
    else:
        want = [x << ((y % (1 << 32)) % ty.bits) for x, y in zip(va, vb)]
    np.testing.assert_array_equal(got.at(LaneSet.range(0, n)), expect(ty, want))


@settings(max_examples=400)
@given(values(), st.sampled_from(["SHR", "DIV", "AND"]), st.integers(-3, 300),
       st.integers(1, 700))
def test_split_is_exact_whenever_it_answers(xt, name, c, n):
    a, ty = xt
    b = Affine(c, 0, (DType.U32 if name == "SHR" else ty).storage)
    got = affine.split(name, ty, a, b, n)
    if got is None:
        return
    vals = [wrap(ty, v) for v in model(a, range(n))]
    if name == "SHR":
        count = (c % (1 << 32)) % ty.bits
        want = [v >> count for v in vals]
    elif name == "AND":
        want = [v & wrap(ty, c) for v in vals]
    else:
        d = wrap(ty, c)
        want = [abs(v) // abs(d) * (1 if (v < 0) == (d < 0) else -1) for v in vals]
    np.testing.assert_array_equal(got.at(LaneSet.range(0, n)), expect(ty, want))


def test_two_dimensional_block_indices_stay_compressed():
    """threadIdx.y of 16 x 16 blocks from the global lane id, and its uses in addresses."""
    u64, u32 = DType.U64, DType.U32
    n = 4096
    gid = Affine(3 * 256 * 16, 1, u64.storage)
    in_block = affine.split("AND", u64, gid, Affine(255, 0, u64.storage), n)
    ty = affine.split("SHR", u64, in_block, Affine(4, 0, u32.storage), n)
    assert isinstance(ty, Digits) and ty.coefs == (0, 1, 0) and ty.radices == (16, 16, None)
    tx = Tiled(0, 1, 0, 16, u64.storage)                    # r252 of a 16-wide block
    slot = affine.arith("ADD", u64, affine.arith("MUL", u64, tx, Affine(16, 0, u64.storage)), ty)
    assert isinstance(slot, Digits) and slot.coefs == (16, 1, 0)
    lanes = range(n)
    np.testing.assert_array_equal(slot.at(LaneSet.range(0, n)),
                                  np.array([(l % 16) * 16 + (l % 256) // 16 for l in lanes]))
    # (lane % 256) >> 4 << 4 | lane % 16 is the lane's index in its block again
    back = affine.arith("ADD", u64, affine.arith("SHL", u64, ty, Affine(4, 0, u32.storage)), tx)
    assert isinstance(back, Tiled) and (back.inner, back.outer, back.period) == (1, 0, 256)
    # blockIdx.y of a 64-wide 2-D grid: (gid >> 8) >> 6 is a tile index again
    by = affine.split("SHR", u64, affine.split("SHR", u64, gid, Affine(8, 0, u32.storage), n),
                      Affine(6, 0, u32.storage), n)
    assert by is not None
    np.testing.assert_array_equal(by.at(LaneSet.range(0, n)),
                                  np.array([(3 * 256 * 16 + l) >> 14 for l in lanes]))


def test_normal_forms():
    u32 = np.dtype(np.uint32)
    assert isinstance(digits(5, (1, 16, 256), (16, 16, None), u32), Affine)
    assert isinstance(digits(5, (1, 0, 0), (16, 16, None), u32), Tiled)
    got = digits(5, (0, 1, 0), (16, 16, None), u32)
    assert isinstance(got, Digits) and got.radices == (16, 16, None)
    assert repr(got).startswith("Digits(5 +")


def test_radix_one_digits_vanish():
    u32 = np.dtype(np.uint32)
    got = digits(5, (7, 1, 3), (1, 16, None), u32)
    assert isinstance(got, Tiled) and (got.inner, got.outer, got.period) == (1, 3, 16)


@settings(max_examples=300)
@given(values(), st.integers(0, 900), st.integers(1, 400))
def test_bounds_hold_every_value(xt, lo, count):
    x, _ = xt
    vals = model(x, range(lo, lo + count))
    low, high = x.bounds(lo, lo + count)
    assert low <= min(vals) and max(vals) <= high


@settings(max_examples=100)
@given(values())
def test_forms_answer_the_protocol(xt):
    """parts() describes what at() materializes; retyped() keeps the unwrapped value."""
    x, ty = xt
    lanes = LaneSet.range(0, 300)
    assert x.uniform() is None or (x.parts()[1] == (0,) and type(x) is Affine)
    np.testing.assert_array_equal(x.at(lanes), expect(ty, model(x, range(300))))
    wide = x.retyped(DType.U64.storage)
    assert type(wide) is type(x) and wide.parts() == x.parts()
    assert Const(np.float32(2.5)).uniform() == 2.5 and Const(np.float32(2.5)).parts() is None
    assert Cut(0, 3).uniform() is None and Cut(0, 3).parts() is None


CONDS = [Condition.EQ, Condition.NE, Condition.LT, Condition.LE, Condition.GT, Condition.GE]


def holds(cond: Condition, x: int, y: int) -> bool:
    return {"EQ": x == y, "NE": x != y, "LT": x < y, "LE": x <= y, "GT": x > y,
            "GE": x >= y}[cond.name]


def predicate(result, lanes: LaneSet) -> list[bool]:
    assert isinstance(result, (Cut, Const)), result
    if isinstance(result, Const):
        return [bool(result.value)] * len(lanes.domain)
    return result.at(lanes).tolist()


@st.composite
def one_digit_values(draw):
    """A digits value varying with one digit only (as threadIdx.y, blockIdx.x of 2-D grids)."""
    radices = tuple(draw(st.lists(st.sampled_from([2, 3, 4, 8, 16]), min_size=1, max_size=3)))
    radices += (None,)
    k = draw(st.integers(0, len(radices) - 1))
    coefs = tuple(draw(st.integers(-20, 40).filter(bool)) if j == k else 0
                  for j in range(len(radices)))
    return digits(draw(st.integers(-50, 5000)), coefs, radices, np.dtype(np.int32))


@settings(max_examples=400)
@given(st.data(), st.sampled_from(CONDS), st.integers(-60, 6000), st.booleans())
def test_compare_on_digits_is_exact_whenever_it_answers(data, cond, c, swap):
    """Any digits value against a uniform one, on ranges, index arrays and tiles."""
    if data.draw(st.booleans()):
        x = data.draw(one_digit_values())
        ty = DType.I32
    else:
        x, ty = data.draw(values(DType.I32))
    lo = data.draw(st.integers(0, 500))
    kind = data.draw(st.sampled_from(["range", "index", "tiles"]))
    if kind == "range":
        lanes = LaneSet.range(lo, lo + data.draw(st.integers(1, 400)))
    elif kind == "index":
        picked = data.draw(st.lists(st.integers(lo, lo + 300), min_size=1, unique=True))
        lanes = LaneSet.of(np.array(sorted(picked), np.int64))
    else:
        lanes = Tiles.make(16, 1, 5, 2, 11)
    k = Affine(c, 0, ty.storage)
    got = affine.compare(ty, cond, k, x, lanes) if swap else affine.compare(ty, cond, x, k, lanes)
    p = x.parts()
    one_digit = sum(1 for coef in affine._trim(p, lanes.hi)[1] if coef) <= 1
    if one_digit and x.uniform() is None and x.exact_on(lanes.lo, lanes.hi):
        assert got is not None, (x, lanes)     # a single digit always compares compressed
    if got is None:
        return
    vals = [wrap(ty, v) for v in model(x, [int(i) for i in lanes.domain.indices()])]
    want = [holds(cond, c, v) if swap else holds(cond, v, c) for v in vals]
    assert predicate(got, lanes) == want, (x, cond, c, swap, lanes, got)


def test_two_dimensional_tile_coordinates_compare_compressed():
    """threadIdx.y of 16 x 16 blocks splits whole blocks into tiles; a 2-D row index is
    one value for every lane when the grid lies inside the bound, arrays otherwise."""
    u32 = DType.U32
    n = 4096
    ty = digits(0, (0, 1, 0), (16, 16, None), u32.storage)        # (lane % 256) >> 4
    lanes = LaneSet.range(0, n)
    cut = affine.compare(u32, Condition.LT, ty, Affine(4, 0, u32.storage), lanes)
    assert isinstance(cut, Cut) and cut.period == 256
    assert np.array_equal(cut.at(lanes), np.arange(n) % 256 // 16 < 4)
    yes, no = cut.split(lanes)
    assert type(yes) is Tiles and len(yes) == n // 4 and len(no) == 3 * n // 4
    assert np.array_equal(yes.indices() % 256 // 16 < 4, np.ones(len(yes), bool))
    # blockIdx.x of a 2-D grid 4 blocks wide, as digits: a window of blocks per grid row
    bx = digits(0, (0, 1, 0), (256, 4, None), u32.storage)
    eq = affine.compare(u32, Condition.EQ, bx, Affine(2, 0, u32.storage), lanes)
    assert isinstance(eq, Cut) and (eq.lo, eq.hi, eq.period) == (512, 768, 1024)
    assert np.array_equal(eq.at(lanes), np.arange(n) // 256 % 4 == 2)
    # row = 16 * blockIdx.y + threadIdx.y over 4 x 4 blocks of 16 x 16: rows 0..63
    row = digits(0, (0, 1, 0, 16), (16, 16, 4, None), u32.storage)
    inside = affine.compare(u32, Condition.LT, row, Affine(64, 0, u32.storage), lanes)
    assert isinstance(inside, Const) and bool(inside.value)
    assert affine.compare(u32, Condition.LT, row, Affine(40, 0, u32.storage), lanes) is None


def test_rules_are_bound_once_per_instruction():
    """The table names every instruction that may stay compressed; float types get none."""
    from simt.isa.program import make

    assert set(affine.RULES) == {"ADD", "SUB", "MUL", "SHL", "SHR", "DIV", "AND", "XOR", "CVT",
                                 "SETcc"}
    add = affine.bind(make("ADD", DType.U32, 1, 2, 3))
    u32 = np.dtype(np.uint32)
    got = add((Tiled(0, 1, 0, 8, u32), Affine(5, 0, u32)), LaneSet.range(0, 64), 64)
    assert isinstance(got, Tiled) and (got.base, got.inner) == (5, 1)
    assert add((Affine(0, 1, u32), Affine(5, 0, u32)), LaneSet.range(0, 8), 8) is None
    assert affine.bind(make("ADD", DType.F32, 1, 2, 3)) is None
    assert affine.bind(make("OR", DType.U32, 1, 2, 3)) is None



@settings(max_examples=400)
@given(values(), st.sampled_from(["XOR", "AND"]), st.integers(0, 40), st.integers(1, 700),
       st.booleans())
def test_bit_is_exact_whenever_it_answers(xt, name, m, n, swap):
    a, ty = xt
    m %= ty.bits
    c = Affine(1 << m, 0, ty.storage)
    got = affine.bit(name, ty, *((c, a) if swap else (a, c)), n)
    if got is None:
        return
    vals = [wrap(ty, v) for v in model(a, range(n))]
    k = wrap(ty, 1 << m)
    want = [v ^ k if name == "XOR" else v & k for v in vals]
    np.testing.assert_array_equal(got.at(LaneSet.range(0, n)), expect(ty, want))
    for lanes in (LaneSet.range(n // 3, n), Tiles.make(8, 0, n // 8, 2, 6)):
        if len(lanes):
            np.testing.assert_array_equal(
                got.at(lanes), expect(ty, [want[i] for i in lanes.indices().tolist()]))


@given(st.sampled_from([DType.U32, DType.U64, DType.I32]), st.integers(0, 9),
       st.sampled_from([256, 1024]), st.integers(1, 5))
def test_lane_in_block_bits_stay_compressed(ty, m, block, blocks):
    """``tid ^ 2^m`` and ``tid & 2^m`` for ``tid = lane % block``: always compressed."""
    m %= block.bit_length() - 1
    n = block * blocks
    tid = Tiled(0, 1, 0, block, ty.storage)
    lanes = np.arange(n)
    for name, want in (("XOR", (lanes % block) ^ (1 << m)), ("AND", (lanes % block) & (1 << m))):
        got = affine.bit(name, ty, tid, Affine(1 << m, 0, ty.storage), n)
        assert isinstance(got, (Affine, Tiled, Digits))
        np.testing.assert_array_equal(got.at(LaneSet.range(0, n)), want.astype(ty.storage))


def test_uniform_bits_and_non_powers():
    u32 = DType.U32
    a = Affine(8, 16, u32.storage)          # bit 2 is 0 on every lane, bit 3 is 1
    assert affine.bit("XOR", u32, a, Affine(4, 0, u32.storage), 100).parts() == (12, (16,),
                                                                                    (None,))
    assert affine.bit("AND", u32, a, Affine(8, 0, u32.storage), 100).uniform() == 8
    assert affine.bit("XOR", u32, a, Affine(0, 0, u32.storage), 100) is a
    assert affine.bit("XOR", u32, a, Affine(12, 0, u32.storage), 100) is None
    assert affine.bit("XOR", u32, Affine(0, 3, u32.storage), Affine(4, 0, u32.storage),
                      100) is None          # bit 2 of 3 * lane is no digit of the lane


def test_partner_compares_and_addresses_shared_memory():
    """The exchange step of a bitonic sort: ``partner = tid ^ j``, ``partner <= tid`` is
    a periodic Cut, and ``partner << 2`` is a strided grid with a negative step."""
    u32 = DType.U32
    block, n = 256, 4096
    tid = Tiled(0, 1, 0, block, u32.storage)
    lanes = np.arange(n)
    for m in range(8):
        j = 1 << m
        partner = affine.bit("XOR", u32, tid, Affine(j, 0, u32.storage), n)
        for cond, fn in ((Condition.LE, np.less_equal), (Condition.GTU, np.greater),
                         (Condition.EQ, np.equal), (Condition.NE, np.not_equal)):
            got = affine.compare(u32, cond, partner, tid, LaneSet.range(0, n))
            assert isinstance(got, (Cut, Const))
            np.testing.assert_array_equal(np.broadcast_to(got.at(LaneSet.range(0, n)), (n,)),
                                          fn((lanes % block) ^ j, lanes % block))
        offsets = affine.arith("SHL", u32, partner, Affine(2, 0, u32.storage))
        pos = shared_grid(offsets, 0, n, block, 4 * block, 4)
        assert pos is not None
        want = (lanes // block) * 4 * block + 4 * ((lanes % block) ^ j)
        np.testing.assert_array_equal(pos.indices(4), want)


@settings(max_examples=400)
@given(st.data(), st.sampled_from(CONDS), st.sampled_from([DType.I32, DType.U32, DType.U16]))
def test_compare_of_two_varying_values_is_exact_whenever_it_answers(data, cond, ty):
    """Two digits values (one often the other with a bit flipped), on ranges and tiles."""
    x, _ = data.draw(values(ty))
    if data.draw(st.booleans()):
        y = affine.bit("XOR", ty, x, Affine(1 << data.draw(st.integers(0, 9)), 0, ty.storage),
                       2048) or x
    else:
        y, _ = data.draw(values(ty))
    lo = data.draw(st.integers(0, 500))
    if data.draw(st.booleans()):
        lanes = LaneSet.range(lo, lo + data.draw(st.integers(1, 400)))
    else:
        lanes = Tiles.make(16, 1, 5, 2, 11)
    got = affine.compare(ty, cond, x, y, lanes)
    if got is None:
        return
    idx = [int(i) for i in lanes.domain.indices()]
    want = [holds(cond, u, v) for u, v in zip(*(
        [wrap(ty, w) for w in model(z, idx)] for z in (x, y)))]
    assert predicate(got, lanes) == want, (x, y, cond, lanes, got)


@settings(max_examples=300)
@given(st.data(), st.sampled_from([2, 4, 8, 16, 32]), st.sampled_from([16, 64]))
def test_shared_tiles_positions_match_the_model(data, period, block):
    """Shared positions ``(lane // block) * limit + offset`` over a Tiles lane set."""
    x, ty = data.draw(values(DType.U32, radices=data.draw(st.sampled_from(
        [(2, None), (4, 2, None), (8, None), (2, 2, 4, None), (16, 4, None)]))))
    b0 = data.draw(st.integers(0, 6))
    b1 = data.draw(st.integers(b0 + 1, 12))
    t0 = data.draw(st.integers(0, period - 1))
    t1 = data.draw(st.integers(t0 + 1, period))
    lanes = Tiles(period, b0, b1, t0, t1)
    limit = data.draw(st.sampled_from([256, 1 << 12, 1 << 20]))
    pos = shared_tiles(x, lanes, block, limit, 4)
    idx = lanes.indices().tolist()
    offs = model(x, idx)
    if pos is None:
        return
    assert all(0 <= o <= limit - 4 for o in offs)
    want = [(i // block) * limit + o for i, o in zip(idx, offs)]
    got = np.asarray(pos.indices(4))
    assert got.tolist() == want, (x, lanes, pos)


def test_partner_addresses_on_tiles():
    """The exchanging half of each pair (``tid & j == 0``) addresses its partner's slot
    as a grid: the lanes are Tiles of period ``2 j``."""
    u32 = DType.U32
    block, n = 256, 4096
    tid = Tiled(0, 1, 0, block, u32.storage)
    for m in range(8):
        j = 1 << m
        offsets = affine.arith("SHL", u32, affine.bit("XOR", u32, tid, Affine(j, 0, u32.storage),
                                                      n), Affine(2, 0, u32.storage))
        lanes = Tiles(2 * j, 0, n // (2 * j), 0, j)
        pos = shared_tiles(offsets, lanes, block, 4 * block, 4)
        assert pos is not None
        idx = lanes.indices()
        want = (idx // block) * 4 * block + 4 * ((idx % block) ^ j)
        got = np.asarray(pos.indices(4))
        np.testing.assert_array_equal(got, want)


@settings(max_examples=200)
@given(st.sampled_from([2, 4, 6, 16, 64]), st.integers(0, 70), st.integers(0, 70),
       st.booleans(), st.integers(0, 300), st.integers(0, 2000),
       st.sampled_from([4, 16, 24, 128]), st.integers(0, 9), st.integers(1, 40))
def test_periodic_cut_at_matches_its_key(p, lo, width, negate, start, n, q, b0, rows):
    """A periodic Cut on long ranges and Tiles (a repeated pattern) against ``lane % P``."""
    cut = Cut(lo, lo + width if width % 3 else None, negate, p)

    def want(idx):
        key = idx % p
        inside = (key >= lo) & ((key < lo + width) if width % 3 else True)
        return (~inside if negate else inside).tolist()

    lanes = LaneSet.range(start, start + n)
    assert cut.at(lanes).tolist() == want(np.arange(start, start + n))
    tiles = Tiles(q, b0, b0 + rows, q // 4, q)
    assert cut.at(tiles).tolist() == want(tiles.indices())
