"""sum, min, max against NumPy (tolerances: see ``opscheck.py``: float sums within the
tree-summation bound, everything else exact)."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt import ops
from simt.ops import _kernels
from opscheck import (FLOATS, INTS, NUMERIC, SIZES, assert_exact, assert_within, sum_bound,
                      values)


def check_sum(got, a):
    ref = a.sum()
    assert type(got) is type(ref), (type(got), type(ref))
    if a.dtype.kind in "iu":
        assert got == ref
    else:
        assert_within(got, ref, sum_bound(a, a.dtype))


@pytest.fixture
def fold_one(monkeypatch):
    """Reductions with one element per lane: 256 elements per block, so 100003 elements
    need three passes (391 -> 2 -> 1 partials)."""
    monkeypatch.setattr(_kernels, "REDUCE_ITEMS", 1)
    _kernels._render.cache_clear()
    _kernels._build.cache_clear()
    yield
    _kernels._render.cache_clear()
    _kernels._build.cache_clear()


@pytest.mark.parametrize("dtype, size", [(dtype, size) for dtype in FLOATS for size in SIZES
                                          if size < 100000 or dtype == np.float32])
def test_sum_sizes(dev, size, dtype):
    check_sum(ops.sum(values(size, dtype, 1, special=False), device=dev),
              values(size, dtype, 1, special=False))


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("size", [1, 257, 3073])
def test_sum_dtypes(dev, size, dtype):
    a = values(size, dtype, 2, special=False)
    check_sum(ops.sum(a, device=dev), a)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.uint64])
def test_sum_integers_accumulate_in_64_bits(dev, dtype):
    a = np.full(100003, np.iinfo(dtype).max, dtype)        # overflows dtype, wraps int64 too
    got = ops.sum(a, device=dev)
    assert got.dtype == a.sum().dtype and got == a.sum()


@pytest.mark.parametrize("case, ref", [
    ([np.inf, 1.0, 2.0], np.inf), ([-np.inf, 1.0], -np.inf), ([np.inf, -np.inf], np.nan),
    ([np.nan, 1.0], np.nan), ([-0.0], 0.0)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_sum_special_values(dev, case, ref, dtype):
    a = np.array(case, dtype)
    got = ops.sum(a, device=dev)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_sum_of_nothing_is_zero(dev, dtype):
    ref = np.zeros(0, dtype).sum()
    got = ops.sum(np.zeros((0, 3), dtype), device=dev)
    assert type(got) is type(ref) and got == 0


@pytest.mark.parametrize("name, ref", [("min", np.nanmin), ("max", np.nanmax)])
@pytest.mark.parametrize("dtype, size", [(dtype, size) for dtype in FLOATS for size in SIZES[1:]
                                          if size < 100000 or dtype == np.float64])
def test_min_max_sizes(dev, name, ref, size, dtype):
    a = values(size, dtype, 3)
    if size == 1:
        a[0] = 2.5
    got = getattr(ops, name)(a, device=dev)
    assert type(got) is dtype
    assert_exact(np.asarray(got), np.asarray(ref(a)))


@pytest.mark.parametrize("name, ref", [("min", np.min), ("max", np.max)])
@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("size", [1, 33, 257, 3073])
def test_min_max_integers(dev, name, ref, size, dtype):
    a = values(size, dtype, 4)
    got = getattr(ops, name)(a, device=dev)
    assert type(got) is dtype and got == ref(a)


def test_min_max_integer_big(dev):
    a = values(100003, np.int32, 5, special=False)
    assert ops.min(a, device=dev) == a.min() and ops.max(a, device=dev) == a.max()


@pytest.mark.parametrize("name", ["min", "max"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_min_max_nan_rules(dev, name, dtype):
    fn = getattr(ops, name)
    one_number = np.array([np.nan] * 40 + [-3.0] + [np.nan] * 300, dtype)
    assert fn(one_number, device=dev) == -3.0
    assert np.isnan(fn(np.full(300, np.nan, dtype), device=dev))       # all NaN -> NaN
    infs = np.array([np.inf, -np.inf, np.nan], dtype)
    assert fn(infs, device=dev) == (-np.inf if name == "min" else np.inf)


@pytest.mark.parametrize("name", ["min", "max"])
def test_min_max_of_nothing_raise(dev, name):
    with pytest.raises(ValueError, match="empty"):
        getattr(ops, name)(np.zeros(0, np.float32), device=dev)


@pytest.mark.parametrize("name", ["sum", "min", "max"])
@pytest.mark.parametrize("dtype", [np.float16, np.bool_])
def test_reductions_reject_storage_types(dev, name, dtype):
    with pytest.raises(simt.UnsupportedOperationError, match=name):
        getattr(ops, name)(np.zeros(4, dtype), device=dev)


@pytest.mark.parametrize("delta", [-1, 1, 2 * 2048 + 5])
def test_reductions_across_chunks(dev, small_chunk, delta):
    n = 2 * small_chunk + delta
    f = values(n, np.float32, 6, special=False)
    check_sum(ops.sum(f, device=dev), f)
    i = values(n, np.int16, 7)
    check_sum(ops.sum(i, device=dev), i)
    assert ops.min(i, device=dev) == i.min()
    g = values(n, np.float64, 8)
    assert ops.max(g, device=dev) == np.nanmax(g)


def test_reductions_with_several_passes(dev, fold_one):
    a = values(100003, np.float64, 9, special=False)
    check_sum(ops.sum(a, device=dev), a)
    b = values(100003, np.uint8, 10)
    check_sum(ops.sum(b, device=dev), b)
    assert ops.max(b, device=dev) == b.max()


def test_reductions_free_their_temporaries(counting):
    a = values(5000, np.float32, 11)
    ops.sum(a, device=counting)
    ops.max(a, device=counting)
    assert counting.live == set()


def test_reduction_kernels_chain(dev):
    assert ops.accumulator_dtype("sum", np.int8) == np.int64
    assert ops.accumulator_dtype("sum", np.uint32) == np.uint64
    assert ops.accumulator_dtype("sum", np.float32) == np.float32
    assert ops.accumulator_dtype("max", np.int8) == np.int8
    text = ops.kernel("sum", np.int8).to_text()
    assert "cvt.i64.i8" in text and "bar.sync 0" in text and "[shared + r" in text
