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
