"""``memory.scatter`` against a lane-by-lane model: for colliding stores the highest lane wins.

Positions are drawn distinct (ascending, permuted, sparse), with duplicates (a
few or many, dense or sparse ranges, fewer values than lanes), element-aligned
and misaligned (the byte path), so every route of the duplicate test is taken:
ascending, the marks over the range, the pigeonhole shortcut and the stable sort.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simt.machine import memory as memory_mod
from simt.machine.memory import scatter


def model(mem: np.ndarray, pos: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The store done one lane at a time, in ascending lane order (the definition)."""
    out = mem.copy()
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(len(pos), -1)
    for lane, p in enumerate(pos.tolist()):
        out[p: p + raw.shape[1]] = raw[lane]
    return out


@st.composite
def stores(draw):
    """(memory size, byte positions, values dtype, seed) of a store."""
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float32, np.int64]))
    size = np.dtype(dtype).itemsize
    n = draw(st.integers(1, 300))
    kind = draw(st.sampled_from(["permuted", "ascending", "few-dups", "many-dups",
                                 "sparse", "sparse-dups", "misaligned"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "ascending":
        elems = np.sort(rng.choice(4 * n, n, replace=False))
    elif kind == "permuted":
        elems = rng.permutation(n) + draw(st.integers(0, 5))
    elif kind == "few-dups":
        elems = rng.permutation(n)
        k = draw(st.integers(1, 3))
        elems[rng.integers(0, n, k)] = elems[rng.integers(0, n, k)]
    elif kind == "many-dups":
        elems = rng.integers(0, max(1, n // 3), n)
    elif kind == "sparse":
        elems = rng.choice(100 * n, n, replace=False)
    elif kind == "sparse-dups":
        elems = rng.choice(100 * n, n, replace=True)
        elems[-1] = elems[0]
    else:
        elems = rng.integers(0, 2 * n, n)
    pos = elems.astype(np.int64) * size
    if kind == "misaligned" and size > 1:
        pos += rng.integers(0, size, n)
    span = int(pos.max()) + size + draw(st.integers(0, 8))
    return span, pos, dtype, rng


@given(stores())
def test_scatter_matches_lane_order(store):
    span, pos, dtype, rng = store
    values = rng.integers(0, 256, (len(pos), np.dtype(dtype).itemsize), dtype=np.uint8
                          ).view(dtype).ravel()
    mem = rng.integers(0, 256, span, dtype=np.uint8)
    expected = model(mem, pos, values)
    scatter(mem, pos, values)
    np.testing.assert_array_equal(mem, expected)


@pytest.mark.parametrize("keys, distinct", [
    ([3, 1, 2, 0], True),
    ([5, 9, 7, 6, 8], True),
    ([3, 1, 3, 0], False),          # dense range: three marks for four keys
    ([2, 1, 2, 1], False),          # fewer values than keys: pigeonhole
    ([1000, 0, 500], None),         # too sparse to mark
])
def test_distinct(keys, distinct):
    assert memory_mod._distinct(np.array(keys, np.int64)) is distinct


def test_last_wins_picks_the_highest_lane():
    keys = np.array([7, 3, 7, 1, 3, 7, 1000], np.int64)
    keep = memory_mod._last_wins(keys)
    assert sorted(np.asarray(keep).tolist()) == [3, 4, 5, 6]
    assert memory_mod._last_wins(np.array([4, 2, 9, 0], np.int64)) == slice(None)


# ---------------------------------------------------------------------- strided grids

@st.composite
def grids(draw):
    """(start, shape, steps, element size) of an N-dimensional grid inside 4 KiB, steps of
    any sign (0 included)."""
    size = draw(st.sampled_from([1, 2, 4, 8]))
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    steps = tuple(size * draw(st.integers(-12, 12)) for _ in range(ndim))
    low = sum(min(0, s * (n - 1)) for s, n in zip(steps, shape))
    high = sum(max(0, s * (n - 1)) for s, n in zip(steps, shape))
    start = draw(st.integers(-low, 4096 - size - high))
    return start, shape, steps, size


def grid_positions(start, shape, steps) -> np.ndarray:
    """The grid's positions in row-major order, one cell at a time (the definition)."""
    return np.array([start + sum(i * s for i, s in zip(idx, steps))
                     for idx in np.ndindex(*shape)], np.int64)


@given(grids(), st.integers(0, 2**32 - 1))
def test_strided_grid_gathers_scatters_and_lists_its_positions(g, seed):
    start, shape, steps, size = g
    want = grid_positions(start, shape, steps)
    dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[size]
    rng = np.random.default_rng(seed)
    mem = rng.integers(0, 256, 4096, dtype=np.uint8)
    for pos in (memory_mod.Strided(start, shape, steps), memory_mod.strided(start, shape, steps,
                                                                             size)):
        as_run = isinstance(pos, memory_mod.Run)
        got = pos.indices(size)
        assert np.array_equal(got, want)
        if isinstance(pos, memory_mod.Strided):              # general paths read it as an array
            assert np.array_equal(np.asarray(pos, np.int64), want)
        gathered = memory_mod.gather(mem, pos, np.dtype(dtype))
        assert np.array_equal(gathered, memory_mod.gather(mem, want, np.dtype(dtype)))
        values = rng.integers(0, 256, want.size * size, dtype=np.uint8).view(dtype)
        out = mem.copy()
        scatter(out, pos, values)
        assert np.array_equal(out, model(mem, want, values))
        if not as_run and pos.disjoint(size):    # an injective grid: no two elements overlap
            byte = (want[:, None] + np.arange(size)).ravel()
            assert np.unique(byte).size == byte.size


def test_strided_merges_axes_into_runs_and_lattices():
    assert memory_mod.strided(8, (4, 16), (64, 4), 4) == memory_mod.Run(8, 64)
    assert memory_mod.strided(0, (1, 3, 1), (7, 4, 9), 4) == memory_mod.Run(0, 3)
    assert memory_mod.strided(0, (8, 16), (1088, 68), 4) == memory_mod.Lattice(0, 1, 128, 0, 68)
    assert memory_mod.strided(0, (8, 16), (1100, 68), 4) == memory_mod.Lattice(0, 8, 16, 1100, 68)
    grid = memory_mod.strided(0, (8, 16, 16), (2048, 64, 0), 4)
    assert isinstance(grid, memory_mod.Strided) and not grid.disjoint(4)
    assert memory_mod.Strided(0, (8, 16, 16), (1088, 4, 68)).disjoint(4)
    assert not memory_mod.Strided(0, (8, 16, 16), (1000, 4, 68)).disjoint(4)


@st.composite
def shared_offsets(draw):
    """A compressed offset value, a lane range and a block size for :func:`shared_grid`."""
    from simt.machine.values import Affine, Digits, Tiled
    dtype = np.dtype(draw(st.sampled_from([np.uint32, np.uint64, np.int32])))
    coef = lambda: 4 * draw(st.integers(-20, 20))           # noqa: E731
    kind = draw(st.sampled_from(["affine", "tiled", "digits"]))
    if kind == "affine":
        value = Affine(draw(st.integers(0, 2000)), coef(), dtype)
    elif kind == "tiled":
        value = Tiled(draw(st.integers(0, 2000)), coef(), coef(),
                      draw(st.sampled_from([2, 4, 8, 16, 3])), dtype)
    else:
        radices = (draw(st.sampled_from([2, 4, 8])), draw(st.sampled_from([2, 4, 3])), None)
        value = Digits(draw(st.integers(0, 2000)), (coef(), coef(), coef()), radices, dtype)
    period = draw(st.sampled_from([4, 8, 16, 32, 64, 24]))
    lo = draw(st.integers(0, 8)) * draw(st.sampled_from([1, 16, 64]))
    hi = lo + draw(st.integers(1, 8)) * draw(st.sampled_from([1, 16, 64, 128]))
    return value, lo, hi, period


@given(shared_offsets(), st.sampled_from([1, 4, 8]))
def test_shared_grid_is_block_times_limit_plus_the_offset(case, size):
    from simt.machine.lanes import LaneSet
    value, lo, hi, period = case
    limit = 4096
    got = memory_mod.shared_grid(value, lo, hi, period, limit, size)
    lanes = np.arange(lo, hi)
    raw = value.at(LaneSet.range(lo, hi)).astype(np.int64)
    if got is None:
        return
    assert ((raw >= 0) & (raw + size <= limit)).all()   # a grid only when no lane faults
    want = lanes // period * limit + raw
    assert np.array_equal(np.asarray(got.indices(size), np.int64), want)


@pytest.mark.parametrize("dtype", ["u1", "u2", "f4", "f8"])
def test_gather_at_lane_positions(dtype):
    """Per-lane loads, element-aligned (indexed as the element type) or not (byte by
    byte), unordered, repeated, and up to the last element of memory, read the bytes a
    lane-by-lane model reads."""
    dt = np.dtype(dtype)
    rng = np.random.default_rng(3)
    mem = rng.integers(0, 256, 4099, dtype=np.uint8)       # not a multiple of any size
    last = (mem.size - dt.itemsize) // dt.itemsize * dt.itemsize
    aligned = rng.integers(0, mem.size // dt.itemsize, 300) * dt.itemsize
    aligned[[0, 5]] = [last, 0]
    aligned[7] = aligned[3]
    cases = [aligned, np.sort(aligned), aligned[:1], aligned[:0]]
    if dt.itemsize > 1:
        odd = aligned.copy()
        odd[11] = mem.size - dt.itemsize                   # one lane off the element grid
        cases.append(odd)
    for pos in cases:
        pos = pos.astype(np.int64)
        want = np.array([mem[p: p + dt.itemsize].view(dt)[0] for p in pos.tolist()], dt)
        got = memory_mod.gather(mem, pos, dt)
        assert got.dtype == dt and np.array_equal(got.view(np.uint8), want.view(np.uint8))
